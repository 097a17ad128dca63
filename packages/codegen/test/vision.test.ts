import { describe, expect, it } from 'vitest';
import { visionMamba2, type Graph, type LaunchConfig, type Node } from '@mamba2/dsl';
import {
  isVisionPlan,
  lower,
  lowerPackage,
  lowerVision,
  resolveLaunch,
  UnsupportedGraphError,
  visionModuleContext,
} from '../src/index.ts';

const META = { sourceFile: 'examples/vision.ts', irHash: '0'.repeat(64) };
const resolveLaunchFor = (g: Graph): LaunchConfig => resolveLaunch(lowerVision(g), {});
function visionModuleContextFor(g: Graph) {
  const plan = lowerVision(g);
  return visionModuleContext(plan, META, resolveLaunch(plan, {}));
}

const vmamba = (o: Partial<Parameters<typeof visionMamba2>[0]> = {}): Graph =>
  visionMamba2({ dModel: 96, height: 8, width: 6, headdim: 32, dState: 16, name: 'vm', className: 'VisionBlock', ...o }).graph;
const withNodes = (g: Graph, f: (nodes: Node[]) => Node[]): Graph => ({ ...g, nodes: f([...g.nodes]) });

describe('vision lowering', () => {
  it('plans the VMamba block: x and z slices, four orders, per-order projection rows, D and norm after the merge', () => {
    const plan = lowerPackage(vmamba());
    expect(isVisionPlan(plan)).toBe(true);
    if (!isVisionPlan(plan)) return;
    expect(plan).toMatchObject({ directions: 'cross2d', orders: 4, image: { height: 8, width: 6 } });
    expect(plan.dims).toEqual({ dModel: 96, dInner: 192, nheads: 6, headdim: 32, ngroups: 1, dState: 16, dInProj: 384, xProjOut: 38, expand: 2 });
    expect(plan.inSplit).toEqual({ x: { start: 0, stop: 192 }, z: { start: 192, stop: 384 } });
    expect(plan.conv).toEqual({ param: 'conv2d', channels: 192, kernelSize: 3, bias: true, activation: 'silu', init: null });
    expect(plan.scan).toEqual({ aInitRange: [1, 16], d: { perChannel: false }, gateZ: false });
    expect(plan.norm).toMatchObject({ gated: true, normBeforeGate: true, groupSize: 192 });
    expect(plan.kernels).toContain('conv2d');
    expect(plan.kernels).toContain('cross_scan');
    expect(plan.kernels).toContain('cross_merge');
    expect([...plan.kernels].sort()).toEqual(plan.kernels);
  });

  it("gives 'bidirectional' two orders", () => {
    const plan = lowerVision(vmamba({ directions: 'bidirectional' }));
    expect(plan.orders).toBe(2);
    expect(plan.directions).toBe('bidirectional');
  });

  it('refuses a vision graph in the sequence lowering, naming the vision op', () => {
    expect(() => lower(vmamba())).toThrow(UnsupportedGraphError);
    expect(() => lower(vmamba())).toThrow(/DepthwiseConv2d is a vision op.*visionMamba2/);
  });

  it('refuses a D per channel, which the cross scan does not take', () => {
    const g = withNodes(vmamba(), (ns) => ns.map((n) => (n.kind === 'DSkip' ? { ...n, perChannel: true } : n)));
    expect(() => lowerVision(g)).toThrow(/one D per order and head, not per channel \(node "dskip"\)/);
  });

  it('refuses a scan that reads another x than the conv output', () => {
    const g = withNodes(vmamba(), (ns) => ns.map((n) => (n.kind === 'SsdScan' ? { ...n, x: 'xz.x' } : n)));
    expect(() => lowerVision(g)).toThrow(/the scan x reads "xz.x", expected "conv2d"/);
  });
});

describe('vision module context', () => {
  it('passes every order its own D and dt_bias views and slices one order of x_proj into dt, B, C', () => {
    const ctx = visionModuleContextFor(vmamba());
    const kw = Object.fromEntries(ctx.forward.scanKwargs.map((k) => [k.name, k.value]));
    expect(kw).toEqual({
      D: 'self.D.view(_ORDERS, self.nheads)',
      z: 'None',
      dt_bias: 'self.dt_bias.view(_ORDERS, self.nheads)',
      dt_softplus: 'True',
      dt_limit: 'self.dt_limit',
      chunk_size: 'self.chunk_size',
    });
    expect(ctx.forward).toMatchObject({ x: '0:192', z: '192:384', dt: '0:6', B: '6:22', C: '22:38', headShape: '(6, 32)', groupShape: '(1, 16)' });
    expect(ctx.forward.normCall).toBe('rmsnorm_gated(y, self.norm.weight, z=z, eps=self.norm.eps, group_size=None, norm_before_gate=True)');
    expect(ctx.checks.map((c) => c.arg)).toEqual(['d_model', 'height', 'width', 'expand', 'headdim', 'd_state', 'ngroups', 'd_conv', 'bias', 'conv_bias']);
    expect(ctx.signature.find((p) => p.name === 'height')?.default).toBe('8');
    expect(ctx.directionsLiteral).toBe('"cross2d"');
  });

  it('resolves the same launch config a sequence package gets', () => {
    expect(resolveLaunchFor(vmamba()).fused.blockQ).toBe(32);
  });
});

describe('vision package', () => {
  it('ships the vision module, the conv2d autograd and the cross scan, and no language model', async () => {
    const { renderPackage } = await import('../src/index.ts');
    const m = visionMamba2({ dModel: 64, height: 4, width: 6, headdim: 32, dState: 16, name: 'vm_pkg', className: 'VmBlock' });
    const pkg = renderPackage({ exportName: 'default', file: 'examples/vm.ts', graph: m.graph, sourceMap: m.sourceMap, launch: m.launch, hash: '1'.repeat(64) });
    const files = [...pkg.files.keys()];
    for (const f of ['vm_pkg/module.py', 'vm_pkg/conv2d_autograd.py', 'vm_pkg/cross_scan.py', 'vm_pkg/kernels/conv2d.py', 'vm_pkg/kernels/conv2d_bwd.py', 'vm_pkg/kernels/cross_merge.py']) {
      expect(files).toContain(f);
    }
    expect(files).not.toContain('vm_pkg/lm.py');
    const module = pkg.files.get('vm_pkg/module.py')!;
    expect(module).toMatch(/^class VmBlock\(nn\.Module\):$/m);
    expect(module).toContain('from .cross_scan import cross_scan_combined');
    expect(module).toContain('return out.reshape(batch, H, W, self.d_model)');
    expect(pkg.files.get('vm_pkg/__init__.py')).toContain('"cross_scan_combined"');
    expect(pkg.files.get('vm_pkg/_config.py')).toMatch(/^DIRECTIONS = "cross2d"$/m);
  });
});
