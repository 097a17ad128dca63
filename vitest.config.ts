import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests that start the Python worker or run kernels under Triton's
    // interpreter take seconds, not milliseconds.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
