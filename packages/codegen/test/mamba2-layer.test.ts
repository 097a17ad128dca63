import { describe, expect, it } from 'vitest';
import { mamba2Layer } from '@mamba2/dsl';
import { lower, moduleContext, resolveLaunch, type KernelPlan } from '../src/index.ts';

const meta = { sourceFile: 'examples/mamba2-layer-dssm.ts', irHash: 'cd'.repeat(32) };
const ctxOf = (plan: KernelPlan) => moduleContext(plan, meta, resolveLaunch(plan, {}));
const dssm = () => lower(mamba2Layer({ dModel: 128, dSsm: 128, headdim: 32, dState: 32, ngroups: 2 }).graph);

describe("mamba_ssm's Mamba2 layer: plan and module context", () => {
  it('lowers the gated MLP to plan.mlp with the z0 and x0 slices of in_proj', () => {
    const plan = dssm();
    expect(plan.api).toBe('mamba2');
    expect(plan.mlp).toEqual({ z0: { start: 0, stop: 128 }, x0: { start: 128, stop: 256 }, features: 128 });
    expect(plan.dims.dInner).toBe(128);
    expect(plan.dims.expand).toBe(2);
  });

  it("gives the module Mamba2's constructor: d_ssm, D_has_hdim, rmsnorm, process_group, no activation", () => {
    const ctx = ctxOf(dssm());
    const names = ctx.signature.map((p) => p.name);
    expect(names).toEqual([
      'd_model', 'd_state', 'd_conv', 'conv_init', 'expand', 'headdim', 'd_ssm', 'ngroups', 'A_init_range',
      'D_has_hdim', 'rmsnorm', 'norm_before_gate', 'dt_min', 'dt_max', 'dt_init_floor', 'dt_limit', 'bias',
      'conv_bias', 'chunk_size', 'use_mem_eff_path', 'layer_idx', 'process_group', 'sequence_parallel', 'device', 'dtype',
    ]);
    expect(ctx.dims).toMatchObject({ dInner: 128, dInnerTotal: 256 });
    expect(ctx.forward.mlp).toEqual({ z0: '0:128', x0: '128:256' });
    expect(ctx.decode.layout).toContain('z0=(0, 128), x0=(128, 256)');
  });

  it("keeps d_ssm None as the default when the SSM uses all of d_inner (mamba2-130m)", () => {
    const ctx = ctxOf(lower(mamba2Layer({ dModel: 768 }).graph));
    expect(ctx.signature.find((p) => p.name === 'd_ssm')!.default).toBe('None');
    expect(ctx.checks).toContainEqual({ arg: 'd_ssm', generated: '1536' });
    expect(ctx.forward.mlp).toBeNull();
  });
});
