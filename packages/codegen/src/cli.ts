/**
 * `pnpm gen [model files...]`: model files -> kernels-out/<name>/.
 *
 * One line per package. DSL and lowering errors print their one-line message
 * and exit 1; anything else is a bug and keeps its stack.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { hashGraph, isDslError, validateGraph, type CodegenParams } from '@mamba2/dsl';
import { loadModels, type LoadedModel } from '@mamba2/dsl/frontend';
import { checkPackage, generatePackage, PackageDirError, renderPackage } from './generate.ts';
import { InvalidPythonNameError, UnsupportedGraphError } from './lower/errors.ts';
import { MissingTemplateError } from './emit/env.ts';
import { InstalledModuleError, refuseInstalledNames, targetPython } from './installed.ts';
import { kernelSha, readTunedRows, tunedFor, TunedFileError, type TunedEntry } from './tuned.ts';
import type { Graph } from '@mamba2/dsl';

/** The headdim of the model's scan: tuned rows of other headdims do not apply. */
function ssdHeaddim(graph: Graph): number {
  const scan = graph.nodes.find((n) => n.kind === 'SsdScan');
  return scan !== undefined && scan.kind === 'SsdScan' ? scan.headdim : 0;
}
import { GENERATOR_VERSION } from './version.ts';

interface GenOptions {
  out: string;
  chunkSize?: number;
  headdim?: number;
  blockP?: number;
  scanImpl?: 'fused' | 'chunked';
  check?: boolean;
  tuned?: string;
  force?: boolean;
}

/** A bad command line: one line, with the fix. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const EXPECTED = [UnsupportedGraphError, InvalidPythonNameError, MissingTemplateError, PackageDirError, TunedFileError, InstalledModuleError, UsageError];

function int(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer.');
  return Number(value);
}

/** examples/*.ts (not examples/invalid/ nor other subfolders), sorted. */
function defaultModelFiles(root: string): string[] {
  const dir = join(root, 'examples');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(process.cwd(), join(dir, e.name)))
    .sort();
}

/** --block-p / --scan-impl change codegen params after loading: revalidate and rehash. */
function withCodegenFlags(model: LoadedModel, opts: GenOptions): LoadedModel {
  const patch: Partial<{ -readonly [K in keyof CodegenParams]: CodegenParams[K] }> = {};
  if (opts.blockP !== undefined) patch.blockP = opts.blockP;
  if (opts.scanImpl !== undefined) patch.scanImpl = opts.scanImpl;
  if (Object.keys(patch).length === 0) return model;
  const graph = { ...model.graph, params: { ...model.graph.params, ...patch } };
  const [first] = validateGraph(graph, model.sourceMap);
  if (first) throw first.blame(opts.blockP !== undefined ? `--block-p ${opts.blockP}` : `--scan-impl ${opts.scanImpl}`);
  return { ...model, graph, hash: hashGraph(graph) };
}

/** Relative to the cwd when inside it, else absolute. */
function shown(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === '' ? '.' : rel.startsWith('..') ? dir : rel;
}

async function run(files: string[], opts: GenOptions): Promise<number> {
  const root = resolve(import.meta.dirname, '../../..');
  if (existsSync(opts.out) && !statSync(opts.out).isDirectory()) {
    throw new UsageError(`--out ${opts.out} is a file; --out takes the folder packages go into (default kernels-out). Pass a folder.`);
  }
  if (opts.tuned !== undefined && !(existsSync(opts.tuned) && statSync(opts.tuned).isFile())) {
    throw new UsageError(
      `--tuned ${opts.tuned}: no such file. Pass a sweep's results.jsonl (e.g. bench/sweeps/ssd-h200/results.jsonl), ` +
        'or run the sweep first (`pnpm bench --sweep <file>`).',
    );
  }
  const modelFiles = files.length > 0 ? files : defaultModelFiles(root);
  const overrides = {
    ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
    ...(opts.headdim !== undefined ? { headdim: opts.headdim } : {}),
  };
  const models = (await loadModels(modelFiles, { overrides })).map((m) => withCodegenFlags(m, opts));
  const seen = new Map<string, string>();
  for (const m of models) {
    const where = `${m.file}${m.exportName === 'default' ? '' : `#${m.exportName}`}`;
    const prev = seen.get(m.graph.name);
    if (prev !== undefined) {
      throw new UnsupportedGraphError(`${where} and ${prev} both generate package "${m.graph.name}"; give one of them another name`);
    }
    seen.set(m.graph.name, where);
  }
  if (!opts.check) {
    refuseInstalledNames(
      models.map((m) => ({ name: m.graph.name, where: `${m.file}${m.exportName === 'default' ? '' : `#${m.exportName}`}` })),
      targetPython(root),
    );
  }
  let stale = 0;
  for (const m of models) {
    let tuned: TunedEntry[] = [];
    if (opts.tuned !== undefined) {
      const fused = renderPackage(m).files.get(`${m.graph.name}/kernels/ssd_fused.py`) ?? '';
      const t = tunedFor(readTunedRows(opts.tuned), ssdHeaddim(m.graph), kernelSha(fused), opts.tuned);
      if (t.warning !== null) console.warn(`warning: ${t.warning}`);
      tuned = t.entries;
    }
    const where = `${m.file}${m.exportName === 'default' ? '' : `#${m.exportName}`}`;
    if (opts.check) {
      const res = checkPackage(m, { outDir: opts.out, tuned });
      const rel = shown(res.dir);
      if (res.differing.length === 0) {
        console.log(`ok      ${rel}  (${where}, ir ${m.hash.slice(0, 12)})`);
      } else if (res.differing.every((d) => d.why === 'missing')) {
        stale += res.differing.length;
        console.log(`missing ${rel}  (${where}): not generated yet`);
      } else {
        stale += res.differing.length;
        console.log(`differs ${rel}  (${where}): ${res.differing.map((d) => `${d.path} [${d.why}]`).join(', ')}`);
      }
    } else {
      const res = await generatePackage(m, { outDir: opts.out, tuned, force: opts.force === true });
      const rel = shown(res.dir);
      if (res.replaced !== null) console.warn(`warning: replaced ${rel}, which ${res.replaced} had generated (--force)`);
      console.log(`${rel}  ${m.graph.className} from ${where}  ir ${m.hash.slice(0, 12)}  ${res.files.length} files`);
    }
  }
  // With the default file list every package should come from a model: any
  // other generated package in --out is left over from a deleted model.
  if (files.length === 0) {
    const outDir = resolve(opts.out);
    const orphans = existsSync(outDir)
      ? readdirSync(outDir, { withFileTypes: true })
          .filter((e) => e.isDirectory() && !seen.has(e.name) && existsSync(join(outDir, e.name, 'manifest.json')))
          .map((e) => e.name)
          .sort()
      : [];
    for (const o of orphans) {
      console.log(`orphan  ${shown(join(outDir, o))}: no model generates it any more; delete it`);
      if (opts.check) stale += 1;
    }
  }
  if (stale > 0) {
    console.error(`${stale} generated file(s) are out of date. Run \`pnpm gen\` and commit kernels-out/.`);
    return 1;
  }
  return 0;
}

const program = new Command()
  .name('gen')
  .description('Compile Mamba-2 model files into Triton kernel packages (kernels-out/<name>/).')
  .version(GENERATOR_VERSION)
  .argument('[models...]', 'model files (default: examples/*.ts)')
  .option('--out <dir>', 'output folder', 'kernels-out')
  .option('--chunk-size <n>', 'override the scan chunk size', int)
  .option('--headdim <n>', 'override headdim', int)
  .option('--block-p <n>', 'scan: headdim rows per program (0 = auto)', int)
  .addOption(new Option('--scan-impl <impl>', 'which scan the module uses').choices(['fused', 'chunked']))
  .option('--check', 'write nothing; exit 1 listing files that differ from what would be generated')
  .option('--tuned <results.jsonl>', 'sweep results to bake into _config.TUNED')
  .option('--force', 'replace a package of the same name that another model file generated')
  .action(async (models: string[], opts: GenOptions) => {
    try {
      process.exitCode = await run(models, opts);
    } catch (e) {
      if (isDslError(e) || EXPECTED.some((C) => e instanceof C)) {
        console.error(`error: ${(e as Error).message}`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  });

await program.parseAsync();
