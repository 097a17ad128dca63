/**
 * A sweep file's typed description: which model, at which problem shapes,
 * over which grid of codegen/tile parameters.
 *
 * ```ts
 * export default defineSweep({
 *   model: 'examples/mamba2-simple.ts',
 *   shapes: [{ batch: 4, seqlen: 4096 }],
 *   grid: { chunkSize: [64, 128, 256], headdim: [32, 64, 128], blockP: [32, 64], scanWarps: [4, 8] },
 * });
 * ```
 * headdim changes nheads (= d_inner / headdim), so each headdim gets its own
 * generated package; chunkSize and the tiles are call-time arguments of
 * `ssd_fused_fwd(..., chunk_size, ..., block_p, num_warps, num_stages)`.
 */

export type SweepDType = 'bfloat16' | 'float16' | 'float32';

/** One problem: batch and sequence length; the model fixes d_inner, ngroups and d_state. */
export interface SweepShape {
  readonly batch: number;
  readonly seqlen: number;
}

export interface SweepGrid {
  readonly chunkSize: readonly number[];
  readonly headdim: readonly number[];
  /** Rows of headdim per program; 0 = the kernel's own choice. Values above headdim are skipped. */
  readonly blockP?: readonly number[];
  readonly scanWarps?: readonly number[];
  readonly scanStages?: readonly number[];
}

export interface SweepOptions {
  /** dtype of x, B, C (and z); dt is fp32. Default bfloat16. */
  readonly dtype?: SweepDType;
  /** Time the scan with the z gate. Default false. */
  readonly withZ?: boolean;
  /** Relative error allowed against the float64 reference (default per dtype). */
  readonly tol?: number;
  /**
   * Prefix of the problem checked against the float64 reference: time steps
   * (default 1024: several chunks even at chunk 256) and heads (default 4).
   */
  readonly checkSeqlen?: number;
  readonly checkHeads?: number;
  /** triton.testing.do_bench warmup and rep, in ms. */
  readonly warmupMs?: number;
  readonly repMs?: number;
  /** Per-config watchdog, seconds. */
  readonly timeoutS?: number;
}

/** One point of the grid, before it is tied to a shape. */
export interface GridPoint {
  readonly chunkSize: number;
  readonly headdim: number;
  readonly blockP: number;
  readonly scanWarps: number | null;
  readonly scanStages: number | null;
}

export interface SweepSpec {
  readonly kind: 'Sweep';
  /** Output folder name under bench/sweeps/; defaults to the sweep file's base name. */
  readonly name: string | null;
  /** Model file, relative to the repository root. */
  readonly model: string;
  /** Which exported model of that file (default: the only/first one). */
  readonly export: string | null;
  readonly shapes: readonly SweepShape[];
  readonly grid: SweepGrid;
  /** Drops grid points (e.g. tiles known not to fit). */
  readonly where: ((p: GridPoint) => boolean) | null;
  readonly options: SweepOptions;
}

export interface SweepInput {
  readonly name?: string;
  readonly model: string;
  readonly export?: string;
  readonly shapes: readonly SweepShape[];
  readonly grid: SweepGrid;
  readonly where?: (p: GridPoint) => boolean;
  readonly options?: SweepOptions;
}

export class SweepSpecError extends Error {
  override name = 'SweepSpecError';
}

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Validates and freezes a sweep description. */
export function defineSweep(input: SweepInput): SweepSpec {
  const bad = (what: string, fix: string): never => {
    throw new SweepSpecError(`${what}. ${fix}`);
  };
  if (input.shapes.length === 0) bad('sweep has no shapes', 'Add at least one { batch, seqlen }.');
  for (const s of input.shapes) {
    if (!(Number.isInteger(s.batch) && s.batch > 0 && Number.isInteger(s.seqlen) && s.seqlen > 0)) {
      bad(`shape ${JSON.stringify(s)} is not two positive integers`, 'Use { batch: 4, seqlen: 4096 }.');
    }
  }
  const lists: [string, readonly number[] | undefined, (n: number) => boolean, string][] = [
    ['chunkSize', input.grid.chunkSize, (n) => isPow2(n) && n >= 16 && n <= 256, 'powers of two in 16..256'],
    ['headdim', input.grid.headdim, (n) => Number.isInteger(n) && n > 0, 'positive integers'],
    ['blockP', input.grid.blockP, (n) => n === 0 || isPow2(n), 'powers of two, or 0 for auto'],
    ['scanWarps', input.grid.scanWarps, (n) => isPow2(n) && n <= 32, 'powers of two up to 32'],
    ['scanStages', input.grid.scanStages, (n) => Number.isInteger(n) && n >= 1 && n <= 8, 'integers 1..8'],
  ];
  for (const [key, values, ok, want] of lists) {
    if (values === undefined) continue;
    if (values.length === 0) bad(`grid.${key} is empty`, `Give at least one value or leave ${key} out.`);
    const wrong = values.filter((v) => !ok(v));
    if (wrong.length > 0) bad(`grid.${key} has ${wrong.join(', ')}`, `Use ${want}.`);
  }
  return Object.freeze({
    kind: 'Sweep' as const,
    name: input.name ?? null,
    model: input.model,
    export: input.export ?? null,
    shapes: Object.freeze(input.shapes.map((s) => Object.freeze({ batch: s.batch, seqlen: s.seqlen }))),
    grid: Object.freeze({ ...input.grid }),
    where: input.where ?? null,
    options: Object.freeze({ ...(input.options ?? {}) }),
  });
}

export function isSweepSpec(v: unknown): v is SweepSpec {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Sweep';
}
