/**
 * Launch configuration: how the kernels are launched (tiles, warps, stages,
 * split choices), kept apart from the IR. The IR (nodes.ts) says what a block
 * computes and is hashed; a LaunchConfig says how fast it runs and is not:
 * the same model with other launch settings has the same IR hash, only its
 * `_config.py` differs (docs/ARCHITECTURE.md, "Launch configuration").
 *
 * Three forms, one schema:
 * - `LaunchOptions`: what a model file (`codegen: {...}`, `chunkSize`) or
 *   `pnpm gen` flags ask for; flat, every field optional (unset = codegen's
 *   heuristic default).
 * - `LaunchConfig`: every setting resolved (packages/codegen/src/lower/launch.ts),
 *   per kernel, each with the kernel source it belongs to.
 * - `LaunchConfigJson` (`launchToJson`): snake_case, exactly the fields of the
 *   Python dataclasses in packages/kernels/python/mamba2_kernels/launch.py
 *   (`LaunchConfig.from_dict` reads it; manifest.json carries it).
 */

export type ScanImpl = 'fused' | 'chunked';

/** A setting the user may ask for. All optional; the kernel each one reaches is named. */
export interface LaunchOptions {
  /**
   * Chunk length Q of the chunked scan (power of two, 16..256), and the
   * default `chunk_size` of the generated module (the seed's argument). The
   * result does not depend on it. The fused scan walks in tiles of `blockQ`.
   */
  readonly chunkSize?: number;
  /** Which scan the module uses: 'fused' (one kernel) or 'chunked' (several). */
  readonly scanImpl?: ScanImpl;
  /** Fused and chunked scan: headdim rows per program (power of two). 0 = auto. */
  readonly blockP?: number;
  /** Fused scan: time tile the walk steps by (power of two, 16..256). */
  readonly blockQ?: number;
  /** Fused and chunked scan warps (1, 2, 4, 8). */
  readonly scanWarps?: number;
  /** Fused scan pipeline stages (1..4). */
  readonly scanStages?: number;
  /** Conv kernel: time and channel tile (the backward halves the time tile). */
  readonly convBlockL?: number;
  readonly convBlockC?: number;
  readonly convWarps?: number;
  /** Norm kernel warps (forward and backward). */
  readonly normWarps?: number;
}

export const LAUNCH_OPTION_KEYS: readonly (keyof LaunchOptions)[] = [
  'chunkSize', 'scanImpl', 'blockP', 'blockQ', 'scanWarps', 'scanStages', 'convBlockL', 'convBlockC', 'convWarps', 'normWarps',
];

/** The library file a kernel's settings were chosen for and its kernel sha (null: not recorded). */
export interface KernelSource {
  /** Path inside mamba2_kernels/, e.g. "kernels/ssd_fused.py". */
  readonly kernel: string;
  /**
   * sha256 over every library file the kernel depends on (`kernel` and what it imports inside the
   * library: codegen's KERNEL_DEPENDENCIES), of the lines "<path> <sha256 of the file>\n" sorted by path.
   */
  readonly kernelSha: string | null;
}

/**
 * kernels/ssd_fused.py. blockP 0 = the kernel's runtime pick (depends on
 * batch * heads). warps/stages: the one-launch kernel (short walks);
 * tWarps/tStages: the T+pre path (long walks); split: L-segments of the
 * T+pre walk, 0 = picked per call (1, 2 or 4).
 */
export interface FusedScanLaunch extends KernelSource {
  readonly blockP: number;
  readonly blockQ: number;
  readonly warps: number;
  readonly stages: number;
  readonly tWarps: number;
  readonly tStages: number;
  readonly split: number;
}

/** kernels/ssd_chunked.py. */
export interface ChunkedScanLaunch extends KernelSource {
  readonly chunkSize: number;
  readonly blockP: number;
  readonly warps: number;
}

/**
 * kernels/ssd_bwd.py. impl: the backward version ('v6' (gives what it cannot compute to v4), 'v4', 'v5s'; env
 * MAMBA2_SSD_BWD wins). blockP 0 = min(64, next_pow2(headdim)). warps: the
 * per-chunk gradient kernel; walkWarps: v4's state walks.
 */
export interface ScanBwdLaunch extends KernelSource {
  readonly impl: string;
  readonly blockP: number;
  readonly blockQ: number;
  readonly warps: number;
  readonly walkWarps: number;
}

/** kernels/conv.py (conv_bwd.py reads the same). */
export interface ConvLaunch extends KernelSource {
  readonly blockL: number;
  readonly blockC: number;
  readonly warps: number;
}

/** kernels/norm.py (norm_bwd.py reads the same). */
export interface NormLaunch extends KernelSource {
  readonly warps: number;
}

/**
 * One dispatch row of a tuned table: for `nheads` heads and seqlen up to
 * `maxSeqlen` (the smallest covering bucket, else the largest of the head
 * count), these fused-scan settings; null fields keep the default.
 */
export interface TunedRow {
  readonly nheads: number;
  readonly maxSeqlen: number;
  readonly blockQ: number | null;
  readonly blockP: number | null;
  readonly warps: number | null;
  readonly stages: number | null;
}

/** Rows from `gen --tuned`: measured on `kernel` at `kernelSha`, on `gpu`. */
export interface TunedTable extends KernelSource {
  /** GPU model the rows were measured on (torch.cuda.get_device_name), null if the sweep did not record it. */
  readonly gpu: string | null;
  /** The results file the rows came from, repo-relative. */
  readonly source: string;
  readonly rows: readonly TunedRow[];
}

/**
 * Every launch setting of one generated package. Room for more kernels (a
 * decode step) is a new section here, in the JSON form and in launch.py.
 */
export interface LaunchConfig {
  readonly scanImpl: ScanImpl;
  readonly fused: FusedScanLaunch;
  readonly chunked: ChunkedScanLaunch;
  readonly bwd: ScanBwdLaunch;
  readonly conv: ConvLaunch;
  readonly norm: NormLaunch;
  /** Fused-scan rows by shape (`gen --tuned`); null = the defaults everywhere. */
  readonly tuned: TunedTable | null;
}

/** The JSON form: snake_case, the Python dataclasses' field names (launch.py). */
export interface LaunchConfigJson {
  readonly scan_impl: ScanImpl;
  readonly fused: {
    block_p: number; block_q: number; num_warps: number; num_stages: number;
    t_num_warps: number; t_num_stages: number; split: number; kernel: string; kernel_sha: string | null;
  };
  readonly chunked: { chunk_size: number; block_p: number; num_warps: number; kernel: string; kernel_sha: string | null };
  readonly bwd: { impl: string; block_p: number; block_q: number; num_warps: number; walk_warps: number; kernel: string; kernel_sha: string | null };
  readonly conv: { block_l: number; block_c: number; num_warps: number; kernel: string; kernel_sha: string | null };
  readonly norm: { num_warps: number; kernel: string; kernel_sha: string | null };
  readonly tuned: {
    rows: { nheads: number; max_seqlen: number; block_q: number | null; block_p: number | null; num_warps: number | null; num_stages: number | null }[];
    kernel: string;
    kernel_sha: string | null;
    gpu: string | null;
    source: string;
  } | null;
}

/** LaunchConfig -> its JSON form (field order = the dataclasses' order). */
export function launchToJson(c: LaunchConfig): LaunchConfigJson {
  const src = (s: KernelSource) => ({ kernel: s.kernel, kernel_sha: s.kernelSha });
  return {
    scan_impl: c.scanImpl,
    fused: {
      block_p: c.fused.blockP, block_q: c.fused.blockQ, num_warps: c.fused.warps, num_stages: c.fused.stages,
      t_num_warps: c.fused.tWarps, t_num_stages: c.fused.tStages, split: c.fused.split, ...src(c.fused),
    },
    chunked: { chunk_size: c.chunked.chunkSize, block_p: c.chunked.blockP, num_warps: c.chunked.warps, ...src(c.chunked) },
    bwd: { impl: c.bwd.impl, block_p: c.bwd.blockP, block_q: c.bwd.blockQ, num_warps: c.bwd.warps, walk_warps: c.bwd.walkWarps, ...src(c.bwd) },
    conv: { block_l: c.conv.blockL, block_c: c.conv.blockC, num_warps: c.conv.warps, ...src(c.conv) },
    norm: { num_warps: c.norm.warps, ...src(c.norm) },
    tuned: c.tuned === null ? null : {
      rows: c.tuned.rows.map((r) => ({
        nheads: r.nheads, max_seqlen: r.maxSeqlen, block_q: r.blockQ, block_p: r.blockP, num_warps: r.warps, num_stages: r.stages,
      })),
      ...src(c.tuned),
      gpu: c.tuned.gpu,
      source: c.tuned.source,
    },
  };
}
