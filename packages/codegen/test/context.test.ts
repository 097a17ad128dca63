import { describe, expect, it } from 'vitest';
import { configContext, lower, moduleContext, pyprojectContext } from '../src/index.ts';
import { pyFloat, pyLiteral, pyNum } from '../src/emit/python.ts';
import { seedGraph } from './fixtures/graphs.ts';

const meta = { sourceFile: 'examples/mamba2-simple.ts', irHash: 'ab'.repeat(32) };
const kw = (ctx: ReturnType<typeof moduleContext>) => Object.fromEntries(ctx.forward.scanKwargs.map((k) => [k.name, k.value]));

describe('render contexts', () => {
  it('gives the module the seed constructor signature with the model values as defaults', () => {
    const ctx = moduleContext(lower(seedGraph()), meta);
    expect(ctx.signature.map((p) => `${p.name}=${p.default}`)).toEqual([
      'd_model=null', 'd_state=128', 'd_conv=4', 'conv_init=None', 'expand=2', 'headdim=64', 'ngroups=1',
      'A_init_range=(1, 16)', 'dt_min=0.001', 'dt_max=0.1', 'dt_init_floor=0.0001', 'dt_limit=(0.0, float("inf"))',
      'learnable_init_states=False', 'activation="swish"', 'bias=False', 'conv_bias=True', 'chunk_size=256',
      'use_mem_eff_path=True', 'layer_idx=None', 'device=None', 'dtype=None',
    ]);
  });

  it('checks the arguments the kernels were specialised for, d_model included', () => {
    const ctx = moduleContext(lower(seedGraph()), meta);
    expect(ctx.checks.map((c) => `${c.arg}=${c.generated}`)).toEqual([
      'd_model=256', 'expand=2', 'headdim=64', 'd_state=128', 'ngroups=1', 'd_conv=4', 'activation="swish"',
      'bias=False', 'conv_bias=True', 'learnable_init_states=False',
    ]);
  });

  it('passes raw dt with dt_bias and softplus to the scan, D per head, and z to the norm for the seed', () => {
    const ctx = moduleContext(lower(seedGraph()), meta);
    expect(kw(ctx)).toMatchObject({ D: 'self.D', z: 'None', dt_bias: 'self.dt_bias', dt_softplus: 'True', initial_states: 'None' });
    expect(ctx.forward.normCall).toBe(
      'rmsnorm_gated(y, self.norm.weight, z=z, eps=self.norm.eps, group_size=None, norm_before_gate=False)',
    );
    expect(ctx.forward).toMatchObject({ z: '0:512', xBC: '512:1280', dt: '1280:1288', x: '0:512', B: '512:640', C: '640:768' });
  });

  it('passes z to the scan and calls no norm when the gate is folded into the scan', () => {
    const ctx = moduleContext(lower(seedGraph({ tail: 'gate' })), meta);
    expect(kw(ctx).z).toBe('z.unflatten(-1, (8, 64))');
    expect(ctx.forward.normCall).toBeNull();
    expect(ctx.norm).toBeNull();
  });

  it('views D as (nheads, headdim) when it is per channel', () => {
    const ctx = moduleContext(lower(seedGraph({ perChannelD: true })), meta);
    expect(kw(ctx).D).toBe('self.D.view(8, 64)');
    expect(ctx.dShape).toBe('512');
  });

  it('expands the learnable init states over the batch', () => {
    const ctx = moduleContext(lower(seedGraph({ learnableInitStates: true })), meta);
    expect(kw(ctx).initial_states).toBe('self.init_states.unsqueeze(0).expand(batch, -1, -1, -1)');
    expect(ctx.initStates).toBe(true);
  });

  it('writes the codegen constants in the documented order with an empty TUNED', () => {
    const ctx = configContext(lower(seedGraph()), meta);
    expect(ctx.codegen.map((c) => c.name)).toEqual([
      'CHUNK_SIZE', 'SCAN_IMPL', 'SCAN_BLOCK_P', 'SCAN_WARPS', 'SCAN_STAGES', 'CONV_BLOCK_L', 'CONV_BLOCK_C', 'CONV_WARPS', 'NORM_WARPS',
    ]);
    expect(ctx.codegen[1]).toEqual({ name: 'SCAN_IMPL', value: '"fused"' });
    expect(ctx.tuned).toBe('[]');
  });

  it('writes TUNED entries as Python literals, one per line', () => {
    const ctx = configContext(lower(seedGraph()), meta, [
      { nheads: 80, max_seqlen: 4096, chunk_size: 32, block_p: 64, num_warps: 4, num_stages: null },
    ]);
    expect(ctx.tuned).toBe(
      '[\n    {"block_p": 64, "chunk_size": 32, "max_seqlen": 4096, "nheads": 80, "num_stages": None, "num_warps": 4},\n]',
    );
  });

  it('names the pip distribution after the package and versions it by the IR hash', () => {
    const ctx = pyprojectContext(lower(seedGraph()), meta);
    expect(ctx.distName).toBe('"mamba2-kernels-mamba2-simple"');
    expect(ctx.distVersion).toBe('"0.1.0+irabababababab"');
  });

  it('writes Python numbers the way Python reads them', () => {
    expect([pyNum(16), pyNum(0.001), pyNum(null), pyFloat(0), pyFloat(1e-4), pyLiteral([true, null, 'a'])]).toEqual([
      '16', '0.001', 'float("inf")', '0.0', '0.0001', '[True, None, "a"]',
    ]);
  });
});

describe('conv activation', () => {
  it('passes the IR activation name to causal_conv1d ("silu" or "identity")', () => {
    const g = seedGraph();
    const plain = { ...g, nodes: g.nodes.map((n) => (n.kind === 'CausalConv1d' ? { ...n, activation: 'identity' as const } : n)) };
    expect(moduleContext(lower(g), meta).forward.activation).toBe('"silu"');
    expect(moduleContext(lower(plain), meta).forward.activation).toBe('"identity"');
  });
});
