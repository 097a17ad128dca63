import { describe, expect, it } from 'vitest';
import { mamba2Layer, type LinearNode, type Node, type RMSNormNode, type SplitNode } from '../src/index.ts';

const byId = (nodes: readonly Node[], id: string) => nodes.find((n) => n.id === id)!;

describe('mamba2Layer({...}): mamba_ssm Mamba2', () => {
  it("draws mamba2-130m's layer with norm groups of d_ssm / ngroups and no gated MLP", () => {
    const g = mamba2Layer({ dModel: 768, ngroups: 2 }).graph;
    expect(g.className).toBe('Mamba2');
    expect(g.config['layer']).toBe('Mamba2');
    const norm = byId(g.nodes, 'norm') as RMSNormNode;
    expect(norm.groupSize).toBe(1536 / 2);
    expect((byId(g.nodes, 'out_proj') as LinearNode).mlpPrefix).toBeUndefined();
    expect((byId(g.nodes, 'zxbcdt') as SplitNode).parts.map((p) => p.name)).toEqual(['z', 'xBC', 'dt']);
  });

  it('splits in_proj as [z0, x0, z, xBC, dt] and feeds silu(z0) * x0 to out_proj when dSsm < d_inner', () => {
    const g = mamba2Layer({ dModel: 128, dSsm: 128, headdim: 32, dState: 32, ngroups: 2 }).graph;
    const split = byId(g.nodes, 'zxbcdt') as SplitNode;
    expect(split.parts).toEqual([
      { name: 'z0', size: 128 }, { name: 'x0', size: 128 }, { name: 'z', size: 128 },
      { name: 'xBC', size: 128 + 2 * 2 * 32 }, { name: 'dt', size: 4 },
    ]);
    const out = byId(g.nodes, 'out_proj') as LinearNode;
    expect(out.mlpPrefix).toEqual({ gate: 'zxbcdt.z0', value: 'zxbcdt.x0', features: 128 });
    expect(out.inFeatures).toBe(256);
    expect(g.config['dSsm']).toBe(128);
  });

  it('maps rmsnorm false to y * silu(z) and DHasHdim to D per channel', () => {
    const g = mamba2Layer({ dModel: 128, headdim: 32, rmsnorm: false, DHasHdim: true }).graph;
    expect(g.nodes.some((n) => n.kind === 'RMSNorm')).toBe(false);
    expect(g.nodes.some((n) => n.kind === 'Gate')).toBe(true);
    expect(g.nodes.find((n) => n.kind === 'DSkip')).toMatchObject({ perChannel: true });
  });

  it('rejects a headdim that does not divide dSsm, naming the fix', () => {
    expect(() => mamba2Layer({ dModel: 128, dSsm: 96, headdim: 64 })).toThrow(/headdim 64 does not divide dSsm 96.*Use headdim/);
  });

  it('rejects a dSsm larger than d_inner', () => {
    expect(() => mamba2Layer({ dModel: 128, dSsm: 512 })).toThrow(/dSsm 512 is not a whole number in 1..d_inner 256/);
  });

  it('rejects an unknown option passed through a variable, naming the nearest one', () => {
    const o = { dModel: 128, d_has_hdim: true } as unknown as Parameters<typeof mamba2Layer>[0];
    expect(() => mamba2Layer(o)).toThrow(/mamba2Layer\(\) has no option d_has_hdim.*Did you mean DHasHdim/);
  });
});
