import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Project, ts, type SourceFile } from 'ts-morph';
import type { LaunchOptions } from '../ir/launch.ts';
import type { Graph, SourceLoc, SourceMap } from '../ir/nodes.ts';
import { hashGraph } from '../ir/hash.ts';
import { REPO_ROOT, repoRelative } from '../location.ts';
import { GRAPH_LOC_KEY, isModelDef, type ModelDef, type ModelOverrides } from '../model.ts';
import {
  ModelFileNotFoundError,
  ModelImportError,
  ModelTypeError,
  NoModelExportError,
  isDslError,
  type DslError,
  type TsDiagnostic,
} from '../validate/errors.ts';
import { validateModel } from '../validate/validate.ts';
import { refineLoc } from './locate.ts';

export interface LoadedModel {
  /** "default" or the exported name. */
  readonly exportName: string;
  /** Repo-relative path of the model file, forward slashes. */
  readonly file: string;
  readonly graph: Graph;
  readonly sourceMap: SourceMap;
  /** Launch settings the model file asks for (not hashed). */
  readonly launch: LaunchOptions;
  /** hashGraph(graph). */
  readonly hash: string;
}

export interface LoadOptions {
  /** `pnpm gen --headdim 32`. */
  readonly overrides?: ModelOverrides;
  /**
   * Where the overrides came from, as errors should name it (default: the
   * `pnpm gen` flag, "--headdim 48"); e.g. "the sweep grid's headdim 48".
   */
  readonly overrideSource?: { readonly headdim?: string; readonly chunkSize?: string };
}

/**
 * Type-checks the model files, imports them and returns every exported
 * ModelDef, validated. Errors are DslErrors whose one-line message ends in
 * the user's file:line (the exact argument line when the rule is about one
 * argument), or a ModelTypeError listing each TypeScript diagnostic.
 */
export async function loadModels(files: readonly string[], opts: LoadOptions = {}): Promise<LoadedModel[]> {
  const abs = files.map((f) => resolve(process.cwd(), f));
  abs.forEach((f, i) => {
    if (existsSync(f) && statSync(f).isFile()) return;
    const given = files[i]!;
    const isDir = existsSync(f);
    throw new ModelFileNotFoundError({
      what: isDir ? `model file ${given} is a folder` : `model file ${given} does not exist (looked for ${f})`,
      value: given,
      fix: isDir
        ? `Pass the .ts files inside it (e.g. ${given.replace(/\/$/, '')}/*.ts).`
        : 'Check the path (it is relative to the current folder), e.g. examples/mamba2-simple.ts.',
    });
  });
  const project = sharedProject();
  const sources = abs.map((f) => {
    const known = project.getSourceFile(f);
    if (!known) return project.addSourceFileAtPath(f);
    known.refreshFromFileSystemSync();
    return known;
  });
  project.resolveSourceFileDependencies();

  const diagnostics = sources.flatMap((sf) => diagnosticsOf(project, sf));
  if (diagnostics.length) throw new ModelTypeError(diagnostics);

  const out: LoadedModel[] = [];
  for (const sf of sources) out.push(...(await loadFile(sf, opts.overrides ?? {}, opts.overrideSource ?? {})));
  return out;
}

let cachedProject: Project | undefined;

/**
 * One Project per process: parsing lib.d.ts and @types/node costs seconds,
 * and later loads (tests, `gen` over several files) reuse it. Model files
 * are re-read from disk on every load.
 */
function sharedProject(): Project {
  cachedProject ??= new Project({
    tsConfigFilePath: resolve(REPO_ROOT, 'tsconfig.base.json'),
    skipAddingFilesFromTsConfig: true,
  });
  return cachedProject;
}

function diagnosticsOf(project: Project, sf: SourceFile): TsDiagnostic[] {
  const program = project.getProgram();
  const ds = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
  return ds.map((d) => {
    const { line, column } = sf.getLineAndColumnAtPos(d.getStart() ?? 0);
    return {
      file: repoRelative(sf.getFilePath()),
      line,
      column,
      code: d.getCode(),
      message: ts.flattenDiagnosticMessageText(d.compilerObject.messageText, ' ').replace(/\.$/, ''),
    };
  });
}

async function loadFile(
  sf: SourceFile,
  overrides: ModelOverrides,
  source: NonNullable<LoadOptions['overrideSource']>,
): Promise<LoadedModel[]> {
  const file = repoRelative(sf.getFilePath());
  const top: SourceLoc = { file, line: 1, column: 1 };
  const exported = [...sf.getExportedDeclarations()]
    .map(([name, decls]) => ({ name, pos: decls[0]?.getStart() ?? 0 }))
    .sort((a, b) => a.pos - b.pos)
    .map((e) => e.name);
  const noModel = (why: string) =>
    new NoModelExportError({
      what: `${file} ${why}`,
      value: file,
      fix: 'Add `export default mamba2({ dModel: 256 })` (or export a graph()...build() result).',
      loc: top,
    });
  if (exported.length === 0) throw noModel('exports nothing');

  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(sf.getFilePath()).href)) as Record<string, unknown>;
  } catch (e) {
    throw relocate(sf, e, file);
  }

  const models = exported.filter((n) => isModelDef(ns[n]));
  if (models.length === 0) throw noModel(`exports ${exported.join(', ')} but no model (ModelDef)`);

  const out: LoadedModel[] = [];
  for (const exportName of models) {
    const original = ns[exportName] as ModelDef;
    try {
      let m = original;
      if (overrides.headdim !== undefined) m = m.rebuild(overrides);
      validateModel(m);
      out.push({ exportName, file, graph: m.graph, sourceMap: m.sourceMap, launch: m.launch, hash: hashGraph(m.graph) });
    } catch (e) {
      if (isDslError(e)) blameOverride(e, overrides, source, original.sourceMap[GRAPH_LOC_KEY] ?? top, file);
      throw relocate(sf, e, file);
    }
  }
  return out;
}

/**
 * A rebuild with `--headdim` runs with no user frame on the stack, so its
 * errors point at whoever called rebuild (the gen CLI). Say the value came
 * from the flag, and point at the model's own call instead. (Launch flags
 * such as --chunk-size rebuild nothing: the gen CLI checks and blames them.)
 */
function blameOverride(
  e: DslError,
  overrides: ModelOverrides,
  source: NonNullable<LoadOptions['overrideSource']>,
  modelLoc: SourceLoc,
  file: string,
): void {
  const flags: [keyof typeof source, number | undefined, string, (p: string) => boolean][] = [
    ['headdim', overrides.headdim, `--headdim ${overrides.headdim}`, (p) => p === 'headdim'],
  ];
  for (const [key, value, flag, matches] of flags) {
    if (value === undefined) continue;
    const label = source[key] ?? flag;
    if (e.what.includes(`(from ${flag})`)) {
      // mamba2() already blamed the gen flag; the value may have come from elsewhere.
      e.what = e.what.replace(`(from ${flag})`, `(from ${label})`);
      break;
    }
    if (!/\(from /.test(e.what) && (e.props.some(matches) || e.rule === 'override-supported')) {
      e.blame(label);
      break;
    }
  }
  if (source.headdim !== undefined && overrides.headdim !== undefined) {
    // The builder's own messages name the flag ("Drop --headdim ..."): name the real source.
    const flag = new RegExp(`--headdim( ${overrides.headdim})?`, 'g');
    e.what = e.what.replace(flag, source.headdim);
    (e as { fix: string }).fix = e.fix.replace(flag, source.headdim);
  }
  if (e.loc === null || e.loc.file !== file) e.locate(modelLoc);
  else e.locate(e.loc);
}

/** DslErrors: move to the exact argument line. Anything else: a ModelImportError naming the file. */
function relocate(sf: SourceFile, e: unknown, file: string): unknown {
  if (isDslError(e)) {
    if (e.loc && e.loc.file === file) e.locate(refineLoc(sf, e.loc, e.props));
    return e;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const line = lineInStack(err.stack ?? '', sf.getFilePath());
  const wrapped = new ModelImportError({
    what: `${file} threw while loading: ${err.message.split('\n')[0]}`,
    value: err.message,
    fix: `Run \`pnpm exec tsx ${file}\` to see the full trace, and fix the model file.`,
    loc: { file, line: line ?? 1, column: 1 },
  });
  (wrapped as { cause?: unknown }).cause = err;
  return wrapped;
}

function lineInStack(stack: string, absFile: string): number | null {
  for (const l of stack.split('\n')) {
    const i = l.indexOf(absFile + ':');
    if (i >= 0) {
      const m = /^:(\d+)/.exec(l.slice(i + absFile.length));
      if (m) return Number(m[1]);
    }
  }
  return null;
}
