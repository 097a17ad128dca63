import { describe, expect, it } from 'vitest';
import { configContext, launchLines, lower, moduleContext, pyprojectContext, resolveLaunch } from '../src/index.ts';
import { launchToJson } from '@mamba2/dsl';
import { pyFloat, pyLiteral, pyNum } from '../src/emit/python.ts';
import { seedGraph } from './fixtures/graphs.ts';

const meta = { sourceFile: 'examples/mamba2-simple.ts', irHash: 'ab'.repeat(32) };
const L = resolveLaunch(lower(seedGraph()), {});
const kw = (ctx: ReturnType<typeof moduleContext>) => Object.fromEntries(ctx.forward.blockKwargs.map((k) => [k.name, k.value]));

describe('render contexts', () => {
  it('gives the module the seed constructor signature with the model values as defaults', () => {
    const ctx = moduleContext(lower(seedGraph()), meta, L);
    expect(ctx.signature.map((p) => `${p.name}=${p.default}`)).toEqual([
      'd_model=null', 'd_state=128', 'd_conv=4', 'conv_init=None', 'expand=2', 'headdim=64', 'ngroups=1',
      'A_init_range=(1, 16)', 'dt_min=0.001', 'dt_max=0.1', 'dt_init_floor=0.0001', 'dt_limit=(0.0, float("inf"))',
      'learnable_init_states=False', 'activation="swish"', 'bias=False', 'conv_bias=True', 'chunk_size=256',
      'use_mem_eff_path=True', 'layer_idx=None', 'device=None', 'dtype=None',
    ]);
  });

  it('checks the arguments the kernels were specialised for, d_model included', () => {
    const ctx = moduleContext(lower(seedGraph()), meta, L);
    expect(ctx.checks.map((c) => `${c.arg}=${c.generated}`)).toEqual([
      'd_model=256', 'expand=2', 'headdim=64', 'd_state=128', 'ngroups=1', 'd_conv=4', 'activation="swish"',
      'bias=False', 'conv_bias=True', 'learnable_init_states=False',
    ]);
  });

  it('passes raw dt with dt_bias and softplus to the scan, D per head, and z to the norm for the seed', () => {
    const ctx = moduleContext(lower(seedGraph()), meta, L);
    expect(kw(ctx)).toMatchObject({
      D: 'self.D', gate_z: 'False', dt_bias: 'self.dt_bias', dt_softplus: 'True', initial_states: 'None',
      activation: '"silu"', norm_weight: 'self.norm.weight', norm_eps: 'self.norm.eps', norm_group_size: 'None',
      norm_gated: 'True', norm_before_gate: 'False',
    });
    expect(ctx.forward).toMatchObject({ z: '0:512', xBC: '512:1280', dt: '1280:1288', x: '0:512', B: '512:640', C: '640:768' });
  });

  it('passes z to the scan and calls no norm when the gate is folded into the scan', () => {
    const ctx = moduleContext(lower(seedGraph({ tail: 'gate' })), meta, L);
    expect(kw(ctx).gate_z).toBe('True');
    expect(kw(ctx).norm_weight).toBe('None');
    expect(ctx.norm).toBeNull();
  });

  it('views D as (nheads, headdim) when it is per channel', () => {
    const ctx = moduleContext(lower(seedGraph({ perChannelD: true })), meta, L);
    expect(kw(ctx).D).toBe('self.D.view(8, 64)');
    expect(ctx.dShape).toBe('512');
  });

  it('expands the learnable init states over the batch', () => {
    const ctx = moduleContext(lower(seedGraph({ learnableInitStates: true })), meta, L);
    expect(kw(ctx).initial_states).toBe('self.init_states.unsqueeze(0).expand(batch, -1, -1, -1)');
    expect(ctx.initStates).toBe(true);
  });

  it('takes the module chunk_size default from the launch config', () => {
    const ctx = moduleContext(lower(seedGraph()), meta, resolveLaunch(lower(seedGraph()), { chunkSize: 64 }));
    expect(ctx.signature.find((p) => p.name === 'chunk_size')?.default).toBe('64');
  });

  it('writes LAUNCH as one dataclass call per section with its kernel file, and no tuned table by default', () => {
    const ctx = configContext(lower(seedGraph()), meta, L);
    expect(ctx.launch[0]).toBe('LAUNCH = LaunchConfig(');
    expect(ctx.launch).toContain('    scan_impl="fused",');
    expect(ctx.launch).toContain('        block_l=64, block_c=64, num_warps=4,');
    expect(ctx.launch).toContain('        kernel="kernels/conv.py", kernel_sha=None,');
    expect(ctx.launch.at(-2)).toBe('    tuned=None,');
    expect(ctx.launchImports).toBe('ChunkedScan, Conv, FusedScan, LaunchConfig, Norm, ScanBwd');
  });

  it('writes tuned rows one per line with the GPU and kernel sha they were measured on', () => {
    const tuned = {
      kernel: 'kernels/ssd_fused.py', kernelSha: 'e'.repeat(64), gpu: 'NVIDIA H200', source: 'r.jsonl',
      rows: [{ nheads: 80, maxSeqlen: 4096, blockQ: 32, blockP: 64, warps: 4, stages: null }],
    };
    const lines = launchLines(launchToJson(resolveLaunch(lower(seedGraph()), {}, { tuned })));
    expect(lines).toContain('        gpu="NVIDIA H200",');
    expect(lines).toContain(`        kernel_sha="${'e'.repeat(64)}",`);
    expect(lines).toContain('            TunedRow(nheads=80, max_seqlen=4096, block_q=32, block_p=64, num_warps=4, num_stages=None),');
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
  it('passes the IR activation name to the block\'s conv ("silu" or "identity")', () => {
    const g = seedGraph();
    const plain = { ...g, nodes: g.nodes.map((n) => (n.kind === 'CausalConv1d' ? { ...n, activation: 'identity' as const } : n)) };
    expect(kw(moduleContext(lower(g), meta, L)).activation).toBe('"silu"');
    expect(kw(moduleContext(lower(plain), meta, L)).activation).toBe('"identity"');
  });
});
