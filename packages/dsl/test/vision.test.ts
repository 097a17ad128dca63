import { describe, expect, it } from 'vitest';
import { loadModels } from '../src/frontend/index.ts';
import {
  checkGraph,
  graph,
  hashGraph,
  isDslError,
  visionMamba2,
  type DslError,
  type Graph,
  type Node,
} from '../src/index.ts';

const FIXTURES = 'packages/dsl/test/fixtures/invalid';

function thrown(fn: () => unknown): DslError {
  try {
    fn();
  } catch (e) {
    if (isDslError(e)) return e;
    throw e;
  }
  throw new Error('no DslError was thrown');
}

async function failure(fixture: string): Promise<DslError> {
  try {
    await loadModels([`${FIXTURES}/${fixture}`]);
  } catch (e) {
    if (isDslError(e)) return e;
    throw e;
  }
  throw new Error(`${fixture} loaded without an error`);
}

/** A forward block built by hand, with or without an explicit directions: 'forward'. */
function forwardBlock(explicit: boolean) {
  return graph()
    .input({ features: 32 })
    .linear({ param: 'in_proj', outFeatures: 64 + 96 + 4 })
    .split({ id: 'zxbcdt', parts: [{ name: 'z', size: 64 }, { name: 'xBC', size: 96 }, { name: 'dt', size: 4 }] })
    .causalConv1d({ input: 'zxbcdt.xBC', width: 4 })
    .split({ id: 'xBC', parts: [{ name: 'x', size: 64 }, { name: 'B', size: 16 }, { name: 'C', size: 16 }] })
    .dtTransform({ input: 'zxbcdt.dt' })
    .ssdScan({ x: 'xBC.x', dt: 'dt', B: 'xBC.B', C: 'xBC.C', headdim: 16, ngroups: 1, dState: 16, ...(explicit ? { directions: 'forward' as const } : {}) })
    .dSkip({ x: 'xBC.x', headdim: 16 })
    .gate({ z: 'zxbcdt.z' })
    .outProj({ outFeatures: 32 })
    .output()
    .build({ name: 'fwd' });
}

/** The image stem of a vision block: u (4x6 image, 32 features) -> in_proj -> (x, z) -> conv2d. */
const imageStem = (image = true) =>
  graph()
    .input({ features: 32, ...(image ? { image: { height: 4, width: 6 } } : {}) })
    .linear({ param: 'in_proj', outFeatures: 128 })
    .split({ id: 'xz', parts: [{ name: 'x', size: 64 }, { name: 'z', size: 64 }] });

describe('scan directions', () => {
  it("leaves a model's IR and hash unchanged with the default 'forward'", () => {
    const a = forwardBlock(false);
    const b = forwardBlock(true);
    expect(hashGraph(b.graph)).toBe(hashGraph(a.graph));
    expect(a.graph.nodes.find((n) => n.kind === 'SsdScan')).not.toHaveProperty('directions');
    expect(a.graph.nodes.find((n) => n.kind === 'DSkip')).not.toHaveProperty('orders');
    expect(a.graph.nodes[0]).not.toHaveProperty('image');
  });

  it('draws the VMamba block: image input, conv2d, per-order projections, a four-order scan, one D per order', () => {
    const m = visionMamba2({ dModel: 96, height: 8, width: 6, headdim: 32, dState: 16, name: 'vm' });
    const nodes = m.graph.nodes;
    expect(nodes.map((n) => n.kind)).toEqual([
      'Input', 'Linear', 'Split', 'DepthwiseConv2d', 'ScanProjection', 'DtTransform', 'SsdScan', 'DSkip', 'RMSNorm', 'Linear', 'Output',
    ]);
    const get = <K extends Node['kind']>(k: K) => nodes.find((n) => n.kind === k) as Extract<Node, { kind: K }>;
    expect(get('Input').image).toEqual({ height: 8, width: 6 });
    expect(get('DepthwiseConv2d')).toMatchObject({ channels: 192, kernelSize: 3, input: 'xz.x', activation: 'silu' });
    expect(get('ScanProjection')).toMatchObject({ orders: 4, nheads: 6, ngroups: 1, dState: 16, inFeatures: 192 });
    expect(get('DtTransform').nheads).toBe(24);
    expect(get('SsdScan')).toMatchObject({ directions: 'cross2d', nheads: 6, headdim: 32, x: 'conv2d', B: 'x_proj.B' });
    expect(get('DSkip').orders).toBe(4);
    expect(get('RMSNorm')).toMatchObject({ z: 'xz.z', normBeforeGate: true });
  });

  it("gives 'bidirectional' two orders and needs no column walk", () => {
    const m = visionMamba2({ dModel: 64, height: 1, width: 10, headdim: 32, dState: 16, directions: 'bidirectional', name: 'bi' });
    const proj = m.graph.nodes.find((n) => n.kind === 'ScanProjection');
    expect(proj).toMatchObject({ orders: 2 });
    expect(m.graph.nodes.find((n) => n.kind === 'SsdScan')).toMatchObject({ directions: 'bidirectional' });
  });

  it('rejects an unknown directions at its line in the model file, naming the values', async () => {
    const e = await failure('vision-directions-diagonal.ts');
    expect(e.rule).toBe('scan-directions-known');
    expect(e.loc?.line).toBe(9);
    expect(e.message).toMatch(/^visionMamba2 directions "diagonal" is not a multi-order scan \(packages\/dsl\/test\/fixtures\/invalid\/vision-directions-diagonal\.ts:9\)\. Use directions 'cross2d'/);
  });

  it('rejects an even conv2d kernel at the dConv line, naming the fix', async () => {
    const e = await failure('vision-dconv-4.ts');
    expect(e.rule).toBe('conv2d-kernel-odd-1-7');
    expect(e.loc?.line).toBe(10);
    expect(e.what).toMatch(/^conv2d kernel size 4 is not odd in 1\.\.7/);
    expect(e.fix).toBe("Use dConv 5 (3 is VMamba's).");
  });

  it('rejects an unknown builder directions, naming the option and the three orders', () => {
    const e = thrown(() =>
      imageStem().depthwiseConv2d({ input: 'xz.x' }).scanProjection({ directions: 'spiral' as 'cross2d', nheads: 4, ngroups: 1, dState: 16 }),
    );
    expect(e.rule).toBe('scan-directions-known');
    expect(e.props).toEqual(['directions']);
    expect(e.message).toMatch(/directions "spiral" is not a scan order.*'forward'.*'bidirectional'.*'cross2d'/);
  });

  it('rejects a conv2d on a sequence input, pointing at the image size', () => {
    const e = thrown(() => imageStem(false).depthwiseConv2d({ input: 'xz.x' }));
    expect(e.rule).toBe('image-size-needed');
    expect(e.fix).toMatch(/input\(\{ features, image: \{ height, width \} \}\)/);
  });

  function crossGraph(opts: { image?: boolean; init?: boolean; dskipOrders?: number } = {}): Graph {
    const m = imageStem(opts.image ?? true)
      .depthwiseConv2d({ input: 'xz.x' })
      .scanProjection({ input: 'conv2d', directions: 'cross2d', nheads: 4, ngroups: 1, dState: 16 })
      .dtTransform({ input: 'x_proj.dt' })
      .ssdScan({ x: 'conv2d', dt: 'dt', B: 'x_proj.B', C: 'x_proj.C', headdim: 16, ngroups: 1, dState: 16, directions: 'cross2d' })
      .dSkip({ x: 'conv2d', headdim: 16 })
      .rmsNorm({ z: 'xz.z', normBeforeGate: true })
      .outProj({ outFeatures: 32 })
      .output()
      .build({ name: 'cross' });
    return m.graph;
  }

  it('accepts the hand-built four-order block', () => {
    expect(checkGraph(crossGraph())).toEqual([]);
  });

  it("rejects 'cross2d' when the input has no image (the orders walk its columns)", () => {
    const g = crossGraph();
    const noImage = { ...g, nodes: g.nodes.map((n) => (n.kind === 'Input' ? { kind: n.kind, id: n.id, features: n.features } : n)) };
    const rules = checkGraph(noImage as Graph).map((e) => e.rule);
    expect(rules).toContain('image-size-needed');
    expect(checkGraph(noImage as Graph).find((e) => e.props.includes('directions'))?.what).toMatch(/'cross2d' on scan 'scan' walks the image's columns/);
  });

  it('rejects learnable initial states on a multi-order scan', () => {
    const g = crossGraph();
    const withInit = { ...g, nodes: g.nodes.map((n) => (n.kind === 'SsdScan' ? { ...n, learnableInitStates: true } : n)) };
    const [e] = checkGraph(withInit as Graph);
    expect(e?.rule).toBe('multi-order-scan-no-initial-states');
    expect(e?.fix).toMatch(/Drop learnableInitStates/);
  });

  it("rejects a projection or a D skip whose order count is not the scan's", () => {
    const g = crossGraph();
    const bad = {
      ...g,
      nodes: g.nodes.map((n) => (n.kind === 'ScanProjection' ? { ...n, orders: 2 } : n.kind === 'DSkip' ? { ...n, orders: 1 } : n)),
    };
    const errs = checkGraph(bad as Graph);
    expect(errs.map((e) => e.rule)).toEqual(['scan-orders-match', 'scan-orders-match']);
    expect(errs[0]!.what).toMatch(/projects 2 order\(s\), but scan 'scan' \(directions 'cross2d'\) walks 4/);
  });

  it('rejects a scan whose B has one order of features when it walks four', () => {
    const e = thrown(() =>
      imageStem()
        .depthwiseConv2d({ input: 'xz.x' })
        .scanProjection({ input: 'conv2d', directions: 'bidirectional', nheads: 8, ngroups: 1, dState: 16 })
        .dtTransform({ input: 'x_proj.dt' })
        .ssdScan({ x: 'conv2d', dt: 'dt', B: 'x_proj.B', C: 'x_proj.C', headdim: 16, ngroups: 1, dState: 16, directions: 'cross2d' }),
    );
    expect(e.rule).toBe('shape-match');
  });

  it('refuses an unknown visionMamba2 option, naming the nearest one', () => {
    const e = thrown(() => visionMamba2({ dModel: 64, height: 4, width: 4, direction: 'cross2d' } as never));
    expect(e.rule).toBe('option-known');
    expect(e.fix).toMatch(/^Did you mean directions\?/);
  });
});
