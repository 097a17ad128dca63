/**
 * Keeps one PythonWorker for a sequence of requests: starts it on first use
 * (after finding the interpreter and checking torch/triton), runs requests
 * one at a time, and after a timeout or crash drops the dead worker so the
 * next request gets a fresh one. The failed request's error is passed on.
 */
import { PythonDepsMissingError } from './errors.ts';
import { findPython, type FindPythonOptions, type PythonVersions } from './python.ts';
import { PythonWorker, isWorkerFailure, type RequestOptions } from './worker.ts';

export interface SupervisorOptions extends FindPythonOptions {
  readonly onStderr?: (line: string) => void;
  readonly startTimeoutMs?: number;
  /** Skip the torch/triton check (tests of the protocol alone). */
  readonly skipDepsCheck?: boolean;
}

export class WorkerSupervisor {
  private worker: PythonWorker | undefined;
  private starting: Promise<PythonWorker> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private python: string | undefined;
  /** Workers started so far (1 after the first request; +1 per restart). */
  starts = 0;
  versions: PythonVersions | undefined;

  constructor(private readonly opts: SupervisorOptions = {}) {}

  /** The live worker, started if needed. */
  async get(): Promise<PythonWorker> {
    if (this.worker?.alive) return this.worker;
    this.worker = undefined;
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<PythonWorker> {
    this.python ??= (await findPython(this.opts)).python;
    const w = await PythonWorker.start({
      python: this.python,
      env: this.opts.env,
      onStderr: this.opts.onStderr,
      startTimeoutMs: this.opts.startTimeoutMs,
    });
    this.starts++;
    // The ready line is the import check: it names torch/triton when they fail
    // (one Python start instead of two).
    const { ready } = w;
    if (!this.opts.skipDepsCheck && (ready.missing?.length || !ready.torch || !ready.triton)) {
      await w.close();
      const missing = ready.missing?.length ? ready.missing : ['torch', 'triton'].filter((m) => !ready[m as 'torch']);
      throw new PythonDepsMissingError(this.python, missing, (ready.fixes ?? []).join(' '));
    }
    this.versions = { python: ready.python, torch: ready.torch ?? '', triton: ready.triton ?? '' };
    this.worker = w;
    return w;
  }

  /** Runs `op` on the worker (queued behind earlier requests). */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<T> {
    const run = async (): Promise<T> => {
      const w = await this.get();
      try {
        return await w.request<T>(op, args, opts);
      } catch (e) {
        if (isWorkerFailure(e)) {
          await w.kill();
          if (this.worker === w) this.worker = undefined;
        }
        throw e;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.worker?.close();
    this.worker = undefined;
  }
}
