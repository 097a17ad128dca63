/**
 * IR Graph -> VisionPlan: the vision block (VMamba's SS2D on the SSD scan).
 *
 * The shape it maps onto the generated module, in order: Input (with an
 * image) -> Linear in_proj -> Split (x, and z when gated) -> DepthwiseConv2d
 * on x -> ScanProjection of the conv output -> DtTransform of its dt -> SsdScan
 * (directions 'bidirectional' or 'cross2d') of the conv output with the
 * projection's B, C -> optional DSkip -> RMSNorm (gated by z or not) or Gate
 * or neither -> Linear out_proj -> Output. Each node is checked where it sits;
 * anything else is an UnsupportedGraphError naming the node and the fix.
 */
import { SCAN_ORDERS, type Graph, type Node, type NodeKind, type NodeOf, type Ref } from '@mamba2/dsl';
import { UnsupportedGraphError } from './errors.ts';
import { checkClassName, checkPackageName, checkParamName } from './names.ts';
import type { KernelName, NormPlan, Slice, VisionPlan } from './plan.ts';

/** A graph is a vision block when its input is an image or its scan walks several orders. */
export function isVisionGraph(graph: Graph): boolean {
  return graph.nodes.some(
    (n) =>
      (n.kind === 'Input' && n.image !== undefined) ||
      n.kind === 'DepthwiseConv2d' ||
      n.kind === 'ScanProjection' ||
      (n.kind === 'SsdScan' && n.directions !== undefined),
  );
}

type Counts = { [K in NodeKind]?: NodeOf<K>[] };

function one<K extends NodeKind>(by: Counts, kind: K, what: string, optional = false): NodeOf<K> | undefined {
  const ns = (by[kind] ?? []) as NodeOf<K>[];
  if (ns.length > 1) {
    throw new UnsupportedGraphError(`a second ${what} (the first is "${ns[0]!.id}"); a vision block has one`, ns[1]!.id);
  }
  if (ns.length === 0 && !optional) throw new UnsupportedGraphError(`the vision block has no ${what}`);
  return ns[0];
}

function expectRef(got: Ref, want: Ref, what: string, nodeId: string): void {
  if (got !== want) throw new UnsupportedGraphError(`${what} reads "${got}", expected "${want}"`, nodeId);
}

function expectEq(what: string, got: number, want: number, nodeId: string): void {
  if (got !== want) throw new UnsupportedGraphError(`${what} is ${got}, expected ${want}`, nodeId);
}

/** Lower a vision graph. Throws UnsupportedGraphError. */
export function lowerVision(graph: Graph): VisionPlan {
  const by: Counts = {};
  for (const n of graph.nodes) ((by as Record<string, Node[]>)[n.kind] ??= []).push(n);
  if (by.CausalConv1d !== undefined) {
    throw new UnsupportedGraphError('a causal conv1d in a vision block: use depthwiseConv2d over the image', by.CausalConv1d[0]!.id);
  }
  const input = one(by, 'Input', 'Input')!;
  const image = input.image;
  if (image === undefined) {
    throw new UnsupportedGraphError('the vision block needs an image input: input({ features, image: { height, width } })', input.id);
  }
  const linears = (by.Linear ?? []) as NodeOf<'Linear'>[];
  const inProj = linears.find((l) => l.input === input.id);
  const split = one(by, 'Split', 'Split of in_proj into x and z')!;
  const conv = one(by, 'DepthwiseConv2d', 'DepthwiseConv2d')!;
  const proj = one(by, 'ScanProjection', 'ScanProjection (per-order dt, B, C)')!;
  const dt = one(by, 'DtTransform', 'DtTransform')!;
  const scan = one(by, 'SsdScan', 'SsdScan')!;
  const dskip = one(by, 'DSkip', 'DSkip', true);
  const gate = one(by, 'Gate', 'Gate', true);
  const norm = one(by, 'RMSNorm', 'RMSNorm', true);
  const output = one(by, 'Output', 'Output')!;
  if (inProj === undefined) throw new UnsupportedGraphError('no Linear reads the Input: the block needs an in_proj');
  const outProj = linears.find((l) => l !== inProj);
  if (outProj === undefined || linears.length !== 2) {
    throw new UnsupportedGraphError(`the vision block needs exactly two Linears (in_proj, out_proj), got ${linears.length}`);
  }
  for (const n of [inProj, conv, proj, outProj, ...(norm ? [norm] : [])]) checkParamName(n.param, n.id);
  if (outProj.mlpPrefix !== undefined) throw new UnsupportedGraphError('a gated-MLP prefix on out_proj is not part of a vision block', outProj.id);
  if (scan.directions === undefined) {
    throw new UnsupportedGraphError("the vision block's scan walks one order: give it directions 'bidirectional' or 'cross2d'", scan.id);
  }
  if (scan.learnableInitStates) throw new UnsupportedGraphError('the cross scan takes no initial states', scan.id);
  const orders = SCAN_ORDERS[scan.directions];

  // in_proj -> split (x, z?)
  expectRef(split.input, inProj.id, 'the Split', split.id);
  const slices = new Map<Ref, Slice>();
  let off = 0;
  for (const p of split.parts) {
    slices.set(`${split.id}.${p.name}`, { start: off, stop: off + p.size });
    off += p.size;
  }
  expectEq('in_proj out_features (sum of the Split parts)', off, inProj.outFeatures, split.id);
  const xSlice = slices.get(conv.input);
  if (xSlice === undefined) throw new UnsupportedGraphError(`the conv2d reads "${conv.input}", not a part of the in_proj Split`, conv.id);
  const zRef = gate?.z ?? norm?.z ?? null;
  const zSlice = zRef === null ? null : slices.get(zRef) ?? null;
  if (zRef !== null && zSlice === null) throw new UnsupportedGraphError(`z "${zRef}" is not a part of the in_proj Split`, gate?.id ?? norm!.id);
  if (split.parts.length !== (zSlice === null ? 1 : 2)) {
    throw new UnsupportedGraphError(`the in_proj Split has ${split.parts.length} parts; a vision block uses x${zSlice === null ? '' : ' and z'}`, split.id);
  }

  // conv2d -> projection -> dt -> scan
  expectRef(proj.input, conv.id, 'the ScanProjection', proj.id);
  expectRef(dt.input, `${proj.id}.dt`, 'the DtTransform', dt.id);
  expectRef(scan.x, conv.id, 'the scan x', scan.id);
  expectRef(scan.dt, dt.id, 'the scan dt', scan.id);
  expectRef(scan.B, `${proj.id}.B`, 'the scan B', scan.id);
  expectRef(scan.C, `${proj.id}.C`, 'the scan C', scan.id);
  expectEq('ScanProjection orders', proj.orders, orders, proj.id);
  expectEq('ScanProjection nheads', proj.nheads, scan.nheads, proj.id);
  expectEq('ScanProjection ngroups', proj.ngroups, scan.ngroups, proj.id);
  expectEq('ScanProjection dState', proj.dState, scan.dState, proj.id);
  expectEq('DtTransform nheads (orders * nheads)', dt.nheads, orders * scan.nheads, dt.id);
  const dInner = scan.nheads * scan.headdim;
  expectEq('conv2d channels', conv.channels, dInner, conv.id);
  expectEq('x width', xSlice.stop - xSlice.start, dInner, conv.id);
  if (zSlice !== null) expectEq('z width', zSlice.stop - zSlice.start, dInner, zRef!);
  expectEq('in_proj in_features', inProj.inFeatures, input.features, inProj.id);

  // the y chain: scan -> dskip? -> (norm | gate)? -> out_proj -> output
  let yEnd: Ref = scan.id;
  if (dskip !== undefined) {
    expectRef(dskip.y, scan.id, 'DSkip y', dskip.id);
    expectRef(dskip.x, conv.id, 'DSkip x', dskip.id);
    if (dskip.perChannel) throw new UnsupportedGraphError('the cross scan takes one D per order and head, not per channel', dskip.id);
    expectEq('DSkip orders', dskip.orders ?? 1, orders, dskip.id);
    yEnd = dskip.id;
  }
  if (gate !== undefined && norm !== undefined) {
    throw new UnsupportedGraphError('a Gate and an RMSNorm: give the norm the gate (z, normBeforeGate) instead', gate.id);
  }
  if (gate !== undefined) {
    expectRef(gate.y, yEnd, 'the Gate', gate.id);
    yEnd = gate.id;
  }
  let normPlan: NormPlan | null = null;
  if (norm !== undefined) {
    expectRef(norm.y, yEnd, 'the RMSNorm', norm.id);
    expectEq('RMSNorm features', norm.features, dInner, norm.id);
    normPlan = {
      param: norm.param, features: norm.features, groupSize: norm.groupSize, eps: norm.eps,
      gated: norm.z !== null, normBeforeGate: norm.z !== null && norm.normBeforeGate,
    };
    yEnd = norm.id;
  }
  expectRef(outProj.input, yEnd, 'out_proj', outProj.id);
  expectEq('out_proj in_features', outProj.inFeatures, dInner, outProj.id);
  expectEq('out_proj out_features', outProj.outFeatures, input.features, outProj.id);
  expectRef(output.input, outProj.id, 'the Output', output.id);
  if (inProj.bias !== outProj.bias) {
    throw new UnsupportedGraphError(`in_proj bias=${inProj.bias} but out_proj bias=${outProj.bias}; one \`bias\` sets both`, outProj.id);
  }

  // Every kernel a sequence package ships (autograd.py and functional.py import them), plus the vision ones.
  const kernels: KernelName[] = ['conv', 'conv_bwd', 'dt', 'ssd_bwd', 'ssd_chunked', 'ssd_fused', 'conv2d', 'conv2d_bwd', 'cross_merge', 'cross_scan'];
  if (normPlan !== null) kernels.push('norm', 'norm_bwd');
  kernels.sort();
  const gn = scan.ngroups * scan.dState;
  return {
    kind: 'vision',
    name: checkPackageName(graph.name),
    className: checkClassName(graph.className),
    image: { height: image.height, width: image.width },
    directions: scan.directions,
    orders,
    dims: {
      dModel: input.features,
      dInner,
      nheads: scan.nheads,
      headdim: scan.headdim,
      ngroups: scan.ngroups,
      dState: scan.dState,
      dInProj: inProj.outFeatures,
      xProjOut: scan.nheads + 2 * gn,
      expand: dInner / input.features,
    },
    inProj: { param: inProj.param, inFeatures: inProj.inFeatures, outFeatures: inProj.outFeatures, bias: inProj.bias },
    inSplit: { x: xSlice, z: zSlice },
    conv: { param: conv.param, channels: conv.channels, kernelSize: conv.kernelSize, bias: conv.bias, activation: conv.activation, init: conv.init },
    xProj: { param: proj.param, inFeatures: proj.inFeatures },
    dt: {
      bias: dt.bias, softplus: dt.softplus, limit: [dt.limit[0], dt.limit[1]],
      dtMin: dt.dtMin, dtMax: dt.dtMax, dtInitFloor: dt.dtInitFloor, fusedIntoScan: true,
    },
    scan: {
      aInitRange: [scan.aInitRange[0], scan.aInitRange[1]],
      d: dskip === undefined ? null : { perChannel: false },
      gateZ: gate !== undefined,
    },
    norm: normPlan,
    outProj: { param: outProj.param, inFeatures: outProj.inFeatures, outFeatures: outProj.outFeatures, bias: outProj.bias },
    kernels,
  };
}
