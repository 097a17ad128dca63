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

/**
 * The library files each kernel's behaviour lives in (paths inside mamba2_kernels/): the entry file and
 * the transitive closure of its relative imports (`from .x import`, `from . import x`, `from ..x import`,
 * function-level ones too), minus the files codegen writes per package (GENERATED_LIBRARY_FILES), whose
 * imports are not followed. A kernel's sha (LaunchConfig kernel_sha, what a sweep record is filed under)
 * is combinedSha over all of them, so a change confined to e.g. ssd_fused_dispatch.py is a new kernel.
 * Tests hold this table equal to that closure (test/kernel-sha.test.ts) and to
 * mamba2_runner.sweep_provenance.KERNEL_DEPS.
 */
export const KERNEL_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  'kernels/ssd_fused.py': ['fragments.py', 'kernels/dt.py', 'kernels/fastlaunch.py', 'kernels/host.py', 'kernels/smem.py', 'kernels/ssd_common.py',
    'kernels/ssd_fused.py', 'kernels/ssd_fused_dispatch.py', 'kernels/ssd_fused_one.py'],
  'kernels/ssd_chunked.py': ['fragments.py', 'kernels/fastlaunch.py', 'kernels/host.py', 'kernels/smem.py', 'kernels/ssd_chunked.py', 'kernels/ssd_common.py'],
  'kernels/ssd_bwd.py': ['fragments.py', 'kernels/dt.py', 'kernels/fastlaunch.py', 'kernels/host.py', 'kernels/smem.py', 'kernels/ssd_bwd.py',
    'kernels/ssd_bwd_T.py', 'kernels/ssd_bwd_common.py', 'kernels/ssd_bwd_v6.py', 'kernels/ssd_common.py'],
  'kernels/conv.py': ['fragments.py', 'kernels/conv.py', 'kernels/fastlaunch.py', 'kernels/host.py'],
  'kernels/conv_bwd.py': ['kernels/conv_bwd.py', 'kernels/fastlaunch.py'],
  'kernels/norm.py': ['fragments.py', 'kernels/fastlaunch.py', 'kernels/host.py', 'kernels/norm.py'],
  'kernels/norm_bwd.py': ['kernels/fastlaunch.py', 'kernels/norm_bwd.py'],
};

/** Library files codegen writes per package (they differ between packages): never part of a kernel sha. */
export const GENERATED_LIBRARY_FILES: readonly string[] = ['__init__.py', '_config.py', '_fragments.py', 'kernels/__init__.py'];

/** How messages name a kernel's file set. */
export function kernelSetText(entry: string): string {
  return `${entry} and what it imports (${(KERNEL_DEPENDENCIES[entry] ?? []).filter((f) => f !== entry).join(', ')})`;
}

export interface ResolveLaunchOptions {
  /** Kernel sha per LAUNCH_KERNELS path (combinedSha over its KERNEL_DEPENDENCIES); a missing one records null. */
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
    bwd: { impl: 'v6', blockP: 0, blockQ: 32, warps: 8, walkWarps: 4, ...src(LAUNCH_KERNELS.bwd) },
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
