import { existsSync, readFileSync } from 'node:fs';
import type { ScanParams, ScanShape } from './expand.ts';

export const STATUSES = ['ok', 'wrong', 'compile_error', 'out_of_resources', 'oom', 'timeout', 'error'] as const;
export type Status = (typeof STATUSES)[number];

/** What a record was measured on (mamba2_runner.sweep.provenance; absent in older sweeps). */
export interface Provenance {
  readonly gpu_model: string | null;
  readonly driver: string | null;
  readonly cuda?: string | null;
  readonly torch: string | null;
  readonly triton: string | null;
  readonly python?: string | null;
  readonly host?: string | null;
  readonly commit: string | null;
  readonly kernel_sha: string | null;
  readonly date: string;
}

/** One line of results.jsonl, written by the sweep supervisor (packages/runner/python/mamba2_runner/sweep.py). */
export interface SweepRecord {
  readonly type?: 'config';
  readonly id: string;
  /** Key of the plan's package the config ran in. */
  readonly package?: string | null;
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
  /** The default's relative spread over its three timings in this run (gen --tuned needs speedup > 1 + noise). */
  readonly noise?: number | null;
  readonly speedup: number | null;
  /** Median of default / this config over the confirm pass (gen --tuned also needs it > 1 + noise; absent: not confirmed). */
  readonly confirm_speedup?: number | null;
  readonly device?: string;
  /** The measured fused scan's kernel sha (over ssd_fused.py and every library file it imports; `gen --tuned` refuses rows of another). */
  readonly kernel_sha?: string | null;
  readonly provenance?: Provenance;
  /** `--gpus` sweeps: the worker slot and the CUDA_VISIBLE_DEVICES it ran with. */
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
  /** 1-based numbers of complete lines that are not JSON objects (the supervisor quarantines them on --resume). */
  readonly corruptLines: number[];
}

/**
 * Reads results.jsonl: every line that is a JSON object, whatever lies
 * between them. A corrupt line is skipped and counted, never the end of the
 * file; a last line without its newline counts only if it parses.
 */
export function readResults(path: string): ResultsFile {
  if (!existsSync(path)) return { records: [], corruptLines: [] };
  const lines = readFileSync(path, 'utf8').split('\n');
  const records: SweepRecord[] = [];
  const corruptLines: number[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      v = undefined;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) records.push(normalizeRecord(v as SweepRecord));
    else if (i < lines.length - 1) corruptLines.push(i + 1); // a torn last line is a kill, not corruption
  });
  return { records, corruptLines };
}

const NUMERIC = ['ms', 'rel_err', 'baseline_ms', 'speedup', 'confirm_speedup', 'elapsed_s'] as const;

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
