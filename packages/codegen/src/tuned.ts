/**
 * `gen --tuned results.jsonl`: sweep results -> the `_config.TUNED` dispatch
 * table of a generated package.
 *
 * Each line of results.jsonl is one sweep record (packages/runner/src/sweep):
 * `{shape: {batch, seqlen, nheads, headdim, ...}, params: {chunk_size,
 * block_p, num_warps, num_stages}, status, ms, speedup}`. Only rows whose
 * headdim is the model's count (a tile tuned for another headdim says nothing
 * about this kernel). Rows are bucketed by (nheads, seqlen rounded up to a
 * power of two); in each bucket the settings that were "ok" at every measured
 * shape of the bucket and took the least total time win.
 *
 * Lookup in ssd_fused_fwd: arguments the caller passes win; otherwise the
 * first row with equal nheads and seqlen <= max_seqlen, else that nheads'
 * largest bucket, else the _config defaults.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export class TunedFileError extends Error {
  override readonly name = 'TunedFileError';
}

/** One row of `_config.TUNED` (snake_case: it is emitted as a Python dict). */
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

/**
 * sha256 of a generated kernel file without its header lines: the model file
 * and IR hash differ between packages, the code is what a sweep measured.
 * mamba2_runner.sweep.kernel_sha computes the same.
 */
export function kernelSha(source: string): string {
  const lines = source.split('\n');
  const header = ['# generated from ', '# ir-hash: ', '# copied from ']; // = the library file's sha (mamba2_runner.sweep.kernel_sha)
  while (lines.length > 0 && header.some((h) => lines[0]!.startsWith(h))) lines.shift();
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

/**
 * The dispatch rows for a package of `headdim` whose fused scan hashes to
 * `sha` (kernelSha of its ssd_fused.py). A table measured on other kernel
 * code says nothing about this one (seen on the H200: a table from an earlier
 * kernel made the next one 2.6x slower at one shape), so rows of another
 * kernel are refused; rows that carry no hash (older sweeps) are used with a
 * warning.
 */
export function tunedFor(rows: readonly SweepRow[], headdim: number, sha: string, file = '<tuned>'): { entries: TunedEntry[]; warning: string | null } {
  const other = rows.filter((r) => typeof r.kernel_sha === 'string' && r.kernel_sha !== sha);
  if (other.length > 0) {
    throw new TunedFileError(
      `${file}: ${other.length} row(s) were measured on another ssd_fused.py (kernel_sha ${other[0]!.kernel_sha!.slice(0, 12)}, ` +
        `this package's is ${sha.slice(0, 12)}). Re-run the sweep (pnpm bench --sweep ... ) on the current kernels, then gen --tuned again.`,
    );
  }
  const unhashed = rows.filter((r) => typeof r.kernel_sha !== 'string').length;
  const warning = unhashed === 0 ? null
    : `${file}: ${unhashed} row(s) carry no kernel_sha, so nothing shows they were measured on this package's ssd_fused.py; re-run the sweep to be sure.`;
  return { entries: tunedEntries(tunedChoices(rows), headdim), warning };
}

export function parseTuned(text: string, headdim: number, file = '<tuned>'): TunedEntry[] {
  return tunedEntries(tunedChoices(parseTunedRows(text, file)), headdim);
}

export function readTunedRows(path: string): SweepRow[] {
  return parseTunedRows(readFileSync(path, 'utf8'), path);
}
