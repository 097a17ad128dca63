import { LAUNCH_OPTION_KEYS, type LaunchOptions } from './ir/launch.ts';
import type { DType, SourceLoc } from './ir/nodes.ts';
import { captureCallSite } from './location.ts';
import { graph } from './builder/builder.ts';
import { nameFromFile, pascalCase } from './builder/defaults.ts';
import type { ModelDef, ModelOverrides } from './model.ts';
import {
  ActivationError,
  ChunkSizeConflictError,
  GateNormContradictionError,
  HeaddimDividesError,
  NonPositiveIntegerError,
  UnknownOptionError,
  isDslError,
} from './validate/errors.ts';
import { orList, pow2Divisors } from './validate/rules.ts';

/** The arguments of the seed's `Mamba2Simple`, in camelCase, plus the variant options. */
export interface Mamba2Options {
  readonly dModel: number;
  readonly dState?: number;
  readonly dConv?: number;
  readonly convInit?: number | null;
  readonly expand?: number;
  readonly headdim?: number;
  readonly ngroups?: number;
  readonly aInitRange?: readonly [number, number];
  readonly dtMin?: number;
  readonly dtMax?: number;
  readonly dtInitFloor?: number;
  /** [lo, hi]; hi Infinity (stored as null in the IR) = no upper clamp. */
  readonly dtLimit?: readonly [number, number | null];
  readonly learnableInitStates?: boolean;
  readonly activation?: 'swish' | 'silu' | 'identity';
  readonly bias?: boolean;
  readonly convBias?: boolean;
  /** The seed's chunk size: a launch setting (LaunchOptions.chunkSize), not part of the graph or its hash. */
  readonly chunkSize?: number;
  /** Kept for signature parity with the seed; both paths compute the same thing. */
  readonly useMemEffPath?: boolean;
  readonly layerIdx?: number | null;
  /**
   * mamba_ssm's Mamba2: the SSM runs on dSsm of the d_inner channels, the rest
   * is a gated MLP silu(z0) * x0 before out_proj. null (default) = d_inner.
   */
  readonly dSsm?: number | null;
  /** Which class the module reproduces: the seed's Mamba2Simple (default) or mamba_ssm's Mamba2. */
  readonly layer?: 'Mamba2Simple' | 'Mamba2';
  // Variants.
  /** D per head and channel (nheads*headdim) instead of per head. */
  readonly dPerChannel?: boolean;
  /** false: in_proj has no z part and nothing gates the output. */
  readonly gate?: boolean;
  /** true: (gated) RMSNorm; false: a plain Gate node when `gate`, else nothing. */
  readonly norm?: boolean;
  readonly normBeforeGate?: boolean;
  /** Channels normalised together; null = d_inner. */
  readonly normGroupSize?: number | null;
  readonly normEps?: number;
  /** Python package name; default from the file name (mamba2-simple.ts -> "mamba2_simple"). */
  readonly name?: string;
  /** Python class name; default PascalCase of name ("Mamba2Simple"). */
  readonly className?: string;
  readonly dtype?: DType;
  /** Launch settings (tiles, warps, ...; LaunchOptions): not part of the graph or its hash. */
  readonly codegen?: LaunchOptions;
}

/** The seed's defaults (Mamba2Simple) and ours for the variant options. */
export const MAMBA2_DEFAULTS = {
  dState: 128,
  dConv: 4,
  convInit: null,
  expand: 2,
  headdim: 64,
  ngroups: 1,
  aInitRange: [1, 16],
  dtMin: 0.001,
  dtMax: 0.1,
  dtInitFloor: 1e-4,
  dtLimit: [0, null],
  learnableInitStates: false,
  activation: 'swish',
  bias: false,
  convBias: true,
  useMemEffPath: true,
  layerIdx: null,
  dPerChannel: false,
  gate: true,
  norm: true,
  normBeforeGate: false,
  normGroupSize: null,
  normEps: 1e-5,
  dtype: 'float32',
} as const;

/** Graph.config: every argument resolved, JSON-safe (Infinity -> null). */
export type Mamba2Config = {
  -readonly [K in keyof typeof MAMBA2_DEFAULTS]: K extends 'aInitRange'
    ? [number, number]
    : K extends 'dtLimit'
      ? [number, number | null]
      : K extends 'convInit' | 'normGroupSize' | 'layerIdx'
        ? number | null
        : K extends 'activation'
          ? Mamba2Options['activation']
          : K extends 'dtype'
            ? DType
            : (typeof MAMBA2_DEFAULTS)[K] extends boolean
              ? boolean
              : number;
} & { dModel: number };

/**
 * A Mamba-2 block, the seed's `Mamba2Simple` with the same arguments and defaults.
 *
 * ```ts
 * export default mamba2({ dModel: 256, headdim: 32, codegen: { scanWarps: 8 } });
 * ```
 * -> `kernels-out/<name>/`: in_proj (nn.Linear), `kernels/conv.py`, the fused SSD
 * scan `kernels/ssd_fused.py` (dt prologue, D and z epilogues), `kernels/norm.py`, out_proj.
 */
export function mamba2(options: Mamba2Options): ModelDef {
  const loc = captureCallSite();
  checkOptionKeys(options, loc);
  return buildMamba2(options, loc, {});
}

/** Every key of Mamba2Options (the type makes this list complete). */
const OPTION_KEYS: Readonly<Record<keyof Mamba2Options, true>> = {
  dModel: true, dState: true, dConv: true, convInit: true, expand: true, headdim: true, ngroups: true,
  aInitRange: true, dtMin: true, dtMax: true, dtInitFloor: true, dtLimit: true, learnableInitStates: true,
  activation: true, bias: true, convBias: true, chunkSize: true, useMemEffPath: true, layerIdx: true,
  dPerChannel: true, gate: true, norm: true, normBeforeGate: true, normGroupSize: true, normEps: true,
  name: true, className: true, dtype: true, codegen: true, dSsm: true, layer: true,
};

/** Every key of Mamba2LayerOptions. */
const LAYER_OPTION_KEYS: Readonly<Record<keyof Mamba2LayerOptions, true>> = {
  dModel: true, dState: true, dConv: true, convInit: true, expand: true, headdim: true, dSsm: true, ngroups: true,
  aInitRange: true, DHasHdim: true, rmsnorm: true, normBeforeGate: true, dtMin: true, dtMax: true, dtInitFloor: true,
  dtLimit: true, bias: true, convBias: true, chunkSize: true, useMemEffPath: true, layerIdx: true, name: true,
  className: true, dtype: true, codegen: true,
};

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key `key` was most likely meant as ("dstate" -> "dState"), or null. */
function nearestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase().replace(/_/g, '');
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same !== undefined) return same;
  const scored = known.map((k) => [k, editDistance(lower, k.toLowerCase())] as const).sort((x, y) => x[1] - y[1]);
  return scored[0] !== undefined && scored[0][1] <= 2 ? scored[0][0] : null;
}

/**
 * The type checker rejects unknown keys only in an object literal; through a
 * variable (`const o = { dstate: 64 }; mamba2(o)`) they would pass silently
 * and the default would be used. Refuse them at run time too.
 */
export function checkOptionKeys(
  options: Mamba2Options | Mamba2LayerOptions,
  loc: SourceLoc | null,
  fn = 'mamba2',
  keys: readonly string[] = Object.keys(OPTION_KEYS),
): void {
  if (typeof options !== 'object' || options === null) {
    throw new UnknownOptionError({
      what: `${fn}() takes an options object, got ${options === null ? 'null' : typeof options}`,
      value: String(options),
      fix: `Call it as ${fn}({ dModel: 256 }).`,
      loc,
    });
  }
  const groups: [string, readonly string[], Record<string, unknown>][] = [
    ['', keys, options as unknown as Record<string, unknown>],
  ];
  const cg: unknown = options.codegen;
  if (typeof cg === 'object' && cg !== null) {
    groups.push(['codegen.', LAUNCH_OPTION_KEYS, cg as Record<string, unknown>]);
  }
  for (const [prefix, known, obj] of groups) {
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const near = nearestKey(key, known);
      throw new UnknownOptionError({
        what: `${fn}() has no option ${prefix}${key}`,
        value: `${prefix}${key}`,
        fix: `${near !== null ? `Did you mean ${prefix}${near}? ` : ''}The ${prefix === '' ? 'options' : 'codegen options'} are ${known.join(', ')}.`,
        loc,
        props: [`${prefix}${key}`],
      });
    }
  }
}

/** mamba_ssm's `Mamba2` arguments in camelCase (`DHasHdim` for D_has_hdim), with its defaults. */
export interface Mamba2LayerOptions
  extends Pick<
    Mamba2Options,
    | 'dModel' | 'dState' | 'dConv' | 'convInit' | 'expand' | 'headdim' | 'dSsm' | 'ngroups' | 'aInitRange'
    | 'normBeforeGate' | 'dtMin' | 'dtMax' | 'dtInitFloor' | 'dtLimit' | 'bias' | 'convBias' | 'chunkSize'
    | 'useMemEffPath' | 'layerIdx' | 'name' | 'className' | 'dtype' | 'codegen'
  > {
  /** D per channel (d_ssm) instead of per head. Default false. */
  readonly DHasHdim?: boolean;
  /** Gated RMSNorm in groups of dSsm / ngroups (default true); false: y * silu(z) in the scan. */
  readonly rmsnorm?: boolean;
}

/**
 * mamba_ssm's full `Mamba2` layer (what pretrained checkpoints use): same
 * constructor arguments and state_dict keys.
 *
 * ```ts
 * export default mamba2Layer({ dModel: 768 }); // mamba2-130m's layer
 * ```
 * -> class `Mamba2` with `d_ssm`, `D_has_hdim`, `rmsnorm`, `norm_before_gate`, the
 * decode step, and the gated MLP when dSsm < d_inner.
 */
export function mamba2Layer(options: Mamba2LayerOptions): ModelDef {
  const loc = captureCallSite();
  checkOptionKeys(options, loc, 'mamba2Layer', Object.keys(LAYER_OPTION_KEYS));
  const { DHasHdim, rmsnorm, ...rest } = options;
  const expand = options.expand ?? MAMBA2_DEFAULTS.expand;
  const dSsm = options.dSsm ?? expand * options.dModel;
  const ngroups = options.ngroups ?? MAMBA2_DEFAULTS.ngroups;
  const norm = rmsnorm ?? true;
  return buildMamba2(
    {
      ...rest,
      className: options.className ?? 'Mamba2',
      layer: 'Mamba2',
      dPerChannel: DHasHdim ?? false,
      norm,
      gate: true,
      ...(norm && Number.isInteger(dSsm / ngroups) ? { normGroupSize: dSsm / ngroups } : {}),
    },
    loc,
    {},
  );
}

function resolveConfig(o: Mamba2Options): Mamba2Config {
  const d = MAMBA2_DEFAULTS;
  const limit = o.dtLimit ?? d.dtLimit;
  return {
    dModel: o.dModel,
    dState: o.dState ?? d.dState,
    dConv: o.dConv ?? d.dConv,
    convInit: o.convInit ?? d.convInit,
    expand: o.expand ?? d.expand,
    headdim: o.headdim ?? d.headdim,
    ngroups: o.ngroups ?? d.ngroups,
    aInitRange: [...(o.aInitRange ?? d.aInitRange)] as [number, number],
    dtMin: o.dtMin ?? d.dtMin,
    dtMax: o.dtMax ?? d.dtMax,
    dtInitFloor: o.dtInitFloor ?? d.dtInitFloor,
    dtLimit: [limit[0], limit[1] === null || limit[1] === Infinity ? null : limit[1]],
    learnableInitStates: o.learnableInitStates ?? d.learnableInitStates,
    activation: o.activation ?? d.activation,
    bias: o.bias ?? d.bias,
    convBias: o.convBias ?? d.convBias,
    useMemEffPath: o.useMemEffPath ?? d.useMemEffPath,
    layerIdx: o.layerIdx ?? d.layerIdx,
    dPerChannel: o.dPerChannel ?? d.dPerChannel,
    gate: o.gate ?? d.gate,
    norm: o.norm ?? d.norm,
    normBeforeGate: o.normBeforeGate ?? d.normBeforeGate,
    normGroupSize: o.normGroupSize ?? d.normGroupSize,
    normEps: o.normEps ?? d.normEps,
    dtype: o.dtype ?? d.dtype,
  };
}

/** The launch settings the call asks for: `codegen`, and the seed's `chunkSize` (the same setting). */
export function launchOptions(o: Pick<Mamba2Options, 'chunkSize' | 'codegen'>): LaunchOptions {
  const chunkSize = o.chunkSize ?? o.codegen?.chunkSize;
  return { ...o.codegen, ...(chunkSize !== undefined ? { chunkSize } : {}) };
}

/** The checks the graph cannot even be drawn without (the rest run on the graph). */
function precheck(o: Mamba2Options, c: Mamba2Config, loc: SourceLoc | null): void {
  for (const k of ['dModel', 'dState', 'dConv', 'headdim', 'ngroups'] as const) {
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
  const dSsm = o.dSsm ?? dInner;
  if (!(Number.isInteger(dSsm) && dSsm > 0 && dSsm <= dInner)) {
    throw new NonPositiveIntegerError({
      what: `dSsm ${JSON.stringify(o.dSsm)} is not a whole number in 1..d_inner ${dInner}`,
      value: o.dSsm,
      fix: `Use a dSsm of at most d_inner = expand * dModel = ${dInner} (a multiple of headdim), or leave it out.`,
      loc,
      props: ['dSsm'],
    });
  }
  if (dSsm % c.headdim !== 0) {
    const ok = pow2Divisors(dSsm, 16, 256, c.headdim).slice(0, 2);
    throw new HeaddimDividesError({
      what:
        dSsm === dInner
          ? `headdim ${c.headdim} does not divide d_inner ${dInner} (expand ${c.expand} * dModel ${c.dModel})`
          : `headdim ${c.headdim} does not divide dSsm ${dSsm}`,
      value: c.headdim,
      fix: `Use headdim ${orList(ok.length ? ok : [64])}, or change expand.`,
      loc,
      props: ['headdim'],
    });
  }
  if (!['swish', 'silu', 'identity'].includes(c.activation as string)) {
    throw new ActivationError({
      what: `activation '${String(c.activation)}' is not known`,
      value: c.activation,
      fix: "Use 'swish' (= 'silu') or 'identity'.",
      loc,
      props: ['activation'],
    });
  }
  if (!c.gate && c.normBeforeGate) {
    throw new GateNormContradictionError({
      what: 'gate false with normBeforeGate true: without z there is no gate to order the norm against',
      value: true,
      fix: 'Drop normBeforeGate, or set gate: true.',
      loc,
      props: ['normBeforeGate', 'gate'],
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
}

function buildMamba2(options: Mamba2Options, loc: SourceLoc | null, overrides: ModelOverrides): ModelDef {
  const merged: Mamba2Options = {
    ...options,
    ...(overrides.headdim !== undefined ? { headdim: overrides.headdim } : {}),
  };
  try {
    return draw(merged, loc, options, overrides);
  } catch (e) {
    // A bad value from `--headdim` is not on any line of the model file.
    if (isDslError(e) && overrides.headdim !== undefined && e.props.includes('headdim')) e.blame(`--headdim ${overrides.headdim}`);
    throw e;
  }
}

function draw(o: Mamba2Options, loc: SourceLoc | null, original: Mamba2Options, overrides: ModelOverrides): ModelDef {
  const c = resolveConfig(o);
  precheck(o, c, loc);
  const dInner = c.expand * c.dModel;
  const dSsm = o.dSsm ?? dInner;
  const dMlp = dInner - dSsm;
  const nheads = dSsm / c.headdim;
  const bc = c.ngroups * c.dState;
  const convDim = dSsm + 2 * bc;
  const mlpParts = dMlp > 0 ? [{ name: 'z0', size: dMlp }, { name: 'x0', size: dMlp }] : [];
  const name = o.name ?? nameFromFile(loc?.file, 'mamba2_block');

  let g = graph()
    .input({ id: 'u', features: c.dModel })
    .linear({ id: 'in_proj', param: 'in_proj', outFeatures: 2 * dMlp + (c.gate ? dSsm : 0) + convDim + nheads, bias: c.bias })
    .split({
      id: 'zxbcdt',
      parts: [
        ...mlpParts,
        ...(c.gate ? [{ name: 'z', size: dSsm }] : []),
        { name: 'xBC', size: convDim },
        { name: 'dt', size: nheads },
      ],
    })
    .causalConv1d({
      id: 'conv',
      input: 'zxbcdt.xBC',
      param: 'conv1d',
      width: c.dConv,
      bias: c.convBias,
      activation: c.activation === 'identity' ? 'identity' : 'silu',
      init: c.convInit,
    })
    .split({ id: 'xBC', parts: [{ name: 'x', size: dSsm }, { name: 'B', size: bc }, { name: 'C', size: bc }] })
    .dtTransform({
      id: 'dt',
      input: 'zxbcdt.dt',
      bias: true,
      softplus: true,
      limit: c.dtLimit,
      dtMin: c.dtMin,
      dtMax: c.dtMax,
      dtInitFloor: c.dtInitFloor,
    })
    .ssdScan({
      id: 'scan',
      x: 'xBC.x',
      dt: 'dt',
      B: 'xBC.B',
      C: 'xBC.C',
      headdim: c.headdim,
      ngroups: c.ngroups,
      dState: c.dState,
      aInitRange: c.aInitRange,
      learnableInitStates: c.learnableInitStates,
    })
    .dSkip({ id: 'dskip', x: 'xBC.x', headdim: c.headdim, perChannel: c.dPerChannel });
  if (c.norm) {
    g = g.rmsNorm({
      id: 'norm',
      z: c.gate ? 'zxbcdt.z' : null,
      param: 'norm',
      groupSize: c.normGroupSize ?? dSsm,
      eps: c.normEps,
      normBeforeGate: c.normBeforeGate,
    });
  } else if (c.gate) {
    g = g.gate({ id: 'gate', z: 'zxbcdt.z' });
  }
  const built = g
    .outProj({
      id: 'out_proj',
      outFeatures: c.dModel,
      bias: c.bias,
      ...(dMlp > 0 ? { mlp: { z: 'zxbcdt.z0', x: 'zxbcdt.x0' } } : {}),
    })
    .output({ id: 'out' })
    .build({
      name,
      className: o.className ?? pascalCase(name),
      dtype: c.dtype,
      // layer and dSsm only when set, so the seed-style graphs (and their hashes) stay as they were
      config: {
        ...c,
        ...(o.layer !== undefined && o.layer !== 'Mamba2Simple' ? { layer: o.layer } : {}),
        ...(o.dSsm !== undefined && o.dSsm !== null ? { dSsm } : {}),
      },
      codegen: launchOptions(o),
    });
  // Every node was drawn here, but the user wrote one call: point them all at it.
  const sourceMap = loc ? Object.fromEntries(Object.keys(built.sourceMap).map((k) => [k, loc])) : {};
  return Object.freeze({
    kind: 'ModelDef' as const,
    origin: 'mamba2' as const,
    graph: built.graph,
    sourceMap: Object.freeze(sourceMap),
    launch: built.launch,
    rebuild: (next: ModelOverrides) => buildMamba2(original, loc, { ...overrides, ...next }),
  });
}
