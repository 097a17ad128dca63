/**
 * A sweep over several GPUs of one host: one Python worker per GPU (each
 * started with CUDA_VISIBLE_DEVICES=<that GPU>, so it sees it as cuda:0),
 * every worker pulling the next config from one shared queue, and this
 * process the only writer of results.jsonl (one appendResult per record,
 * fsync'ed; JavaScript runs them one at a time, so lines never interleave).
 *
 * Failures, per worker, as in runSweep: a timeout is recorded and that worker
 * replaced; a worker that dies puts its in-flight config back at the head of
 * the queue for another worker (the same one only when no other is left),
 * and a config that has killed `crashRetries + 1` workers (default 2) is
 * recorded as "error". A worker that cannot be started retires its slot; the
 * run fails only when no slot is left. --resume works as for one GPU: what
 * results.jsonl holds is skipped, whichever worker wrote it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SweepConfig } from './expand.ts';
import { appendResult, doneIds, type SweepRecord } from './results.ts';
import { asRecord, failed, isBetter, openSweep, type RunSweepOptions, type RunSweepResult } from './run.ts';
import type { SweepWorker } from './worker.ts';

/** Starts the worker of one slot; `device` is the CUDA_VISIBLE_DEVICES value it must use. */
export type StartWorkerOn = (device: string, slot: number) => Promise<SweepWorker>;

/** Which worker ran a config: its slot and the GPU it was given. */
export interface SlotInfo {
  readonly worker: number;
  readonly gpu: string;
  readonly pid?: number | undefined;
}

/** A record of the multi-GPU sweep: the single-GPU record plus who ran it. */
export type MultiSweepRecord = SweepRecord & { readonly worker: number; readonly gpu: string };

export interface RunSweepMultiOptions extends Omit<RunSweepOptions, 'startWorker' | 'onConfigStart' | 'onRestart'> {
  /** One worker per entry: CUDA_VISIBLE_DEVICES values ("0", "1", a GPU UUID, ...). */
  readonly devices: readonly string[];
  readonly startWorker: StartWorkerOn;
  onConfigStart?(cfg: SweepConfig, slot: SlotInfo): void;
  onRestart?(why: string, slot: SlotInfo): void;
}

interface Item {
  readonly cfg: SweepConfig;
  /** Workers this config has killed so far. */
  crashes: number;
  /** The slot whose worker last died on it: another slot takes it first. */
  avoid: number | null;
}

export class NoWorkerStartedError extends Error {
  override name = 'NoWorkerStartedError';
}

/** `--gpus 0,1,3` -> ["0", "1", "3"]; refuses empty entries and repeats. */
export function parseGpus(list: string): string[] {
  const ids = list.split(',').map((s) => s.trim());
  if (ids.length === 0 || ids.some((s) => s === '')) {
    throw new Error(`--gpus ${JSON.stringify(list)} has an empty entry. Pass e.g. --gpus 0,1,2,3 or --gpus auto.`);
  }
  const dup = ids.find((s, i) => ids.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`--gpus lists ${dup} twice: one worker per GPU. Pass each GPU once.`);
  return ids;
}

const run = promisify(execFile);

export interface DetectGpusOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The interpreter to ask torch.cuda.device_count() when nvidia-smi is absent. */
  readonly python?: string;
}

/**
 * The GPUs a sweep may use, as CUDA_VISIBLE_DEVICES values: the entries of
 * CUDA_VISIBLE_DEVICES when it is set, else nvidia-smi's indices, else
 * torch.cuda.device_count() in `python`; [] when none of them finds a GPU
 * (the caller then runs one worker as before).
 */
export async function detectGpus(o: DetectGpusOptions = {}): Promise<string[]> {
  const env = o.env ?? process.env;
  const visible = env.CUDA_VISIBLE_DEVICES?.trim();
  if (visible !== undefined && visible !== '') {
    const ids = visible.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== '-1');
    return ids;
  }
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], { timeout: 30_000, env });
    const ids = stdout.split('\n').map((s) => s.trim()).filter((s) => /^\d+$/.test(s));
    if (ids.length > 0) return ids;
  } catch {
    // no nvidia-smi: ask torch
  }
  if (o.python) {
    try {
      const code = 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)';
      const { stdout } = await run(o.python, ['-c', code], { timeout: 120_000, env });
      const n = Number(stdout.trim().split('\n').pop());
      if (Number.isInteger(n) && n > 0) return Array.from({ length: n }, (_, i) => String(i));
    } catch {
      // no torch either: one worker
    }
  }
  return [];
}

/** runSweep over `devices.length` workers sharing one queue; see the file comment. */
export async function runSweepMulti(o: RunSweepMultiOptions): Promise<RunSweepResult> {
  if (o.devices.length === 0) throw new Error('runSweepMulti needs at least one device');
  const { planPath, plan, records, todo, timeoutMs, best: best0 } = openSweep(o);
  let best = best0;
  const crashRetries = o.crashRetries ?? 1;

  const queue: Item[] = todo.map((cfg) => ({ cfg, crashes: 0, avoid: null }));
  const live = new Set(o.devices.map((_, i) => i));
  let inFlight = 0;
  let ran = 0;
  let startError: Error | null = null;
  let waiting: (() => void)[] = [];
  const changed = (): void => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const nextChange = (): Promise<void> => new Promise((r) => waiting.push(r));
  o.signal?.addEventListener('abort', changed, { once: true });

  const take = (slot: number): Item | undefined => {
    let i = queue.findIndex((it) => it.avoid !== slot);
    // a config that killed this slot's worker waits for another slot, unless none is left
    if (i < 0 && queue.length > 0 && ![...live].some((s) => s !== slot)) i = 0;
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };

  const record = (rec: SweepRecord, slot: number): void => {
    const tagged: MultiSweepRecord = { ...rec, worker: slot, gpu: o.devices[slot] as string };
    appendResult(o.outPath, tagged);
    records.push(tagged);
    ran++;
    if (isBetter(tagged, best)) best = tagged;
    o.onResult?.(tagged, { done: plan.configs.length - todo.length + ran, total: plan.configs.length, best });
  };

  const slotLoop = async (slot: number): Promise<void> => {
    const gpu = o.devices[slot] as string;
    let worker: SweepWorker | null = null;
    const info = (): SlotInfo => ({ worker: slot, gpu, pid: worker?.pid });
    const drop = async (): Promise<void> => {
      const w = worker;
      worker = null;
      await w?.close().catch(() => undefined);
    };
    try {
      for (;;) {
        if (o.signal?.aborted) return;
        if (queue.length === 0 && inFlight === 0) return;
        // started before a config is taken: a slot whose GPU fails to start holds none
        if (worker === null) {
          try {
            worker = await o.startWorker(gpu, slot);
          } catch (e) {
            startError = e as Error;
            o.onRestart?.(`worker ${slot} (GPU ${gpu}) did not start, its slot retires: ${startError.message.split('\n')[0]}`, info());
            return;
          }
        }
        const item = take(slot);
        if (item === undefined) {
          await nextChange();
          continue;
        }
        inFlight++;
        const cfg = item.cfg;
        o.onConfigStart?.(cfg, info());
        let rec: SweepRecord | null = null;
        try {
          rec = asRecord(cfg, await worker.request('sweep_point', { plan: planPath, id: cfg.id }, { timeoutMs }));
        } catch (e) {
          const err = e as Error;
          if (err.name === 'WorkerTimeoutError') {
            rec = failed(cfg, 'timeout', `no result in ${timeoutMs} ms; the worker was restarted`);
            o.onRestart?.(`${cfg.id} timed out on GPU ${gpu}`, info());
            await drop();
          } else if (err.name === 'WorkerCrashedError') {
            const was = info();
            await drop();
            if (o.signal?.aborted) {
              inFlight--;
              return;
            }
            item.crashes++;
            o.onRestart?.(`worker ${slot} (GPU ${gpu}) died during ${cfg.id}: ${err.message.split('\n')[0]}`, was);
            if (item.crashes > crashRetries) {
              rec = failed(cfg, 'error', `the worker died on this config ${item.crashes} times: ${err.message.split('\n')[0]}`);
            } else {
              item.avoid = slot;
              queue.unshift(item);
            }
          } else {
            rec = failed(cfg, 'error', err.message.split('\n')[0] ?? String(err));
          }
        }
        if (rec !== null) record(rec, slot);
        inFlight--;
        changed();
      }
    } finally {
      live.delete(slot);
      await drop();
      changed();
    }
  };

  try {
    await Promise.all(o.devices.map((_, slot) => slotLoop(slot)));
  } finally {
    o.signal?.removeEventListener('abort', changed);
  }
  if (queue.length > 0 && !o.signal?.aborted && startError !== null) {
    throw new NoWorkerStartedError(`no worker could run the ${queue.length} configs left: ${(startError as Error).message}`);
  }
  const finished = doneIds(records);
  return { plan, records, ran, complete: plan.configs.every((c) => finished.has(c.id)) };
}
