// The node types the executor runs, registered once, in the order the add-node menu lists them.

import { condition } from './condition';
import { loop, parallel } from './flow';
import { registerNodeType } from './registry';
import { request } from './request';
import { calculation, delay, end, response } from './simple';

for (const spec of [condition, response, end, calculation, delay, request, loop, parallel]) registerNodeType(spec);

export * from './registry';
