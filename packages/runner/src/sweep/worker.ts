import { findPython, PythonWorker, repoRoot } from '../worker/index.ts';

/**
 * What runSweep needs from a worker: one request at a time, a timeout per
 * request, and a way to throw the process away. The runner's PythonWorker
 * (src/worker/) is one; tests pass scripted fakes.
 *
 * Failures are told apart by error name: `WorkerCrashedError` (the process
 * died: retry the config on a fresh worker), `WorkerTimeoutError` (record
 * "timeout", restart), anything else (the op raised: record "error").
 */
export interface SweepWorker {
  request(op: string, args: Record<string, unknown>, opts?: { timeoutMs?: number; onEvent?: (data: unknown) => void }): Promise<unknown>;
  /** Ends the process; safe to call twice. */
  close(): Promise<void>;
  readonly pid?: number | undefined;
}

export type StartWorker = () => Promise<SweepWorker>;

export const REPO_ROOT = repoRoot();

let python: string | undefined;

/**
 * A fresh `python -m mamba2_runner.worker` (interpreter found once: --python, MAMBA2_PYTHON, .venv, PATH).
 * `env` replaces the worker's environment (the multi-GPU sweep passes CUDA_VISIBLE_DEVICES=<i>).
 */
export async function startPythonWorker(
  opts: { python?: string; onStderr?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<SweepWorker> {
  python ??= opts.python ?? (await findPython()).python;
  const w = await PythonWorker.start({
    python,
    ...(opts.env ? { env: opts.env } : {}),
    // Triton's compile logs and the worker's prints are noise under a progress bar
    onStderr: opts.onStderr ?? ((line) => {
      if (process.env.MAMBA2_SWEEP_DEBUG) process.stderr.write(`[python] ${line}\n`);
    }),
    startTimeoutMs: 180_000,
  });
  return {
    get pid() {
      return w.pid;
    },
    request: (op, args, o) => w.request(op, args, o ?? {}),
    // a sweep's worker has nothing to flush: kill rather than wait for a slow config
    close: () => w.kill(),
  };
}
