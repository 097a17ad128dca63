import type { SourceLoc } from '../ir/nodes.ts';
import { formatLoc } from '../location.ts';

const BRAND = Symbol.for('@mamba2/dsl/DslError');

export interface DslErrorInit {
  /** What is wrong, with the values: "headdim 48 does not divide d_inner 512". */
  readonly what: string;
  /** The offending value (JSON-safe). */
  readonly value: unknown;
  /** How to fix it: "Use headdim 32 or 64, or change expand." */
  readonly fix: string;
  readonly loc?: SourceLoc | null;
  /** Node the rule looked at (its SourceMap entry gives the location). */
  readonly nodeId?: string | null;
  /**
   * Argument names the value came from, most specific first, as dotted paths
   * ("headdim", "codegen.blockP"); the front end moves `loc` to the line that
   * assigns the first one it finds in the user's call.
   */
  readonly props?: readonly string[];
}

/**
 * Base of every DSL error. The message is one line:
 * `<what> (<file>:<line>). <fix>`. Subclasses fix `rule`.
 */
export abstract class DslError extends Error {
  abstract readonly rule: string;
  what: string;
  readonly value: unknown;
  readonly fix: string;
  loc: SourceLoc | null;
  readonly nodeId: string | null;
  props: readonly string[];

  constructor(init: DslErrorInit) {
    super(compose(init.what, init.loc ?? null, init.fix));
    this.name = new.target.name;
    this.what = init.what;
    this.value = init.value;
    this.fix = init.fix;
    this.loc = init.loc ?? null;
    this.nodeId = init.nodeId ?? null;
    this.props = init.props ?? [];
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Points the error at `loc` (e.g. the exact property line) and rewrites the message. */
  locate(loc: SourceLoc | null): this {
    const old = this.message;
    this.loc = loc;
    this.message = compose(this.what, loc, this.fix);
    if (this.stack) this.stack = this.stack.replace(old, this.message);
    return this;
  }

  /**
   * The value came from somewhere other than the model file (a `pnpm gen`
   * flag): say so, and stop the front end pointing at the file's own line.
   */
  blame(source: string): this {
    this.what = `${this.what} (from ${source})`;
    this.props = [];
    return this.locate(this.loc);
  }
}

function compose(what: string, loc: SourceLoc | null, fix: string): string {
  const where = loc ? ` (${formatLoc(loc)})` : '';
  return `${what}${where}. ${fix}`.replace(/\s*\n\s*/g, ' ');
}

/** True for any DslError, even one from another copy of this module. */
export function isDslError(e: unknown): e is DslError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

function rule(name: string) {
  return class extends DslError {
    readonly rule = name;
  };
}

// One class per rule. `rule` is the stable id tests and tools match on.

// Dimensions and the maths.
export class NonPositiveIntegerError extends rule('positive-integer') {}
export class NonFiniteNumberError extends rule('finite-number') {}
export class HeaddimDividesError extends rule('headdim-divides-d-inner') {}
export class HeadsPerGroupError extends rule('nheads-multiple-of-ngroups') {}
export class ChunkSizeError extends rule('chunk-size-power-of-two-16-256') {}
export class HeaddimRangeError extends rule('headdim-16-256') {}
export class DStateError extends rule('d-state-16-256-multiple-of-8') {}
export class ConvWidthError extends rule('conv-width-2-8') {}
export class ConvInitError extends rule('conv-init-positive') {}
export class DtRangeError extends rule('dt-min-positive-and-at-most-dt-max') {}
export class DtInitFloorError extends rule('dt-init-floor-positive') {}
export class DtLimitError extends rule('dt-limit-ordered') {}
export class AInitRangeError extends rule('a-init-range-positive-ordered') {}
export class ActivationError extends rule('activation-known') {}
export class NormGroupSizeError extends rule('norm-group-size-divides') {}
export class NormEpsError extends rule('norm-eps-positive') {}
export class DTypeError extends rule('dtype-known') {}
export class GateNormContradictionError extends rule('no-gate-without-z') {}
export class ChunkSizeConflictError extends rule('chunk-size-consistent') {}

// Scans in other orders and the vision ops.
export class ScanDirectionsError extends rule('scan-directions-known') {}
export class ImageSizeError extends rule('image-size-needed') {}
export class Conv2dKernelError extends rule('conv2d-kernel-odd-1-7') {}
export class ScanOrdersError extends rule('scan-orders-match') {}
export class MultiOrderInitStatesError extends rule('multi-order-scan-no-initial-states') {}

// Codegen parameters.
export class BlockPError extends rule('block-p') {}
export class WarpsError extends rule('warps-1-2-4-8') {}
export class StagesError extends rule('stages-1-4') {}
export class TileError extends rule('tile-power-of-two') {}
export class ScanImplError extends rule('scan-impl-known') {}

// Names.
export class PackageNameError extends rule('package-name') {}
export class ClassNameError extends rule('class-name') {}

// Graph structure (the builder's shape checks).
export class UnknownRefError extends rule('ref-exists') {}
export class DuplicateNodeIdError extends rule('node-id-unique') {}
export class InvalidNodeIdError extends rule('node-id-identifier') {}
export class ShapeMismatchError extends rule('shape-match') {}
export class LinearInFeaturesError extends rule('linear-in-features') {}
export class SplitSizesError extends rule('split-sizes-sum') {}
export class GraphStructureError extends rule('graph-structure') {}

// Loading model files.
export class UnknownOptionError extends rule('option-known') {}
export class OverrideUnsupportedError extends rule('override-supported') {}
export class NoModelExportError extends rule('file-exports-model') {}
export class ModelImportError extends rule('model-file-runs') {}
export class ModelFileNotFoundError extends rule('model-file-exists') {}

export interface TsDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly code: number;
  readonly message: string;
}

/** TypeScript found errors in model files; `diagnostics` lists each one. */
export class ModelTypeError extends DslError {
  readonly rule = 'model-type-checks';
  readonly diagnostics: readonly TsDiagnostic[];
  constructor(diagnostics: readonly TsDiagnostic[]) {
    const first = diagnostics[0]!;
    const list = diagnostics.map((d) => `${d.file}:${d.line}:${d.column} TS${d.code}: ${d.message}`).join('; ');
    super({
      what: `${diagnostics.length} TypeScript error${diagnostics.length === 1 ? '' : 's'} in model files: ${list}`,
      value: diagnostics.length,
      fix: modelTypeFix(diagnostics),
      loc: { file: first.file, line: first.line, column: first.column },
    });
    this.diagnostics = diagnostics;
  }
}

/**
 * A model file outside the repository cannot resolve @mamba2/dsl: that is a
 * setup problem, not a type error, and needs its own fix.
 */
function modelTypeFix(diagnostics: readonly TsDiagnostic[]): string {
  const unresolved = diagnostics.find((d) => d.code === 2307 && /'@mamba2\//.test(d.message));
  if (unresolved !== undefined) {
    const pkg = /'(@mamba2\/[^'/]+)/.exec(unresolved.message)?.[1] ?? '@mamba2/dsl';
    return (
      `${unresolved.file} cannot find ${pkg}: model files outside the compiler's checkout need it linked next to them. ` +
      'Run `pnpm init-project <your folder>` in the checkout and put the model in <your folder>/models/ ' +
      '(or move the file into the checkout, e.g. examples/).'
    );
  }
  return 'Fix the types in the model file (the mamba2({...}) options are typed; see packages/dsl/src/mamba2.ts).';
}
