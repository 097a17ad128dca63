import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SweepConfig } from './expand.ts';
import { readPlan, type SweepPlan } from './plan.ts';
import { appendResult, doneIds, normalizeRecord, repairResults, STATUSES, type SweepRecord } from './results.ts';
import type { StartWorker, SweepWorker } from './worker.ts';

export class SweepResultsExistError extends Error {
  override name = 'SweepResultsExistError';
  constructor(readonly path: string) {
    super(`${path} already has results. Pass --resume to continue that sweep, or remove the file to start over.`);
  }
}

export interface SweepProgress {
  readonly done: number;
  readonly total: number;
  readonly best: SweepRecord | null;
}

export interface RunSweepOptions {
  readonly planPath: string;
  readonly outPath: string;
  readonly resume: boolean;
  readonly startWorker: StartWorker;
  /** Per config, including the package import and Triton compile; default plan timeout_s. */
  readonly timeoutMs?: number;
  /** How often a config may kill the worker before it is recorded as "error". */
  readonly crashRetries?: number;
  readonly signal?: AbortSignal;
  onStart?(info: { total: number; done: number; best: SweepRecord | null }): void;
  onConfigStart?(cfg: SweepConfig): void;
  onResult?(rec: SweepRecord, progress: SweepProgress): void;
  onRestart?(why: string): void;
}

export interface RunSweepResult {
  readonly plan: SweepPlan;
  readonly records: SweepRecord[];
  readonly ran: number;
  readonly complete: boolean;
}

export function isBetter(rec: SweepRecord, best: SweepRecord | null): boolean {
  return rec.status === 'ok' && rec.ms !== null && (best === null || best.ms === null || rec.ms < best.ms);
}

export function failed(cfg: SweepConfig, status: SweepRecord['status'], reason: string): SweepRecord {
  return {
    type: 'config', id: cfg.id, problem: cfg.problem, shape: cfg.shape, params: cfg.params,
    status, ok: false, reason, ms: null, rel_err: null, baseline_ms: null, speedup: null, t: new Date().toISOString(),
  };
}

export function asRecord(cfg: SweepConfig, v: unknown): SweepRecord {
  const r = v as Partial<SweepRecord> | null;
  if (r === null || typeof r !== 'object' || r.id !== cfg.id || !STATUSES.includes(r.status as never)) {
    return failed(cfg, 'error', `sweep_point returned something that is not a record for ${cfg.id}`);
  }
  return normalizeRecord(r as SweepRecord);
}

export interface OpenedSweep {
  readonly planPath: string;
  readonly plan: SweepPlan;
  /** Results already recorded (a torn last line repaired); runners append to it. */
  readonly records: SweepRecord[];
  /** Configs of the plan with no record yet, in plan order. */
  readonly todo: SweepConfig[];
  readonly best: SweepRecord | null;
  readonly timeoutMs: number;
}

/**
 * What every runner does first: read the plan, refuse to overwrite results
 * unless resuming, repair a torn last line, and work out what is left and the
 * best so far (reported through onStart).
 */
export function openSweep(o: Pick<RunSweepOptions, 'planPath' | 'outPath' | 'resume' | 'timeoutMs' | 'onStart'>): OpenedSweep {
  const planPath = resolve(o.planPath);
  const plan = readPlan(planPath);
  if (!o.resume && existsSync(o.outPath) && statSync(o.outPath).size > 0) throw new SweepResultsExistError(o.outPath);
  const records = [...repairResults(o.outPath).records];
  const done = doneIds(records);
  const todo = plan.configs.filter((c) => !done.has(c.id));
  let best: SweepRecord | null = null;
  for (const r of records) if (isBetter(r, best)) best = r;
  o.onStart?.({ total: plan.configs.length, done: plan.configs.length - todo.length, best });
  return { planPath, plan, records, todo, best, timeoutMs: o.timeoutMs ?? plan.options.timeout_s * 1000 };
}

/**
 * Runs every config of the plan not yet in the results file, one request at a
 * time through the worker, appending (and fsyncing) each record as it comes.
 * A worker that dies costs only its in-flight config, which is retried on a
 * fresh worker; a timeout is recorded and the worker replaced.
 */
export async function runSweep(o: RunSweepOptions): Promise<RunSweepResult> {
  const { planPath, plan, records, todo, timeoutMs, best: best0 } = openSweep(o);
  let best = best0;
  let worker: SweepWorker | null = null;
  let ran = 0;
  const drop = async (): Promise<void> => {
    const w = worker;
    worker = null;
    await w?.close().catch(() => undefined);
  };
  try {
    for (const cfg of todo) {
      if (o.signal?.aborted) break;
      o.onConfigStart?.(cfg);
      let rec: SweepRecord | null = null;
      for (let attempt = 0; rec === null; attempt++) {
        worker ??= await o.startWorker();
        try {
          rec = asRecord(cfg, await worker.request('sweep_point', { plan: planPath, id: cfg.id }, { timeoutMs }));
        } catch (e) {
          const err = e as Error;
          if (err.name === 'WorkerTimeoutError') {
            rec = failed(cfg, 'timeout', `no result in ${timeoutMs} ms; the worker was restarted`);
            o.onRestart?.(`${cfg.id} timed out`);
            await drop();
          } else if (err.name === 'WorkerCrashedError') {
            await drop();
            if (o.signal?.aborted) return { plan, records, ran, complete: false };
            o.onRestart?.(`worker died during ${cfg.id}: ${err.message.split('\n')[0]}`);
            if (attempt >= (o.crashRetries ?? 1)) {
              rec = failed(cfg, 'error', `the worker died on this config ${attempt + 1} times: ${err.message.split('\n')[0]}`);
            }
          } else {
            rec = failed(cfg, 'error', err.message.split('\n')[0] ?? String(err));
          }
        }
      }
      appendResult(o.outPath, rec);
      records.push(rec);
      ran++;
      if (isBetter(rec, best)) best = rec;
      o.onResult?.(rec, { done: plan.configs.length - todo.length + ran, total: plan.configs.length, best });
    }
  } finally {
    await drop();
  }
  const finished = doneIds(records);
  return { plan, records, ran, complete: plan.configs.every((c) => finished.has(c.id)) };
}
