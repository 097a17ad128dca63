/**
 * `gen --tuned results.jsonl`: sweep results -> the tuned rows of a generated
 * package's LaunchConfig (`LAUNCH.tuned` in its _config.py).
 *
 * Each line of results.jsonl is one sweep record (packages/runner/src/sweep):
 * `{shape: {batch, seqlen, nheads, headdim, ...}, params: {chunk_size,
 * block_p, num_warps, num_stages}, status, ms, speedup}`. Only rows whose
 * headdim is the model's count (a tile tuned for another headdim says nothing
 * about this kernel). Rows are bucketed by (nheads, seqlen rounded up to a
 * power of two); in each bucket the settings that were "ok" at every measured
 * shape of the bucket and took the least total time win.
 *
 * Lookup in ssd_fused_fwd (LaunchConfig.tuned_row): arguments the caller
 * passes win; otherwise the first row with equal nheads and seqlen <=
 * max_seqlen, else that nheads' largest bucket, else the LAUNCH defaults.
 *
 * A table is only as good as the kernel and the GPU it was measured on:
 * rows of another kernel sha or another GPU model are refused.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TunedTable } from '@mamba2/dsl';

export class TunedFileError extends Error {
  override readonly name = 'TunedFileError';
}

/** One bucket's winner as the sweep names it (snake_case; chunk_size is the fused walk's tile, block_q). */
export interface TunedEntry {
  readonly nheads: number;
  readonly max_seqlen: number;
  readonly chunk_size: number;
  readonly block_p: number | null;
  readonly num_warps: number | null;
  readonly num_stages: number | null;
}

/** What a bucket's winner carries besides its dispatch row (for reports). */
export interface TunedChoice extends TunedEntry {
  readonly headdim: number;
  readonly ms: number;
  readonly speedup: number | null;
}

export interface SweepRow {
  /** kernelSha() of the ssd_fused.py that was measured (absent in older results). */
  readonly kernel_sha?: string | null;
  /** What the row was measured on (mamba2_runner.sweep_provenance): gpu_model = torch.cuda.get_device_name. */
  readonly provenance?: { readonly gpu_model?: string | null } | null;
  readonly shape?: { batch: number; seqlen: number; nheads: number; headdim: number };
  readonly params?: { chunk_size: number; block_p: number | null; num_warps: number | null; num_stages: number | null };
  readonly status?: string;
  readonly ms?: number | null;
  readonly speedup?: number | null;
}

export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Best settings per (headdim, nheads, seqlen bucket), sorted by those keys. */
export function tunedChoices(rows: readonly SweepRow[]): TunedChoice[] {
  interface Cand { params: NonNullable<SweepRow['params']>; ms: number[]; speedups: number[]; shapes: Set<string> }
  interface Bucket { headdim: number; nheads: number; maxSeqlen: number; shapes: Set<string>; cands: Map<string, Cand> }
  const buckets = new Map<string, Bucket>();
  for (const r of rows) {
    if (!r.shape || !r.params) continue;
    const { headdim, nheads, seqlen, batch } = r.shape;
    const maxSeqlen = nextPow2(seqlen);
    const key = `${headdim}/${nheads}/${maxSeqlen}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { headdim, nheads, maxSeqlen, shapes: new Set(), cands: new Map() }));
    const shapeKey = `${batch}x${seqlen}`;
    b.shapes.add(shapeKey);
    if (r.status !== 'ok' || typeof r.ms !== 'number') continue;
    const pk = JSON.stringify([r.params.chunk_size, r.params.block_p, r.params.num_warps, r.params.num_stages]);
    let c = b.cands.get(pk);
    if (!c) b.cands.set(pk, (c = { params: r.params, ms: [], speedups: [], shapes: new Set() }));
    c.ms.push(r.ms);
    if (typeof r.speedup === 'number') c.speedups.push(r.speedup);
    c.shapes.add(shapeKey);
  }
  const out: TunedChoice[] = [];
  for (const b of buckets.values()) {
    let best: { c: Cand; total: number } | null = null;
    for (const c of b.cands.values()) {
      if (c.shapes.size < b.shapes.size) continue; // failed or missing at one of the bucket's shapes
      const total = c.ms.reduce((a, x) => a + x, 0);
      if (best === null || total < best.total) best = { c, total };
    }
    if (best === null) continue;
    const { c } = best;
    const speedup = c.speedups.length === b.shapes.size
      ? Math.exp(c.speedups.reduce((a, s) => a + Math.log(s), 0) / c.speedups.length)
      : null;
    out.push({
      headdim: b.headdim, nheads: b.nheads, max_seqlen: b.maxSeqlen,
      chunk_size: c.params.chunk_size, block_p: c.params.block_p ?? null,
      num_warps: c.params.num_warps ?? null, num_stages: c.params.num_stages ?? null,
      ms: best.total / c.ms.length, speedup,
    });
  }
  return out.sort((a, b) => a.headdim - b.headdim || a.nheads - b.nheads || a.max_seqlen - b.max_seqlen);
}

/** The dispatch rows for a package of the given headdim. */
export function tunedEntries(choices: readonly TunedChoice[], headdim: number): TunedEntry[] {
  return choices
    .filter((c) => c.headdim === headdim)
    .map(({ nheads, max_seqlen, chunk_size, block_p, num_warps, num_stages }) => ({
      nheads, max_seqlen, chunk_size, block_p, num_warps, num_stages,
    }));
}

/** The lines codegen puts above a copied library file (emit/library.ts). */
const HEADER_PREFIXES = ['# generated from ', '# ir-hash: ', '# copied from '];

/**
 * sha256 of a kernel file without its generated header lines: the model file
 * and IR hash differ between packages, the code is what a sweep measured. For
 * a copy of a library file this is the sha256 of the library file itself
 * (LaunchConfig's kernel_sha). mamba2_runner.sweep.kernel_sha computes the same.
 */
export function kernelSha(source: string): string {
  const lines = source.split('\n');
  while (lines.length > 0 && HEADER_PREFIXES.some((p) => lines[0]!.startsWith(p))) lines.shift();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

export function parseTunedRows(text: string, file = '<tuned>'): SweepRow[] {
  const rows: SweepRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new TunedFileError(`${file}:${i + 1}: not JSON. Pass the results.jsonl a sweep wrote (pnpm bench --sweep).`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new TunedFileError(`${file}:${i + 1}: not a JSON object. Pass the results.jsonl a sweep wrote (pnpm bench --sweep).`);
    }
    rows.push(row as SweepRow);
  });
  return rows;
}

const rowGpu = (r: SweepRow): string | null => {
  const g = r.provenance?.gpu_model ?? null;
  return typeof g === 'string' && g !== '' ? g : null;
};

/**
 * The tuned table for a package of `headdim` whose fused scan hashes to `sha`
 * (kernelSha of its ssd_fused.py, = sha256 of the library file), for GPU
 * `gpu` (null: the one GPU the rows name). A table measured on other kernel
 * code or another GPU says nothing about this one (seen on the H200: a table
 * from an earlier kernel made the next one 2.6x slower at one shape), so such
 * rows are refused; rows that carry no sha or no GPU (older sweeps) are used
 * with a warning.
 */
export function tunedFor(
  rows: readonly SweepRow[],
  headdim: number,
  sha: string,
  file = '<tuned>',
  gpu: string | null = null,
): { table: TunedTable; warnings: string[] } {
  const other = rows.filter((r) => typeof r.kernel_sha === 'string' && r.kernel_sha !== sha);
  if (other.length > 0) {
    throw new TunedFileError(
      `${file}: ${other.length} row(s) were measured on kernels/ssd_fused.py with sha ${other[0]!.kernel_sha!.slice(0, 12)}, ` +
        `but this package's ssd_fused.py has sha ${sha.slice(0, 12)}. Re-run the sweep on the current kernels (pnpm bench --sweep ...), then gen --tuned again.`,
    );
  }
  const gpus = [...new Set(rows.map(rowGpu).filter((g): g is string => g !== null))].sort();
  const target = gpu ?? gpus[0] ?? null;
  const foreign = gpus.filter((g) => g !== target);
  if (foreign.length > 0) {
    throw new TunedFileError(
      `${file}: rows were measured on GPU '${foreign[0]}' but the table is for '${target}'` +
        `${gpu === null ? ' (its first GPU)' : ' (--gpu)'}. Sweep on one GPU model per results file, or pass --gpu '${foreign[0]}' to build for that one.`,
    );
  }
  const warnings: string[] = [];
  const unhashed = rows.filter((r) => typeof r.kernel_sha !== 'string').length;
  if (unhashed > 0) {
    warnings.push(`${file}: ${unhashed} row(s) carry no kernel_sha, so nothing shows they were measured on this package's ssd_fused.py; re-run the sweep to be sure.`);
  }
  const noGpu = rows.filter((r) => rowGpu(r) === null).length;
  if (noGpu > 0) {
    warnings.push(`${file}: ${noGpu} row(s) do not record their GPU model; re-run the sweep to be sure they were measured on ${target ?? 'the GPU this package is for'}.`);
  }
  const entries = tunedEntries(tunedChoices(rows), headdim);
  return {
    table: {
      kernel: 'kernels/ssd_fused.py',
      kernelSha: unhashed === rows.length ? null : sha,
      gpu: target,
      source: file,
      rows: entries.map((e) => ({
        nheads: e.nheads, maxSeqlen: e.max_seqlen, blockQ: e.chunk_size, blockP: e.block_p, warps: e.num_warps, stages: e.num_stages,
      })),
    },
    warnings,
  };
}

export function parseTuned(text: string, headdim: number, file = '<tuned>'): TunedEntry[] {
  return tunedEntries(tunedChoices(parseTunedRows(text, file)), headdim);
}

export function readTunedRows(path: string): SweepRow[] {
  return parseTunedRows(readFileSync(path, 'utf8'), path);
}
