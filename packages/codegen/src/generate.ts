/**
 * Model -> files of kernels-out/<name>/: lower, render, write deterministically.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { closeSync, openSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { launchToJson, type Graph, type LaunchConfig, type LaunchOptions, type TunedTable } from '@mamba2/dsl';
import { LAUNCH_KERNELS, resolveLaunch } from './lower/launch.ts';
import { lowerPackage } from './lower/lower.ts';
import type { PackagePlan } from './lower/plan.ts';
import { canonicalJson } from './emit/canonical-json.ts';
import type { FileMeta } from './emit/context.ts';
import { createEnv, type TemplateEnv } from './emit/env.ts';
import { libraryFiles, templatedFiles } from './emit/files.ts';
import { copiedLibraryFile, DEFAULT_LIBRARY_DIR, librarySetSha } from './emit/library.ts';
import { GENERATOR_NAME, GENERATOR_VERSION } from './version.ts';

/** What @mamba2/dsl/frontend's loadModels returns per exported model. */
export interface LoadedModel {
  readonly exportName: string;
  readonly file: string;
  readonly graph: Graph;
  readonly sourceMap: unknown;
  /** Launch settings the model file asks for (not hashed); absent = none. */
  readonly launch?: LaunchOptions;
  readonly hash: string;
}

export interface RenderOptions {
  /** Templates root (default: this package's templates/). */
  readonly templatesDir?: string;
  /** The kernel library's mamba2_kernels/ (default: packages/kernels/python/mamba2_kernels). */
  readonly libraryDir?: string;
  /** Launch settings from `pnpm gen` flags: they win over the model file's. */
  readonly launch?: LaunchOptions;
  /** Rows from `gen --tuned` (tuned.ts tunedFor). */
  readonly tuned?: TunedTable | null;
}

export interface RenderedPackage {
  readonly name: string;
  readonly plan: PackagePlan;
  readonly launch: LaunchConfig;
  /** path inside the package dir -> contents, sorted by path. */
  readonly files: ReadonlyMap<string, string>;
}

export class PackageDirError extends Error {
  override readonly name = 'PackageDirError';
}

/** Files Python or pip leave next to generated ones; never stale, never compared. */
const IGNORED = /(^|\/)(__pycache__|[^/]*\.egg-info|build|\.pytest_cache)(\/|$)|\.pyc$/;

const envCache = new Map<string, TemplateEnv>();
function env(dir: string | undefined): TemplateEnv {
  const key = dir ?? '';
  let e = envCache.get(key);
  if (e === undefined) {
    e = createEnv(dir);
    envCache.set(key, e);
  }
  return e;
}

/** The model file as the header shows it: relative to the workspace root, '/' separated. */
export function displaySourceFile(file: string): string {
  // loadModels already gives repo-relative paths; only absolute ones need the walk.
  if (!isAbsolute(file)) return file.split(sep).join('/');
  const abs = resolve(file);
  let dir = dirname(abs);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return relative(dir, abs).split(sep).join('/');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return abs.split(sep).pop()!;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The package's LaunchConfig: heuristics, then the model file's options, then the flags; kernel shas (librarySetSha) from the library. */
export function packageLaunch(model: LoadedModel, plan: PackagePlan, opts: RenderOptions = {}): LaunchConfig {
  const libDir = opts.libraryDir ?? DEFAULT_LIBRARY_DIR;
  const kernelShas = Object.fromEntries(Object.values(LAUNCH_KERNELS).map((k) => [k, librarySetSha(libDir, k)]));
  return resolveLaunch(plan, { ...(model.launch ?? {}), ...(opts.launch ?? {}) }, { kernelShas, tuned: opts.tuned ?? null });
}

/** Everything in memory, nothing written. Deterministic for a given model and templates. */
export function renderPackage(model: LoadedModel, opts: RenderOptions = {}): RenderedPackage {
  const plan = lowerPackage(model.graph);
  const meta: FileMeta = { sourceFile: displaySourceFile(model.file), irHash: model.hash };
  const e = env(opts.templatesDir);
  const libDir = opts.libraryDir ?? DEFAULT_LIBRARY_DIR;
  const launch = packageLaunch(model, plan, opts);
  const files = new Map<string, string>();
  for (const f of templatedFiles(plan, meta, launch)) files.set(f.path, e.render(f.template, f.context));
  for (const f of libraryFiles(plan)) files.set(f.path, copiedLibraryFile(libDir, f.source, meta));
  files.set(`${plan.name}/ir.json`, canonicalJson(model.graph));
  const listed = [...files.keys()].sort();
  const manifest = {
    name: plan.name,
    className: plan.className,
    source: meta.sourceFile,
    exportName: model.exportName,
    irHash: model.hash,
    launch: launchToJson(launch),
    generator: { name: GENERATOR_NAME, version: GENERATOR_VERSION },
    kernels: plan.kernels,
    files: listed.map((path) => ({ path, sha256: sha256(files.get(path)!) })),
  };
  files.set('manifest.json', canonicalJson(manifest));
  const sorted = new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { name: plan.name, plan, launch, files: sorted };
}

function listFiles(root: string, prefix = ''): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (IGNORED.test(rel)) continue;
    if (entry.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Removes `dir` and its parents up to (not including) `root` while they are empty. */
function removeEmptyParents(root: string, dir: string): void {
  for (let d = dir; d !== root && d.startsWith(root + sep); d = dirname(d)) {
    if (!existsSync(d) || readdirSync(d).length > 0) return;
    rmdirSync(d);
  }
}

/** What a previous `pnpm gen` left: its manifest.json, if it is one of ours. */
interface PreviousManifest {
  readonly source: string;
  readonly exportName: string;
  readonly files: ReadonlySet<string>;
}

function readPreviousManifest(dir: string): PreviousManifest | null {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return null;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as {
      generator?: { name?: unknown };
      source?: unknown;
      exportName?: unknown;
      files?: { path?: unknown }[];
    };
    if (m.generator?.name !== GENERATOR_NAME || !Array.isArray(m.files)) return null;
    const files = m.files.map((f) => f.path).filter((p): p is string => typeof p === 'string');
    return { source: String(m.source), exportName: String(m.exportName), files: new Set([...files, 'manifest.json']) };
  } catch {
    return null;
  }
}

function listed(paths: readonly string[]): string {
  const shown = paths.slice(0, 6).join(', ');
  return paths.length > 6 ? `${shown} and ${paths.length - 6} more` : shown;
}

/**
 * One `pnpm gen` at a time per package folder: a lock file beside it
 * (`<out>/.<name>.gen-lock`, holding the pid). A second gen waits up to
 * `waitMs` for the first to finish; a lock whose process is gone is taken over.
 */
async function lockPackage(dir: string, waitMs: number): Promise<() => void> {
  const lock = join(dirname(dir), `.${dir.split(sep).pop()}.gen-lock`);
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = Number.NaN;
    try {
      pid = Number(readFileSync(lock, 'utf8').trim());
    } catch {
      continue; // released between our open and read: try again
    }
    let alive = false;
    try {
      if (Number.isInteger(pid) && pid > 0) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new PackageDirError(
        `another \`pnpm gen\` (pid ${pid}) is writing ${dir} and did not finish within ${Math.round(waitMs / 1000)} s; ` +
          `wait for it to finish and run again (or delete ${lock} if no gen is running).`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface GenerateOptions extends RenderOptions {
  readonly outDir: string;
  /** Replace a package of the same name that another model file (or export) generated. */
  readonly force?: boolean;
  /** How long to wait for another gen writing the same package (default 60 s). */
  readonly lockWaitMs?: number;
}

export interface GenerateResult {
  readonly dir: string;
  readonly files: string[];
  /** `model#export` that generated the package this run replaced (only with force), else null. */
  readonly replaced: string | null;
}

/**
 * Write kernels-out/<name>/: files rewritten only when they change, files the
 * previous manifest listed and this one does not removed. Nothing else is
 * ever deleted or overwritten: a folder holding any file the previous
 * generation did not write is refused, naming the files.
 */
export async function generatePackage(model: LoadedModel, opts: GenerateOptions): Promise<GenerateResult> {
  const pkg = renderPackage(model, opts);
  const dir = resolve(opts.outDir, pkg.name);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new PackageDirError(`${dir} is a file, not a package folder; move it away or use another --out`);
  }
  const unlock = await lockPackage(dir, opts.lockWaitMs ?? 60_000);
  try {
    const onDisk = listFiles(dir);
    const prev = readPreviousManifest(dir);
    let replaced: string | null = null;
    if (onDisk.length > 0) {
      if (prev === null) {
        throw new PackageDirError(
          `${dir} holds files pnpm gen did not write (${listed(onDisk)}) and no manifest.json of a generated package; ` +
            `refusing to write into it. Move those files out, or pass another --out.`,
        );
      }
      // A file the previous manifest does not list but that holds exactly the
      // bytes this run writes there (e.g. after a git rebase took one side's
      // manifest) loses nothing when rewritten; anything else is the user's.
      const foreign = onDisk.filter((f) => !prev.files.has(f) && pkg.files.get(f) !== readFileSync(join(dir, f), 'utf8'));
      if (foreign.length > 0) {
        throw new PackageDirError(
          `${dir} holds files the previous \`pnpm gen\` did not write: ${listed(foreign)}. ` +
            `gen rewrites a package folder and would lose them; move them out of ${dir} (e.g. beside it) and run again.`,
        );
      }
      const source = displaySourceFile(model.file);
      const from = (file: string, exp: string) => `${file}${exp === 'default' ? '' : `#${exp}`}`;
      if (prev.source !== source || prev.exportName !== model.exportName) {
        if (opts.force !== true) {
          throw new PackageDirError(
            `${dir} was generated from ${from(prev.source, prev.exportName)}, and ${from(source, model.exportName)} ` +
              `also names its package "${pkg.name}"; refusing to replace it. Give one model another name (name: '...'), ` +
              `use another --out, or pass --force to replace it.`,
          );
        }
        replaced = from(prev.source, prev.exportName);
      }
    }
    // A manifest listing every file of both generations goes first, so a run
    // killed half way leaves nothing on disk that no manifest claims.
    const manifestText = pkg.files.get('manifest.json')!;
    const manifestPath = join(dir, 'manifest.json');
    if (!existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== manifestText) {
      mkdirSync(dir, { recursive: true });
      const interim = JSON.parse(manifestText) as { files: { path: string; sha256: string }[] };
      const extra = [...(prev?.files ?? [])].filter((f) => f !== 'manifest.json' && !pkg.files.has(f));
      interim.files = [...interim.files, ...extra.map((path) => ({ path, sha256: '' }))];
      writeFileSync(manifestPath, canonicalJson(interim));
    }
    for (const stale of onDisk) {
      if (pkg.files.has(stale)) continue;
      rmSync(join(dir, stale));
      removeEmptyParents(dir, dirname(join(dir, stale)));
    }
    for (const [path, text] of pkg.files) {
      const target = join(dir, path);
      mkdirSync(dirname(target), { recursive: true });
      if (existsSync(target) && statSync(target).isFile() && readFileSync(target, 'utf8') === text) continue;
      writeFileSync(target, text);
    }
    return { dir, files: [...pkg.files.keys()], replaced };
  } finally {
    unlock();
  }
}

export interface CheckResult {
  readonly dir: string;
  /** Paths (relative to the package dir) that differ, are missing, or are stale. */
  readonly differing: readonly { readonly path: string; readonly why: 'changed' | 'missing' | 'stale' }[];
}

/** What `gen --check` reports: nothing is written. */
export function checkPackage(model: LoadedModel, opts: { outDir: string } & RenderOptions): CheckResult {
  const pkg = renderPackage(model, opts);
  const dir = resolve(opts.outDir, pkg.name);
  const differing: { path: string; why: 'changed' | 'missing' | 'stale' }[] = [];
  const onDisk = new Set(listFiles(dir));
  for (const [path, text] of pkg.files) {
    if (!onDisk.has(path)) differing.push({ path, why: 'missing' });
    else if (readFileSync(join(dir, path), 'utf8') !== text) differing.push({ path, why: 'changed' });
  }
  for (const path of onDisk) if (!pkg.files.has(path)) differing.push({ path, why: 'stale' });
  differing.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { dir, differing };
}
