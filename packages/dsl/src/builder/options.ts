/**
 * The builder's option schemas: what each op of GraphBuilder takes (the types
 * the model file is checked against), the keys each op accepts at run time,
 * and the id rules (default ids per kind, the identifier pattern). The ops
 * themselves, which turn these into IR nodes, are in builder.ts.
 */
import type { LaunchOptions } from '../ir/launch.ts';
import type {
  Activation,
  DType,
  ImageSize,
  Node,
  Ref,
  ScanDirections,
  SourceLoc,
  UpperBound,
} from '../ir/nodes.ts';
import { checkOptionKeys } from '../mamba2.ts';

/** Options every op shares. `id` defaults to a name per kind ("conv", then "conv_2", ...). */
export interface NodeOptions {
  readonly id?: string;
}
/** Single-input ops read the previous node's output unless `input` names another Ref. */
export interface InputOptions extends NodeOptions {
  readonly input?: Ref;
}

export interface LinearOptions extends InputOptions {
  /** state_dict prefix ("in_proj", "out_proj"); also the default node id. */
  readonly param: string;
  readonly outFeatures: number;
  /** Checked against the input's features when given. */
  readonly inFeatures?: number;
  readonly bias?: boolean;
  /** Mamba2's gated MLP: the Linear reads cat([silu(z) * x, input]); z and x name equal-width Refs. */
  readonly mlp?: { readonly z: Ref; readonly x: Ref };
}
export interface SplitOptions extends InputOptions {
  /** Consecutive parts of the last axis, in order: `[{ name: 'z', size: 512 }, ...]`. */
  readonly parts: readonly { readonly name: string; readonly size: number }[];
}
export interface CausalConv1dOptions extends InputOptions {
  readonly width: number;
  readonly param?: string;
  readonly bias?: boolean;
  readonly activation?: Activation;
  /** null: PyTorch's Conv1d init; else uniform(-init, init). */
  readonly init?: number | null;
}
export interface DepthwiseConv2dOptions extends InputOptions {
  /** Odd, 1..7; the filter is kernelSize x kernelSize, padding 'same'. Default 3 (VMamba's). */
  readonly kernelSize?: number;
  readonly param?: string;
  readonly bias?: boolean;
  readonly activation?: Activation;
  /** null: PyTorch's Conv2d init; else uniform(-init, init). */
  readonly init?: number | null;
}
export interface ScanProjectionOptions extends InputOptions {
  /** The scan orders it projects for (one dt, B, C each); must be the scan's. */
  readonly directions: ScanDirections;
  readonly nheads: number;
  readonly ngroups: number;
  readonly dState: number;
  readonly param?: string;
}
export interface DtTransformOptions extends InputOptions {
  readonly bias?: boolean;
  readonly softplus?: boolean;
  /** [lo, hi]; hi null or Infinity = no upper bound. */
  readonly limit?: readonly [number, UpperBound];
  readonly dtMin?: number;
  readonly dtMax?: number;
  readonly dtInitFloor?: number;
}
export interface SsdScanOptions extends NodeOptions {
  readonly x: Ref;
  readonly dt: Ref;
  readonly B: Ref;
  readonly C: Ref;
  readonly headdim: number;
  readonly ngroups: number;
  readonly dState: number;
  /**
   * The seed's chunk size: a launch setting (LaunchOptions.chunkSize), kept
   * beside the graph, not in the node: the scan's result does not depend on it.
   */
  readonly chunkSize?: number;
  readonly aInitRange?: readonly [number, number];
  readonly learnableInitStates?: boolean;
  /**
   * The token orders (default 'forward'). 'bidirectional' and 'cross2d' run
   * K = 2 or 4 orders, each with its own dt, A, B, C: dt then has K*nheads
   * features and B, C K*ngroups*dState (a scanProjection gives them).
   * 'cross2d' needs the input's image.
   */
  readonly directions?: ScanDirections;
}
export interface DSkipOptions extends NodeOptions {
  /** Defaults to the previous node (the scan). */
  readonly y?: Ref;
  readonly x: Ref;
  readonly headdim: number;
  readonly perChannel?: boolean;
}
export interface GateOptions extends NodeOptions {
  readonly y?: Ref;
  readonly z: Ref;
}
export interface RMSNormOptions extends NodeOptions {
  readonly y?: Ref;
  readonly z?: Ref | null;
  readonly param?: string;
  /** Channels normalised together; defaults to all of them. */
  readonly groupSize?: number;
  readonly eps?: number;
  readonly normBeforeGate?: boolean;
}
export interface OutputOptions extends NodeOptions {
  readonly input?: Ref;
}
export interface BuildOptions {
  /** Python package name; default from the model file's name (mamba2-gate.ts -> "mamba2_gate"). */
  readonly name?: string;
  /** Python class name; default PascalCase of `name`. */
  readonly className?: string;
  readonly dtype?: DType;
  /** Extra JSON-safe entries for Graph.config. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Launch settings (tiles, warps, ...): not part of the graph or its hash. */
  readonly codegen?: LaunchOptions;
}

export const DEFAULT_ID: Record<Node['kind'], string> = {
  Input: 'u',
  Linear: 'linear',
  Split: 'split',
  CausalConv1d: 'conv',
  DepthwiseConv2d: 'conv2d',
  ScanProjection: 'x_proj',
  DtTransform: 'dt',
  SsdScan: 'scan',
  DSkip: 'dskip',
  Gate: 'gate',
  RMSNorm: 'norm',
  Output: 'out',
};

export const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The keys each op takes. The type checker rejects unknown keys only in an
 * object literal; through a variable (`const o = { esp: 1e-5 }; .rmsNorm(o)`)
 * they would pass silently, so every op refuses them at run time too, naming
 * the nearest valid key (checkOptionKeys, as mamba2() does).
 */
export type Keys<T> = Readonly<Record<keyof Required<T>, true>>;
export const INPUT_KEYS: Keys<NodeOptions & { readonly features: number; readonly image?: ImageSize }> = {
  id: true, features: true, image: true,
};
export const LINEAR_KEYS: Keys<LinearOptions> = {
  id: true, input: true, param: true, outFeatures: true, inFeatures: true, bias: true, mlp: true,
};
export const SPLIT_KEYS: Keys<SplitOptions> = { id: true, input: true, parts: true };
export const CONV1D_KEYS: Keys<CausalConv1dOptions> = {
  id: true, input: true, width: true, param: true, bias: true, activation: true, init: true,
};
export const CONV2D_KEYS: Keys<DepthwiseConv2dOptions> = {
  id: true, input: true, kernelSize: true, param: true, bias: true, activation: true, init: true,
};
export const SCAN_PROJECTION_KEYS: Keys<ScanProjectionOptions> = {
  id: true, input: true, directions: true, nheads: true, ngroups: true, dState: true, param: true,
};
export const DT_KEYS: Keys<DtTransformOptions> = {
  id: true, input: true, bias: true, softplus: true, limit: true, dtMin: true, dtMax: true, dtInitFloor: true,
};
export const SCAN_KEYS: Keys<SsdScanOptions> = {
  id: true, x: true, dt: true, B: true, C: true, headdim: true, ngroups: true, dState: true, chunkSize: true,
  aInitRange: true, learnableInitStates: true, directions: true,
};
export const DSKIP_KEYS: Keys<DSkipOptions> = { id: true, y: true, x: true, headdim: true, perChannel: true };
export const GATE_KEYS: Keys<GateOptions> = { id: true, y: true, z: true };
export const RMSNORM_KEYS: Keys<RMSNormOptions> = {
  id: true, y: true, z: true, param: true, groupSize: true, eps: true, normBeforeGate: true,
};
export const OUTPUT_KEYS: Keys<OutputOptions> = { id: true, input: true };
export const BUILD_KEYS: Keys<BuildOptions> = { name: true, className: true, dtype: true, config: true, codegen: true };

export function checkKeys(opts: object, loc: SourceLoc | null, op: string, keys: object): void {
  checkOptionKeys(opts as never, loc, op, Object.keys(keys));
}
