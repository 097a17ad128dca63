import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CHUNK_SIZE, generatePackage } from '@mamba2/codegen';
import { loadModels, type LoadedModel } from '@mamba2/dsl/frontend';
import type { Graph, LaunchOptions, SsdScanNode } from '@mamba2/dsl';
import { isSweepSpec, SweepSpecError, type SweepSpec } from './define.ts';
import { nheadsFor, type ModelDims } from './expand.ts';
import { buildPlan, planHeaddims, writePlan, type SweepPlan } from './plan.ts';
import { repoRoot } from '../worker/python.ts';

export const REPO_ROOT = repoRoot();

/** Imports a sweep file (`export default defineSweep({...})`). */
export async function loadSweepFile(file: string): Promise<{ spec: SweepSpec; name: string }> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new SweepSpecError(`sweep file ${file} does not exist. Pass e.g. examples/sweeps/ssd-h200.ts.`);
  const mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  if (!isSweepSpec(mod.default)) {
    throw new SweepSpecError(`${file} has no default export made by defineSweep(). Add \`export default defineSweep({...})\`.`);
  }
  return { spec: mod.default, name: mod.default.name ?? basename(abs).replace(/\.[cm]?ts$/, '') };
}

export function modelDims(graph: Graph, launch?: LaunchOptions): ModelDims {
  const scan = graph.nodes.find((n): n is SsdScanNode => n.kind === 'SsdScan');
  if (!scan) throw new SweepSpecError(`model ${graph.name} has no SsdScan node: nothing to sweep.`);
  return {
    dInner: scan.nheads * scan.headdim, ngroups: scan.ngroups, dState: scan.dState,
    headdim: scan.headdim, chunkSize: launch?.chunkSize ?? DEFAULT_CHUNK_SIZE,
  };
}

async function loadModel(spec: SweepSpec, headdim?: number): Promise<LoadedModel> {
  const models = await loadModels(
    [resolve(REPO_ROOT, spec.model)],
    headdim === undefined ? {} : { overrides: { headdim }, overrideSource: { headdim: `headdim ${headdim} of the sweep grid` } },
  );
  const want = spec.export ?? 'default';
  const m = models.find((x) => x.exportName === want) ?? (spec.export === null ? models[0] : undefined);
  if (!m) {
    throw new SweepSpecError(
      `${spec.model} has no exported model "${want}" (it exports ${models.map((x) => x.exportName).join(', ')}). Set export in the sweep file.`,
    );
  }
  return m;
}

/** HEAD of the repository, `-dirty` when tracked files differ; null outside a git checkout. */
export function gitCommit(): string | null {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return null;
  }
}

export interface PreparedSweep {
  readonly name: string;
  readonly outDir: string;
  readonly planPath: string;
  readonly plan: SweepPlan;
}

/**
 * Generates one package per headdim under <outDir>/pkgs/hd<P>/ and writes
 * <outDir>/plan.json. Regenerating is cheap and idempotent (files are only
 * rewritten when they change), so --resume may call this again.
 */
export async function prepareSweep(file: string, opts: { outDir?: string } = {}): Promise<PreparedSweep> {
  const { spec, name } = await loadSweepFile(file);
  const outDir = resolve(opts.outDir ?? join(REPO_ROOT, 'bench/sweeps', name));
  const base = await loadModel(spec);
  const dims = modelDims(base.graph, base.launch);
  // the grid's own error, before a model is rebuilt with an override the user never typed as a flag
  for (const h of spec.grid.headdim) nheadsFor(dims, h);
  const dirs: Record<string, string> = {};
  for (const h of planHeaddims(spec, dims)) {
    const model = h === dims.headdim ? base : await loadModel(spec, h);
    const { dir } = await generatePackage(model, { outDir: join(outDir, 'pkgs', `hd${h}`) });
    dirs[String(h)] = relative(outDir, dir);
  }
  const plan0 = buildPlan(spec, name, dims);
  const plan: SweepPlan = {
    ...plan0,
    commit: gitCommit(),
    packages: Object.fromEntries(Object.entries(plan0.packages).map(([k, v]) => [k, { ...v, dir: dirs[k] ?? v.dir }])),
  };
  const planPath = join(outDir, 'plan.json');
  writePlan(planPath, plan);
  return { name, outDir, planPath, plan };
}
