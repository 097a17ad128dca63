import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mamba2, type Graph, type Node } from '@mamba2/dsl';
import { InvalidPythonNameError, lower, resolveLaunch, UnsupportedGraphError } from '../src/index.ts';
import { seedGraph } from './fixtures/graphs.ts';

const withNodes = (g: Graph, f: (nodes: Node[]) => Node[]): Graph => ({ ...g, nodes: f([...g.nodes]) });

describe('lower', () => {
  it('plans the seed block: gated norm after the scan, D per head in the scan, no gate in the scan', () => {
    const plan = lower(seedGraph());
    expect(plan.dims).toEqual({
      dModel: 256, dInner: 512, nheads: 8, headdim: 64, ngroups: 1, dState: 128, dConv: 4, convDim: 768, dInProj: 1288, expand: 2,
    });
    expect(plan.inSplit).toEqual({ z: { start: 0, stop: 512 }, xBC: { start: 512, stop: 1280 }, dt: { start: 1280, stop: 1288 } });
    expect(plan.convSplit).toEqual({ x: { start: 0, stop: 512 }, B: { start: 512, stop: 640 }, C: { start: 640, stop: 768 } });
    expect(plan.scan).toMatchObject({ d: { perChannel: false }, gateZ: false, learnableInitStates: false });
    expect(plan.norm).toEqual({ param: 'norm', features: 512, groupSize: 512, eps: 1e-5, gated: true, normBeforeGate: false });
    expect(plan.dt).toMatchObject({ bias: true, softplus: true, limit: [0, null], fusedIntoScan: true });
    expect(plan.conv).toMatchObject({ width: 4, bias: true, activation: 'silu', init: null });
    expect(plan.kernels).toEqual(['conv', 'conv_bwd', 'dt', 'norm', 'norm_bwd', 'ssd_bwd', 'ssd_chunked', 'ssd_fused']);
  });

  it('gives the same plan for the DSL shorthand mamba2({ dModel: 256 }) as for the hand-built fixture', () => {
    const fromDsl = lower({ ...mamba2({ dModel: 256 }).graph, name: 'mamba2_simple', className: 'Mamba2Simple' });
    expect(fromDsl).toEqual(lower(seedGraph()));
  });

  it('keeps the fixture JSON in step with the fixture builder', () => {
    const json = JSON.parse(readFileSync(new URL('./fixtures/mamba2_simple.graph.json', import.meta.url), 'utf8')) as Graph;
    expect(lower(json)).toEqual(lower(seedGraph()));
  });

  it('folds the gate into the scan when there is a Gate and no norm, and ships no norm kernel', () => {
    const plan = lower(seedGraph({ tail: 'gate' }));
    expect(plan.scan.gateZ).toBe(true);
    expect(plan.norm).toBeNull();
    expect(plan.kernels).not.toContain('norm');
    expect(plan.kernels).not.toContain('norm_bwd');
  });

  it('plans neither gate nor norm and no z slice for a block without z', () => {
    const plan = lower(seedGraph({ tail: 'none' }));
    expect(plan.scan.gateZ).toBe(false);
    expect(plan.norm).toBeNull();
    expect(plan.inSplit.z).toBeNull();
    expect(plan.inSplit.xBC).toEqual({ start: 0, stop: 768 });
  });

  it('folds D per channel into the scan', () => {
    expect(lower(seedGraph({ perChannelD: true })).scan.d).toEqual({ perChannel: true });
  });

  it('plans no D without a DSkip node', () => {
    expect(lower(seedGraph({ dskip: false })).scan.d).toBeNull();
  });

  it('carries learnable init states to the scan', () => {
    expect(lower(seedGraph({ learnableInitStates: true })).scan.learnableInitStates).toBe(true);
  });

  it('turns a Gate followed by an ungated RMSNorm into a gated norm with normBeforeGate false', () => {
    const plan = lower(seedGraph({ tail: 'gate-then-norm' }));
    expect(plan.scan.gateZ).toBe(false);
    expect(plan.norm).toMatchObject({ gated: true, normBeforeGate: false });
  });

  it('turns an ungated RMSNorm followed by a Gate into a gated norm with normBeforeGate true', () => {
    const plan = lower(seedGraph({ tail: 'norm-then-gate' }));
    expect(plan.norm).toMatchObject({ gated: true, normBeforeGate: true });
  });

  it('resolves launch options over the heuristic defaults, leaving the plan without launch settings', () => {
    const plan = lower(seedGraph());
    const d = resolveLaunch(plan, {});
    expect(d).toMatchObject({
      scanImpl: 'fused', tuned: null,
      fused: { blockP: 0, blockQ: 32, warps: 4, stages: 2, tWarps: 4, tStages: 3, split: 0, kernel: 'kernels/ssd_fused.py', kernelSha: null },
      chunked: { chunkSize: 256, blockP: 0, warps: 4 }, bwd: { blockP: 0, blockQ: 32, warps: 8 },
      conv: { blockL: 64, blockC: 64, warps: 4 }, norm: { warps: 4 },
    });
    const o = resolveLaunch(plan, { scanImpl: 'chunked', blockP: 32, chunkSize: 64, blockQ: 16 }, { kernelShas: { 'kernels/ssd_fused.py': 'ab' } });
    expect(o).toMatchObject({ scanImpl: 'chunked', fused: { blockP: 32, blockQ: 16, kernelSha: 'ab' }, chunked: { chunkSize: 64, blockP: 32 } });
    expect(JSON.stringify(plan)).not.toMatch(/blockP|warps|chunkSize/);
  });

  it('rejects a DSkip that does not directly follow the scan, naming the fix', () => {
    const g = seedGraph({ tail: 'gate', dskip: false });
    const nodes: Node[] = [];
    for (const n of g.nodes) {
      if (n.kind === 'Linear' && n.param === 'out_proj') {
        nodes.push({ kind: 'DSkip', id: 'dskip', y: 'gate', x: 'xbc.x', nheads: 8, headdim: 64, perChannel: false }, { ...n, input: 'dskip' });
      } else nodes.push(n);
    }
    expect(() => lower({ ...g, nodes })).toThrow(/DSkip must read the scan output directly.*Move d-skip/);
  });

  it('rejects a Gate next to a gated RMSNorm', () => {
    const g = seedGraph();
    const nodes: Node[] = [];
    for (const n of g.nodes) {
      if (n.kind === 'RMSNorm') nodes.push({ kind: 'Gate', id: 'gate', y: 'dskip', z: 'zxbcdt.z' }, { ...n, y: 'gate' });
      else nodes.push(n);
    }
    expect(() => lower({ ...g, nodes })).toThrow(UnsupportedGraphError);
  });

  it('rejects a graph without a scan, naming what is missing', () => {
    const g = withNodes(seedGraph({ tail: 'none', dskip: false }), (nodes) => nodes.filter((n) => n.kind !== 'SsdScan'));
    expect(() => lower(g)).toThrow(UnsupportedGraphError);
  });

  it('rejects an in_proj part nobody reads', () => {
    const g = withNodes(seedGraph({ tail: 'none' }), (nodes) =>
      nodes.map((n) =>
        n.kind === 'Split' && n.id === 'zxbcdt' ? { ...n, parts: [{ name: 'extra', size: 4 }, ...n.parts] }
        : n.kind === 'Linear' && n.param === 'in_proj' ? { ...n, outFeatures: n.outFeatures + 4 }
        : n,
      ),
    );
    expect(() => lower(g)).toThrow(/in_proj part "extra" is never used/);
  });

  it('rejects different bias settings for in_proj and out_proj', () => {
    const g = withNodes(seedGraph(), (nodes) => nodes.map((n) => (n.kind === 'Linear' && n.param === 'out_proj' ? { ...n, bias: true } : n)));
    expect(() => lower(g)).toThrow(/bias/);
  });

  it('rejects a package name that is not a Python identifier', () => {
    expect(() => lower({ ...seedGraph(), name: 'mamba-2' })).toThrow(InvalidPythonNameError);
  });

  it('rejects a parameter prefix that would shadow a module attribute', () => {
    const g = withNodes(seedGraph(), (nodes) => nodes.map((n) => (n.kind === 'RMSNorm' ? { ...n, param: 'D' } : n)));
    expect(() => lower(g)).toThrow(InvalidPythonNameError);
  });
});
