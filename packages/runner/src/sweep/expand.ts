import { SweepSpecError, type GridPoint, type SweepShape, type SweepSpec } from './define.ts';

/** What the model fixes, read from its SsdScan node. */
export interface ModelDims {
  readonly dInner: number;
  readonly ngroups: number;
  readonly dState: number;
  /** The model's own headdim and chunk size: its package's defaults are the baseline. */
  readonly headdim: number;
  readonly chunkSize: number;
}

/** The scan's shape as the Python side sees it (snake_case: it goes into the plan). */
export interface ScanShape {
  readonly batch: number;
  readonly seqlen: number;
  readonly nheads: number;
  readonly headdim: number;
  readonly ngroups: number;
  readonly d_state: number;
}

/** Call-time arguments of ssd_fused_fwd; null = the package's default. */
export interface ScanParams {
  readonly chunk_size: number;
  readonly block_p: number | null;
  readonly num_warps: number | null;
  readonly num_stages: number | null;
}

export interface SweepConfig {
  /** e.g. `Q128-P64-bp64-w4-s2@B4-L4096-H80`; derived from the values only, so stable across runs. */
  readonly id: string;
  /** e.g. `B4-L4096-D5120`: the problem, whatever the headdim. */
  readonly problem: string;
  /** Key of the generated package (its headdim) in the plan. */
  readonly package: string;
  readonly shape: ScanShape;
  readonly params: ScanParams;
}

export function problemId(s: SweepShape, dims: ModelDims): string {
  const g = dims.ngroups > 1 ? `-G${dims.ngroups}` : '';
  return `B${s.batch}-L${s.seqlen}-D${dims.dInner}${g}`;
}

export function shapeId(s: ScanShape): string {
  const g = s.ngroups > 1 ? `-G${s.ngroups}` : '';
  return `B${s.batch}-L${s.seqlen}-H${s.nheads}${g}`;
}

export function configId(p: ScanParams, s: ScanShape): string {
  const bp = p.block_p === null ? 'bpauto' : `bp${p.block_p}`;
  const w = p.num_warps === null ? 'wdef' : `w${p.num_warps}`;
  const st = p.num_stages === null ? 'sdef' : `s${p.num_stages}`;
  return `Q${p.chunk_size}-P${s.headdim}-${bp}-${w}-${st}@${shapeId(s)}`;
}

export function nheadsFor(dims: ModelDims, headdim: number): number {
  if (dims.dInner % headdim !== 0) {
    const ok = [16, 32, 64, 128, 256].filter((h) => dims.dInner % h === 0);
    throw new SweepSpecError(
      `grid.headdim ${headdim} does not divide d_inner ${dims.dInner}. Use ${ok.join(', ')}.`,
    );
  }
  return dims.dInner / headdim;
}

/** Every grid point the spec keeps, in grid order; blockP above headdim is skipped. */
export function gridPoints(spec: SweepSpec): GridPoint[] {
  const g = spec.grid;
  const out: GridPoint[] = [];
  for (const headdim of g.headdim)
    for (const chunkSize of g.chunkSize)
      for (const blockP of g.blockP ?? [0])
        for (const scanWarps of g.scanWarps ?? [null])
          for (const scanStages of g.scanStages ?? [null]) {
            if (blockP > headdim) continue;
            const p: GridPoint = { chunkSize, headdim, blockP, scanWarps, scanStages };
            if (spec.where === null || spec.where(p)) out.push(p);
          }
  return out;
}

/**
 * grid x shapes -> configs, grouped by headdim then shape so the Python side
 * reuses one set of inputs per (package, problem). Duplicate values collapse.
 */
export function expandSweep(spec: SweepSpec, dims: ModelDims): SweepConfig[] {
  const seen = new Set<string>();
  const out: SweepConfig[] = [];
  const points = gridPoints(spec);
  for (const headdim of [...new Set(spec.grid.headdim)]) {
    const nheads = nheadsFor(dims, headdim);
    for (const s of spec.shapes) {
      const shape: ScanShape = {
        batch: s.batch, seqlen: s.seqlen, nheads, headdim, ngroups: dims.ngroups, d_state: dims.dState,
      };
      for (const p of points) {
        if (p.headdim !== headdim) continue;
        const params: ScanParams = {
          chunk_size: p.chunkSize,
          block_p: p.blockP === 0 ? null : p.blockP,
          num_warps: p.scanWarps,
          num_stages: p.scanStages,
        };
        const id = configId(params, shape);
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ id, problem: problemId(s, dims), package: String(headdim), shape, params });
      }
    }
  }
  return out;
}
