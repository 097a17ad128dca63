/**
 * `gen --tuned results.jsonl`: sweep results -> the tuned rows of a generated
 * package's LaunchConfig (`LAUNCH.tuned` in its _config.py).
 *
 * Each line of results.jsonl is one sweep record (packages/runner/src/sweep):
 * `{shape: {batch, seqlen, nheads, headdim, ...}, params: {chunk_size,
 * block_p, num_warps, num_stages}, status, ms, speedup}`. Only rows whose
 * headdim is the model's count (a tile tuned for another headdim says nothing
 * about this kernel). Rows are bucketed by (nheads, seqlen rounded up to a
 * power of two); in each bucket the settings that were "ok" and beat the
 * default by more than the noise measured in the same run (speedup > 1 +
 * noise, and confirm_speedup > 1 + noise: beatsDefault) at every measured shape of the bucket, and took the least total
 * time, win. A bucket where nothing did gets no row: its shapes keep the
 * default heuristics. Only `fwd` rows of ours count (mamba2_runner.tuning
 * also writes backward, block and incumbent rows).
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
import { KERNEL_DEPENDENCIES, kernelSetText, LAUNCH_KERNELS } from './lower/launch.ts';

export class TunedFileError extends Error {
  override readonly name = 'TunedFileError';
}

/** One bucket's winner as the sweep names it (snake_case; chunk_size is the fused walk's tile, block_q). */
export interface TunedEntry {
  readonly nheads: number;
  readonly max_seqlen: number;
  /** The fused walk's tile (block_q); null keeps the default. */
  readonly chunk_size: number | null;
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
  /** The measured kernel's sha (kernelSetSha: ssd_fused.py and what it imports, for `fwd`; absent in older results). */
  readonly kernel_sha?: string | null;
  /** kernelSha of each library file at measuring time (mamba2_runner.tuning; absent in older results). */
  readonly kernel_shas?: Readonly<Record<string, string>> | null;
  /** What the row was measured on (mamba2_runner.sweep_provenance): gpu_model = torch.cuda.get_device_name. */
  readonly provenance?: { readonly gpu_model?: string | null } | null;
  /** 'fwd' | 'bwd' | 'block' (mamba2_runner.tuning); absent in older forward-only sweeps. Only 'fwd' rows are tuned rows. */
  readonly kind?: string;
  /** 'ours' | 'mamba_ssm' (the incumbent, never a tuned row); absent in older sweeps. */
  readonly provider?: string;
  readonly shape?: { batch: number; seqlen: number; nheads: number; headdim: number };
  /** {} is the default config; block_q (older sweeps: chunk_size) is the fused walk's tile. */
  readonly params?: {
    chunk_size?: number | null; block_q?: number | null; block_p?: number | null; num_warps?: number | null;
    num_stages?: number | null; split?: number | null;
  };
  readonly status?: string;
  readonly ms?: number | null;
  /** The default config's time at this shape, measured in the same run, and its relative spread there (the noise). */
  readonly default_ms?: number | null;
  readonly noise?: number | null;
  readonly speedup?: number | null;
  /** Median of default / row over the confirm pass's alternating timings (absent: not confirmed). */
  readonly confirm_speedup?: number | null;
}

export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The settings of a row that a LAUNCH.tuned row can hold, or null when it holds none of them (the default) or needs another knob. */
function tunable(p: NonNullable<SweepRow['params']>): [number | null, number | null, number | null, number | null] | null {
  if (p.split !== undefined && p.split !== null) return null; // LAUNCH.fused.split is package-wide, not a row
  const v = [p.block_q ?? p.chunk_size ?? null, p.block_p ?? null, p.num_warps ?? null, p.num_stages ?? null] as
    [number | null, number | null, number | null, number | null];
  return v.every((x) => x === null) ? null : v;
}

/**
 * A row beat the default at its shape by more than the noise of that run: speedup > 1 + noise, and
 * again in the sweep's confirm pass (confirm_speedup, the median ratio of default and row timed
 * alternately: mamba2_runner.tuning.engine). A row without a confirm pass (sweeps before 2026-12-01e)
 * does not count: on 2026-12-01 such a 1.34x measured 1.00x side by side.
 */
export function beatsDefault(r: SweepRow): boolean {
  const over = (x: unknown): boolean => typeof x === 'number' && x > 1 + (r.noise as number);
  return typeof r.noise === 'number' && Number.isFinite(r.noise) && over(r.speedup) && over(r.confirm_speedup);
}

/**
 * Best settings per (headdim, nheads, seqlen bucket), sorted by those keys. A setting is a candidate of
 * its bucket only if it was ok and beat the default by more than the noise (beatsDefault) at every
 * measured shape of the bucket; among candidates the least total time wins. A bucket without one has no
 * row, so its shapes keep the default heuristics: a tuned package is never slower than the default
 * where the sweep looked, beyond that run's noise.
 */
export function tunedChoices(rows: readonly SweepRow[]): TunedChoice[] {
  interface Cand { v: NonNullable<ReturnType<typeof tunable>>; ms: number[]; speedups: number[]; shapes: Set<string> }
  interface Bucket { headdim: number; nheads: number; maxSeqlen: number; shapes: Set<string>; cands: Map<string, Cand> }
  const buckets = new Map<string, Bucket>();
  for (const r of rows) {
    if (!r.shape || !r.params) continue;
    if ((r.kind ?? 'fwd') !== 'fwd' || (r.provider ?? 'ours') !== 'ours') continue;
    const { headdim, nheads, seqlen, batch } = r.shape;
    const maxSeqlen = nextPow2(seqlen);
    const key = `${headdim}/${nheads}/${maxSeqlen}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { headdim, nheads, maxSeqlen, shapes: new Set(), cands: new Map() }));
    const shapeKey = `${batch}x${seqlen}`;
    b.shapes.add(shapeKey);
    const v = tunable(r.params);
    if (v === null || r.status !== 'ok' || typeof r.ms !== 'number' || !beatsDefault(r)) continue;
    const pk = JSON.stringify(v);
    let c = b.cands.get(pk);
    if (!c) b.cands.set(pk, (c = { v, ms: [], speedups: [], shapes: new Set() }));
    c.ms.push(r.ms);
    c.speedups.push(r.speedup as number);
    c.shapes.add(shapeKey);
  }
  const out: TunedChoice[] = [];
  for (const b of buckets.values()) {
    let best: { c: Cand; total: number } | null = null;
    for (const c of b.cands.values()) {
      if (c.shapes.size < b.shapes.size) continue; // failed, missing or within the noise at one of the bucket's shapes
      const total = c.ms.reduce((a, x) => a + x, 0);
      if (best === null || total < best.total) best = { c, total };
    }
    if (best === null) continue;
    const { c } = best;
    const speedup = Math.exp(c.speedups.reduce((a, s) => a + Math.log(s), 0) / c.speedups.length);
    out.push({
      headdim: b.headdim, nheads: b.nheads, max_seqlen: b.maxSeqlen,
      chunk_size: c.v[0], block_p: c.v[1], num_warps: c.v[2], num_stages: c.v[3],
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
 * sha256 of one library file without its generated header lines: the model
 * file and IR hash differ between packages, the code is what a sweep measured.
 * For a copy of a library file this is the sha256 of the library file itself.
 * mamba2_runner.sweep_provenance.kernel_sha computes the same.
 */
export function kernelSha(source: string): string {
  const lines = source.split('\n');
  while (lines.length > 0 && HEADER_PREFIXES.some((p) => lines[0]!.startsWith(p))) lines.shift();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * One sha for a set of files: sha256 of the lines "<path> <kernelSha>\n"
 * sorted by path (paths inside mamba2_kernels/, '/' separated).
 * mamba2_runner.sweep_provenance.combined_sha computes the same.
 */
export function combinedSha(fileShas: Readonly<Record<string, string>>): string {
  const paths = Object.keys(fileShas).sort();
  return createHash('sha256').update(paths.map((p) => `${p} ${fileShas[p]}\n`).join('')).digest('hex');
}

/**
 * kernelSha of each of `files`, read by `read` (a library file or a package's copy: the header is
 * dropped); null when one is missing (read returns null).
 */
export function fileShas(files: readonly string[], read: (path: string) => string | null): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const f of files) {
    const text = read(f);
    if (text === null) return null;
    out[f] = kernelSha(text);
  }
  return out;
}

/**
 * The kernel sha of `entry` (a KERNEL_DEPENDENCIES key): combinedSha over every library file it depends
 * on, read by `read` (e.g. from a generated package's module folder); null when one is missing there.
 */
export function kernelSetSha(entry: string, read: (path: string) => string | null): string | null {
  const files = KERNEL_DEPENDENCIES[entry];
  if (files === undefined) throw new Error(`${entry} is not in KERNEL_DEPENDENCIES (lower/launch.ts); add it there`);
  const shas = fileShas(files, read);
  return shas === null ? null : combinedSha(shas);
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
 * The tuned table for a package of `headdim` whose fused scan has kernel sha
 * `sha` (kernelSetSha of kernels/ssd_fused.py: over it and every library file
 * it imports), for GPU `gpu` (null: the one GPU the rows name). `files`, the
 * package's kernelSha per file of that set, lets a refusal name the files that
 * changed. A table measured on other kernel code or another GPU says nothing
 * about this one (seen on the H200: a table from an earlier kernel made the
 * next one 2.6x slower at one shape), so such rows are refused; rows that
 * carry no sha or no GPU (older sweeps) are used with a warning.
 */
export function tunedFor(
  allRows: readonly SweepRow[],
  headdim: number,
  sha: string,
  file = '<tuned>',
  gpu: string | null = null,
  files: Readonly<Record<string, string>> | null = null,
): { table: TunedTable; warnings: string[] } {
  // only forward rows of ours become tuned rows: a backward or block record carries another kernel's sha
  const rows = allRows.filter((r) => (r.kind ?? 'fwd') === 'fwd' && (r.provider ?? 'ours') === 'ours');
  const other = rows.filter((r) => typeof r.kernel_sha === 'string' && r.kernel_sha !== sha);
  if (other.length > 0) {
    const theirs = other[0]!.kernel_shas;
    const set = KERNEL_DEPENDENCIES[LAUNCH_KERNELS.fused] ?? [];
    const known = files !== null && theirs !== null && typeof theirs === 'object' ? theirs : null;
    const changed = known === null ? [] : set.filter((f) => typeof known[f] === 'string' && known[f] !== files![f]);
    const unrecorded = known === null ? [] : set.filter((f) => typeof known[f] !== 'string');
    const why = [
      ...(changed.length > 0 ? [`${changed.join(', ')} changed since`] : []),
      ...(unrecorded.length > 0 ? [`${unrecorded.join(', ')} not recorded then`] : []),
    ];
    throw new TunedFileError(
      `${file}: ${other.length} row(s) were measured on a fused scan with kernel sha ${other[0]!.kernel_sha!.slice(0, 12)}, ` +
        `but this package's has sha ${sha.slice(0, 12)}${why.length > 0 ? ` (${why.join('; ')})` : ''}; ` +
        `the sha covers ${kernelSetText(LAUNCH_KERNELS.fused)}. ` +
        'Re-run the sweep on the current kernels (pnpm sweep:kernels, or pnpm bench --sweep ...), then gen --tuned again.',
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
    warnings.push(`${file}: ${unhashed} row(s) carry no kernel_sha, so nothing shows they were measured on this package's fused scan (${kernelSetText(LAUNCH_KERNELS.fused)}); re-run the sweep to be sure.`);
  }
  const noGpu = rows.filter((r) => rowGpu(r) === null).length;
  if (noGpu > 0) {
    warnings.push(`${file}: ${noGpu} row(s) do not record their GPU model; re-run the sweep to be sure they were measured on ${target ?? 'the GPU this package is for'}.`);
  }
  const entries = tunedEntries(tunedChoices(rows), headdim);
  return {
    table: {
      kernel: LAUNCH_KERNELS.fused,
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
