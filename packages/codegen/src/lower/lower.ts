/**
 * IR Graph -> KernelPlan.
 *
 * One pass over the nodes in topological order. Each node kind has a visitor
 * (the `visit` table, one entry per NodeKind so a new kind fails to compile
 * until lowering handles it) that checks where the node sits in the block and
 * records it in a slot. `plan()` then turns the filled slots into decisions:
 * which kernels ship, what is folded into the scan, which views the module takes.
 */
import type {
  CausalConv1dNode,
  DepthwiseConv2dNode,
  DSkipNode,
  DtTransformNode,
  GateNode,
  Graph,
  InputNode,
  LinearNode,
  NodeKind,
  NodeOf,
  OutputNode,
  RMSNormNode,
  Ref,
  ScanProjectionNode,
  SplitNode,
  SsdScanNode,
} from '@mamba2/dsl';
import { UnsupportedGraphError } from './errors.ts';
import { checkClassName, checkPackageName, checkParamName } from './names.ts';
import { isVisionGraph, lowerVision } from './lower-vision.ts';
import type { KernelName, KernelPlan, NormPlan, PackagePlan, Slice } from './plan.ts';

/** What a value (a Ref) is in the block, as far as lowering has seen. */
type Role =
  | { readonly kind: 'u' }
  | { readonly kind: 'proj' }
  | { readonly kind: 'projPart'; readonly slice: Slice; readonly name: string }
  | { readonly kind: 'conv' }
  | { readonly kind: 'convPart'; readonly slice: Slice; readonly name: string }
  | { readonly kind: 'dt' }
  /** The scan output and everything after it up to out_proj (D, gate, norm). */
  | { readonly kind: 'y' }
  | { readonly kind: 'outProj' }
  | { readonly kind: 'out' };

interface Slots {
  input?: InputNode;
  inProj?: LinearNode;
  inSplit?: SplitNode;
  conv?: CausalConv1dNode;
  convSplit?: SplitNode;
  dt?: DtTransformNode;
  scan?: SsdScanNode;
  dskip?: DSkipNode;
  gate?: GateNode;
  norm?: RMSNormNode;
  outProj?: LinearNode;
  output?: OutputNode;
}

interface LowerState {
  readonly roles: Map<Ref, Role>;
  readonly slots: Slots;
  /** Which in_proj part each consumer took: 'z' | 'xBC' | 'dt' -> part name. */
  readonly projUse: Map<ProjUse, string>;
  /** The last value of the y chain; only it may be consumed. */
  yEnd: Ref | null;
  /** Order the y-chain ops were seen in (for gate/norm ordering). */
  readonly yOps: ('dskip' | 'gate' | 'norm')[];
}

/** What an in_proj part is used as (z0, x0: mamba_ssm Mamba2's gated MLP). */
type ProjUse = 'z' | 'xBC' | 'dt' | 'z0' | 'x0';

type Visitor<K extends NodeKind> = (node: NodeOf<K>, st: LowerState) => void;
/** Record<NodeKind, ...> keyed by kind, each entry typed for its own node. */
type VisitTable = { readonly [K in NodeKind]: Visitor<K> };

function roleOf(st: LowerState, ref: Ref, by: string): Role {
  const role = st.roles.get(ref);
  if (role === undefined) {
    throw new UnsupportedGraphError(`input "${ref}" is not produced by an earlier node`, by);
  }
  return role;
}

function fill<K extends keyof Slots>(st: LowerState, slot: K, node: NonNullable<Slots[K]>, what: string): void {
  if (st.slots[slot] !== undefined) {
    throw new UnsupportedGraphError(
      `a second ${what} (the first is "${st.slots[slot]!.id}"); codegen supports one Mamba-2 block per model`,
      node.id,
    );
  }
  st.slots[slot] = node;
}

function expectRole(st: LowerState, ref: Ref, kinds: readonly Role['kind'][], by: string, what: string): Role {
  const role = roleOf(st, ref, by);
  if (!kinds.includes(role.kind)) {
    throw new UnsupportedGraphError(`${what} "${ref}" must be ${kinds.join(' or ')}, got ${role.kind}`, by);
  }
  return role;
}

function takeProjPart(st: LowerState, ref: Ref, use: ProjUse, by: string): void {
  const role = roleOf(st, ref, by);
  if (role.kind !== 'projPart') {
    throw new UnsupportedGraphError(`${use} must be a part of the in_proj Split, got "${ref}" (${role.kind})`, by);
  }
  for (const [other, name] of st.projUse) {
    if (name === role.name) {
      throw new UnsupportedGraphError(`in_proj part "${role.name}" is used both as ${other} and as ${use}`, by);
    }
  }
  const prev = st.projUse.get(use);
  if (prev !== undefined && prev !== role.name) {
    throw new UnsupportedGraphError(`two different in_proj parts ("${prev}", "${role.name}") are used as ${use}`, by);
  }
  st.projUse.set(use, role.name);
}

/** Consume the end of the y chain and make `id` its new end. */
function extendY(st: LowerState, ref: Ref, id: string, what: string): void {
  expectRole(st, ref, ['y'], id, `${what} input`);
  if (ref !== st.yEnd) {
    throw new UnsupportedGraphError(
      `${what} reads "${ref}" but the block's output path continues from "${st.yEnd}"; branches after the scan are not supported`,
      id,
    );
  }
  st.roles.set(id, { kind: 'y' });
  st.yEnd = id;
}

function splitParts(node: SplitNode, st: LowerState, kind: 'projPart' | 'convPart'): void {
  let offset = 0;
  for (const part of node.parts) {
    st.roles.set(`${node.id}.${part.name}`, { kind, name: part.name, slice: { start: offset, stop: offset + part.size } });
    offset += part.size;
  }
}

/** The vision ops belong to the vision block (lower-vision.ts); in a sequence block they are an error. */
function visionOnly(node: DepthwiseConv2dNode | ScanProjectionNode): never {
  throw new UnsupportedGraphError(
    `${node.kind} is a vision op: a graph with it needs an image input and a multi-order scan (see visionMamba2)`,
    node.id,
  );
}

const visit: VisitTable = {
  Input(node, st) {
    fill(st, 'input', node, 'Input');
    st.roles.set(node.id, { kind: 'u' });
  },
  Linear(node, st) {
    const role = expectRole(st, node.input, ['u', 'y'], node.id, 'Linear input');
    checkParamName(node.param, node.id);
    if (role.kind === 'u') {
      fill(st, 'inProj', node, 'input projection');
      st.roles.set(node.id, { kind: 'proj' });
    } else {
      if (node.input !== st.yEnd) {
        throw new UnsupportedGraphError(`out projection reads "${node.input}", not the end of the scan path "${st.yEnd}"`, node.id);
      }
      if (node.mlpPrefix !== undefined) {
        takeProjPart(st, node.mlpPrefix.gate, 'z0', node.id);
        takeProjPart(st, node.mlpPrefix.value, 'x0', node.id);
      }
      fill(st, 'outProj', node, 'output projection');
      st.roles.set(node.id, { kind: 'outProj' });
      st.yEnd = null;
    }
  },
  Split(node, st) {
    const role = expectRole(st, node.input, ['proj', 'conv'], node.id, 'Split input');
    if (role.kind === 'proj') {
      fill(st, 'inSplit', node, 'Split of in_proj');
      splitParts(node, st, 'projPart');
    } else {
      fill(st, 'convSplit', node, 'Split of the conv output');
      splitParts(node, st, 'convPart');
    }
  },
  CausalConv1d(node, st) {
    takeProjPart(st, node.input, 'xBC', node.id);
    checkParamName(node.param, node.id);
    fill(st, 'conv', node, 'CausalConv1d');
    st.roles.set(node.id, { kind: 'conv' });
  },
  DepthwiseConv2d: visionOnly,
  ScanProjection: visionOnly,
  DtTransform(node, st) {
    takeProjPart(st, node.input, 'dt', node.id);
    fill(st, 'dt', node, 'DtTransform');
    st.roles.set(node.id, { kind: 'dt' });
  },
  SsdScan(node, st) {
    if (node.directions !== undefined) {
      throw new UnsupportedGraphError(
        `scan directions '${node.directions}' over a sequence block: multi-order scans are generated as vision blocks (visionMamba2)`,
        node.id,
      );
    }
    for (const [port, ref] of [['x', node.x], ['B', node.B], ['C', node.C]] as const) {
      expectRole(st, ref, ['convPart'], node.id, `scan ${port}`);
    }
    const names = new Set([node.x, node.B, node.C]);
    if (names.size !== 3) {
      throw new UnsupportedGraphError('scan x, B and C must be three different parts of the conv output', node.id);
    }
    expectRole(st, node.dt, ['dt'], node.id, 'scan dt');
    fill(st, 'scan', node, 'SsdScan');
    st.roles.set(node.id, { kind: 'y' });
    st.yEnd = node.id;
  },
  DSkip(node, st) {
    const scan = st.slots.scan;
    if (scan === undefined || node.y !== scan.id) {
      throw new UnsupportedGraphError(
        'DSkip must read the scan output directly: D is folded into the scan kernel. Move d-skip right after the scan',
        node.id,
      );
    }
    if (node.x !== scan.x) {
      throw new UnsupportedGraphError(`DSkip x "${node.x}" is not the scan's x "${scan.x}"`, node.id);
    }
    fill(st, 'dskip', node, 'DSkip');
    extendY(st, node.y, node.id, 'DSkip');
    st.yOps.push('dskip');
  },
  Gate(node, st) {
    takeProjPart(st, node.z, 'z', node.id);
    fill(st, 'gate', node, 'Gate');
    extendY(st, node.y, node.id, 'Gate');
    st.yOps.push('gate');
  },
  RMSNorm(node, st) {
    if (node.z !== null) takeProjPart(st, node.z, 'z', node.id);
    checkParamName(node.param, node.id);
    fill(st, 'norm', node, 'RMSNorm');
    extendY(st, node.y, node.id, 'RMSNorm');
    st.yOps.push('norm');
  },
  Output(node, st) {
    expectRole(st, node.input, ['outProj'], node.id, 'Output input');
    fill(st, 'output', node, 'Output');
    st.roles.set(node.id, { kind: 'out' });
  },
};

function dispatch<K extends NodeKind>(node: NodeOf<K>, st: LowerState): void {
  (visit[node.kind] as Visitor<K>)(node, st);
}

function required<K extends keyof Slots>(slots: Slots, key: K, what: string): NonNullable<Slots[K]> {
  const v = slots[key];
  if (v === undefined) throw new UnsupportedGraphError(`the graph has no ${what}; a Mamba-2 block needs one`);
  return v as NonNullable<Slots[K]>;
}

function partSlice(st: LowerState, ref: Ref): Slice {
  const role = st.roles.get(ref);
  if (role === undefined || (role.kind !== 'projPart' && role.kind !== 'convPart')) {
    throw new UnsupportedGraphError(`"${ref}" is not a Split part`);
  }
  return role.slice;
}

function size(s: Slice): number {
  return s.stop - s.start;
}

function expectEq(what: string, got: number, want: number, nodeId: string): void {
  if (got !== want) throw new UnsupportedGraphError(`${what} is ${got}, expected ${want}`, nodeId);
}

/** Any graph: a vision block (image input, multi-order scan) or a sequence block. */
export function lowerPackage(graph: Graph): PackagePlan {
  return isVisionGraph(graph) ? lowerVision(graph) : lower(graph);
}

/** Lower a sequence graph to the plan the emitters render. Throws UnsupportedGraphError. */
export function lower(graph: Graph): KernelPlan {
  const st: LowerState = { roles: new Map(), slots: {}, projUse: new Map(), yEnd: null, yOps: [] };
  const ids = new Set<string>();
  for (const node of graph.nodes) {
    if (ids.has(node.id)) throw new UnsupportedGraphError('duplicate node id', node.id);
    ids.add(node.id);
    dispatch(node, st);
  }
  const s = st.slots;
  const input = required(s, 'input', 'Input');
  const inProj = required(s, 'inProj', 'input projection (Linear from the Input)');
  const inSplit = required(s, 'inSplit', 'Split of the input projection');
  const conv = required(s, 'conv', 'CausalConv1d');
  const convSplit = required(s, 'convSplit', 'Split of the conv output into x, B, C');
  const dt = required(s, 'dt', 'DtTransform');
  const scan = required(s, 'scan', 'SsdScan');
  const outProj = required(s, 'outProj', 'output projection (Linear after the scan)');
  const output = required(s, 'output', 'Output');
  const graphOut = graph.output;
  if (graphOut !== output.id && graphOut !== output.input) {
    throw new UnsupportedGraphError(`graph.output "${graphOut}" is not the Output node "${output.id}"`);
  }

  // Every in_proj part must be used once; the conv split must be exactly x, B, C.
  const used = new Set(st.projUse.values());
  for (const p of inSplit.parts) {
    if (!used.has(p.name)) {
      throw new UnsupportedGraphError(`in_proj part "${p.name}" is never used; drop it from the Split`, inSplit.id);
    }
  }
  if (convSplit.parts.length !== 3) {
    throw new UnsupportedGraphError(`the conv output must split into exactly x, B, C (got ${convSplit.parts.length} parts)`, convSplit.id);
  }
  if (inProj.bias !== outProj.bias) {
    throw new UnsupportedGraphError(
      `in_proj bias=${inProj.bias} but out_proj bias=${outProj.bias}; the seed's \`bias\` argument sets both`,
      outProj.id,
    );
  }

  const xSlice = partSlice(st, scan.x);
  const bSlice = partSlice(st, scan.B);
  const cSlice = partSlice(st, scan.C);
  const zRef = s.gate?.z ?? s.norm?.z ?? null;
  const zSlice = zRef === null ? null : partSlice(st, zRef);
  const xBCSlice = partSlice(st, conv.input);
  const dtSlice = partSlice(st, dt.input);

  const dInner = scan.nheads * scan.headdim;
  const dModel = input.features;
  const gn = scan.ngroups * scan.dState;
  expectEq('in_proj in_features', inProj.inFeatures, dModel, inProj.id);
  expectEq('in_proj out_features (sum of the Split parts)', inSplit.parts.reduce((a, p) => a + p.size, 0), inProj.outFeatures, inSplit.id);
  expectEq('conv channels', conv.channels, size(xBCSlice), conv.id);
  expectEq('conv Split total', convSplit.parts.reduce((a, p) => a + p.size, 0), conv.channels, convSplit.id);
  expectEq('scan x width (nheads*headdim)', size(xSlice), dInner, scan.id);
  expectEq('scan B width (ngroups*d_state)', size(bSlice), gn, scan.id);
  expectEq('scan C width (ngroups*d_state)', size(cSlice), gn, scan.id);
  expectEq('dt width', size(dtSlice), scan.nheads, dt.id);
  expectEq('DtTransform nheads', dt.nheads, scan.nheads, dt.id);
  if (zSlice !== null) expectEq('z width', size(zSlice), dInner, zRef!);
  if (scan.nheads % scan.ngroups !== 0) {
    throw new UnsupportedGraphError(`nheads ${scan.nheads} is not a multiple of ngroups ${scan.ngroups}`, scan.id);
  }
  if (s.dskip) {
    expectEq('DSkip nheads', s.dskip.nheads, scan.nheads, s.dskip.id);
    expectEq('DSkip headdim', s.dskip.headdim, scan.headdim, s.dskip.id);
  }
  const mlp = outProj.mlpPrefix;
  const mlpPlan =
    mlp === undefined
      ? null
      : { z0: partSlice(st, mlp.gate), x0: partSlice(st, mlp.value), features: mlp.features };
  if (mlpPlan !== null) {
    expectEq('gated MLP z0 width', size(mlpPlan.z0), mlpPlan.features, outProj.id);
    expectEq('gated MLP x0 width', size(mlpPlan.x0), mlpPlan.features, outProj.id);
  }
  expectEq('out_proj in_features', outProj.inFeatures, dInner + (mlpPlan?.features ?? 0), outProj.id);
  expectEq('Output features', output.features, outProj.outFeatures, output.id);
  expectEq('out_proj out_features', outProj.outFeatures, dModel, outProj.id);

  const norm = planNorm(st, graph);
  const gateZ = s.gate !== undefined && s.norm === undefined;
  // Both scans ship: functional.py dispatches on LaunchConfig.scan_impl (or impl=) at call time.
  const kernels: KernelName[] = ['conv', 'conv_bwd', 'dt', 'ssd_bwd', 'ssd_chunked', 'ssd_fused'];
  if (norm !== null) kernels.push('norm', 'norm_bwd');
  kernels.sort();

  return {
    name: checkPackageName(graph.name),
    className: checkClassName(graph.className),
    dims: {
      dModel,
      dInner,
      nheads: scan.nheads,
      headdim: scan.headdim,
      ngroups: scan.ngroups,
      dState: scan.dState,
      dConv: conv.width,
      convDim: conv.channels,
      dInProj: inProj.outFeatures,
      expand: (dInner + (mlpPlan?.features ?? 0)) / dModel,
    },
    api: graph.config['layer'] === 'Mamba2' ? 'mamba2' : 'simple',
    mlp: mlpPlan,
    inProj: { param: inProj.param, inFeatures: inProj.inFeatures, outFeatures: inProj.outFeatures, bias: inProj.bias },
    inSplit: { z: zSlice, xBC: xBCSlice, dt: dtSlice },
    convSplit: { x: xSlice, B: bSlice, C: cSlice },
    conv: {
      param: conv.param,
      channels: conv.channels,
      width: conv.width,
      bias: conv.bias,
      activation: conv.activation,
      init: conv.init,
    },
    dt: {
      bias: dt.bias,
      softplus: dt.softplus,
      limit: [dt.limit[0], dt.limit[1]],
      dtMin: dt.dtMin,
      dtMax: dt.dtMax,
      dtInitFloor: dt.dtInitFloor,
      fusedIntoScan: true,
    },
    scan: {
      nheads: scan.nheads,
      headdim: scan.headdim,
      ngroups: scan.ngroups,
      dState: scan.dState,
      aInitRange: [scan.aInitRange[0], scan.aInitRange[1]],
      learnableInitStates: scan.learnableInitStates,
      d: s.dskip ? { perChannel: s.dskip.perChannel } : null,
      gateZ,
    },
    norm,
    outProj: { param: outProj.param, inFeatures: outProj.inFeatures, outFeatures: outProj.outFeatures, bias: outProj.bias },
    kernels,
  };
}

/**
 * The norm, with a separate Gate folded in: Gate then ungated RMSNorm is
 * rmsnorm(y*silu(z)) (normBeforeGate false); ungated RMSNorm then Gate is
 * rmsnorm(y)*silu(z) (normBeforeGate true). A Gate with a gated norm is two
 * gates, which no kernel does.
 */
function planNorm(st: LowerState, graph: Graph): NormPlan | null {
  const { norm, gate } = st.slots;
  if (norm === undefined) return null;
  const dInner = st.slots.scan!.nheads * st.slots.scan!.headdim;
  expectEq('RMSNorm features', norm.features, dInner, norm.id);
  if (norm.groupSize <= 0 || norm.features % norm.groupSize !== 0) {
    throw new UnsupportedGraphError(`RMSNorm groupSize ${norm.groupSize} does not divide features ${norm.features}`, norm.id);
  }
  let gated = norm.z !== null;
  let normBeforeGate = norm.normBeforeGate;
  if (gate !== undefined) {
    if (gated) {
      throw new UnsupportedGraphError('a Gate and a gated RMSNorm both apply silu(z); keep only one', gate.id);
    }
    gated = true;
    normBeforeGate = st.yOps.indexOf('norm') < st.yOps.indexOf('gate');
  }
  return {
    param: norm.param,
    features: norm.features,
    groupSize: norm.groupSize,
    eps: norm.eps,
    gated,
    normBeforeGate: gated ? normBeforeGate : false,
  };
}
