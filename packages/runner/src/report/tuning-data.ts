/**
 * The numbers of the tuning report (issue 13), from the files `python -m mamba2_runner.tuning` writes:
 * kernels.jsonl (forward and backward kernel sweeps), model.jsonl (block fwd+bwd per d_model, headdim,
 * d_state, Q) and, once measured, the bench JSON of the tuned and default packages side by side.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface TuningRecord {
  readonly type?: string;
  readonly id: string;
  readonly kind: 'fwd' | 'bwd' | 'block' | string;
  readonly problem: string;
  readonly provider?: string;
  readonly shape: Record<string, number>;
  readonly params: Record<string, number | string>;
  readonly status: string;
  readonly reason?: string | null;
  readonly ms: number | null;
  readonly fwd_ms?: number | null;
  readonly rel_err?: number | null;
  readonly tol?: number | null;
  readonly default_ms?: number | null;
  readonly noise?: number | null;
  readonly speedup?: number | null;
  readonly floor_ms?: number | null;
  readonly floor_frac?: number | null;
  readonly floor_bound?: string | null;
  readonly q?: number;
  readonly nheads?: number;
  readonly params_count?: number;
  readonly flops?: number;
  readonly kernel_sha?: string | null;
  readonly provenance?: Record<string, string | null>;
  readonly t?: string;
}

export function readJsonl(path: string): TuningRecord[] {
  if (!existsSync(path)) return [];
  const out: TuningRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as TuningRecord;
      if ((r.type ?? 'config') === 'config' && typeof r.id === 'string') out.push(r);
    } catch {
      // a torn last line (a killed run): the supervisor cuts it on --resume; the report skips it
    }
  }
  const byId = new Map(out.map((r) => [r.id, r]));
  return [...byId.values()];
}

export const isOurs = (r: TuningRecord): boolean => (r.provider ?? 'ours') === 'ours';
export const isDefault = (r: TuningRecord): boolean => isOurs(r) && Object.keys(r.params).length === 0;
const okMs = (r: TuningRecord | undefined): number | null => (r && r.status === 'ok' && typeof r.ms === 'number' ? r.ms : null);

/** One kernel problem (kind x shape): the default, the best of ours, the incumbent. */
export interface KernelRow {
  readonly kind: string;
  readonly shapeKey: string;
  readonly shape: Record<string, number>;
  readonly records: readonly TuningRecord[];
  readonly default: TuningRecord | undefined;
  readonly best: TuningRecord | undefined;
  readonly incumbent: TuningRecord | undefined;
}

export const shapeKey = (s: Record<string, number>): string =>
  `B${s.batch} L${s.seqlen} H${s.nheads} P${s.headdim} N${s.d_state}`;

export function kernelRows(records: readonly TuningRecord[]): KernelRow[] {
  const groups = new Map<string, TuningRecord[]>();
  for (const r of records) groups.set(r.problem, [...(groups.get(r.problem) ?? []), r]);
  return [...groups.values()].map((rs) => {
    const ours = rs.filter((r) => isOurs(r) && okMs(r) !== null);
    return {
      kind: rs[0]!.kind, shapeKey: shapeKey(rs[0]!.shape), shape: rs[0]!.shape, records: rs,
      default: rs.find(isDefault),
      best: ours.reduce<TuningRecord | undefined>((b, r) => (b === undefined || (r.ms as number) < (b.ms as number) ? r : b), undefined),
      incumbent: rs.find((r) => r.provider === 'mamba_ssm'),
    };
  });
}

/** The model sweep: per d_model, every (headdim, d_state, Q) of ours with its problem's incumbent. */
export interface ModelRow {
  readonly d_model: number;
  readonly headdim: number;
  readonly d_state: number;
  readonly q: number;
  readonly rec: TuningRecord;
  readonly incumbent: TuningRecord | undefined;
}

export function modelRows(records: readonly TuningRecord[]): ModelRow[] {
  const inc = new Map(records.filter((r) => r.provider === 'mamba_ssm').map((r) => [r.problem, r]));
  return records
    .filter(isOurs)
    .map((r) => ({
      d_model: r.shape.d_model as number, headdim: r.shape.headdim as number, d_state: r.shape.d_state as number,
      q: r.q ?? (typeof r.params.q === 'number' ? r.params.q : 32), rec: r, incumbent: inc.get(r.problem),
    }))
    .sort((a, b) => a.d_model - b.d_model || (okMs(a.rec) ?? Infinity) - (okMs(b.rec) ?? Infinity));
}

/** "for d_model 1536 at 8x2048, headdim 64 / d_state 128 (Q 64) trains fastest: ..." per d_model. */
export function answers(rows: readonly ModelRow[]): { d_model: number; text: string; best: ModelRow | null }[] {
  const dms = [...new Set(rows.map((r) => r.d_model))].sort((a, b) => a - b);
  return dms.map((d) => {
    const mine = rows.filter((r) => r.d_model === d && okMs(r.rec) !== null);
    const best = mine[0] ?? null;
    if (best === null) return { d_model: d, best, text: `for d_model ${d}: no configuration passed its check` };
    const s = best.rec.shape;
    const inc = okMs(best.incumbent);
    const incBest = rows.filter((r) => r.d_model === d).map((r) => okMs(r.incumbent)).filter((x): x is number => x !== null);
    const fastestInc = incBest.length ? Math.min(...incBest) : null;
    const vs = inc !== null ? `; mamba_ssm at the same headdim / d_state: ${inc.toFixed(2)} ms (${(inc / (best.rec.ms as number)).toFixed(2)}x)` : '';
    const vsAll = fastestInc !== null ? `; mamba_ssm's fastest over the grid: ${fastestInc.toFixed(2)} ms` : '';
    return {
      d_model: d, best,
      text: `for d_model ${d} at ${s.batch}×${s.seqlen}, headdim ${best.headdim} / d_state ${best.d_state} (Q ${best.q}) ` +
        `trains fastest: ${(best.rec.ms as number).toFixed(2)} ms per block forward+backward${vs}${vsAll}`,
    };
  });
}

/** Best time per (x, y) over the other knobs, for the axes the reader picks. */
export interface AxisCell { readonly x: string; readonly y: string; readonly ms: number | null; readonly speedup: number | null; readonly id: string | null }

export function axisCells(records: readonly TuningRecord[], xa: string, ya: string): AxisCell[] {
  const cells = new Map<string, TuningRecord[]>();
  for (const r of records) {
    if (!isOurs(r) || !(xa in r.params) || !(ya in r.params)) continue;
    const k = `${r.params[xa]}|${r.params[ya]}`;
    cells.set(k, [...(cells.get(k) ?? []), r]);
  }
  return [...cells.entries()].map(([k, rs]) => {
    const [x, y] = k.split('|') as [string, string];
    const ok = rs.filter((r) => okMs(r) !== null);
    const b = ok.reduce<TuningRecord | null>((m, r) => (m === null || (r.ms as number) < (m.ms as number) ? r : m), null);
    return { x, y, ms: b?.ms ?? null, speedup: b?.speedup ?? null, id: b?.id ?? null };
  });
}

export const AXES: Record<string, readonly (readonly [string, string])[]> = {
  fwd: [['block_q', 'block_p'], ['num_warps', 'num_stages'], ['block_q', 'num_warps'], ['block_p', 'num_stages']],
  bwd: [['block_q', 'block_p'], ['num_warps', 'walk_warps'], ['block_q', 'num_warps'], ['block_p', 'walk_warps']],
};

/** Bench JSON of `python -m mamba2_runner.tuning tuned`: providers default and tuned per shape. */
export interface TunedBench {
  readonly meta: Record<string, unknown>;
  readonly results: readonly { config: { name: string }; providers: Record<string, Record<string, unknown>> }[];
  readonly summary?: Record<string, unknown>;
}

export function readTunedBench(path: string | undefined): TunedBench | null {
  if (!path || !existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as TunedBench;
}

const CSV_COLS = ['id', 'kind', 'provider', 'problem', 'batch', 'seqlen', 'd_model', 'nheads', 'headdim', 'd_state', 'q',
  'block_q', 'block_p', 'num_warps', 'num_stages', 'split', 'walk_warps', 'nsplit', 'impl', 'chunk_size', 'status',
  'ms', 'fwd_ms', 'default_ms', 'noise', 'speedup', 'floor_ms', 'floor_frac', 'rel_err', 'tol', 'params_count',
  'gpu_model', 'driver', 'torch', 'triton', 'commit', 'kernel_sha', 't', 'reason'] as const;

/** One CSV line per record, every knob its own column (empty when the config left it at the default). */
export function toCsv(records: readonly TuningRecord[]): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [CSV_COLS.join(',')];
  for (const r of records) {
    const p = r.provenance ?? {};
    const src: Record<string, unknown> = { ...r.shape, ...r.params, ...r, gpu_model: p.gpu_model, driver: p.driver, torch: p.torch, triton: p.triton, commit: p.commit };
    if (r.nheads !== undefined) src.nheads = r.nheads;
    lines.push(CSV_COLS.map((c) => cell(src[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
