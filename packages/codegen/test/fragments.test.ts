import { describe, expect, it } from 'vitest';
import { lower } from '../src/index.ts';
import {
  convActivationFragment,
  dtChainFragment,
  fragmentsContext,
  scanEpilogueFragment,
} from '../src/emit/fragments.ts';
import type { KernelPlan } from '../src/lower/plan.ts';
import { seedGraph } from './fixtures/graphs.ts';

const meta = { sourceFile: 'examples/mamba2-simple.ts', irHash: 'ab'.repeat(32) };

describe('fragments (the @triton.jit functions of <pkg>/_fragments.py)', () => {
  it('builds the seed dt chain as bias, softplus, clamp and says it serves calls with both flags', () => {
    const f = dtChainFragment(lower(seedGraph()));
    expect(f.body).toEqual(['v = v + bias', 'v = softplus_f32(v)', 'v = clamp(v, lo, hi)', 'return v']);
    expect(f.serves).toBe('{"HAS_DT_BIAS": True, "DT_SOFTPLUS": True}');
  });

  it('leaves out the dt steps the model does not have', () => {
    const plan = lower(seedGraph());
    const noBias: KernelPlan = { ...plan, dt: { ...plan.dt, bias: false, softplus: false } };
    const f = dtChainFragment(noBias);
    expect(f.body).toEqual(['v = clamp(v, lo, hi)', 'return v']);
    expect(f.serves).toBe('{"HAS_DT_BIAS": False, "DT_SOFTPLUS": False}');
  });

  it('puts only the D skip in the seed epilogue (its gate is in the norm)', () => {
    const f = scanEpilogueFragment(lower(seedGraph()));
    expect(f.body).toEqual(['y += x.to(tl.float32) * D', 'return y']);
    expect(f.serves).toBe('{"HAS_D": True, "HAS_Z": False}');
  });

  it('adds the z gate after the D skip when the gate is folded into the scan', () => {
    const f = scanEpilogueFragment(lower(seedGraph({ tail: 'gate' })));
    expect(f.body).toEqual(['y += x.to(tl.float32) * D', 'y = y * z * tl.sigmoid(z)', 'return y']);
    expect(f.serves).toBe('{"HAS_D": True, "HAS_Z": True}');
  });

  it('returns y as is from an epilogue with neither D nor gate', () => {
    const f = scanEpilogueFragment(lower(seedGraph({ tail: 'none', dskip: false })));
    expect(f.body).toEqual(['return y']);
    expect(f.serves).toBe('{"HAS_D": False, "HAS_Z": False}');
  });

  it('writes the conv activation the model names', () => {
    const plan = lower(seedGraph());
    expect(convActivationFragment(plan)).toMatchObject({ name: 'silu', nameLiteral: '"silu"', body: ['return v * tl.sigmoid(v)'] });
    const ident: KernelPlan = { ...plan, conv: { ...plan.conv, activation: 'identity' } };
    expect(convActivationFragment(ident)).toMatchObject({ name: 'identity', body: ['return v'] });
  });

  it('gives the template all three fragments with the package name in their docs', () => {
    const ctx = fragmentsContext(lower(seedGraph()), meta);
    expect(ctx.dtChain.doc).toContain('mamba2_simple');
    expect(ctx.scanEpilogue.doc).toContain('the norm runs after the scan');
    expect(ctx.convActivation.doc).toBe('conv activation of mamba2_simple: silu.');
  });
});
