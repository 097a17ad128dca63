/**
 * One long-lived `python -m mamba2_runner.worker`, started with zx, speaking
 * JSON lines (docs/ARCHITECTURE.md). Requests carry ids; progress events go to
 * the request's `onEvent`; a request past its timeout kills the process
 * (WorkerTimeoutError); an exit while requests are pending rejects them with
 * WorkerCrashedError (exit code/signal and the last stderr lines). A dead
 * worker stays dead: WorkerSupervisor starts a fresh one.
 */
import { createInterface } from 'node:readline';
import { $, type ProcessPromise } from 'zx';
import {
  PythonError,
  RunnerError,
  WorkerCrashedError,
  WorkerProtocolError,
  WorkerTimeoutError,
} from './errors.ts';
import { parseLine, type ReadyEvent } from './protocol.ts';
import { repoRoot, runnerPythonPath } from './python.ts';

export interface WorkerOptions {
  readonly python: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Each stderr line of the worker; default: written to our stderr prefixed `[python] `. */
  readonly onStderr?: (line: string) => void;
  /** How long to wait for the ready line (importing torch takes seconds). */
  readonly startTimeoutMs?: number;
}

export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly onEvent?: (data: unknown) => void;
}

interface Pending {
  readonly op: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly onEvent?: (data: unknown) => void;
  timer?: NodeJS.Timeout;
}

const STDERR_TAIL = 30;
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export class PythonWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private exitInfo: { code: number | null; signal: string | null } | undefined;

  private constructor(
    private readonly proc: ProcessPromise,
    readonly ready: ReadyEvent,
    /** The last lines the worker wrote on stderr (shared with the reader started in `start`). */
    private readonly stderrTail: string[],
  ) {}

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Starts the worker and waits for its ready line. */
  static async start(opts: WorkerOptions): Promise<PythonWorker> {
    const root = repoRoot();
    const base = opts.env ?? process.env;
    const env = {
      ...base,
      PYTHONPATH: [runnerPythonPath(root), base.PYTHONPATH].filter(Boolean).join(':'),
      PYTHONUNBUFFERED: '1',
    };
    const onStderr = opts.onStderr ?? ((line: string) => process.stderr.write(`[python] ${line}\n`));
    // `exec` so the pid is python's, not the shell's (kill and crash tests rely on it)
    const proc = $({ cwd: opts.cwd ?? root, env, nothrow: true, quiet: true, verbose: false })`exec ${opts.python} -m mamba2_runner.worker`;

    const stderrTail: string[] = [];
    createInterface({ input: proc.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
      onStderr(line);
    });
    const lines = createInterface({ input: proc.stdout });
    const startTimeoutMs = opts.startTimeoutMs ?? 120_000;

    let worker: PythonWorker | undefined;
    const early: string[] = [];
    const ready = await new Promise<ReadyEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        void proc.kill('SIGKILL');
        reject(new WorkerTimeoutError('startup (ready line)', startTimeoutMs, proc.pid));
      }, startTimeoutMs);
      lines.on('line', (line) => {
        if (worker) return worker.onLine(line);
        const msg = parseLine(line);
        if (msg && 'event' in msg && msg.event === 'ready') {
          clearTimeout(timer);
          resolve(msg as ReadyEvent);
        } else {
          early.push(line);
        }
      });
      void proc.then((out) => {
        clearTimeout(timer);
        if (worker) return worker.onExit(out.exitCode, out.signal);
        const tail = [...early.map((l) => `(stdout) ${l}`), ...stderrTail].slice(-STDERR_TAIL);
        reject(new WorkerCrashedError(undefined, out.exitCode, out.signal, tail));
      });
    });
    worker = new PythonWorker(proc, ready, stderrTail);
    return worker;
  }

  /** Sends one request; resolves with the op's result or rejects with a runner/Python error. */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<T> {
    if (this.exited) {
      return Promise.reject(
        new WorkerCrashedError(op, this.exitInfo?.code ?? null, this.exitInfo?.signal ?? null, this.stderrTail),
      );
    }
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { op, resolve: resolve as (v: unknown) => void, reject, onEvent: opts.onEvent };
      p.timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WorkerTimeoutError(op, timeoutMs, this.pid));
        void this.kill();
      }, timeoutMs);
      this.pending.set(id, p);
      this.proc.stdin.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** Kills the process (SIGKILL). Pending requests reject. */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.proc.child?.kill('SIGKILL');
    await this.proc.catch(() => undefined);
  }

  /** Closes stdin so the worker exits by itself; kills it after `graceMs`. */
  async close(graceMs = 5_000): Promise<void> {
    if (this.exited) return;
    this.proc.stdin.end();
    const t = setTimeout(() => void this.kill(), graceMs);
    await this.proc.catch(() => undefined);
    clearTimeout(t);
  }

  private onLine(line: string): void {
    const msg = parseLine(line);
    if (!msg || !('id' in msg) || msg.id === null) {
      if (msg && 'ok' in msg && msg.ok === false) {
        // an error the worker could not tie to a request (malformed request line)
        process.stderr.write(`[python] ${msg.error.type}: ${msg.error.message}\n`);
        return;
      }
      const err = new WorkerProtocolError(line);
      process.stderr.write(`[runner] ${err.message}\n`);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if ('event' in msg) {
      p.onEvent?.(msg.data);
      return;
    }
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new PythonError(p.op, msg.error.type, msg.error.message, msg.error.traceback));
  }

  private onExit(code: number | null, signal: string | null): void {
    this.exited = true;
    this.exitInfo = { code, signal };
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new WorkerCrashedError(p.op, code, signal, [...this.stderrTail]));
    }
  }
}

export function isWorkerFailure(e: unknown): boolean {
  return e instanceof WorkerTimeoutError || e instanceof WorkerCrashedError || e instanceof WorkerProtocolError;
}

export { RunnerError };
