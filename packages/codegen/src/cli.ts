/**
 * `pnpm gen [model files...]`: model files -> kernels-out/<name>/.
 *
 * One line per package. DSL and lowering errors print their one-line message
 * and exit 1; anything else is a bug and keeps its stack.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isDslError, validateLaunch, type LaunchOptions } from '@mamba2/dsl';
import { loadModels, type LoadedModel } from '@mamba2/dsl/frontend';
import { checkPackage, generatePackage, PackageDirError } from './generate.ts';
import { InvalidPythonNameError, UnsupportedGraphError } from './lower/errors.ts';
import { MissingTemplateError } from './emit/env.ts';
import { InstalledModuleError, refuseInstalledNames, targetPython } from './installed.ts';
import { readTunedRows, tunedFor, TunedFileError } from './tuned.ts';
import { DEFAULT_LIBRARY_DIR, libraryFileShas, librarySetSha } from './emit/library.ts';
import { LAUNCH_KERNELS } from './lower/launch.ts';
import type { Graph, TunedTable } from '@mamba2/dsl';

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
  blockQ?: number;
  scanWarps?: number;
  scanStages?: number;
  scanImpl?: 'fused' | 'chunked';
  check?: boolean;
  tuned?: string;
  force?: boolean;
  gpu?: string;
}

/** A bad command line: one line, with the fix. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Launch flags -> LaunchOptions key and the flag's name (for error blame). */
const LAUNCH_FLAGS = [
  ['chunkSize', '--chunk-size'],
  ['blockP', '--block-p'],
  ['blockQ', '--block-q'],
  ['scanWarps', '--scan-warps'],
  ['scanStages', '--scan-stages'],
  ['scanImpl', '--scan-impl'],
] as const satisfies readonly (readonly [keyof LaunchOptions & keyof GenOptions, string])[];

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

/**
 * The launch flags given, checked against the model's graph. They change the
 * package's LaunchConfig only: the graph and its hash stay as loaded.
 */
function launchFlags(model: LoadedModel, opts: GenOptions): LaunchOptions {
  const flags: Record<string, unknown> = {};
  for (const [key] of LAUNCH_FLAGS) if (opts[key] !== undefined) flags[key] = opts[key];
  const [first] = validateLaunch(flags as LaunchOptions, model.graph, model.sourceMap);
  if (first) {
    const [key, flag] = LAUNCH_FLAGS.find(([k]) => first.props.includes(k)) ?? LAUNCH_FLAGS.find(([k]) => flags[k] !== undefined)!;
    throw first.blame(`${flag} ${String(flags[key])}`);
  }
  return flags as LaunchOptions;
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
  const overrides = opts.headdim !== undefined ? { headdim: opts.headdim } : {};
  const models = await loadModels(modelFiles, { overrides });
  const flags = new Map(models.map((m) => [m, launchFlags(m, opts)]));
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
    let tuned: TunedTable | null = null;
    if (opts.tuned !== undefined) {
      const t = tunedFor(readTunedRows(opts.tuned), ssdHeaddim(m.graph), librarySetSha(DEFAULT_LIBRARY_DIR, LAUNCH_KERNELS.fused),
        opts.tuned, opts.gpu ?? null, libraryFileShas(DEFAULT_LIBRARY_DIR, LAUNCH_KERNELS.fused));
      for (const w of t.warnings) console.warn(`warning: ${w}`);
      tuned = t.table;
    }
    const launch = flags.get(m)!;
    const where = `${m.file}${m.exportName === 'default' ? '' : `#${m.exportName}`}`;
    if (opts.check) {
      const res = checkPackage(m, { outDir: opts.out, tuned, launch });
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
      const res = await generatePackage(m, { outDir: opts.out, tuned, launch, force: opts.force === true });
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
  .option('--headdim <n>', 'override headdim (changes the model)', int)
  .option('--chunk-size <n>', 'launch: chunk length of the chunked scan and the module default', int)
  .option('--block-p <n>', 'launch: scan headdim rows per program (0 = auto)', int)
  .option('--block-q <n>', 'launch: fused scan time tile', int)
  .option('--scan-warps <n>', 'launch: scan warps', int)
  .option('--scan-stages <n>', 'launch: fused scan pipeline stages', int)
  .addOption(new Option('--scan-impl <impl>', 'launch: which scan the module uses').choices(['fused', 'chunked']))
  .option('--check', 'write nothing; exit 1 listing files that differ from what would be generated')
  .option('--tuned <results.jsonl>', "sweep results: tuned rows of the package's LaunchConfig")
  .option('--gpu <model>', 'with --tuned: the GPU model the package is for (default: the one the rows name)')
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
