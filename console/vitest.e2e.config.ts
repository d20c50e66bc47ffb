import { defineConfig } from 'vitest/config';

// The browser tests drive a real Chromium against services that scripts/test starts;
// they share those services, so they run one file at a time.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
