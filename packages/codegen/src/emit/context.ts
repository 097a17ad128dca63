/**
 * Render contexts: plain objects built from the KernelPlan. Every decision a
 * template shows (defaults, views, flags, literals) is made here, so tests
 * inspect it without rendering.
 */
import { launchToJson, type LaunchConfig, type LaunchConfigJson } from '@mamba2/dsl';
import type { KernelName, KernelPlan, PackagePlan, Slice } from '../lower/plan.ts';
import { GENERATOR_NAME, GENERATOR_VERSION } from '../version.ts';
import { pyBool, pyFloat, pyLiteral, pyNum, pyStr, pyTuple, withInitHint } from './python.ts';
import { decodeContext, type DecodeContext } from './decode-context.ts';

export interface FileMeta {
  /** The model file, relative to the repo root, '/' separated. */
  readonly sourceFile: string;
  readonly irHash: string;
}

/** What every template (and the `header` partial) can read. */
export interface BaseContext {
  readonly generator: { readonly name: string; readonly version: string };
  readonly sourceFile: string;
  readonly irHash: string;
  readonly name: string;
  readonly className: string;
  /** The whole plan, for kernel templates (read-only data, no decisions to make). */
  readonly plan: PackagePlan;
}

export function baseContext(plan: PackagePlan, meta: FileMeta): BaseContext {
  return {
    generator: { name: GENERATOR_NAME, version: GENERATOR_VERSION },
    sourceFile: meta.sourceFile,
    irHash: meta.irHash,
    name: plan.name,
    className: plan.className,
    plan,
  };
}

export interface PyConst {
  readonly name: string;
  readonly value: string;
}

export interface ConfigContext extends BaseContext {
  /** `LAUNCH = LaunchConfig(...)`, one line per field (launch.py's dataclasses). */
  readonly launch: readonly string[];
  /** Names launch.py must export for the lines above, sorted. */
  readonly launchImports: string;
  readonly model: readonly PyConst[];
}

/** Python dataclass class of each LaunchConfig section (mamba2_kernels/launch.py). */
export const LAUNCH_CLASSES = { fused: 'FusedScan', chunked: 'ChunkedScan', bwd: 'ScanBwd', conv: 'Conv', norm: 'Norm' } as const;

/** `Cls(a=1, b="x")` from a JSON object, keys in their (dataclass) order. */
function pyCall(cls: string, o: Readonly<Record<string, unknown>>): string {
  return `${cls}(${Object.entries(o).map(([k, v]) => `${k}=${pyLiteral(v)}`).join(', ')})`;
}

/** The LAUNCH assignment: per section its settings, then the kernel file and sha; tuned rows one per line. */
export function launchLines(c: LaunchConfigJson): string[] {
  const lines = ['LAUNCH = LaunchConfig(', `    scan_impl=${pyStr(c.scan_impl)},`];
  const args = (o: Readonly<Record<string, unknown>>) => Object.entries(o).map(([k, v]) => `${k}=${pyLiteral(v)}`).join(', ');
  for (const [key, cls] of Object.entries(LAUNCH_CLASSES) as [keyof typeof LAUNCH_CLASSES, string][]) {
    const { kernel, kernel_sha, ...settings } = c[key];
    lines.push(`    ${key}=${cls}(`, `        ${args(settings)},`, `        ${args({ kernel, kernel_sha })},`, '    ),');
  }
  if (c.tuned === null) {
    lines.push('    tuned=None,');
  } else {
    const { rows, ...prov } = c.tuned;
    lines.push(`    tuned=Tuned(`);
    for (const [k, v] of Object.entries(prov)) lines.push(`        ${k}=${pyLiteral(v)},`);
    if (rows.length === 0) lines.push('        rows=(),');
    else {
      lines.push('        rows=(');
      for (const r of rows) lines.push(`            ${pyCall('TunedRow', r)},`);
      lines.push('        ),');
    }
    lines.push('    ),');
  }
  lines.push(')');
  return lines;
}

export function configContext(plan: KernelPlan, meta: FileMeta, launch: LaunchConfig): ConfigContext {
  const { scan, conv, norm, dims, dt } = plan;
  const json = launchToJson(launch);
  const names = ['LaunchConfig', ...Object.values(LAUNCH_CLASSES), ...(json.tuned !== null ? ['Tuned', 'TunedRow'] : [])];
  return {
    ...baseContext(plan, meta),
    launch: launchLines(json),
    launchImports: [...names].sort().join(', '),
    model: [
      { name: 'D_MODEL', value: pyNum(dims.dModel) },
      { name: 'D_INNER', value: pyNum(dims.dInner) },
      { name: 'NHEADS', value: pyNum(dims.nheads) },
      { name: 'HEADDIM', value: pyNum(dims.headdim) },
      { name: 'D_STATE', value: pyNum(dims.dState) },
      { name: 'NGROUPS', value: pyNum(dims.ngroups) },
      { name: 'D_CONV', value: pyNum(dims.dConv) },
      { name: 'CONV_DIM', value: pyNum(dims.convDim) },
      { name: 'D_IN_PROJ', value: pyNum(dims.dInProj) },
      { name: 'CONV_ACTIVATION', value: pyStr(conv.activation) },
      { name: 'DT_SOFTPLUS', value: pyBool(dt.softplus) },
      { name: 'DT_LIMIT', value: pyTuple([pyFloat(dt.limit[0]), pyFloat(dt.limit[1])]) },
      { name: 'HAS_D', value: pyBool(scan.d !== null) },
      { name: 'D_PER_CHANNEL', value: pyBool(scan.d?.perChannel ?? false) },
      { name: 'GATE_IN_SCAN', value: pyBool(scan.gateZ) },
      { name: 'HAS_NORM', value: pyBool(norm !== null) },
      { name: 'NORM_GATED', value: pyBool(norm?.gated ?? false) },
      { name: 'NORM_BEFORE_GATE', value: pyBool(norm?.normBeforeGate ?? false) },
      { name: 'NORM_GROUP_SIZE', value: norm === null ? 'None' : pyNum(norm.groupSize) },
      { name: 'NORM_EPS', value: norm === null ? 'None' : pyNum(norm.eps) },
      { name: 'LEARNABLE_INIT_STATES', value: pyBool(scan.learnableInitStates) },
      { name: 'KERNELS', value: pyTuple(plan.kernels.map(pyStr)) },
    ],
  };
}

/** One constructor argument: `name=default`. */
export interface PyParam {
  readonly name: string;
  /** null: positional without a default (d_model, as in the seed). */
  readonly default: string | null;
}

/** A constructor argument that must equal its generated value. */
export interface PyCheck {
  readonly arg: string;
  readonly generated: string;
}

export interface ModuleContext extends BaseContext {
  readonly sourceLiteral: string;
  readonly signature: readonly PyParam[];
  readonly checks: readonly PyCheck[];
  /** The checked arguments with their values, wrapped for the docstring. */
  readonly checkedArgLines: readonly string[];
  readonly dims: {
    /** The SSM's channels (d_ssm); dInnerTotal = d_ssm + the gated MLP's (mamba_ssm's d_inner). */
    readonly dInner: number;
    readonly dInnerTotal: number;
    readonly nheads: number;
    readonly convDim: number;
    readonly dInProj: number;
  };
  /** The class this module replaces, for the docstring. */
  readonly dropIn: string;
  /** Lines at the top of __init__ (the Mamba2 API's fixed or derived arguments). */
  readonly prelude: readonly string[];
  /** Attributes the Mamba2 API keeps besides the seed's. */
  readonly extraAttrs: readonly string[];
  readonly inProjAttr: string;
  readonly outProjAttr: string;
  readonly convAttr: string;
  readonly dtBias: boolean;
  readonly initStates: boolean;
  /** `torch.ones(<shape>)` for D, or null without a DSkip. */
  readonly dShape: string | null;
  readonly norm: { readonly attr: string; readonly eps: string } | null;
  readonly forward: {
    /** Slices of zxbcdt and xBC, "a:b". */
    readonly z: string | null;
    readonly xBC: string;
    readonly dt: string;
    readonly x: string;
    readonly B: string;
    readonly C: string;
    /**
     * Keyword arguments of block.py's mamba_split_conv1d_scan after headdim, d_state: the scan's
     * (D, gate_z, dt_bias, dt_softplus, dt_limit, initial_states, seq_idx), the conv activation
     * and the norm's (norm_weight None without a norm).
     */
    readonly blockKwargs: readonly { readonly name: string; readonly value: string }[];
    /** mamba_ssm Mamba2's gated MLP slices of zxbcdt, or null. */
    readonly mlp: { readonly z0: string; readonly x0: string } | null;
  };
  /** Inference: the decode step's layout and arguments (decode-context.ts). */
  readonly decode: DecodeContext;
}

export function wrap(items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const item of items) {
    const next = cur === '' ? item : `${cur}, ${item}`;
    if (next.length > width && cur !== '') {
      lines.push(`${cur},`);
      cur = item;
    } else cur = next;
  }
  if (cur !== '') lines.push(cur);
  return lines;
}

export function sl(s: Slice): string {
  return `${s.start}:${s.stop}`;
}

/** Seed argument order (or mamba_ssm Mamba2's); defaults come from the model (chunk_size from the launch config). */
export function moduleContext(plan: KernelPlan, meta: FileMeta, launch: LaunchConfig): ModuleContext {
  return plan.api === 'mamba2' ? mamba2ModuleContext(plan, meta, launch) : simpleModuleContext(plan, meta, launch);
}

function simpleModuleContext(plan: KernelPlan, meta: FileMeta, launch: LaunchConfig): ModuleContext {
  const { dims, conv, dt, scan, norm } = plan;
  const activation = conv.activation === 'silu' ? 'swish' : 'identity';
  const expand = pyNum(dims.expand);
  const signature: PyParam[] = [
    { name: 'd_model', default: null },
    { name: 'd_state', default: pyNum(dims.dState) },
    { name: 'd_conv', default: pyNum(dims.dConv) },
    { name: 'conv_init', default: conv.init === null ? 'None' : pyNum(conv.init) },
    { name: 'expand', default: expand },
    { name: 'headdim', default: pyNum(dims.headdim) },
    { name: 'ngroups', default: pyNum(dims.ngroups) },
    { name: 'A_init_range', default: pyTuple(scan.aInitRange.map(pyNum)) },
    { name: 'dt_min', default: pyFloat(dt.dtMin) },
    { name: 'dt_max', default: pyFloat(dt.dtMax) },
    { name: 'dt_init_floor', default: pyFloat(dt.dtInitFloor) },
    { name: 'dt_limit', default: pyTuple([pyFloat(dt.limit[0]), pyFloat(dt.limit[1])]) },
    { name: 'learnable_init_states', default: pyBool(scan.learnableInitStates) },
    { name: 'activation', default: pyStr(activation) },
    { name: 'bias', default: pyBool(plan.inProj.bias) },
    { name: 'conv_bias', default: pyBool(conv.bias) },
    { name: 'chunk_size', default: pyNum(launch.chunked.chunkSize) },
    { name: 'use_mem_eff_path', default: 'True' },
    { name: 'layer_idx', default: 'None' },
    { name: 'device', default: 'None' },
    { name: 'dtype', default: 'None' },
  ];
  // Shapes the kernels and the parameter layout were generated for. The rest
  // (init ranges, dt_limit, chunk_size, conv_init) are runtime values.
  const checks: PyCheck[] = [
    { arg: 'd_model', generated: pyNum(dims.dModel) },
    { arg: 'expand', generated: expand },
    { arg: 'headdim', generated: pyNum(dims.headdim) },
    { arg: 'd_state', generated: pyNum(dims.dState) },
    { arg: 'ngroups', generated: pyNum(dims.ngroups) },
    { arg: 'd_conv', generated: pyNum(dims.dConv) },
    { arg: 'activation', generated: pyStr(activation) },
    { arg: 'bias', generated: pyBool(plan.inProj.bias) },
    { arg: 'conv_bias', generated: pyBool(conv.bias) },
    { arg: 'learnable_init_states', generated: pyBool(scan.learnableInitStates) },
  ];
  const headShape = pyTuple([pyNum(dims.nheads), pyNum(dims.headdim)]);
  const blockKwargs: { name: string; value: string }[] = [
    {
      name: 'D',
      value: scan.d === null ? 'None' : scan.d.perChannel ? `self.D.view(${headShape.slice(1, -1)})` : 'self.D',
    },
    { name: 'gate_z', value: pyBool(scan.gateZ) },
    { name: 'dt_bias', value: dt.bias ? 'self.dt_bias' : 'None' },
    { name: 'dt_softplus', value: pyBool(dt.softplus) },
    { name: 'dt_limit', value: 'self.dt_limit' },
    {
      name: 'initial_states',
      value: scan.learnableInitStates ? 'self.init_states.unsqueeze(0).expand(batch, -1, -1, -1)' : 'None',
    },
    { name: 'seq_idx', value: 'seq_idx' },
    { name: 'activation', value: pyStr(conv.activation) },
    ...(norm === null
      ? [{ name: 'norm_weight', value: 'None' }]
      : [
          { name: 'norm_weight', value: `self.${norm.param}.weight` },
          { name: 'norm_eps', value: `self.${norm.param}.eps` },
          { name: 'norm_group_size', value: norm.groupSize === norm.features ? 'None' : pyNum(norm.groupSize) },
          { name: 'norm_gated', value: pyBool(norm.gated) },
          { name: 'norm_before_gate', value: pyBool(norm.normBeforeGate) },
        ]),
  ];
  return {
    ...baseContext(plan, meta),
    sourceLiteral: pyStr(meta.sourceFile),
    signature: signature.map(withInitHint),
    checks,
    checkedArgLines: wrap(checks.map((c) => `${c.arg}=${c.generated}`), 72),
    dims: { dInner: dims.dInner, dInnerTotal: dims.dInner, nheads: dims.nheads, convDim: dims.convDim, dInProj: dims.dInProj },
    dropIn: "the seed's Mamba2Simple",
    prelude: [],
    extraAttrs: [],
    inProjAttr: plan.inProj.param,
    outProjAttr: plan.outProj.param,
    convAttr: conv.param,
    dtBias: dt.bias,
    initStates: scan.learnableInitStates,
    dShape: scan.d === null ? null : scan.d.perChannel ? pyNum(dims.dInner) : pyNum(dims.nheads),
    norm: norm === null ? null : { attr: norm.param, eps: pyNum(norm.eps) },
    forward: {
      z: plan.inSplit.z === null ? null : sl(plan.inSplit.z),
      xBC: sl(plan.inSplit.xBC),
      dt: sl(plan.inSplit.dt),
      x: sl(plan.convSplit.x),
      B: sl(plan.convSplit.B),
      C: sl(plan.convSplit.C),
      blockKwargs,
      mlp: plan.mlp === null ? null : { z0: sl(plan.mlp.z0), x0: sl(plan.mlp.x0) },
    },
    decode: decodeContext(plan),
  };
}

/**
 * mamba_ssm's Mamba2 constructor (d_ssm, D_has_hdim, rmsnorm, norm_before_gate,
 * process_group, sequence_parallel; no activation or learnable_init_states).
 * The body is the seed's, so only the signature, the checks and the few
 * attributes of its own differ.
 */
function mamba2ModuleContext(plan: KernelPlan, meta: FileMeta, launch: LaunchConfig): ModuleContext {
  const base = simpleModuleContext(plan, meta, launch);
  const { dims, conv, dt, scan, norm } = plan;
  const dInnerTotal = dims.dInner + (plan.mlp?.features ?? 0);
  const expand = pyNum(dims.expand);
  const find = (name: string): string => base.signature.find((p) => p.name === name)!.default!;
  const signature: PyParam[] = [
    { name: 'd_model', default: null },
    { name: 'd_state', default: find('d_state') },
    { name: 'd_conv', default: find('d_conv') },
    { name: 'conv_init', default: find('conv_init') },
    { name: 'expand', default: expand },
    { name: 'headdim', default: find('headdim') },
    { name: 'd_ssm', default: plan.mlp === null ? 'None' : pyNum(dims.dInner) },
    { name: 'ngroups', default: find('ngroups') },
    { name: 'A_init_range', default: find('A_init_range') },
    { name: 'D_has_hdim', default: pyBool(scan.d?.perChannel ?? false) },
    { name: 'rmsnorm', default: pyBool(norm !== null) },
    { name: 'norm_before_gate', default: pyBool(norm?.normBeforeGate ?? false) },
    { name: 'dt_min', default: pyFloat(dt.dtMin) },
    { name: 'dt_max', default: pyFloat(dt.dtMax) },
    { name: 'dt_init_floor', default: pyFloat(dt.dtInitFloor) },
    { name: 'dt_limit', default: find('dt_limit') },
    { name: 'bias', default: pyBool(plan.inProj.bias) },
    { name: 'conv_bias', default: pyBool(conv.bias) },
    { name: 'chunk_size', default: pyNum(launch.chunked.chunkSize) },
    { name: 'use_mem_eff_path', default: 'True' },
    { name: 'layer_idx', default: 'None' },
    { name: 'process_group', default: 'None' },
    { name: 'sequence_parallel', default: 'True' },
    { name: 'device', default: 'None' },
    { name: 'dtype', default: 'None' },
  ];
  const checks: PyCheck[] = [
    { arg: 'd_model', generated: pyNum(dims.dModel) },
    { arg: 'expand', generated: expand },
    { arg: 'headdim', generated: pyNum(dims.headdim) },
    { arg: 'd_state', generated: pyNum(dims.dState) },
    { arg: 'd_ssm', generated: pyNum(dims.dInner) },
    { arg: 'ngroups', generated: pyNum(dims.ngroups) },
    { arg: 'd_conv', generated: pyNum(dims.dConv) },
    { arg: 'D_has_hdim', generated: pyBool(scan.d?.perChannel ?? false) },
    { arg: 'rmsnorm', generated: pyBool(norm !== null) },
    { arg: 'norm_before_gate', generated: pyBool(norm?.normBeforeGate ?? false) },
    { arg: 'bias', generated: pyBool(plan.inProj.bias) },
    { arg: 'conv_bias', generated: pyBool(conv.bias) },
    { arg: 'process_group', generated: 'None' },
  ];
  return {
    ...base,
    signature,
    checks,
    checkedArgLines: wrap(checks.map((c) => `${c.arg}=${c.generated}`), 72),
    dims: { ...base.dims, dInnerTotal },
    dropIn: "mamba_ssm's Mamba2 (mamba_ssm.modules.mamba2)",
    prelude: [
      '# mamba_ssm\'s Mamba2 has no activation or learnable_init_states argument: SiLU, zero initial states',
      `activation = ${pyStr(conv.activation === 'silu' ? 'swish' : 'identity')}`,
      'learnable_init_states = False',
      'd_ssm = expand * d_model if d_ssm is None else d_ssm',
    ],
    extraAttrs: [
      'self.D_has_hdim = D_has_hdim',
      'self.rmsnorm = rmsnorm',
      'self.norm_before_gate = norm_before_gate',
      'self.sequence_parallel = sequence_parallel',
    ],
  };
}

export interface InitContext extends BaseContext {
  readonly exports: readonly string[];
  readonly imports: readonly string[];
}

export function initContext(plan: KernelPlan, meta: FileMeta): InitContext {
  const imports = [
    'from .functional import mamba_chunk_scan_combined',
    'from .kernels.conv import causal_conv1d',
    'from .kernels.dt import dt_transform',
    ...(plan.kernels.includes('norm') ? ['from .kernels.norm import rmsnorm_gated'] : []),
    'from .inference import InferenceParams',
    'from .lm import MambaConfig, MambaLMHeadModel',
    `from .module import ${plan.className}`,
  ];
  const exports = [
    plan.className,
    'InferenceParams',
    'MambaConfig',
    'MambaLMHeadModel',
    'IR_HASH',
    'IR_PATH',
    'causal_conv1d',
    'dt_transform',
    'mamba_chunk_scan_combined',
    ...(plan.kernels.includes('norm') ? ['rmsnorm_gated'] : []),
  ].map(pyStr);
  return { ...baseContext(plan, meta), imports, exports };
}

export interface KernelsInitContext extends BaseContext {
  readonly kernels: readonly KernelName[];
}

export function kernelsInitContext(plan: PackagePlan, meta: FileMeta): KernelsInitContext {
  return { ...baseContext(plan, meta), kernels: plan.kernels };
}

export interface PyprojectContext extends BaseContext {
  readonly distName: string;
  readonly distVersion: string;
  readonly packages: readonly string[];
}

export function pyprojectContext(plan: PackagePlan, meta: FileMeta): PyprojectContext {
  return {
    ...baseContext(plan, meta),
    distName: pyStr(`mamba2-kernels-${plan.name.replace(/_/g, '-')}`),
    // The local version ties an installed wheel to the IR it was generated from.
    distVersion: pyStr(`${GENERATOR_VERSION}+ir${meta.irHash.slice(0, 12)}`),
    packages: [plan.name, `${plan.name}.kernels`].map(pyStr),
  };
}
