import type { LaunchOptions } from '../ir/launch.ts';
import {
  SCAN_ORDERS,
  type LinearMlpPrefix,
  type Graph,
  type ImageSize,
  type Node,
  type Ref,
  type ScanDirections,
  type SourceLoc,
  type SourceMap,
} from '../ir/nodes.ts';
import { captureCallSite } from '../location.ts';
import { GRAPH_LOC_KEY, deepFreeze, type ModelDef, type ModelOverrides } from '../model.ts';
import {
  ChunkSizeConflictError,
  DuplicateNodeIdError,
  GraphStructureError,
  InvalidNodeIdError,
  LinearInFeaturesError,
  ImageSizeError,
  OverrideUnsupportedError,
  ScanDirectionsError,
  ShapeMismatchError,
  SplitSizesError,
  UnknownRefError,
} from '../validate/errors.ts';
import { validateModel } from '../validate/validate.ts';
import { nameFromFile, pascalCase } from './defaults.ts';
import {
  BUILD_KEYS,
  CONV1D_KEYS,
  CONV2D_KEYS,
  DEFAULT_ID,
  DSKIP_KEYS,
  DT_KEYS,
  GATE_KEYS,
  ID_RE,
  INPUT_KEYS,
  LINEAR_KEYS,
  OUTPUT_KEYS,
  RMSNORM_KEYS,
  SCAN_KEYS,
  SCAN_PROJECTION_KEYS,
  SPLIT_KEYS,
  checkKeys,
  type BuildOptions,
  type CausalConv1dOptions,
  type DSkipOptions,
  type DepthwiseConv2dOptions,
  type DtTransformOptions,
  type GateOptions,
  type LinearOptions,
  type NodeOptions,
  type OutputOptions,
  type RMSNormOptions,
  type ScanProjectionOptions,
  type SplitOptions,
  type SsdScanOptions,
} from './options.ts';

// The option types stay importable from here, where callers have found them.
export type {
  BuildOptions,
  CausalConv1dOptions,
  DSkipOptions,
  DepthwiseConv2dOptions,
  DtTransformOptions,
  GateOptions,
  LinearOptions,
  OutputOptions,
  RMSNormOptions,
  ScanProjectionOptions,
  SplitOptions,
  SsdScanOptions,
} from './options.ts';

interface State {
  readonly nodes: readonly Node[];
  readonly sourceMap: SourceMap;
  /** Features of every Ref produced so far. */
  readonly features: Readonly<Record<Ref, number>>;
  /** chunkSize given to ssdScan (a launch setting, see SsdScanOptions.chunkSize). */
  readonly chunkSize?: number;
  /** The previous node's single output, the default input of the next op. */
  readonly last: Ref | null;
}

/**
 * An immutable graph under construction. Every op returns a new builder and
 * leaves this one as it was, so a prefix can be shared between variants:
 *
 * ```ts
 * const stem = graph().input({ features: 256 }).linear({ param: 'in_proj', outFeatures: 1296 });
 * const a = stem.split({ parts: [...] }); // stem is unchanged
 * ```
 */
export class GraphBuilder {
  readonly #s: State;

  /** Use `graph()`. */
  private constructor(state: State) {
    this.#s = state;
  }

  /** @internal */
  static empty(): GraphBuilder {
    return new GraphBuilder({ nodes: [], sourceMap: {}, features: {}, last: null });
  }

  /** The nodes so far (frozen). */
  get nodes(): readonly Node[] {
    return this.#s.nodes;
  }

  /** The features of a Ref produced so far, or undefined. */
  featuresOf(ref: Ref): number | undefined {
    return this.#s.features[ref];
  }

  /**
   * The block input u: (batch, seqlen, features).
   * `graph().input({ features: 256 })` -> the module's `forward(u)`.
   */
  input(opts: NodeOptions & { readonly features: number; readonly image?: ImageSize }): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'input', INPUT_KEYS);
    if (this.#s.nodes.length > 0) {
      throw new GraphStructureError({
        what: `input() called after ${this.#s.nodes.length} node(s)`,
        value: 'Input',
        fix: 'Start the chain with graph().input({ features }) and call input() once.',
        loc,
      });
    }
    const id = this.#id('Input', opts.id, loc);
    const image = opts.image === undefined ? {} : { image: { height: opts.image.height, width: opts.image.width } };
    return this.#add({ kind: 'Input', id, features: opts.features, ...image }, loc, { [id]: opts.features }, id);
  }

  /**
   * y = x W^T (+ b), weights `${param}.weight`.
   * `.linear({ param: 'in_proj', outFeatures: 1296 })` -> an `nn.Linear` (cuBLAS matmul, no Triton kernel).
   */
  linear(opts: LinearOptions): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'linear', LINEAR_KEYS);
    const id = this.#id('Linear', opts.id ?? (ID_RE.test(opts.param) ? opts.param : undefined), loc);
    const input = this.#input(opts.input, 'linear', loc);
    let have = this.#features(input, loc);
    let mlpPrefix: LinearMlpPrefix | undefined;
    if (opts.mlp !== undefined) {
      const zf = this.#features(opts.mlp.z, loc);
      const xf = this.#features(opts.mlp.x, loc);
      if (zf !== xf) {
        throw new LinearInFeaturesError({
          what: `linear '${id}' mlp z '${opts.mlp.z}' has ${zf} features but x '${opts.mlp.x}' has ${xf}`,
          value: xf,
          fix: 'Give the gated MLP a z and an x of the same width (both d_inner - d_ssm).',
          loc,
          nodeId: id,
          props: ['mlp'],
        });
      }
      mlpPrefix = { gate: opts.mlp.z, value: opts.mlp.x, features: zf };
      have += zf;
    }
    if (opts.inFeatures !== undefined && opts.inFeatures !== have) {
      throw new LinearInFeaturesError({
        what: `linear '${id}' has inFeatures ${opts.inFeatures} but its input '${input}' has ${have} features`,
        value: opts.inFeatures,
        fix: `Use inFeatures ${have} (or leave it out), or feed it a Ref with ${opts.inFeatures} features.`,
        loc,
        nodeId: id,
        props: ['inFeatures'],
      });
    }
    return this.#add(
      {
        kind: 'Linear', id, input, param: opts.param, inFeatures: have, outFeatures: opts.outFeatures, bias: opts.bias ?? false,
        ...(mlpPrefix !== undefined ? { mlpPrefix } : {}),
      },
      loc,
      { [id]: opts.outFeatures },
      id,
    );
  }

  /** The output projection: `linear({ param: 'out_proj', ... })`. `.outProj({ outFeatures: 256 })`. */
  outProj(opts: Omit<LinearOptions, 'param'> & { readonly param?: string }): GraphBuilder {
    checkKeys(opts, captureCallSite(), 'outProj', LINEAR_KEYS);
    return this.linear({ ...opts, param: opts.param ?? 'out_proj' });
  }

  /**
   * Splits the last axis into named parts; later ops read `'<id>.<name>'`.
   * `.split({ id: 'zxbcdt', parts: [{ name: 'z', size: 512 }, { name: 'xBC', size: 768 }, { name: 'dt', size: 8 }] })`
   * -> tensor views in the module (`torch.split`), no copy.
   */
  split(opts: SplitOptions): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'split', SPLIT_KEYS);
    const id = this.#id('Split', opts.id, loc);
    const input = this.#input(opts.input, 'split', loc);
    const have = this.#features(input, loc);
    const sum = opts.parts.reduce((a, p) => a + p.size, 0);
    if (sum !== have) {
      throw new SplitSizesError({
        what: `split '${id}' parts [${opts.parts.map((p) => `${p.name}: ${p.size}`).join(', ')}] sum to ${sum}, but '${input}' has ${have} features`,
        value: sum,
        fix: `Make the part sizes add up to ${have}.`,
        loc,
        nodeId: id,
        props: ['parts'],
      });
    }
    const seen = new Set<string>();
    const features: Record<Ref, number> = {};
    for (const p of opts.parts) {
      if (!ID_RE.test(p.name) || seen.has(p.name)) {
        throw new InvalidNodeIdError({
          what: `split '${id}' part name '${p.name}' is ${seen.has(p.name) ? 'used twice' : 'not an identifier'}`,
          value: p.name,
          fix: 'Give each part a distinct identifier name, e.g. "z", "xBC", "dt".',
          loc,
          nodeId: id,
          props: ['parts'],
        });
      }
      seen.add(p.name);
      features[`${id}.${p.name}`] = p.size;
    }
    const parts = opts.parts.map((p) => ({ name: p.name, size: p.size }));
    return this.#add({ kind: 'Split', id, input, parts }, loc, features, null);
  }

  /**
   * Depthwise causal conv over time, then the activation.
   * `.causalConv1d({ input: 'zxbcdt.xBC', width: 4, activation: 'silu' })` -> `kernels/conv.py`
   * (one Triton program per (batch, BLOCK_L, BLOCK_C) tile, width unrolled as a constexpr).
   */
  causalConv1d(opts: CausalConv1dOptions): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'causalConv1d', CONV1D_KEYS);
    const id = this.#id('CausalConv1d', opts.id, loc);
    const input = this.#input(opts.input, 'causalConv1d', loc);
    const channels = this.#features(input, loc);
    return this.#add(
      {
        kind: 'CausalConv1d',
        id,
        input,
        param: opts.param ?? 'conv1d',
        channels,
        width: opts.width,
        bias: opts.bias ?? true,
        activation: opts.activation ?? 'silu',
        init: opts.init ?? null,
      },
      loc,
      { [id]: channels },
      id,
    );
  }

  /**
   * Depthwise 2-D conv over the input's image (non-causal, padding 'same'), then the activation.
   * `.depthwiseConv2d({ input: 'xz.x', kernelSize: 3 })` -> `kernels/conv2d.py` (one Triton program
   * per (batch, BLOCK_L tokens, BLOCK_C channels) tile, the k x k taps unrolled as constexprs).
   */
  depthwiseConv2d(opts: DepthwiseConv2dOptions = {}): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'depthwiseConv2d', CONV2D_KEYS);
    const id = this.#id('DepthwiseConv2d', opts.id, loc);
    const input = this.#input(opts.input, 'depthwiseConv2d', loc);
    const channels = this.#features(input, loc);
    if (this.#image() === undefined) {
      throw new ImageSizeError({
        what: `depthwiseConv2d '${id}' convolves an image, but the input has no image size`,
        value: null,
        fix: 'Start with graph().input({ features, image: { height, width } }), or use causalConv1d for a sequence.',
        loc,
        nodeId: id,
        props: ['kernelSize'],
      });
    }
    return this.#add(
      {
        kind: 'DepthwiseConv2d',
        id,
        input,
        param: opts.param ?? 'conv2d',
        channels,
        kernelSize: opts.kernelSize ?? 3,
        bias: opts.bias ?? true,
        activation: opts.activation ?? 'silu',
        init: opts.init ?? null,
      },
      loc,
      { [id]: channels },
      id,
    );
  }

  /**
   * The per-order dt, B, C of a multi-order scan (VMamba's x_proj, one weight per order).
   * `.scanProjection({ directions: 'cross2d', nheads: 4, ngroups: 1, dState: 16 })` -> outputs
   * `'x_proj.dt'`, `'x_proj.B'`, `'x_proj.C'`; one batched matmul in the module (torch.einsum).
   */
  scanProjection(opts: ScanProjectionOptions): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'scanProjection', SCAN_PROJECTION_KEYS);
    const id = this.#id('ScanProjection', opts.id, loc);
    const input = this.#input(opts.input, 'scanProjection', loc);
    const inFeatures = this.#features(input, loc);
    const orders = this.#orders(opts.directions, loc, id);
    const gn = opts.ngroups * opts.dState;
    return this.#add(
      {
        kind: 'ScanProjection',
        id,
        input,
        param: opts.param ?? 'x_proj',
        inFeatures,
        orders,
        nheads: opts.nheads,
        ngroups: opts.ngroups,
        dState: opts.dState,
      },
      loc,
      { [`${id}.dt`]: orders * opts.nheads, [`${id}.B`]: orders * gn, [`${id}.C`]: orders * gn },
      null,
    );
  }

  /**
   * dt = clamp(softplus(dt_raw + dt_bias), lo, hi), one value per head (the input's features).
   * `.dtTransform({ input: 'zxbcdt.dt', limit: [0, null] })` -> `kernels/dt.py`, or folded into the scan prologue.
   */
  dtTransform(opts: DtTransformOptions = {}): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'dtTransform', DT_KEYS);
    const id = this.#id('DtTransform', opts.id, loc);
    const input = this.#input(opts.input, 'dtTransform', loc);
    const nheads = this.#features(input, loc);
    const [lo, hi] = opts.limit ?? [0, null];
    return this.#add(
      {
        kind: 'DtTransform',
        id,
        input,
        nheads,
        bias: opts.bias ?? true,
        softplus: opts.softplus ?? true,
        limit: [lo, hi === null || hi === Infinity ? null : hi],
        dtMin: opts.dtMin ?? 0.001,
        dtMax: opts.dtMax ?? 0.1,
        dtInitFloor: opts.dtInitFloor ?? 1e-4,
      },
      loc,
      { [id]: nheads },
      id,
    );
  }

  /**
   * The SSD scan; nheads comes from `dt`'s features.
   * `.ssdScan({ x: 'xBC.x', dt: 'dt', B: 'xBC.B', C: 'xBC.C', headdim: 64, ngroups: 1, dState: 128 })`
   * -> `kernels/ssd_fused.py` (one launch, state kept on chip, `tl.dot` on BLOCK_Q x BLOCK_P tiles).
   */
  ssdScan(opts: SsdScanOptions): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'ssdScan', SCAN_KEYS);
    const id = this.#id('SsdScan', opts.id, loc);
    const fx = this.#features(opts.x, loc);
    const orders = this.#orders(opts.directions ?? 'forward', loc, id);
    const fdt = this.#features(opts.dt, loc);
    const nheads = fdt / orders;
    const fB = this.#features(opts.B, loc);
    const fC = this.#features(opts.C, loc);
    const expect = (what: string, ref: Ref, have: number, want: number, fix: string, prop: string): void => {
      if (have === want) return;
      throw new ShapeMismatchError({
        what: `ssdScan '${id}': ${what} '${ref}' has ${have} features, expected ${want}`,
        value: have,
        fix,
        loc,
        nodeId: id,
        props: [prop],
      });
    };
    if (!Number.isInteger(nheads)) {
      expect('dt', opts.dt, fdt, orders * Math.max(1, Math.round(nheads)), `dt must have orders*nheads features (${orders} orders for directions '${opts.directions}'); feed it a scanProjection's dt.`, 'directions');
    }
    const per = orders === 1 ? '' : `${orders} orders * `;
    expect('x', opts.x, fx, nheads * opts.headdim, `x must have nheads*headdim = ${nheads}*${opts.headdim} features; change headdim or the split sizes.`, 'headdim');
    expect('B', opts.B, fB, orders * opts.ngroups * opts.dState, `B must have ${per}ngroups*dState = ${per}${opts.ngroups}*${opts.dState} features; change dState/ngroups or the split sizes.`, 'dState');
    expect('C', opts.C, fC, orders * opts.ngroups * opts.dState, `C must have ${per}ngroups*dState = ${per}${opts.ngroups}*${opts.dState} features; change dState/ngroups or the split sizes.`, 'dState');
    return this.#add(
      {
        kind: 'SsdScan',
        id,
        x: opts.x,
        dt: opts.dt,
        B: opts.B,
        C: opts.C,
        nheads,
        headdim: opts.headdim,
        ngroups: opts.ngroups,
        dState: opts.dState,
        aInitRange: [opts.aInitRange?.[0] ?? 1, opts.aInitRange?.[1] ?? 16],
        learnableInitStates: opts.learnableInitStates ?? false,
        // absent for 'forward', so a sequence model's IR (and hash) is what it always was
        ...(opts.directions !== undefined && opts.directions !== 'forward' ? { directions: opts.directions } : {}),
      },
      loc,
      { [id]: fx },
      id,
      opts.chunkSize ?? this.#s.chunkSize,
    );
  }

  /**
   * y + D * x, D per head (or per head and channel).
   * `.dSkip({ x: 'xBC.x', headdim: 64 })` -> the scan kernel's epilogue (`HAS_D`, `D_PER_CHANNEL` constexprs).
   */
  dSkip(opts: DSkipOptions): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'dSkip', DSKIP_KEYS);
    const id = this.#id('DSkip', opts.id, loc);
    const y = this.#input(opts.y, 'dSkip', loc);
    const fy = this.#features(y, loc);
    const fx = this.#features(opts.x, loc);
    if (fy !== fx || fx % opts.headdim !== 0) {
      throw new ShapeMismatchError({
        what: `dSkip '${id}': y '${y}' has ${fy} features and x '${opts.x}' has ${fx}; both must equal nheads*headdim with headdim ${opts.headdim}`,
        value: fx,
        fix: 'Feed dSkip the scan output and the x it scanned, with the scan\'s headdim.',
        loc,
        nodeId: id,
        props: ['headdim', 'x'],
      });
    }
    // one D per order when y is a multi-order scan
    const scanNode = this.#s.nodes.find((n) => n.kind === 'SsdScan' && n.id === y);
    const orders = scanNode?.kind === 'SsdScan' && scanNode.directions !== undefined ? SCAN_ORDERS[scanNode.directions] : 1;
    return this.#add(
      {
        kind: 'DSkip', id, y, x: opts.x, nheads: fx / opts.headdim, headdim: opts.headdim, perChannel: opts.perChannel ?? false,
        ...(orders !== 1 ? { orders } : {}),
      },
      loc,
      { [id]: fx },
      id,
    );
  }

  /** y * silu(z). `.gate({ z: 'zxbcdt.z' })` -> the scan kernel's epilogue (`HAS_Z`). */
  gate(opts: GateOptions): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'gate', GATE_KEYS);
    const id = this.#id('Gate', opts.id, loc);
    const y = this.#input(opts.y, 'gate', loc);
    const fy = this.#features(y, loc);
    const fz = this.#features(opts.z, loc);
    if (fy !== fz) {
      throw new ShapeMismatchError({
        what: `gate '${id}': y '${y}' has ${fy} features but z '${opts.z}' has ${fz}`,
        value: fz,
        fix: 'Gate with a z of the same width as y (d_inner).',
        loc,
        nodeId: id,
        props: ['z'],
      });
    }
    return this.#add({ kind: 'Gate', id, y, z: opts.z }, loc, { [id]: fy }, id);
  }

  /**
   * (Gated) RMSNorm, weights `${param}.weight`.
   * `.rmsNorm({ z: 'zxbcdt.z', groupSize: 512 })` -> `kernels/norm.py` (one program per row and group).
   */
  rmsNorm(opts: RMSNormOptions = {}): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'rmsNorm', RMSNORM_KEYS);
    const id = this.#id('RMSNorm', opts.id, loc);
    const y = this.#input(opts.y, 'rmsNorm', loc);
    const fy = this.#features(y, loc);
    const z = opts.z ?? null;
    if (z !== null) {
      const fz = this.#features(z, loc);
      if (fz !== fy) {
        throw new ShapeMismatchError({
          what: `rmsNorm '${id}': y '${y}' has ${fy} features but z '${z}' has ${fz}`,
          value: fz,
          fix: 'Gate the norm with a z of the same width as y (d_inner), or pass z: null.',
          loc,
          nodeId: id,
          props: ['z'],
        });
      }
    }
    return this.#add(
      {
        kind: 'RMSNorm',
        id,
        y,
        z,
        param: opts.param ?? 'norm',
        features: fy,
        groupSize: opts.groupSize ?? fy,
        eps: opts.eps ?? 1e-5,
        normBeforeGate: opts.normBeforeGate ?? false,
      },
      loc,
      { [id]: fy },
      id,
    );
  }

  /** The block output. `.output()` -> what `forward` returns. */
  output(opts: OutputOptions = {}): GraphBuilder {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'output', OUTPUT_KEYS);
    const id = this.#id('Output', opts.id, loc);
    const input = this.#input(opts.input, 'output', loc);
    const features = this.#features(input, loc);
    return this.#add({ kind: 'Output', id, input, features }, loc, {}, null);
  }

  /**
   * Freezes the graph into a ModelDef (validated; errors point at the op that caused them).
   * `graph().input(...)...output().build({ codegen: { scanWarps: 8 } })` (launch settings: beside the graph, not in it)..
   */
  build(opts: BuildOptions = {}): ModelDef {
    const loc = captureCallSite();
    checkKeys(opts, loc, 'build', BUILD_KEYS);
    return buildModel(this.#s, opts, loc, {});
  }

  #id(kind: Node['kind'], wanted: string | undefined, loc: SourceLoc | null): string {
    const taken = (id: string) => this.#s.nodes.some((n) => n.id === id);
    if (wanted !== undefined) {
      if (!ID_RE.test(wanted)) {
        throw new InvalidNodeIdError({
          what: `node id '${wanted}' is not an identifier`,
          value: wanted,
          fix: 'Use letters, digits and underscores, starting with a letter (e.g. "in_proj").',
          loc,
          props: ['id'],
        });
      }
      if (taken(wanted)) {
        throw new DuplicateNodeIdError({
          what: `node id '${wanted}' is already used`,
          value: wanted,
          fix: 'Give each node a distinct id, or leave id out for a generated one.',
          loc,
          props: ['id'],
        });
      }
      return wanted;
    }
    const base = DEFAULT_ID[kind];
    if (!taken(base)) return base;
    for (let i = 2; ; i++) if (!taken(`${base}_${i}`)) return `${base}_${i}`;
  }

  #image(): ImageSize | undefined {
    const first = this.#s.nodes[0];
    return first?.kind === 'Input' ? first.image : undefined;
  }

  #orders(directions: ScanDirections, loc: SourceLoc | null, id: string): number {
    const k = (SCAN_ORDERS as Readonly<Record<string, number>>)[directions];
    if (k === undefined || !Object.hasOwn(SCAN_ORDERS, directions)) {
      throw new ScanDirectionsError({
        what: `directions ${JSON.stringify(directions)} is not a scan order`,
        value: directions,
        fix: "Use directions 'forward' (the default: one causal scan), 'bidirectional' (the tokens and their reverse, 2 orders) or 'cross2d' (the image's rows and columns, each both ways: 4 orders).",
        loc,
        nodeId: id,
        props: ['directions'],
      });
    }
    return k;
  }

  #input(ref: Ref | undefined, op: string, loc: SourceLoc | null): Ref {
    if (this.#s.nodes.some((n) => n.kind === 'Output')) {
      throw new GraphStructureError({
        what: `${op}() called after output()`,
        value: op,
        fix: 'Make output() the last op before build().',
        loc,
      });
    }
    const r = ref ?? this.#s.last;
    if (r === null) {
      throw new UnknownRefError({
        what: `${op}() has no input: the previous node ${this.#s.nodes.length === 0 ? 'does not exist' : 'is a Split with named parts'}`,
        value: null,
        fix: this.#s.nodes.length === 0 ? 'Start with graph().input({ features }).' : `Name the part to read, e.g. input: '${this.#s.nodes.at(-1)!.id}.<part>'.`,
        loc,
      });
    }
    return r;
  }

  #features(ref: Ref, loc: SourceLoc | null): number {
    const f = this.#s.features[ref];
    if (f === undefined) {
      const known = Object.keys(this.#s.features);
      throw new UnknownRefError({
        what: `'${ref}' is not an output of any earlier node`,
        value: ref,
        fix: `Use one of: ${known.length ? known.join(', ') : '(none yet: start with input())'}.`,
        loc,
      });
    }
    return f;
  }

  #add(node: Node, loc: SourceLoc | null, features: Record<Ref, number>, last: Ref | null, chunkSize = this.#s.chunkSize): GraphBuilder {
    const s = this.#s;
    return new GraphBuilder(
      deepFreeze({
        nodes: [...s.nodes, deepFreeze(node)],
        sourceMap: loc ? { ...s.sourceMap, [node.id]: loc } : s.sourceMap,
        features: { ...s.features, ...features },
        last,
        ...(chunkSize !== undefined ? { chunkSize } : {}),
      }),
    );
  }
}

/**
 * Starts an empty graph.
 * ```ts
 * export default graph()
 *   .input({ features: 256 })
 *   .linear({ param: 'in_proj', outFeatures: 1288 })
 *   ...
 *   .output()
 *   .build();
 * ```
 */
export function graph(): GraphBuilder {
  return GraphBuilder.empty();
}

function buildModel(
  s: State,
  opts: BuildOptions,
  loc: SourceLoc | null,
  overrides: ModelOverrides,
): ModelDef {
  const outputs = s.nodes.filter((n) => n.kind === 'Output');
  if (outputs.length !== 1 || s.nodes[0]?.kind !== 'Input') {
    throw new GraphStructureError({
      what: `graph has ${s.nodes[0]?.kind === 'Input' ? 'an Input' : 'no Input first'} and ${outputs.length} Output node(s)`,
      value: outputs.length,
      fix: 'Start with input({ features }) and end with output() before build().',
      loc,
    });
  }
  const scanChunk = s.chunkSize;
  const askedChunk = opts.codegen?.chunkSize;
  if (askedChunk !== undefined && scanChunk !== undefined && askedChunk !== scanChunk) {
    throw new ChunkSizeConflictError({
      what: `codegen.chunkSize ${askedChunk} differs from the ssdScan chunkSize ${scanChunk}`,
      value: askedChunk,
      fix: 'Set the chunk size in one place (ssdScan chunkSize), or make both equal.',
      loc,
      props: ['codegen.chunkSize'],
    });
  }
  const chunkSize = scanChunk ?? askedChunk;
  const nodes = s.nodes;
  const name = opts.name ?? nameFromFile(loc?.file ?? s.sourceMap[s.nodes[0]!.id]?.file, 'mamba2_block');
  const input = nodes[0]!;
  const conv = nodes.find((n) => n.kind === 'CausalConv1d');
  const scan = nodes.find((n) => n.kind === 'SsdScan');
  const derived: Record<string, unknown> = {
    dModel: input.kind === 'Input' ? input.features : null,
    ...(scan?.kind === 'SsdScan'
      ? { dState: scan.dState, headdim: scan.headdim, ngroups: scan.ngroups, learnableInitStates: scan.learnableInitStates }
      : {}),
    ...(conv?.kind === 'CausalConv1d' ? { dConv: conv.width, convBias: conv.bias } : {}),
  };
  const g: Graph = {
    kind: 'Graph',
    name,
    className: opts.className ?? pascalCase(name),
    config: { ...derived, ...(opts.config ?? {}), dtype: opts.dtype ?? 'float32' },
    nodes,
    output: outputs[0]!.id,
  };
  const launch: LaunchOptions = { ...(opts.codegen ?? {}), ...(chunkSize !== undefined ? { chunkSize } : {}) };
  const sourceMap: SourceMap = loc ? { ...s.sourceMap, [GRAPH_LOC_KEY]: loc } : s.sourceMap;
  const model: ModelDef = deepFreeze({
    kind: 'ModelDef' as const,
    origin: 'builder' as const,
    graph: deepFreeze(g),
    sourceMap,
    launch,
    rebuild(o: ModelOverrides): ModelDef {
      if (o.headdim !== undefined) {
        throw new OverrideUnsupportedError({
          what: `headdim override ${o.headdim} cannot be applied to '${name}', a graph built node by node`,
          value: o.headdim,
          fix: 'Drop --headdim and change headdim (and the split sizes) in the builder calls, or write the model with mamba2({...}).',
          loc,
          props: ['headdim'],
        });
      }
      return buildModel(s, opts, loc, { ...overrides, ...o });
    },
  });
  validateModel(model);
  return model;
}
