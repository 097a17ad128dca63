import type { SweepRecord } from './results.ts';

/**
 * One row of `_config.TUNED` in a generated package (JSON/Python literal,
 * snake_case). `pnpm gen --tuned results.jsonl` keeps the rows whose headdim
 * is the model's and emits them sorted by (nheads, max_seqlen):
 *
 *   TUNED = [
 *       {"nheads": 80, "max_seqlen": 4096, "chunk_size": 128, "block_p": 64, "num_warps": 4, "num_stages": 2},
 *   ]
 *
 * Lookup in ssd_fused_fwd (mamba2_runner.sweep.pick_tuned is the reference
 * implementation): arguments the caller passes win; otherwise the first row
 * with nheads equal and seqlen <= max_seqlen, else the row of that nheads with
 * the largest max_seqlen, else the _config defaults. block_p/num_warps/
 * num_stages null mean "the default".
 */
export interface TunedEntry {
  readonly headdim: number;
  readonly nheads: number;
  /** Bucket: seqlen rounded up to a power of two. */
  readonly max_seqlen: number;
  readonly chunk_size: number;
  readonly block_p: number | null;
  readonly num_warps: number | null;
  readonly num_stages: number | null;
  /** Mean time of this config over the bucket's measured shapes, and its speedup over the default. */
  readonly ms: number;
  readonly speedup: number | null;
}

export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * Best config per bucket (headdim, nheads, next power of two of seqlen):
 * among the tile/chunk settings that were "ok" at every measured shape of the
 * bucket, the one with the least total time.
 */
export function tunedTable(records: readonly SweepRecord[]): TunedEntry[] {
  interface Acc {
    readonly key: string;
    readonly headdim: number;
    readonly nheads: number;
    readonly maxSeqlen: number;
    readonly shapes: Set<string>;
    readonly byParams: Map<string, { params: NonNullable<SweepRecord['params']>; ms: number[]; speedups: number[]; shapes: Set<string> }>;
  }
  const buckets = new Map<string, Acc>();
  for (const r of records) {
    if (!r.shape || !r.params) continue;
    const { headdim, nheads, seqlen, batch } = r.shape;
    const maxSeqlen = nextPow2(seqlen);
    const key = `${headdim}/${nheads}/${maxSeqlen}`;
    let b = buckets.get(key);
    if (!b) {
      b = { key, headdim, nheads, maxSeqlen, shapes: new Set(), byParams: new Map() };
      buckets.set(key, b);
    }
    const shapeKey = `${batch}x${seqlen}`;
    b.shapes.add(shapeKey);
    if (r.status !== 'ok' || r.ms === null) continue;
    const pk = JSON.stringify([r.params.chunk_size, r.params.block_p, r.params.num_warps, r.params.num_stages]);
    let p = b.byParams.get(pk);
    if (!p) {
      p = { params: r.params, ms: [], speedups: [], shapes: new Set() };
      b.byParams.set(pk, p);
    }
    p.ms.push(r.ms);
    if (r.speedup !== null) p.speedups.push(r.speedup);
    p.shapes.add(shapeKey);
  }
  const out: TunedEntry[] = [];
  for (const b of buckets.values()) {
    let best: { params: NonNullable<SweepRecord['params']>; total: number; n: number; speedups: number[] } | null = null;
    for (const p of b.byParams.values()) {
      if (p.shapes.size < b.shapes.size) continue; // failed or missing at one of the bucket's shapes
      const total = p.ms.reduce((a, x) => a + x, 0);
      if (best === null || total < best.total) best = { params: p.params, total, n: p.ms.length, speedups: p.speedups };
    }
    if (best === null) continue;
    const gm = best.speedups.length === b.shapes.size
      ? Math.exp(best.speedups.reduce((a, s) => a + Math.log(s), 0) / best.speedups.length)
      : null;
    out.push({
      headdim: b.headdim, nheads: b.nheads, max_seqlen: b.maxSeqlen,
      chunk_size: best.params.chunk_size, block_p: best.params.block_p,
      num_warps: best.params.num_warps, num_stages: best.params.num_stages,
      ms: best.total / best.n, speedup: gm,
    });
  }
  return out.sort((a, b) => a.headdim - b.headdim || a.nheads - b.nheads || a.max_seqlen - b.max_seqlen);
}

/** The `TUNED = [...]` lines for a package of the given headdim (what codegen emits). */
export function tunedPython(entries: readonly TunedEntry[], headdim: number): string {
  const py = (v: number | null): string => (v === null ? 'None' : String(v));
  const rows = entries
    .filter((e) => e.headdim === headdim)
    .map((e) =>
      `    {"nheads": ${e.nheads}, "max_seqlen": ${e.max_seqlen}, "chunk_size": ${e.chunk_size}, ` +
      `"block_p": ${py(e.block_p)}, "num_warps": ${py(e.num_warps)}, "num_stages": ${py(e.num_stages)}},`,
    );
  return rows.length === 0 ? 'TUNED = []\n' : `TUNED = [\n${rows.join('\n')}\n]\n`;
}
