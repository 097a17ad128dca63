/**
 * Render contexts of a vision block's package (VisionPlan): its module,
 * _config.py, __init__.py and _fragments.py. As in context.ts, every decision
 * (signature, checks, views, kwargs, literals) is made here; the templates
 * (vision_module.py.hbs and the shared ones) only insert.
 */
import { launchToJson, type LaunchConfig } from '@mamba2/dsl';
import type { VisionPlan } from '../lower/plan.ts';
import {
  baseContext,
  launchLines,
  LAUNCH_CLASSES,
  sl,
  wrap,
  type BaseContext,
  type ConfigContext,
  type FileMeta,
  type InitContext,
  type PyCheck,
} from './context.ts';
import type { FragmentsContext } from './fragments.ts';
import { dtChainFragment, scanEpilogueFragment, convActivationFragment } from './fragments.ts';
import { pyBool, pyFloat, pyNum, pyStr, pyTuple } from './python.ts';

/** The scan orders each directions walks, for the docstring (MAMBA2.md, "Scans in other orders"). */
const ORDER_NAMES = {
  bidirectional: 'row-major and its reverse',
  cross2d: 'row-major, column-major and both reversed',
} as const;

export interface VisionModuleContext extends BaseContext {
  readonly sourceLiteral: string;
  readonly image: { readonly height: number; readonly width: number };
  readonly directions: string;
  readonly directionsLiteral: string;
  readonly orders: number;
  readonly orderNames: string;
  /** What follows the scan, for the docstring. */
  readonly tail: string;
  readonly conv: { readonly kernelSize: number; readonly activation: string };
  readonly signature: readonly { readonly name: string; readonly default: string | null; readonly hint: string }[];
  readonly checks: readonly PyCheck[];
  readonly checkedArgLines: readonly string[];
  readonly dims: { readonly dModel: number; readonly dInner: number; readonly nheads: number; readonly dInProj: number; readonly xProjOut: number };
  readonly inProjAttr: string;
  readonly convAttr: string;
  readonly xProjAttr: string;
  readonly outProjAttr: string;
  readonly dtBias: boolean;
  readonly hasD: boolean;
  readonly norm: { readonly attr: string; readonly eps: string } | null;
  readonly forward: {
    readonly x: string;
    readonly z: string | null;
    readonly activation: string;
    /** Slices of the last axis of x_dbl (one order's dt, B, C). */
    readonly dt: string;
    readonly B: string;
    readonly C: string;
    readonly headShape: string;
    readonly groupShape: string;
    /** Keyword arguments of cross_scan_combined after directions. */
    readonly scanKwargs: readonly { readonly name: string; readonly value: string }[];
    readonly normCall: string | null;
  };
}

export function visionModuleContext(plan: VisionPlan, meta: FileMeta, _launch: LaunchConfig): VisionModuleContext {
  const { dims, conv, dt, scan, norm, image } = plan;
  const expand = pyNum(dims.expand);
  const signature = [
    { name: 'd_model', default: null, hint: 'int' },
    { name: 'height', default: pyNum(image.height), hint: 'int' },
    { name: 'width', default: pyNum(image.width), hint: 'int' },
    { name: 'd_state', default: pyNum(dims.dState), hint: 'int' },
    { name: 'd_conv', default: pyNum(conv.kernelSize), hint: 'int' },
    { name: 'conv_init', default: conv.init === null ? 'None' : pyNum(conv.init), hint: 'Optional[float]' },
    { name: 'expand', default: expand, hint: 'float' },
    { name: 'headdim', default: pyNum(dims.headdim), hint: 'int' },
    { name: 'ngroups', default: pyNum(dims.ngroups), hint: 'int' },
    { name: 'A_init_range', default: pyTuple(scan.aInitRange.map(pyNum)), hint: 'Tuple[float, float]' },
    { name: 'dt_min', default: pyFloat(dt.dtMin), hint: 'float' },
    { name: 'dt_max', default: pyFloat(dt.dtMax), hint: 'float' },
    { name: 'dt_init_floor', default: pyFloat(dt.dtInitFloor), hint: 'float' },
    { name: 'dt_limit', default: pyTuple([pyFloat(dt.limit[0]), pyFloat(dt.limit[1])]), hint: 'Tuple[float, float]' },
    { name: 'bias', default: pyBool(plan.inProj.bias), hint: 'bool' },
    { name: 'conv_bias', default: pyBool(conv.bias), hint: 'bool' },
    // None: the cross scan's own tile (LAUNCH.fused.block_q); the result does not depend on it
    { name: 'chunk_size', default: 'None', hint: 'Optional[int]' },
    { name: 'layer_idx', default: 'None', hint: 'Optional[int]' },
    { name: 'device', default: 'None', hint: 'Optional[Union[torch.device, str]]' },
    { name: 'dtype', default: 'None', hint: 'Optional[torch.dtype]' },
  ];
  const checks: PyCheck[] = [
    { arg: 'd_model', generated: pyNum(dims.dModel) },
    { arg: 'height', generated: pyNum(image.height) },
    { arg: 'width', generated: pyNum(image.width) },
    { arg: 'expand', generated: expand },
    { arg: 'headdim', generated: pyNum(dims.headdim) },
    { arg: 'd_state', generated: pyNum(dims.dState) },
    { arg: 'ngroups', generated: pyNum(dims.ngroups) },
    { arg: 'd_conv', generated: pyNum(conv.kernelSize) },
    { arg: 'bias', generated: pyBool(plan.inProj.bias) },
    { arg: 'conv_bias', generated: pyBool(conv.bias) },
  ];
  const headShape = pyTuple([pyNum(dims.nheads), pyNum(dims.headdim)]);
  const gn = dims.ngroups * dims.dState;
  const scanKwargs = [
    { name: 'D', value: scan.d === null ? 'None' : 'self.D.view(_ORDERS, self.nheads)' },
    { name: 'z', value: scan.gateZ ? `z.unflatten(-1, ${headShape})` : 'None' },
    { name: 'dt_bias', value: dt.bias ? 'self.dt_bias.view(_ORDERS, self.nheads)' : 'None' },
    { name: 'dt_softplus', value: pyBool(dt.softplus) },
    { name: 'dt_limit', value: 'self.dt_limit' },
    { name: 'chunk_size', value: 'self.chunk_size' },
  ];
  const normCall =
    norm === null
      ? null
      : `rmsnorm_gated(y, self.${norm.param}.weight, z=${norm.gated ? 'z' : 'None'}, eps=self.${norm.param}.eps, ` +
        `group_size=${norm.groupSize === norm.features ? 'None' : pyNum(norm.groupSize)}, ` +
        `norm_before_gate=${pyBool(norm.normBeforeGate)})`;
  const tail =
    norm === null
      ? scan.gateZ ? 'the gate y * silu(z)' : 'no norm or gate'
      : norm.gated
        ? norm.normBeforeGate ? 'RMSNorm, then the gate * silu(z)' : 'the gate * silu(z), then RMSNorm'
        : 'RMSNorm';
  return {
    ...baseContext(plan, meta),
    sourceLiteral: pyStr(meta.sourceFile),
    image,
    directions: plan.directions,
    directionsLiteral: pyStr(plan.directions),
    orders: plan.orders,
    orderNames: `${plan.orders} orders, ${ORDER_NAMES[plan.directions]}`,
    tail,
    conv: { kernelSize: conv.kernelSize, activation: conv.activation === 'silu' ? 'SiLU' : 'no activation' },
    signature,
    checks,
    checkedArgLines: wrap(checks.map((c) => `${c.arg}=${c.generated}`), 72),
    dims: { dModel: dims.dModel, dInner: dims.dInner, nheads: dims.nheads, dInProj: dims.dInProj, xProjOut: dims.xProjOut },
    inProjAttr: plan.inProj.param,
    convAttr: conv.param,
    xProjAttr: plan.xProj.param,
    outProjAttr: plan.outProj.param,
    dtBias: dt.bias,
    hasD: scan.d !== null,
    norm: norm === null ? null : { attr: norm.param, eps: pyNum(norm.eps) },
    forward: {
      x: sl(plan.inSplit.x),
      z: plan.inSplit.z === null ? null : sl(plan.inSplit.z),
      activation: pyStr(conv.activation),
      dt: `0:${dims.nheads}`,
      B: `${dims.nheads}:${dims.nheads + gn}`,
      C: `${dims.nheads + gn}:${dims.nheads + 2 * gn}`,
      headShape,
      groupShape: pyTuple([pyNum(dims.ngroups), pyNum(dims.dState)]),
      scanKwargs,
      normCall,
    },
  };
}

export function visionConfigContext(plan: VisionPlan, meta: FileMeta, launch: LaunchConfig): ConfigContext {
  const { dims, conv, dt, scan, norm } = plan;
  const json = launchToJson(launch);
  const names = ['LaunchConfig', ...Object.values(LAUNCH_CLASSES), ...(json.tuned !== null ? ['Tuned', 'TunedRow'] : [])];
  return {
    ...baseContext(plan, meta),
    launch: launchLines(json),
    launchImports: [...names].sort().join(', '),
    model: [
      { name: 'D_MODEL', value: pyNum(dims.dModel) },
      { name: 'HEIGHT', value: pyNum(plan.image.height) },
      { name: 'WIDTH', value: pyNum(plan.image.width) },
      { name: 'DIRECTIONS', value: pyStr(plan.directions) },
      { name: 'ORDERS', value: pyNum(plan.orders) },
      { name: 'D_INNER', value: pyNum(dims.dInner) },
      { name: 'NHEADS', value: pyNum(dims.nheads) },
      { name: 'HEADDIM', value: pyNum(dims.headdim) },
      { name: 'D_STATE', value: pyNum(dims.dState) },
      { name: 'NGROUPS', value: pyNum(dims.ngroups) },
      { name: 'D_CONV', value: pyNum(conv.kernelSize) },
      { name: 'D_IN_PROJ', value: pyNum(dims.dInProj) },
      { name: 'CONV_ACTIVATION', value: pyStr(conv.activation) },
      { name: 'DT_SOFTPLUS', value: pyBool(dt.softplus) },
      { name: 'DT_LIMIT', value: pyTuple([pyFloat(dt.limit[0]), pyFloat(dt.limit[1])]) },
      { name: 'HAS_D', value: pyBool(scan.d !== null) },
      { name: 'GATE_IN_SCAN', value: pyBool(scan.gateZ) },
      { name: 'HAS_NORM', value: pyBool(norm !== null) },
      { name: 'NORM_GATED', value: pyBool(norm?.gated ?? false) },
      { name: 'NORM_BEFORE_GATE', value: pyBool(norm?.normBeforeGate ?? false) },
      { name: 'NORM_GROUP_SIZE', value: norm === null ? 'None' : pyNum(norm.groupSize) },
      { name: 'NORM_EPS', value: norm === null ? 'None' : pyNum(norm.eps) },
      { name: 'KERNELS', value: pyTuple(plan.kernels.map(pyStr)) },
    ],
  };
}

export function visionInitContext(plan: VisionPlan, meta: FileMeta): InitContext {
  const hasNorm = plan.kernels.includes('norm');
  const imports = [
    'from .cross_scan import cross_scan_combined',
    'from .functional import mamba_chunk_scan_combined',
    'from .kernels.conv2d import depthwise_conv2d',
    ...(hasNorm ? ['from .kernels.norm import rmsnorm_gated'] : []),
    `from .module import ${plan.className}`,
  ];
  const exports = [
    plan.className,
    'IR_HASH',
    'IR_PATH',
    'cross_scan_combined',
    'depthwise_conv2d',
    'mamba_chunk_scan_combined',
    ...(hasNorm ? ['rmsnorm_gated'] : []),
  ].map(pyStr);
  return { ...baseContext(plan, meta), imports, exports };
}

/**
 * The fragments the library kernels of a vision package call: the dt chain
 * of each order's scan (dt_bias, softplus, clamp: the same per order), and
 * the scan epilogue of the per-order scans, which carry no D or z (the cross
 * scan's merge adds them after the sum), and the conv2d's activation.
 */
export function visionFragmentsContext(plan: VisionPlan, meta: FileMeta): FragmentsContext {
  const perOrder = { name: plan.name, dt: plan.dt, norm: plan.norm, scan: { d: null, gateZ: false }, conv: plan.conv };
  return {
    ...baseContext(plan, meta),
    dtChain: dtChainFragment(perOrder),
    scanEpilogue: scanEpilogueFragment(perOrder),
    convActivation: convActivationFragment(perOrder),
  };
}
