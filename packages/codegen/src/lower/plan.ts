/**
 * The KernelPlan: every decision codegen makes about one block, as plain
 * JSON-able data. Lowering (lower.ts) builds it from the IR; the render
 * contexts (../emit/context.ts) read only this, never the graph.
 * Launch settings are not here: they are a LaunchConfig (./launch.ts).
 */

/** Generated kernel modules under <name>/kernels/ (forward, and backward for autograd.py). */
export type KernelName =
  | 'ssd_fused' | 'ssd_chunked' | 'ssd_bwd' | 'conv' | 'conv_bwd' | 'dt' | 'norm' | 'norm_bwd'
  | 'conv2d' | 'conv2d_bwd' | 'cross_scan' | 'cross_merge';
export const KERNEL_NAMES: readonly KernelName[] = [
  'conv', 'conv2d', 'conv2d_bwd', 'conv_bwd', 'cross_merge', 'cross_scan', 'dt', 'norm', 'norm_bwd', 'ssd_bwd', 'ssd_chunked', 'ssd_fused',
];

/** A [start, stop) slice of the last axis of a tensor. */
export interface Slice {
  readonly start: number;
  readonly stop: number;
}

export interface LinearPlan {
  /** state_dict prefix and Python attribute name, e.g. "in_proj". */
  readonly param: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
}

export interface ConvPlan {
  readonly param: string;
  readonly channels: number;
  readonly width: number;
  readonly bias: boolean;
  readonly activation: 'silu' | 'identity';
  /** null: PyTorch's default Conv1d init. */
  readonly init: number | null;
}

/** The dt prologue. Always fused into the scan call (both impls take raw dt). */
export interface DtPlan {
  readonly bias: boolean;
  readonly softplus: boolean;
  readonly limit: readonly [number, number | null];
  readonly dtMin: number;
  readonly dtMax: number;
  readonly dtInitFloor: number;
  readonly fusedIntoScan: true;
}

export interface ScanPlan {
  readonly nheads: number;
  readonly headdim: number;
  readonly ngroups: number;
  readonly dState: number;
  readonly aInitRange: readonly [number, number];
  readonly learnableInitStates: boolean;
  /** D skip folded into the scan: null when the graph has no DSkip. */
  readonly d: { readonly perChannel: boolean } | null;
  /** z gate folded into the scan (a Gate node and no RMSNorm). */
  readonly gateZ: boolean;
}

export interface NormPlan {
  readonly param: string;
  readonly features: number;
  readonly groupSize: number;
  readonly eps: number;
  /** z passed to rmsnorm_gated. */
  readonly gated: boolean;
  readonly normBeforeGate: boolean;
}

export interface KernelPlan {
  readonly name: string;
  readonly className: string;
  readonly dims: {
    readonly dModel: number;
    /** The SSM's channels, nheads * headdim (mamba_ssm's d_ssm). */
    readonly dInner: number;
    readonly nheads: number;
    readonly headdim: number;
    readonly ngroups: number;
    readonly dState: number;
    readonly dConv: number;
    readonly convDim: number;
    readonly dInProj: number;
    /** (d_ssm + d_mlp) / d_model (the seed's `expand`); may be fractional in odd graphs. */
    readonly expand: number;
  };
  /** The constructor the module reproduces: the seed's Mamba2Simple, or mamba_ssm's Mamba2. */
  readonly api: 'simple' | 'mamba2';
  /** mamba_ssm Mamba2's gated MLP silu(z0) * x0 in front of out_proj's input (d_ssm < d_inner). */
  readonly mlp: { readonly z0: Slice; readonly x0: Slice; readonly features: number } | null;
  readonly inProj: LinearPlan;
  /** Where z (null without a gate), xBC and dt sit in in_proj's output. */
  readonly inSplit: { readonly z: Slice | null; readonly xBC: Slice; readonly dt: Slice };
  /** Where x, B, C sit in the conv output. */
  readonly convSplit: { readonly x: Slice; readonly B: Slice; readonly C: Slice };
  readonly conv: ConvPlan;
  readonly dt: DtPlan;
  readonly scan: ScanPlan;
  readonly norm: NormPlan | null;
  readonly outProj: LinearPlan;
  /** Kernel modules the package ships, sorted. */
  readonly kernels: readonly KernelName[];
}

/** The depthwise 2-D conv of a vision block (kernels/conv2d.py). */
export interface Conv2dPlan {
  readonly param: string;
  readonly channels: number;
  readonly kernelSize: number;
  readonly bias: boolean;
  readonly activation: 'silu' | 'identity';
  /** null: PyTorch's default Conv2d init. */
  readonly init: number | null;
}

/**
 * A vision block (VMamba's SS2D on the SSD scan): image in, in_proj -> (x, z),
 * depthwise conv2d on x, per-order dt/B/C projections, the multi-order scan
 * (cross_scan.py: cross_scan_combined), norm / gate, out_proj, image out.
 */
export interface VisionPlan {
  readonly kind: 'vision';
  readonly name: string;
  readonly className: string;
  readonly image: { readonly height: number; readonly width: number };
  readonly directions: 'bidirectional' | 'cross2d';
  /** K, the number of scan orders. */
  readonly orders: number;
  readonly dims: {
    readonly dModel: number;
    readonly dInner: number;
    /** Heads per order. */
    readonly nheads: number;
    readonly headdim: number;
    readonly ngroups: number;
    readonly dState: number;
    readonly dInProj: number;
    /** Rows of each order's projection: nheads + 2 * ngroups * dState (dt, B, C). */
    readonly xProjOut: number;
    readonly expand: number;
  };
  readonly inProj: LinearPlan;
  /** Where x and z (null without a gate) sit in in_proj's output. */
  readonly inSplit: { readonly x: Slice; readonly z: Slice | null };
  readonly conv: Conv2dPlan;
  readonly xProj: { readonly param: string; readonly inFeatures: number };
  readonly dt: DtPlan;
  readonly scan: {
    readonly aInitRange: readonly [number, number];
    /** One D per order and head (cross_scan_combined's D [K, h]); null without a DSkip. */
    readonly d: { readonly perChannel: false } | null;
    /** z gate applied by the cross scan's merge (a Gate node and no RMSNorm). */
    readonly gateZ: boolean;
  };
  readonly norm: NormPlan | null;
  readonly outProj: LinearPlan;
  readonly kernels: readonly KernelName[];
}

/** What lowering gives a package: a sequence block or a vision block. */
export type PackagePlan = KernelPlan | VisionPlan;

export function isVisionPlan(p: PackagePlan): p is VisionPlan {
  return (p as Partial<VisionPlan>).kind === 'vision';
}
