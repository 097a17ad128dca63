/** @mamba2/runner: the Python worker (zx subprocess, JSON lines) and the CLIs built on it. */
export * from './worker/index.ts';
