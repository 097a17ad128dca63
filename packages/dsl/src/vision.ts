import type { LaunchOptions } from './ir/launch.ts';
import type { DType, ScanDirections, SourceLoc } from './ir/nodes.ts';
import { captureCallSite } from './location.ts';
import { graph } from './builder/builder.ts';
import { nameFromFile, pascalCase } from './builder/defaults.ts';
import { checkOptionKeys, launchOptions } from './mamba2.ts';
import type { ModelDef, ModelOverrides } from './model.ts';
import {
  ChunkSizeConflictError,
  HeaddimDividesError,
  NonPositiveIntegerError,
  ScanDirectionsError,
  isDslError,
} from './validate/errors.ts';
import { orList, pow2Divisors } from './validate/rules.ts';

/** A VMamba-style (SS2D) block with Mamba-2's SSD scan. */
export interface VisionMamba2Options {
  readonly dModel: number;
  /** The image the block sees, in tokens (patches): forward(x) takes (batch, height, width, dModel). */
  readonly height: number;
  readonly width: number;
  /** 'cross2d' (default): VMamba's four orders; 'bidirectional': row-major and its reverse (Vision Mamba). */
  readonly directions?: Exclude<ScanDirections, 'forward'>;
  readonly dState?: number;
  /** The depthwise conv2d's kernel size (odd, 1..7): VMamba's d_conv = 3. */
  readonly dConv?: number;
  readonly convInit?: number | null;
  readonly convBias?: boolean;
  readonly expand?: number;
  readonly headdim?: number;
  readonly ngroups?: number;
  readonly aInitRange?: readonly [number, number];
  readonly dtMin?: number;
  readonly dtMax?: number;
  readonly dtInitFloor?: number;
  /** [lo, hi]; hi Infinity (stored as null) = no upper clamp. */
  readonly dtLimit?: readonly [number, number | null];
  readonly activation?: 'silu' | 'identity';
  readonly normEps?: number;
  /** in_proj and out_proj bias. */
  readonly bias?: boolean;
  /** The scan's chunk length: a launch setting (LaunchOptions.chunkSize), not part of the graph or its hash. */
  readonly chunkSize?: number;
  readonly name?: string;
  readonly className?: string;
  readonly dtype?: DType;
  readonly codegen?: LaunchOptions;
}

/** VMamba's SS2D sizes where it has them (d_conv 3, expand 2), Mamba-2's otherwise. */
export const VISION_DEFAULTS = {
  directions: 'cross2d',
  dState: 64,
  dConv: 3,
  convInit: null,
  convBias: true,
  expand: 2,
  headdim: 64,
  ngroups: 1,
  aInitRange: [1, 16],
  dtMin: 0.001,
  dtMax: 0.1,
  dtInitFloor: 1e-4,
  dtLimit: [0, null],
  activation: 'silu',
  normEps: 1e-5,
  bias: false,
  dtype: 'float32',
} as const;

const VISION_OPTION_KEYS: Readonly<Record<keyof VisionMamba2Options, true>> = {
  dModel: true, height: true, width: true, directions: true, dState: true, dConv: true, convInit: true,
  convBias: true, expand: true, headdim: true, ngroups: true, aInitRange: true, dtMin: true, dtMax: true,
  dtInitFloor: true, dtLimit: true, activation: true, normEps: true, bias: true,
  chunkSize: true, name: true, className: true, dtype: true, codegen: true,
};

/**
 * A vision block (VMamba's SS2D with the SSD scan): the image's tokens in
 * several orders, each with its own dt, A, B, C and D, summed.
 *
 * ```ts
 * export default visionMamba2({ dModel: 96, height: 14, width: 14, directions: 'cross2d' });
 * ```
 * -> class `<Name>` with forward(x: (batch, height, width, dModel)): in_proj -> (x, z),
 * `kernels/conv2d.py` (3x3 depthwise + SiLU), x_proj (per-order dt, B, C), the fused
 * cross scan `cross_scan_combined` (no permuted copies), RMSNorm, * silu(z), out_proj.
 */
export function visionMamba2(options: VisionMamba2Options): ModelDef {
  const loc = captureCallSite();
  checkOptionKeys(options as never, loc, 'visionMamba2', Object.keys(VISION_OPTION_KEYS));
  return buildVision(options, loc, {});
}

function buildVision(options: VisionMamba2Options, loc: SourceLoc | null, overrides: ModelOverrides): ModelDef {
  const o: VisionMamba2Options = { ...options, ...(overrides.headdim !== undefined ? { headdim: overrides.headdim } : {}) };
  try {
    return drawVision(o, loc, options, overrides);
  } catch (e) {
    if (isDslError(e) && overrides.headdim !== undefined && e.props.includes('headdim')) e.blame(`--headdim ${overrides.headdim}`);
    throw e;
  }
}

function drawVision(o: VisionMamba2Options, loc: SourceLoc | null, original: VisionMamba2Options, overrides: ModelOverrides): ModelDef {
  const d = VISION_DEFAULTS;
  const limit = o.dtLimit ?? d.dtLimit;
  const c = {
    dModel: o.dModel,
    height: o.height,
    width: o.width,
    directions: o.directions ?? d.directions,
    dState: o.dState ?? d.dState,
    dConv: o.dConv ?? d.dConv,
    convInit: o.convInit ?? d.convInit,
    convBias: o.convBias ?? d.convBias,
    expand: o.expand ?? d.expand,
    headdim: o.headdim ?? d.headdim,
    ngroups: o.ngroups ?? d.ngroups,
    aInitRange: [...(o.aInitRange ?? d.aInitRange)] as [number, number],
    dtMin: o.dtMin ?? d.dtMin,
    dtMax: o.dtMax ?? d.dtMax,
    dtInitFloor: o.dtInitFloor ?? d.dtInitFloor,
    dtLimit: [limit[0], limit[1] === null || limit[1] === Infinity ? null : limit[1]] as [number, number | null],
    activation: o.activation ?? d.activation,
    normEps: o.normEps ?? d.normEps,
    bias: o.bias ?? d.bias,
    dtype: o.dtype ?? d.dtype,
  };
  for (const k of ['dModel', 'height', 'width', 'dState', 'dConv', 'headdim', 'ngroups'] as const) {
    const v: unknown = c[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) {
      throw new NonPositiveIntegerError({
        what: `${k} ${JSON.stringify(v)} is not a positive integer`,
        value: v,
        fix: `Use a whole number >= 1 for ${k}.`,
        loc,
        props: [k],
      });
    }
  }
  if ((c.directions as string) !== 'bidirectional' && (c.directions as string) !== 'cross2d') {
    throw new ScanDirectionsError({
      what: `visionMamba2 directions ${JSON.stringify(c.directions)} is not a multi-order scan`,
      value: c.directions,
      fix: "Use directions 'cross2d' (VMamba's four orders, the default) or 'bidirectional' (two); a one-way scan is mamba2({...}).",
      loc,
      props: ['directions'],
    });
  }
  const dInner = c.expand * c.dModel;
  if (!(typeof c.expand === 'number' && c.expand > 0 && Number.isInteger(dInner))) {
    throw new NonPositiveIntegerError({
      what: `expand ${c.expand} times dModel ${c.dModel} is not a positive whole d_inner`,
      value: c.expand,
      fix: 'Use expand 2 (the default) or another value that makes expand*dModel a whole number.',
      loc,
      props: ['expand'],
    });
  }
  if (dInner % c.headdim !== 0) {
    const ok = pow2Divisors(dInner, 16, 256, c.headdim).slice(0, 2);
    throw new HeaddimDividesError({
      what: `headdim ${c.headdim} does not divide d_inner ${dInner} (expand ${c.expand} * dModel ${c.dModel})`,
      value: c.headdim,
      fix: `Use headdim ${orList(ok.length ? ok : [32])}, or change expand.`,
      loc,
      props: ['headdim'],
    });
  }
  if (o.chunkSize !== undefined && o.codegen?.chunkSize !== undefined && o.chunkSize !== o.codegen.chunkSize) {
    throw new ChunkSizeConflictError({
      what: `chunkSize ${o.chunkSize} differs from codegen.chunkSize ${o.codegen.chunkSize}`,
      value: o.codegen.chunkSize,
      fix: 'Set the chunk size once (chunkSize), or make both equal.',
      loc,
      props: ['codegen.chunkSize', 'chunkSize'],
    });
  }
  const nheads = dInner / c.headdim;
  const name = o.name ?? nameFromFile(loc?.file, 'vision_mamba2_block');
  const built = graph()
    .input({ id: 'u', features: c.dModel, image: { height: c.height, width: c.width } })
    .linear({ id: 'in_proj', param: 'in_proj', outFeatures: 2 * dInner, bias: c.bias })
    .split({ id: 'xz', parts: [{ name: 'x', size: dInner }, { name: 'z', size: dInner }] })
    .depthwiseConv2d({
      id: 'conv2d', input: 'xz.x', param: 'conv2d', kernelSize: c.dConv, bias: c.convBias, activation: c.activation, init: c.convInit,
    })
    .scanProjection({ id: 'x_proj', input: 'conv2d', param: 'x_proj', directions: c.directions, nheads, ngroups: c.ngroups, dState: c.dState })
    .dtTransform({
      id: 'dt', input: 'x_proj.dt', bias: true, softplus: true, limit: c.dtLimit, dtMin: c.dtMin, dtMax: c.dtMax, dtInitFloor: c.dtInitFloor,
    })
    .ssdScan({
      id: 'scan', x: 'conv2d', dt: 'dt', B: 'x_proj.B', C: 'x_proj.C', headdim: c.headdim, ngroups: c.ngroups, dState: c.dState,
      aInitRange: c.aInitRange, directions: c.directions,
    })
    // one D per order and head (cross_scan_combined's D [K, h])
    .dSkip({ id: 'dskip', x: 'conv2d', headdim: c.headdim })
    // VMamba's out_norm, then the gate: rmsnorm(y) * w * silu(z)
    .rmsNorm({ id: 'norm', z: 'xz.z', param: 'norm', groupSize: dInner, eps: c.normEps, normBeforeGate: true })
    .outProj({ id: 'out_proj', outFeatures: c.dModel, bias: c.bias })
    .output({ id: 'out' })
    .build({ name, className: o.className ?? pascalCase(name), dtype: c.dtype, config: c, codegen: launchOptions(o) });
  const sourceMap = loc ? Object.fromEntries(Object.keys(built.sourceMap).map((k) => [k, loc])) : {};
  return Object.freeze({
    kind: 'ModelDef' as const,
    origin: 'mamba2' as const,
    graph: built.graph,
    sourceMap: Object.freeze(sourceMap),
    launch: built.launch,
    rebuild: (next: ModelOverrides) => buildVision(original, loc, { ...overrides, ...next }),
  });
}
