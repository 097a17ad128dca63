import type { LaunchOptions } from '../ir/launch.ts';
import { SCAN_ORDERS, type Graph, type Node, type NodeKind, type NodeOf } from '../ir/nodes.ts';
import {
  AInitRangeError,
  ActivationError,
  BlockPError,
  ChunkSizeError,
  ClassNameError,
  Conv2dKernelError,
  ImageSizeError,
  MultiOrderInitStatesError,
  ScanDirectionsError,
  ScanOrdersError,
  ConvInitError,
  ConvWidthError,
  DStateError,
  DTypeError,
  DtInitFloorError,
  DtLimitError,
  DtRangeError,
  GateNormContradictionError,
  HeaddimRangeError,
  HeadsPerGroupError,
  NonPositiveIntegerError,
  NormEpsError,
  NormGroupSizeError,
  PackageNameError,
  ScanImplError,
  StagesError,
  TileError,
  WarpsError,
  NonFiniteNumberError,
  type DslError,
  type DslErrorInit,
} from './errors.ts';
import { classNameProblem, packageNameProblem, suggestPackageName } from './python-names.ts';

/** A rule's finding before it gets a location: the error class and its init. */
export type Finding = DslError;
type Init = Omit<DslErrorInit, 'loc'>;

export const isPow2 = (v: number): boolean => Number.isInteger(v) && v > 0 && (v & (v - 1)) === 0;
export const nextPow2 = (v: number): number => (v <= 1 ? 1 : 2 ** Math.ceil(Math.log2(v)));
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

export const DTYPES = ['float32', 'bfloat16', 'float16'] as const;
export const ACTIVATIONS = ['silu', 'identity'] as const;

/** Powers of two in [lo, hi] that divide n, nearest to `near` first. */
export function pow2Divisors(n: number, lo: number, hi: number, near: number): number[] {
  const out: number[] = [];
  for (let p = lo; p <= hi; p *= 2) if (n % p === 0) out.push(p);
  return out.sort((a, b) => Math.abs(Math.log2(a / near)) - Math.abs(Math.log2(b / near)) || a - b);
}
export function orList(xs: readonly (string | number)[]): string {
  if (xs.length <= 1) return String(xs[0] ?? '');
  return `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`;
}

/** Node field -> the positive-integer dims it must hold. */
const DIMS: { [K in NodeKind]: (n: NodeOf<K>) => [string, unknown][] } = {
  Input: (n) => [['features', n.features], ...(n.image !== undefined ? ([['image.height', n.image.height], ['image.width', n.image.width]] as [string, unknown][]) : [])],
  Linear: (n) => [['inFeatures', n.inFeatures], ['outFeatures', n.outFeatures]],
  Split: (n) => n.parts.map((p) => [`parts.${p.name}`, p.size]),
  CausalConv1d: (n) => [['channels', n.channels], ['width', n.width]],
  DepthwiseConv2d: (n) => [['channels', n.channels], ['kernelSize', n.kernelSize]],
  ScanProjection: (n) => [['inFeatures', n.inFeatures], ['orders', n.orders], ['nheads', n.nheads], ['ngroups', n.ngroups], ['dState', n.dState]],
  DtTransform: (n) => [['nheads', n.nheads]],
  SsdScan: (n) => [['nheads', n.nheads], ['headdim', n.headdim], ['ngroups', n.ngroups], ['dState', n.dState]],
  DSkip: (n) => [['nheads', n.nheads], ['headdim', n.headdim], ...(n.orders !== undefined ? ([['orders', n.orders]] as [string, unknown][]) : [])],
  Gate: () => [],
  RMSNorm: (n) => [['features', n.features], ['groupSize', n.groupSize]],
  Output: (n) => [['features', n.features]],
};

/**
 * The mamba2({...}) argument each node field comes from, so an error about
 * a node lands on the argument's line in the user's call.
 */
const MAMBA2_ARG: Readonly<Record<string, readonly string[]>> = {
  'Input.features': ['dModel'],
  'Input.image.height': ['height'],
  'Input.image.width': ['width'],
  'DepthwiseConv2d.kernelSize': ['dConv'],
  'DepthwiseConv2d.init': ['convInit'],
  'DepthwiseConv2d.activation': ['activation'],
  'SsdScan.directions': ['directions'],
  'SsdScan.learnableInitStates': ['learnableInitStates'],
  'CausalConv1d.width': ['dConv'],
  'CausalConv1d.init': ['convInit'],
  'CausalConv1d.activation': ['activation'],
  'CausalConv1d.channels': ['dState', 'ngroups', 'expand'],
  'DtTransform.dtMin': ['dtMin'],
  'DtTransform.dtMax': ['dtMax'],
  'DtTransform.dtInitFloor': ['dtInitFloor'],
  'DtTransform.limit': ['dtLimit'],
  'SsdScan.headdim': ['headdim'],
  'SsdScan.ngroups': ['ngroups'],
  'SsdScan.nheads': ['headdim', 'expand'],
  'SsdScan.dState': ['dState'],
  'SsdScan.aInitRange': ['aInitRange'],
  'DSkip.headdim': ['headdim'],
  'RMSNorm.groupSize': ['normGroupSize'],
  'RMSNorm.eps': ['normEps'],
  'RMSNorm.normBeforeGate': ['normBeforeGate', 'gate'],
};

function propsFor(kind: NodeKind, field: string): string[] {
  return [...(MAMBA2_ARG[`${kind}.${field}`] ?? []), field];
}

type Emit = (make: (init: DslErrorInit) => DslError, init: Init) => void;

function nodeRules(n: Node, g: Graph, emit: Emit): void {
  const at = (field: string) => ({ nodeId: n.id, props: propsFor(n.kind, field) });
  let dimsOk = true;
  for (const [field, v] of (DIMS[n.kind] as (n: Node) => [string, unknown][])(n)) {
    if (!isPosInt(v)) {
      dimsOk = false;
      const arg = MAMBA2_ARG[`${n.kind}.${field}`]?.[0] ?? field;
      emit((i) => new NonPositiveIntegerError(i), {
        what: `${arg} ${JSON.stringify(v)} (${n.kind} '${n.id}' ${field}) is not a positive integer`,
        value: v,
        fix: `Use a whole number >= 1 for ${arg}.`,
        ...at(field),
      });
    }
  }
  if (!dimsOk) return;
  switch (n.kind) {
    case 'SsdScan': {
      if (n.nheads % n.ngroups !== 0) {
        const ok = [1, 2, 4, 8, 16].filter((g2) => n.nheads % g2 === 0 && g2 <= n.nheads);
        emit((i) => new HeadsPerGroupError(i), {
          what: `nheads ${n.nheads} is not a multiple of ngroups ${n.ngroups}`,
          value: n.ngroups,
          fix: `Use ngroups ${orList(ok)} (a divisor of nheads = d_inner / headdim).`,
          ...at('ngroups'),
        });
      }
      if (n.headdim < 16 || n.headdim > 256) {
        const d = n.nheads * n.headdim;
        emit((i) => new HeaddimRangeError(i), {
          what: `headdim ${n.headdim} is outside 16..256 (tl.dot needs tiles of at least 16)`,
          value: n.headdim,
          fix: `Use headdim ${orList(pow2Divisors(d, 16, 256, n.headdim).slice(0, 2))}, which divide d_inner ${d}.`,
          ...at('headdim'),
        });
      }
      if (n.dState < 16 || n.dState > 256 || n.dState % 8 !== 0) {
        const near = Math.min(256, Math.max(16, Math.round(n.dState / 8) * 8));
        emit((i) => new DStateError(i), {
          what: `dState ${n.dState} is not a multiple of 8 in 16..256`,
          value: n.dState,
          fix: `Use dState ${near} (or 64, 128).`,
          ...at('dState'),
        });
      }
      const [lo, hi] = n.aInitRange;
      if (!isNum(lo) || !isNum(hi) || !(lo > 0) || !(lo <= hi) || !Number.isFinite(hi)) {
        emit((i) => new AInitRangeError(i), {
          what: `aInitRange [${lo}, ${hi}] is not 0 < lo <= hi (A = -exp(A_log) needs A > 0 to take the log)`,
          value: [lo, hi],
          fix: 'Use aInitRange [1, 16] (the default) or another finite range with 0 < lo <= hi.',
          ...at('aInitRange'),
        });
      }
      const dir = n.directions;
      if (dir !== undefined) {
        if (dir !== 'bidirectional' && dir !== 'cross2d') {
          emit((i) => new ScanDirectionsError(i), {
            what: `directions ${JSON.stringify(dir)} is not a scan order`,
            value: dir,
            fix: "Use directions 'forward' (the default: one causal scan), 'bidirectional' (the tokens and their reverse, 2 orders) or 'cross2d' (the image's rows and columns, each both ways: 4 orders).",
            ...at('directions'),
          });
          return;
        }
        if (dir === 'cross2d' && imageOf(g) === undefined) {
          emit((i) => new ImageSizeError(i), {
            what: `directions 'cross2d' on scan '${n.id}' walks the image's columns, but the input has no image size`,
            value: dir,
            fix: 'Give the input its image: input({ features, image: { height, width } }) (visionMamba2 takes height and width), or use directions \'bidirectional\'.',
            ...at('directions'),
          });
        }
        if (n.learnableInitStates) {
          emit((i) => new MultiOrderInitStatesError(i), {
            what: `learnableInitStates true on scan '${n.id}' with directions '${dir}': the orders start at different tokens and the cross scan takes no initial state`,
            value: true,
            fix: "Drop learnableInitStates (zero initial states), or use directions 'forward'.",
            ...at('learnableInitStates'),
          });
        }
      }
      return;
    }
    case 'DepthwiseConv2d': {
      if (n.kernelSize % 2 !== 1 || n.kernelSize > 7) {
        const near = Math.min(7, n.kernelSize % 2 === 1 ? n.kernelSize : n.kernelSize + 1);
        emit((i) => new Conv2dKernelError(i), {
          what: `conv2d kernel size ${n.kernelSize} is not odd in 1..7 (padding 'same' keeps the image size only with an odd kernel)`,
          value: n.kernelSize,
          fix: `Use dConv ${near} (3 is VMamba's).`,
          ...at('kernelSize'),
        });
      }
      if (imageOf(g) === undefined) {
        emit((i) => new ImageSizeError(i), {
          what: `depthwiseConv2d '${n.id}' convolves an image, but the input has no image size`,
          value: null,
          fix: 'Give the input its image: input({ features, image: { height, width } }), or use causalConv1d for a sequence.',
          ...at('kernelSize'),
        });
      }
      if (!(ACTIVATIONS as readonly string[]).includes(n.activation)) {
        emit((i) => new ActivationError(i), {
          what: `activation '${n.activation}' is not known`,
          value: n.activation,
          fix: "Use 'silu' or 'identity'.",
          ...at('activation'),
        });
      }
      if (n.init !== null && !(isNum(n.init) && n.init > 0 && Number.isFinite(n.init))) {
        emit((i) => new ConvInitError(i), {
          what: `convInit ${n.init} is not a positive finite number`,
          value: n.init,
          fix: 'Use convInit null (PyTorch default init) or a bound like 0.1.',
          ...at('init'),
        });
      }
      return;
    }
    case 'ScanProjection': {
      const scan = g.nodes.find((m): m is NodeOf<'SsdScan'> => m.kind === 'SsdScan' && (m.B === `${n.id}.B` || m.C === `${n.id}.C`));
      const want = scan === undefined ? undefined : SCAN_ORDERS[scan.directions ?? 'forward'];
      if (want !== undefined && want !== n.orders) {
        emit((i) => new ScanOrdersError(i), {
          what: `scanProjection '${n.id}' projects ${n.orders} order(s), but scan '${scan!.id}' (directions '${scan!.directions ?? 'forward'}') walks ${want}`,
          value: n.orders,
          fix: `Give the projection the scan's directions ('${scan!.directions ?? 'forward'}', ${want} orders).`,
          ...at('orders'),
        });
      }
      return;
    }
    case 'DSkip': {
      const scan = g.nodes.find((m): m is NodeOf<'SsdScan'> => m.kind === 'SsdScan' && m.id === n.y);
      const want = scan === undefined ? undefined : SCAN_ORDERS[scan.directions ?? 'forward'];
      if (want !== undefined && want !== (n.orders ?? 1)) {
        emit((i) => new ScanOrdersError(i), {
          what: `dSkip '${n.id}' has ${n.orders ?? 1} D per head, but scan '${scan!.id}' walks ${want} orders (one D each)`,
          value: n.orders ?? 1,
          fix: `Use orders ${want} on the dSkip (the builder's dSkip sets it from the scan it reads).`,
          ...at('orders'),
        });
      }
      return;
    }
    case 'CausalConv1d': {
      if (n.width < 2 || n.width > 8) {
        emit((i) => new ConvWidthError(i), {
          what: `conv width ${n.width} is outside 2..8`,
          value: n.width,
          fix: `Use a width from 2 to 8 (dConv ${Math.min(8, Math.max(2, n.width))}; the default is 4).`,
          ...at('width'),
        });
      }
      if (!(ACTIVATIONS as readonly string[]).includes(n.activation)) {
        emit((i) => new ActivationError(i), {
          what: `activation '${n.activation}' is not known`,
          value: n.activation,
          fix: "Use 'swish' (= 'silu') or 'identity'.",
          ...at('activation'),
        });
      }
      if (n.init !== null && !(isNum(n.init) && n.init > 0 && Number.isFinite(n.init))) {
        emit((i) => new ConvInitError(i), {
          what: `convInit ${n.init} is not a positive finite number`,
          value: n.init,
          fix: 'Use convInit null (PyTorch default init) or a bound like 0.1.',
          ...at('init'),
        });
      }
      return;
    }
    case 'DtTransform': {
      if (!isNum(n.dtMin) || !isNum(n.dtMax) || !(n.dtMin > 0) || !(n.dtMin <= n.dtMax)) {
        emit((i) => new DtRangeError(i), {
          what: `dtMin ${n.dtMin} and dtMax ${n.dtMax} do not satisfy 0 < dtMin <= dtMax`,
          value: [n.dtMin, n.dtMax],
          fix: n.dtMin > n.dtMax ? `Swap them (dtMin ${n.dtMax}, dtMax ${n.dtMin}) or use the defaults 0.001 and 0.1.` : 'Use a positive dtMin, e.g. the default 0.001.',
          ...at(!(n.dtMin > 0) ? 'dtMin' : 'dtMax'),
        });
      }
      if (!isNum(n.dtInitFloor) || !(n.dtInitFloor > 0)) {
        emit((i) => new DtInitFloorError(i), {
          what: `dtInitFloor ${n.dtInitFloor} is not positive`,
          value: n.dtInitFloor,
          fix: 'Use dtInitFloor 1e-4 (the default) or another small positive number.',
          ...at('dtInitFloor'),
        });
      }
      const [lo, hi] = n.limit;
      if (!isNum(lo) || !Number.isFinite(lo) || lo < 0 || (hi !== null && !(isNum(hi) && hi > lo))) {
        emit((i) => new DtLimitError(i), {
          what: `dtLimit [${lo}, ${hi ?? 'Infinity'}] is not 0 <= lo < hi`,
          value: [lo, hi],
          fix: 'Use dtLimit [0, Infinity] (no clamp) or bounds like [0.001, 0.2].',
          ...at('limit'),
        });
      }
      return;
    }
    case 'RMSNorm': {
      if (n.features % n.groupSize !== 0) {
        emit((i) => new NormGroupSizeError(i), {
          what: `normGroupSize ${n.groupSize} does not divide the norm's ${n.features} features (d_inner)`,
          value: n.groupSize,
          fix: `Use normGroupSize ${orList(pow2Divisors(n.features, 8, n.features, n.groupSize).slice(0, 2))}, or leave it null (= d_inner).`,
          ...at('groupSize'),
        });
      }
      if (!isNum(n.eps) || !(n.eps > 0)) {
        emit((i) => new NormEpsError(i), {
          what: `norm eps ${n.eps} is not positive`,
          value: n.eps,
          fix: 'Use eps 1e-5 (the default).',
          ...at('eps'),
        });
      }
      if (n.z === null && n.normBeforeGate) {
        emit((i) => new GateNormContradictionError(i), {
          what: `normBeforeGate true on norm '${n.id}', which has no gate z`,
          value: true,
          fix: 'Drop normBeforeGate (it only orders norm and gate), or gate the norm with z (gate: true).',
          ...at('normBeforeGate'),
        });
      }
      return;
    }
    default:
      return;
  }
}

/** The image size of the graph's Input, if it has one. */
function imageOf(g: Graph): NodeOf<'Input'>['image'] {
  const input = g.nodes.find((m): m is NodeOf<'Input'> => m.kind === 'Input');
  return input?.image;
}

const WARPS = [1, 2, 4, 8];
const PARAM_PROPS = (k: keyof LaunchOptions) => ({ props: [`codegen.${k}`, k] });

/** Launch options (the model file's `codegen`/`chunkSize`, or gen flags): only the ones given are checked. */
function launchRules(p: LaunchOptions, g: Graph, emit: Emit): void {
  const scan = g.nodes.find((n): n is NodeOf<'SsdScan'> => n.kind === 'SsdScan');
  const headdim = scan?.headdim ?? 64;
  const maxP = Math.min(128, nextPow2(headdim));
  if (p.chunkSize !== undefined && !(isPow2(p.chunkSize) && p.chunkSize >= 16 && p.chunkSize <= 256)) {
    const near = (v: number) => Math.min(256, Math.max(16, v));
    const q = typeof p.chunkSize === 'number' && p.chunkSize > 0 ? p.chunkSize : 64;
    emit((i) => new ChunkSizeError(i), {
      what: `chunkSize ${JSON.stringify(p.chunkSize)} is not a power of two in 16..256`,
      value: p.chunkSize,
      fix: `Use chunkSize ${orList([...new Set([near(nextPow2(q) / 2), near(nextPow2(q))])])} (16, 32, 64, 128 or 256).`,
      props: ['chunkSize', 'codegen.chunkSize'],
    });
  }
  if (p.blockP !== undefined && !(p.blockP === 0 || (isPow2(p.blockP) && p.blockP >= 16 && p.blockP <= maxP))) {
    const ok = [0, ...[16, 32, 64, 128].filter((v) => v <= maxP)];
    emit((i) => new BlockPError(i), {
      what: `codegen blockP ${p.blockP} is not 0 (auto) or a power of two in 16..${maxP} (16..128 and at most next_pow2(headdim ${headdim}))`,
      value: p.blockP,
      fix: `Use blockP ${orList(ok)}.`,
      ...PARAM_PROPS('blockP'),
    });
  }
  if (p.blockQ !== undefined && !(isPow2(p.blockQ) && p.blockQ >= 16 && p.blockQ <= 256)) {
    emit((i) => new TileError(i), {
      what: `codegen blockQ ${p.blockQ} is not a power of two in 16..256`,
      value: p.blockQ,
      fix: 'Use blockQ 32 (the default), or 16, 64, 128 or 256.',
      ...PARAM_PROPS('blockQ'),
    });
  }
  for (const k of ['scanWarps', 'convWarps', 'normWarps'] as const) {
    const v = p[k];
    if (v !== undefined && !WARPS.includes(v)) {
      emit((i) => new WarpsError(i), {
        what: `codegen ${k} ${v} is not 1, 2, 4 or 8`,
        value: v,
        fix: `Use ${k} 4 (the default), or 1, 2 or 8.`,
        ...PARAM_PROPS(k),
      });
    }
  }
  if (p.scanStages !== undefined && !(Number.isInteger(p.scanStages) && p.scanStages >= 1 && p.scanStages <= 4)) {
    emit((i) => new StagesError(i), {
      what: `codegen scanStages ${p.scanStages} is not an integer in 1..4`,
      value: p.scanStages,
      fix: 'Use scanStages 2 (the default), or 1, 3 or 4.',
      ...PARAM_PROPS('scanStages'),
    });
  }
  for (const k of ['convBlockL', 'convBlockC'] as const) {
    const v = p[k];
    if (v !== undefined && (!isPow2(v) || v < 16 || v > 1024)) {
      emit((i) => new TileError(i), {
        what: `codegen ${k} ${v} is not a power of two in 16..1024`,
        value: v,
        fix: `Use ${k} ${Math.min(1024, Math.max(16, nextPow2(v || 64)))} (default 64).`,
        ...PARAM_PROPS(k),
      });
    }
  }
  if (p.scanImpl !== undefined && p.scanImpl !== 'fused' && p.scanImpl !== 'chunked') {
    emit((i) => new ScanImplError(i), {
      what: `codegen scanImpl '${String(p.scanImpl)}' is not known`,
      value: p.scanImpl,
      fix: "Use scanImpl 'fused' (one launch) or 'chunked' (several launches).",
      ...PARAM_PROPS('scanImpl'),
    });
  }
}

/** Every number in `v` that is NaN or +-Infinity, with its path ("aInitRange[1]"). */
function nonFinite(v: unknown, path: string): [string, number][] {
  if (typeof v === 'number') return Number.isFinite(v) ? [] : [[path, v]];
  if (Array.isArray(v)) return v.flatMap((x, i) => nonFinite(x, `${path}[${i}]`));
  if (v !== null && typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => nonFinite(x, path === '' ? k : `${path}.${k}`));
  }
  return [];
}

/**
 * NaN and Infinity have no Python literal and no meaning as a size, a range
 * or an eps: refuse them by the option's name, before any other rule reads
 * them. (+Infinity as dtLimit's upper bound is stored as null, so it passes.)
 */
function finiteRules(g: Graph, emit: Emit): boolean {
  const found: [string, number, Init][] = [];
  const say = (path: string, v: number, init: Omit<Init, 'what' | 'value' | 'fix'>) =>
    found.push([path, v, {
      ...init,
      what: `${path} ${v} is not a finite number`,
      value: String(v),
      fix: `Use a finite number for ${path} (NaN and Infinity have no meaning here and no Python literal), or leave the option out for its default.`,
    }]);
  const seen = new Set<string>();
  for (const [path, v] of nonFinite(g.config, '')) {
    seen.add(path);
    say(path, v, { props: [path.replace(/\[\d+\]$/, '')] });
  }
  for (const n of g.nodes) {
    for (const [field, v] of Object.entries(n)) {
      for (const [path, x] of nonFinite(v, field)) {
        const arg = MAMBA2_ARG[`${n.kind}.${field}`]?.[0];
        // mamba2() graphs name the option (config holds it: one message per value); builder graphs the node field.
        const shownPath = arg !== undefined && arg in g.config ? path.replace(field, arg) : `${n.id}.${path}`;
        if (seen.has(shownPath)) continue;
        seen.add(shownPath);
        say(shownPath, x, { nodeId: n.id, props: propsFor(n.kind, field) });
      }
    }
  }
  // launch options (codegen.*) are checked by launchRules: NaN or Infinity fails their integer rules
  for (const [, , init] of found) emit((i) => new NonFiniteNumberError(i), init);
  return found.length === 0;
}

function graphRules(g: Graph, emit: Emit): void {
  const nameProblem = packageNameProblem(g.name);
  if (nameProblem !== null) {
    emit((i) => new PackageNameError(i), {
      what: `package name '${g.name}' is ${nameProblem}`,
      value: g.name,
      fix: `Use name '${suggestPackageName(g.name)}' (lower case letters, digits, underscores; no leading digit; not a standard-library or dependency module).`,
      props: ['name'],
    });
  }
  const classProblem = classNameProblem(g.className);
  if (classProblem !== null) {
    emit((i) => new ClassNameError(i), {
      what: `className '${g.className}' is ${classProblem}`,
      value: g.className,
      fix: 'Use letters, digits and underscores, starting with a letter, e.g. "Mamba2Simple".',
      props: ['className'],
    });
  }
  const dtype = g.config['dtype'];
  if (!(DTYPES as readonly unknown[]).includes(dtype)) {
    emit((i) => new DTypeError(i), {
      what: `dtype ${JSON.stringify(dtype)} is not known`,
      value: dtype,
      fix: `Use dtype ${orList(DTYPES.map((d) => `'${d}'`))}.`,
      props: ['dtype'],
    });
  }
}

/** Every rule over a built graph, in a fixed order; findings carry nodeId/props but no loc yet. */
export function checkGraph(g: Graph): DslError[] {
  const out: DslError[] = [];
  const emit: Emit = (make, init) => out.push(make(init));
  // Later rules compare numbers; with a NaN among them their messages would mislead.
  if (!finiteRules(g, emit)) return out;
  graphRules(g, emit);
  for (const n of g.nodes) nodeRules(n, g, emit);
  return out;
}

/** Every rule over launch options for graph `g`; findings carry props but no loc yet. */
export function checkLaunch(p: LaunchOptions, g: Graph): DslError[] {
  const out: DslError[] = [];
  launchRules(p, g, (make, init) => out.push(make(init)));
  return out;
}
