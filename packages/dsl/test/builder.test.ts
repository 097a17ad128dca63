import { describe, expect, it } from 'vitest';
import {
  graph,
  isDslError,
  LinearInFeaturesError,
  ShapeMismatchError,
  SplitSizesError,
  UnknownRefError,
  DuplicateNodeIdError,
  OverrideUnsupportedError, ChunkSizeConflictError, hashGraph,
} from '../src/index.ts';

const stem = () => graph().input({ features: 64 }).linear({ param: 'in_proj', outFeatures: 96 });

/** A small complete block built by hand (d_inner 64, headdim 16, 4 heads, dState 16). */
function block() {
  return graph()
    .input({ features: 32 })
    .linear({ param: 'in_proj', outFeatures: 64 + 96 + 4 })
    .split({ id: 'zxbcdt', parts: [{ name: 'z', size: 64 }, { name: 'xBC', size: 96 }, { name: 'dt', size: 4 }] })
    .causalConv1d({ input: 'zxbcdt.xBC', width: 4 })
    .split({ id: 'xBC', parts: [{ name: 'x', size: 64 }, { name: 'B', size: 16 }, { name: 'C', size: 16 }] })
    .dtTransform({ input: 'zxbcdt.dt' })
    .ssdScan({ x: 'xBC.x', dt: 'dt', B: 'xBC.B', C: 'xBC.C', headdim: 16, ngroups: 1, dState: 16, chunkSize: 32 })
    .dSkip({ x: 'xBC.x', headdim: 16 })
    .gate({ z: 'zxbcdt.z' })
    .outProj({ outFeatures: 32 })
    .output();
}

describe('graph builder', () => {
  it('returns a new builder from every call and leaves the old one unchanged', () => {
    const a = stem();
    const before = a.nodes.map((n) => n.id);
    const b = a.output();
    const c = a.linear({ param: 'out_proj', outFeatures: 64 }).output();
    expect(a.nodes.map((n) => n.id)).toEqual(before);
    expect(b.nodes.map((n) => n.id)).toEqual(['u', 'in_proj', 'out']);
    expect(c.nodes.map((n) => n.id)).toEqual(['u', 'in_proj', 'out_proj', 'out']);
  });

  it('freezes nodes so nothing can mutate a graph after it is built', () => {
    const m = block().build({ name: 'frozen' });
    expect(Object.isFrozen(m.graph)).toBe(true);
    expect(Object.isFrozen(m.graph.nodes)).toBe(true);
    expect(() => {
      (m.graph.nodes[0] as { features: number }).features = 1;
    }).toThrow(TypeError);
  });

  it('gives nodes deterministic ids from their kind, numbering repeats', () => {
    const b = graph().input({ features: 32 }).causalConv1d({ width: 4 }).causalConv1d({ width: 4 }).output();
    expect(b.nodes.map((n) => n.id)).toEqual(['u', 'conv', 'conv_2', 'out']);
  });

  it('records the caller file:line of each op in the source map', () => {
    const m = block().build({ name: 'located' });
    expect(m.sourceMap['scan']).toEqual({ file: 'packages/dsl/test/builder.test.ts', line: 24, column: 6 });
    expect(m.sourceMap['$graph']).toMatchObject({ file: 'packages/dsl/test/builder.test.ts' });
  });

  it('derives linear inFeatures from its input', () => {
    const lin = stem().nodes[1]!;
    expect(lin).toMatchObject({ kind: 'Linear', inFeatures: 64, outFeatures: 96, bias: false });
  });

  it('rejects a linear whose inFeatures does not match its input', () => {
    expect(() => graph().input({ features: 64 }).linear({ param: 'p', inFeatures: 32, outFeatures: 8 })).toThrow(
      LinearInFeaturesError,
    );
  });

  it('rejects split sizes that do not sum to the input features, naming the sum', () => {
    expect(() => stem().split({ parts: [{ name: 'a', size: 50 }, { name: 'b', size: 50 }] })).toThrow(
      /sum to 100, but 'in_proj' has 96 features/,
    );
    expect(() => stem().split({ parts: [{ name: 'a', size: 1 }] })).toThrow(SplitSizesError);
  });

  it('rejects a Ref that no earlier node produced, listing the ones that exist', () => {
    expect(() => stem().output({ input: 'nope' })).toThrow(UnknownRefError);
    expect(() => stem().output({ input: 'nope' })).toThrow(/Use one of: u, in_proj/);
  });

  it('rejects a duplicate node id', () => {
    expect(() => stem().linear({ id: 'in_proj', param: 'x', outFeatures: 4 })).toThrow(DuplicateNodeIdError);
  });

  it('rejects a scan whose x is not nheads*headdim wide', () => {
    const b = graph()
      .input({ features: 8 })
      .linear({ param: 'p', outFeatures: 64 + 16 + 16 + 4 })
      .split({ id: 's', parts: [{ name: 'x', size: 64 }, { name: 'B', size: 16 }, { name: 'C', size: 16 }, { name: 'dt', size: 4 }] })
      .dtTransform({ input: 's.dt' });
    expect(() => b.ssdScan({ x: 's.x', dt: 'dt', B: 's.B', C: 's.C', headdim: 32, ngroups: 1, dState: 16, chunkSize: 64 })).toThrow(
      ShapeMismatchError,
    );
  });

  it('builds a validated ModelDef with the output node last', () => {
    const m = block().build({ name: 'hand_block' });
    expect(m.kind).toBe('ModelDef');
    expect(m.graph.output).toBe('out');
    expect(m.graph.className).toBe('HandBlock');
  });

  it('keeps the ssdScan chunkSize beside the graph as a launch option, out of the node and the hash', () => {
    const a = block().build({ name: 'hand_block' });
    const b = block().build({ name: 'hand_block', codegen: { scanWarps: 8 } });
    expect(a.launch).toEqual({ chunkSize: 32 });
    expect(b.launch).toEqual({ chunkSize: 32, scanWarps: 8 });
    expect(a.graph.nodes.find((n) => n.kind === 'SsdScan')).not.toHaveProperty('chunkSize');
    expect(hashGraph(a.graph)).toBe(hashGraph(b.graph));
  });

  it('refuses a codegen.chunkSize that contradicts the ssdScan chunkSize', () => {
    expect(() => block().build({ name: 'hand_block', codegen: { chunkSize: 64 } })).toThrow(ChunkSizeConflictError);
  });

  it('refuses a headdim override on a hand-built graph, naming the fix', () => {
    const m = block().build({ name: 'hand_block' });
    expect(() => m.rebuild({ headdim: 32 })).toThrow(OverrideUnsupportedError);
    try {
      m.rebuild({ headdim: 32 });
    } catch (e) {
      expect(isDslError(e) && e.message).toMatch(/Drop --headdim .* or write the model with mamba2/);
    }
  });
});

describe('unknown option keys at run time', () => {
  function thrown(f: () => unknown) {
    try {
      f();
    } catch (e) {
      if (isDslError(e)) return e;
      throw e;
    }
    throw new Error('no error');
  }

  it('refuses a key passed through a variable and names the nearest valid one, at the call line', () => {
    const o = { z: 'zxbcdt.z', esp: 1e-5 } as unknown as Parameters<ReturnType<typeof graph>['rmsNorm']>[0];
    const e = thrown(() => stem().rmsNorm(o));
    expect(e.rule).toBe('option-known');
    expect(e.what).toBe('rmsNorm() has no option esp');
    expect(e.fix).toMatch(/^Did you mean eps\? The options are id, y, z, param, groupSize, eps, normBeforeGate\.$/);
    expect(e.loc?.file).toMatch(/builder\.test\.ts$/);
  });

  it('refuses an unknown key in every op, before any other check', () => {
    const g = stem() as unknown as Record<string, (o: unknown) => unknown>;
    const ops: [string, string, string][] = [
      ['input', 'feature', 'features'], ['linear', 'outfeatures', 'outFeatures'], ['outProj', 'biass', 'bias'],
      ['split', 'part', 'parts'], ['causalConv1d', 'widht', 'width'], ['depthwiseConv2d', 'kernel_size', 'kernelSize'],
      ['scanProjection', 'dstate', 'dState'], ['dtTransform', 'softPlus', 'softplus'], ['ssdScan', 'headDim', 'headdim'],
      ['dSkip', 'per_channel', 'perChannel'], ['gate', 'zz', 'z'], ['rmsNorm', 'groupsize', 'groupSize'],
      ['output', 'inptu', 'input'],
    ];
    for (const [op, key, near] of ops) {
      const fresh = (op === 'input' ? graph() : g) as unknown as Record<string, (o: unknown) => unknown>;
      const e = thrown(() => fresh[op]!.call(fresh, { [key]: 1 }));
      expect(e.what, op).toBe(`${op}() has no option ${key}`);
      expect(e.fix, op).toMatch(new RegExp(`^Did you mean ${near}\\?`));
    }
  });

  it('refuses an unknown build() key and an unknown codegen key', () => {
    const done = block();
    expect(thrown(() => done.build({ nmae: 'x' } as never)).fix).toMatch(/^Did you mean name\?/);
    expect(thrown(() => done.build({ codegen: { scanWarp: 8 } } as never)).what).toBe('build() has no option codegen.scanWarp');
  });

  it('accepts every documented key', () => {
    expect(() => block().build({ name: 'x', className: 'X', dtype: 'float32', config: {}, codegen: {} })).not.toThrow();
  });
});
