/**
 * Launch options + heuristics -> the LaunchConfig of one package.
 *
 * The defaults below are what each kernel was measured fastest with on the
 * H200 (the reasons sit beside the constants in the library's kernels and in
 * docs/ARCHITECTURE.md, "Launch configuration"); the library's own
 * `LaunchConfig()` (packages/kernels/python/mamba2_kernels/launch.py) has the
 * same values, which a test holds equal. A model file's `codegen`/`chunkSize`
 * and `pnpm gen` flags override them; `gen --tuned` adds rows by shape. None
 * of this touches the IR, so none of it changes the model's hash.
 */
import type { KernelSource, LaunchConfig, LaunchOptions, TunedTable } from '@mamba2/dsl';
import type { PackagePlan } from './plan.ts';

/** The chunked scan's chunk length and the module's chunk_size default (the seed's 256). */
export const DEFAULT_CHUNK_SIZE = 256;

/** Library files whose settings a LaunchConfig holds (paths inside mamba2_kernels/). */
export const LAUNCH_KERNELS = {
  fused: 'kernels/ssd_fused.py',
  chunked: 'kernels/ssd_chunked.py',
  bwd: 'kernels/ssd_bwd.py',
  conv: 'kernels/conv.py',
  norm: 'kernels/norm.py',
} as const;

export interface ResolveLaunchOptions {
  /** sha256 per library file (LAUNCH_KERNELS paths); a missing one records null. */
  readonly kernelShas?: Readonly<Record<string, string>>;
  /** Rows from `gen --tuned` (already checked against the fused kernel's sha). */
  readonly tuned?: TunedTable | null;
}

/** Every setting resolved: the options given win, the rest are the heuristic defaults. */
export function resolveLaunch(_plan: PackagePlan, o: LaunchOptions, r: ResolveLaunchOptions = {}): LaunchConfig {
  const src = (kernel: string): KernelSource => ({ kernel, kernelSha: r.kernelShas?.[kernel] ?? null });
  return {
    scanImpl: o.scanImpl ?? 'fused',
    fused: {
      // 0: ssd_fused_fwd picks per call (64, halved when batch * heads leaves SMs idle)
      blockP: o.blockP ?? 0,
      // the walk's time tile: 32 beat 64 and 128 at every swept shape (ssd_fused.py, the comment above _MIN_PROGRAMS)
      blockQ: o.blockQ ?? 32,
      warps: o.scanWarps ?? 4,
      stages: o.scanStages ?? 2,
      // T+pre (long walks): the sweep's best at every large shape, registers capped at 168 there
      tWarps: 4,
      tStages: 3,
      // 0: split L only when batch * heads * p-blocks leave SMs idle (ssd_fused.py _pick_split)
      split: 0,
      ...src(LAUNCH_KERNELS.fused),
    },
    chunked: {
      chunkSize: o.chunkSize ?? DEFAULT_CHUNK_SIZE,
      blockP: o.blockP ?? 0,
      warps: o.scanWarps ?? 4,
      ...src(LAUNCH_KERNELS.chunked),
    },
    // ssd_bwd.py v4 (1.6-1.8x v3 on the H200): tile 32 / 8 warps beat 64, whose chunk kernel spills
    bwd: { impl: 'v4', blockP: 0, blockQ: 32, warps: 8, walkWarps: 4, ...src(LAUNCH_KERNELS.bwd) },
    conv: {
      blockL: o.convBlockL ?? 64,
      blockC: o.convBlockC ?? 64,
      warps: o.convWarps ?? 4,
      ...src(LAUNCH_KERNELS.conv),
    },
    norm: { warps: o.normWarps ?? 4, ...src(LAUNCH_KERNELS.norm) },
    tuned: r.tuned ?? null,
  };
}
