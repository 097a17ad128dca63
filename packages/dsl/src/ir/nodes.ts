/**
 * The IR: readonly, JSON-serialisable node kinds. A model is a `Graph` of
 * nodes in topological order; a node's inputs name earlier nodes' outputs as
 * `Ref`s ("nodeId" for the single output, "nodeId.port" for a named output of
 * a `Split`). Nothing here holds functions, classes, `undefined` or
 * non-finite numbers, so `JSON.stringify` round-trips every graph and the
 * stable hash (see hash.ts) is well defined. Source locations live beside the
 * graph (`SourceMap`), never inside it, so moving a line does not change the
 * hash.
 *
 * This file is the contract between the DSL, codegen and the Python
 * reference backend (packages/runner/python/mamba2_runner/reference/graph.py
 * interprets the same JSON). Change it only together with both.
 *
 * Only meaning lives here. How the kernels are launched (tiles, warps,
 * stages, the scan's chunk length) is a LaunchConfig (launch.ts): it is not
 * hashed, so tuning never changes a model's hash.
 */

/** "nodeId" or "nodeId.port". */
export type Ref = string;

/** A finite number, or null for +infinity (JSON has no Infinity). */
export type UpperBound = number | null;

export type Activation = 'silu' | 'identity';

/**
 * The orders the SSD scan walks the tokens in (../shared/MAMBA2.md, "Scans in
 * other orders"): 'forward' (one causal scan), 'bidirectional' (row-major and
 * its reverse, K = 2), 'cross2d' (VMamba's SS2D: row-major, column-major and
 * both reversed, K = 4). Each order has its own dt, A, B, C and D; the orders'
 * outputs are summed in natural token order.
 */
export type ScanDirections = 'forward' | 'bidirectional' | 'cross2d';
/** K, the number of orders, of each ScanDirections. */
export const SCAN_ORDERS: Readonly<Record<ScanDirections, number>> = { forward: 1, bidirectional: 2, cross2d: 4 };

/** An image of height x width tokens, flattened row-major (token t = i * width + j). */
export interface ImageSize {
  readonly height: number;
  readonly width: number;
}
export type DType = 'float32' | 'bfloat16' | 'float16';

/**
 * The block's input: u, (batch, seqlen, features); with `image`, (batch,
 * height, width, features), flattened row-major to (batch, height*width,
 * features) for every later node. Absent `image` = a sequence model.
 */
export interface InputNode {
  readonly kind: 'Input';
  readonly id: string;
  readonly features: number;
  readonly image?: ImageSize;
}

/** y = x W^T (+ b). Parameter names: `${param}.weight`, `${param}.bias`. */
export interface LinearNode {
  readonly kind: 'Linear';
  readonly id: string;
  readonly input: Ref;
  /** state_dict prefix, e.g. "in_proj" or "out_proj". */
  readonly param: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  /**
   * Absent for a plain Linear. Set: the Linear reads cat([silu(gate) * value, input])
   * (mamba_ssm's Mamba2 with d_ssm < d_inner: a gated MLP on the channels the SSM
   * does not use); inFeatures = features + the input's features.
   */
  readonly mlpPrefix?: LinearMlpPrefix;
}

/** The gated-MLP part in front of a Linear's input: silu(gate) * value, each `features` wide. */
export interface LinearMlpPrefix {
  readonly gate: Ref;
  readonly value: Ref;
  readonly features: number;
}

/** Splits the last axis into named consecutive parts. Outputs: `${id}.${name}`. */
export interface SplitNode {
  readonly kind: 'Split';
  readonly id: string;
  readonly input: Ref;
  readonly parts: readonly { readonly name: string; readonly size: number }[];
}

/**
 * Depthwise causal conv over time of a (batch, seqlen, channels) tensor:
 * left padding width-1, weight (channels, 1, width) as `${param}.weight`,
 * optional bias `${param}.bias` (channels). Followed by `activation`.
 * `init`: null = PyTorch's default Conv1d init, else uniform(-init, init).
 */
export interface CausalConv1dNode {
  readonly kind: 'CausalConv1d';
  readonly id: string;
  readonly input: Ref;
  readonly param: string;
  readonly channels: number;
  readonly width: number;
  readonly bias: boolean;
  readonly activation: Activation;
  readonly init: number | null;
}

/**
 * Depthwise 2-D conv over the Input's image (non-causal, as VMamba runs before
 * its cross scan): each channel with its own kernelSize x kernelSize filter,
 * zero padding kernelSize // 2 ('same'), weight (channels, 1, k, k) as
 * `${param}.weight`, optional bias `${param}.bias`, then `activation`.
 * Reads and writes (batch, height*width, channels) in row-major token order.
 * `init`: null = PyTorch's default Conv2d init, else uniform(-init, init).
 */
export interface DepthwiseConv2dNode {
  readonly kind: 'DepthwiseConv2d';
  readonly id: string;
  readonly input: Ref;
  readonly param: string;
  readonly channels: number;
  readonly kernelSize: number;
  readonly bias: boolean;
  readonly activation: Activation;
  readonly init: number | null;
}

/**
 * The per-order projections of a multi-order scan (VMamba's x_proj): for each
 * of `orders` orders k, dt_k (nheads), B_k and C_k (ngroups*dState each) =
 * x W_k^T, no bias. Parameter `${param}.weight` (orders, nheads + 2*ngroups*dState,
 * inFeatures), W_k's rows ordered dt, B, C. Outputs `${id}.dt`
 * (orders*nheads), `${id}.B` and `${id}.C` (orders*ngroups*dState each),
 * order-major: feature k*nheads + h is order k, head h.
 */
export interface ScanProjectionNode {
  readonly kind: 'ScanProjection';
  readonly id: string;
  readonly input: Ref;
  readonly param: string;
  readonly inFeatures: number;
  readonly orders: number;
  readonly nheads: number;
  readonly ngroups: number;
  readonly dState: number;
}

/**
 * dt = clamp(softplus?(dt_raw + dt_bias?), lo, hi), per head, computed in fp32.
 * softplus uses the usual threshold: x > 20 -> x. `dt_bias` is the parameter
 * `dt_bias` (nheads) when `bias`; its init stores inverse-softplus of a
 * log-uniform dt in [dtMin, dtMax] floored at dtInitFloor.
 */
export interface DtTransformNode {
  readonly kind: 'DtTransform';
  readonly id: string;
  readonly input: Ref;
  readonly nheads: number;
  readonly bias: boolean;
  readonly softplus: boolean;
  readonly limit: readonly [number, UpperBound];
  readonly dtMin: number;
  readonly dtMax: number;
  readonly dtInitFloor: number;
}

/**
 * The SSD scan. Inputs: x (b, l, nheads*headdim), dt (b, l, nheads) already
 * transformed, B and C (b, l, ngroups*dState). A = -exp(A_log), parameter
 * `A_log` (nheads), init log(uniform(aInitRange)). With learnableInitStates,
 * parameter `init_states` (nheads, headdim, dState) is the initial state of
 * every batch row. Output y (b, l, nheads*headdim), without any D term.
 * seq_idx (if the caller passes one) resets the state where it changes.
 *
 * `directions` (absent = 'forward', so sequence models keep their IR and hash):
 * K = SCAN_ORDERS[directions] orders over the Input's tokens, each with its
 * own dt, A, B, C: dt (b, l, K*nheads), B and C (b, l, K*ngroups*dState),
 * order-major; `A_log` (K*nheads). y (b, l, nheads*headdim) is the sum of the
 * orders' outputs in natural token order (MAMBA2.md "Scans in other orders").
 * 'cross2d' needs the Input's image (its orders are the image's rows and columns).
 */
export interface SsdScanNode {
  readonly kind: 'SsdScan';
  readonly id: string;
  readonly x: Ref;
  readonly dt: Ref;
  readonly B: Ref;
  readonly C: Ref;
  readonly nheads: number;
  readonly headdim: number;
  readonly ngroups: number;
  readonly dState: number;
  readonly aInitRange: readonly [number, number];
  readonly learnableInitStates: boolean;
  readonly directions?: Exclude<ScanDirections, 'forward'>;
}

/**
 * y + D * x. Parameter `D`: (nheads) or, perChannel, (nheads*headdim). Init 1.
 * `orders` (absent = 1): one D per scan order, `D` (orders*nheads) or
 * (orders*nheads*headdim), and y + sum_k D_k * x.
 */
export interface DSkipNode {
  readonly kind: 'DSkip';
  readonly id: string;
  readonly y: Ref;
  readonly x: Ref;
  readonly nheads: number;
  readonly headdim: number;
  readonly perChannel: boolean;
  readonly orders?: number;
}

/** y * silu(z), elementwise (used when there is no gated norm). */
export interface GateNode {
  readonly kind: 'Gate';
  readonly id: string;
  readonly y: Ref;
  readonly z: Ref;
}

/**
 * RMSNorm over the last axis (or each `groupSize` slice of it), weight
 * parameter `${param}.weight` (features), init 1.
 * z null: rmsnorm(y) * w.
 * z set, normBeforeGate false: rmsnorm(y * silu(z)) * w.
 * z set, normBeforeGate true: rmsnorm(y) * w * silu(z).
 */
export interface RMSNormNode {
  readonly kind: 'RMSNorm';
  readonly id: string;
  readonly y: Ref;
  readonly z: Ref | null;
  readonly param: string;
  readonly features: number;
  readonly groupSize: number;
  readonly eps: number;
  readonly normBeforeGate: boolean;
}

/** The block's output, (batch, seqlen, features); (batch, height, width, features) when the Input has an image. */
export interface OutputNode {
  readonly kind: 'Output';
  readonly id: string;
  readonly input: Ref;
  readonly features: number;
}

export type Node =
  | InputNode
  | LinearNode
  | SplitNode
  | CausalConv1dNode
  | DepthwiseConv2dNode
  | ScanProjectionNode
  | DtTransformNode
  | SsdScanNode
  | DSkipNode
  | GateNode
  | RMSNormNode
  | OutputNode;

export type NodeKind = Node['kind'];
export type NodeOf<K extends NodeKind> = Extract<Node, { kind: K }>;

export interface Graph {
  readonly kind: 'Graph';
  /** Python package name: lower snake_case identifier, e.g. "mamba2_simple". */
  readonly name: string;
  /** Python class name of the nn.Module, e.g. "Mamba2Simple". */
  readonly className: string;
  /** The seed-style constructor arguments the block was built from (camelCase, JSON). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly nodes: readonly Node[];
  readonly output: Ref;
}

/** Where each node (and the graph) was created in the user's model file. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}
export type SourceMap = Readonly<Record<string, SourceLoc>>;
