import { describe, expect, it } from 'vitest';
import { hashGraph, mamba2, MAMBA2_DEFAULTS, type Node } from '../src/index.ts';

const byId = (nodes: readonly Node[], id: string) => nodes.find((n) => n.id === id)!;

describe('mamba2({...})', () => {
  it("uses the seed Mamba2Simple's defaults", () => {
    const cfg = mamba2({ dModel: 256 }).graph.config;
    expect(cfg).toEqual({
      dModel: 256,
      dState: 128,
      dConv: 4,
      convInit: null,
      expand: 2,
      headdim: 64,
      ngroups: 1,
      aInitRange: [1, 16],
      dtMin: 0.001,
      dtMax: 0.1,
      dtInitFloor: 1e-4,
      dtLimit: [0, null],
      learnableInitStates: false,
      activation: 'swish',
      bias: false,
      convBias: true,
      useMemEffPath: true,
      layerIdx: null,
      dPerChannel: false,
      gate: true,
      norm: true,
      normBeforeGate: false,
      normGroupSize: null,
      normEps: 1e-5,
      dtype: 'float32',
    });
    expect(Object.keys(cfg).sort()).toEqual([...Object.keys(MAMBA2_DEFAULTS), 'dModel'].sort());
  });

  it('builds the seed graph in the order of MAMBA2.md', () => {
    const g = mamba2({ dModel: 256 }).graph;
    expect(g.nodes.map((n) => `${n.kind}:${n.id}`)).toEqual([
      'Input:u',
      'Linear:in_proj',
      'Split:zxbcdt',
      'CausalConv1d:conv',
      'Split:xBC',
      'DtTransform:dt',
      'SsdScan:scan',
      'DSkip:dskip',
      'RMSNorm:norm',
      'Linear:out_proj',
      'Output:out',
    ]);
    expect(g.output).toBe('out');
  });

  it('sizes the seed in_proj as 2*d_inner + 2*ngroups*d_state + nheads', () => {
    const g = mamba2({ dModel: 256 }).graph;
    // d_inner 512, ngroups 1, d_state 128, nheads 8.
    expect(byId(g.nodes, 'in_proj')).toMatchObject({ param: 'in_proj', inFeatures: 256, outFeatures: 2 * 512 + 2 * 128 + 8, bias: false });
    expect(byId(g.nodes, 'zxbcdt')).toMatchObject({ parts: [{ name: 'z', size: 512 }, { name: 'xBC', size: 768 }, { name: 'dt', size: 8 }] });
    expect(byId(g.nodes, 'conv')).toMatchObject({ param: 'conv1d', channels: 768, width: 4, bias: true, activation: 'silu', init: null });
    expect(byId(g.nodes, 'scan')).toMatchObject({ nheads: 8, headdim: 64, ngroups: 1, dState: 128, aInitRange: [1, 16] });
    expect(byId(g.nodes, 'norm')).toMatchObject({ z: 'zxbcdt.z', features: 512, groupSize: 512, eps: 1e-5, normBeforeGate: false });
    expect(byId(g.nodes, 'out_proj')).toMatchObject({ param: 'out_proj', inFeatures: 512, outFeatures: 256 });
  });

  it('names the package after the model file and the class in PascalCase', () => {
    const g = mamba2({ dModel: 64, headdim: 32 }).graph;
    expect(g.name).toBe('mamba2_test');
    expect(g.className).toBe('Mamba2Test');
  });

  it('keeps chunkSize and codegen as launch options beside the graph, so they do not change its hash', () => {
    const a = mamba2({ dModel: 64, headdim: 32, name: 'x' });
    const b = mamba2({ dModel: 64, headdim: 32, name: 'x', chunkSize: 64, codegen: { scanWarps: 8, blockQ: 16 } });
    expect(a.launch).toEqual({});
    expect(b.launch).toEqual({ chunkSize: 64, scanWarps: 8, blockQ: 16 });
    expect(b.graph).toEqual(a.graph);
    expect(hashGraph(b.graph)).toBe(hashGraph(a.graph));
    expect(Object.keys(b.graph)).not.toContain('params');
  });

  it('takes codegen.chunkSize as the chunk size when chunkSize is not given', () => {
    expect(mamba2({ dModel: 64, headdim: 32, codegen: { chunkSize: 128 } }).launch).toEqual({ chunkSize: 128 });
  });

  it('drops z from in_proj and the norm when gate is false', () => {
    const g = mamba2({ dModel: 64, headdim: 32, gate: false }).graph;
    expect(byId(g.nodes, 'in_proj')).toMatchObject({ outFeatures: 128 + 2 * 128 + 4 });
    expect(byId(g.nodes, 'norm')).toMatchObject({ z: null });
  });

  it('uses a Gate node instead of RMSNorm when norm is false', () => {
    const kinds = mamba2({ dModel: 64, headdim: 32, norm: false }).graph.nodes.map((n) => n.kind);
    expect(kinds).toContain('Gate');
    expect(kinds).not.toContain('RMSNorm');
  });

  it('has neither Gate nor RMSNorm when gate and norm are both false', () => {
    const kinds = mamba2({ dModel: 64, headdim: 32, norm: false, gate: false }).graph.nodes.map((n) => n.kind);
    expect(kinds).not.toContain('Gate');
    expect(kinds).not.toContain('RMSNorm');
  });

  it('stores an infinite dtLimit bound as null so the graph stays JSON', () => {
    const g = mamba2({ dModel: 64, headdim: 32, dtLimit: [0.01, Infinity] }).graph;
    expect(byId(g.nodes, 'dt')).toMatchObject({ limit: [0.01, null] });
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });

  it("maps activation 'swish' and 'silu' to the same conv node", () => {
    const a = mamba2({ dModel: 64, headdim: 32, activation: 'swish', name: 'x' }).graph;
    const b = mamba2({ dModel: 64, headdim: 32, activation: 'silu', name: 'x' }).graph;
    expect(byId(a.nodes, 'conv')).toEqual(byId(b.nodes, 'conv'));
  });

  it('rebuilds with a --headdim override, keeping the launch options', () => {
    const m = mamba2({ dModel: 256, chunkSize: 128 }).rebuild({ headdim: 32 });
    const g = m.graph;
    expect(m.launch).toEqual({ chunkSize: 128 });
    expect(byId(g.nodes, 'scan')).toMatchObject({ headdim: 32, nheads: 16 });
    expect(g.config['headdim']).toBe(32);
  });

  it('says a bad override came from the command line', () => {
    expect(() => mamba2({ dModel: 256 }).rebuild({ headdim: 48 })).toThrow(/\(from --headdim 48\)/);
  });

  it('points every node of the block at the mamba2 call', () => {
    const m = mamba2({ dModel: 64, headdim: 32 });
    const lines = new Set(Object.values(m.sourceMap).map((l) => `${l.file}:${l.line}`));
    expect([...lines]).toEqual(['packages/dsl/test/mamba2.test.ts:131']);
  });

  it('validates at construction, so running the model file alone already fails with file:line', () => {
    expect(() => mamba2({ dModel: 256, headdim: 48 })).toThrow(
      /^headdim 48 does not divide d_inner 512 .*\(packages\/dsl\/test\/mamba2\.test\.ts:\d+\)\. Use headdim 64 or 32/,
    );
  });

  it('rejects an unknown dtype from untyped callers, naming the known ones', () => {
    expect(() => mamba2({ dModel: 64, headdim: 32, dtype: 'float64' as never })).toThrow(
      /dtype "float64" is not known .*Use dtype 'float32', 'bfloat16' or 'float16'\./,
    );
  });

  it('rejects an unknown activation from untyped callers', () => {
    expect(() => mamba2({ dModel: 64, headdim: 32, activation: 'gelu' as never })).toThrow(/activation 'gelu' is not known/);
  });
});
