import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import type { ScanParams, ScanShape } from './expand.ts';

export const STATUSES = ['ok', 'wrong', 'compile_error', 'out_of_resources', 'oom', 'timeout', 'error'] as const;
export type Status = (typeof STATUSES)[number];

/** One line of results.jsonl (written by mamba2_runner/sweep.py or by runSweep). */
export interface SweepRecord {
  readonly type?: 'config';
  readonly id: string;
  readonly problem?: string;
  readonly shape?: ScanShape;
  readonly params?: ScanParams;
  readonly status: Status;
  /** status === 'ok' (for codegen's `gen --tuned` reader). */
  readonly ok?: boolean;
  /** Python package name of the generated package. */
  readonly name?: string | null;
  readonly reason: string | null;
  readonly ms: number | null;
  readonly rel_err: number | null;
  readonly baseline_ms: number | null;
  readonly speedup: number | null;
  readonly device?: string;
  /** Multi-GPU sweeps (sweep/multi.ts): the worker slot and the CUDA_VISIBLE_DEVICES it ran with. */
  readonly worker?: number;
  readonly gpu?: string;
  /** torchrun sweeps (mamba2_runner/sweep_dist.py): the rank and its host. */
  readonly rank?: number;
  readonly host?: string;
  readonly elapsed_s?: number;
  readonly t?: string;
}

export interface ResultsFile {
  readonly records: SweepRecord[];
  /** Bytes covered by complete lines; anything after is a torn write. */
  readonly goodBytes: number;
  readonly totalBytes: number;
}

/** Reads results.jsonl; a last line without newline or not valid JSON (and anything after it) is ignored. */
export function readResults(path: string): ResultsFile {
  if (!existsSync(path)) return { records: [], goodBytes: 0, totalBytes: 0 };
  const buf = readFileSync(path);
  const records: SweepRecord[] = [];
  let pos = 0;
  let good = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const line = buf.subarray(pos, nl).toString('utf8').trim();
    if (line !== '') {
      try {
        records.push(normalizeRecord(JSON.parse(line) as SweepRecord));
      } catch {
        break;
      }
    }
    pos = nl + 1;
    good = pos;
  }
  return { records, goodBytes: good, totalBytes: buf.length };
}

const NUMERIC = ['ms', 'rel_err', 'baseline_ms', 'speedup', 'elapsed_s'] as const;

/** Numbers may arrive as strings (a JSON layer that stringifies floats, "nan"/"inf"): finite numbers or null. */
export function normalizeRecord(r: SweepRecord): SweepRecord {
  const out: Record<string, unknown> = { ...r };
  for (const k of NUMERIC) {
    const v: unknown = out[k];
    if (v === undefined) continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    out[k] = Number.isFinite(n) ? n : null;
  }
  return out as unknown as SweepRecord;
}

export function doneIds(records: readonly SweepRecord[]): Set<string> {
  return new Set(records.filter((r) => (r.type ?? 'config') === 'config').map((r) => r.id));
}

/** Cuts a torn last line so the next append starts on a line of its own. */
export function repairResults(path: string): ResultsFile {
  const f = readResults(path);
  if (f.totalBytes !== f.goodBytes) truncateSync(path, f.goodBytes);
  return f;
}

/** Appends one record as a JSON line and fsyncs before returning: a kill after this loses nothing. */
export function appendResult(path: string, record: SweepRecord): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
