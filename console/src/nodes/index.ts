// The node types of today's executor, registered once.

import { condition } from './condition';
import { registerNodeType } from './registry';
import { calculation, delay, end, response } from './simple';

for (const spec of [condition, response, end, calculation, delay]) registerNodeType(spec);

export * from './registry';
