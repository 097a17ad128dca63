/**
 * Model -> files of kernels-out/<name>/: lower, render, write deterministically.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Graph } from '@mamba2/dsl';
import { lower } from './lower/lower.ts';
import type { KernelPlan } from './lower/plan.ts';
import { canonicalJson } from './emit/canonical-json.ts';
import type { FileMeta, TunedEntry } from './emit/context.ts';
import { createEnv, type TemplateEnv } from './emit/env.ts';
import { libraryFiles, templatedFiles } from './emit/files.ts';
import { copiedLibraryFile, DEFAULT_LIBRARY_DIR } from './emit/library.ts';
import { GENERATOR_NAME, GENERATOR_VERSION } from './version.ts';

/** What @mamba2/dsl/frontend's loadModels returns per exported model. */
export interface LoadedModel {
  readonly exportName: string;
  readonly file: string;
  readonly graph: Graph;
  readonly sourceMap: unknown;
  readonly hash: string;
}

export interface RenderOptions {
  /** Templates root (default: this package's templates/). */
  readonly templatesDir?: string;
  /** The kernel library's mamba2_kernels/ (default: packages/kernels/python/mamba2_kernels). */
  readonly libraryDir?: string;
  /** Dispatch entries for _config.TUNED. */
  readonly tuned?: readonly TunedEntry[];
}

export interface RenderedPackage {
  readonly name: string;
  readonly plan: KernelPlan;
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

/** Everything in memory, nothing written. Deterministic for a given model and templates. */
export function renderPackage(model: LoadedModel, opts: RenderOptions = {}): RenderedPackage {
  const plan = lower(model.graph);
  const meta: FileMeta = { sourceFile: displaySourceFile(model.file), irHash: model.hash };
  const e = env(opts.templatesDir);
  const files = new Map<string, string>();
  for (const f of templatedFiles(plan, meta, opts.tuned ?? [])) files.set(f.path, e.render(f.template, f.context));
  const libDir = opts.libraryDir ?? DEFAULT_LIBRARY_DIR;
  for (const f of libraryFiles(plan)) files.set(f.path, copiedLibraryFile(libDir, f.source, meta));
  files.set(`${plan.name}/ir.json`, canonicalJson(model.graph));
  const listed = [...files.keys()].sort();
  const manifest = {
    name: plan.name,
    className: plan.className,
    source: meta.sourceFile,
    exportName: model.exportName,
    irHash: model.hash,
    params: plan.params,
    generator: { name: GENERATOR_NAME, version: GENERATOR_VERSION },
    kernels: plan.kernels,
    files: listed.map((path) => ({ path, sha256: sha256(files.get(path)!) })),
  };
  files.set('manifest.json', canonicalJson(manifest));
  const sorted = new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { name: plan.name, plan, files: sorted };
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

function removeEmptyDirs(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !IGNORED.test(entry.name)) removeEmptyDirs(join(dir, entry.name));
  }
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}

/** Write kernels-out/<name>/ (files rewritten only when they change; stale files removed). */
export async function generatePackage(
  model: LoadedModel,
  opts: { outDir: string } & RenderOptions,
): Promise<{ dir: string; files: string[] }> {
  const pkg = renderPackage(model, opts);
  const dir = resolve(opts.outDir, pkg.name);
  if (existsSync(dir) && listFiles(dir).length > 0 && !existsSync(join(dir, 'manifest.json'))) {
    throw new PackageDirError(`${dir} exists and has no manifest.json: not a generated package, refusing to overwrite it`);
  }
  for (const stale of listFiles(dir)) {
    if (!pkg.files.has(stale)) rmSync(join(dir, stale));
  }
  for (const [path, text] of pkg.files) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    if (existsSync(target) && statSync(target).isFile() && readFileSync(target, 'utf8') === text) continue;
    writeFileSync(target, text);
  }
  removeEmptyDirs(dir);
  mkdirSync(dir, { recursive: true });
  return { dir, files: [...pkg.files.keys()] };
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
