/**
 * `pnpm init-project <folder>`: a ready folder, anywhere on disk, for writing
 * your own models (and sweeps) against this checkout of the compiler.
 *
 *   <folder>/models/my-block.ts       a model: import { mamba2 } from '@mamba2/dsl'
 *   <folder>/sweeps/my-block-cpu.ts   a sweep: import { defineSweep } from '@mamba2/runner/sweep'
 *   <folder>/package.json             `pnpm gen` (-> <folder>/kernels-out/), `pnpm gen:check`
 *   <folder>/tsconfig.json            so editors type-check the model files
 *   <folder>/node_modules/@mamba2/    links to this checkout's packages/dsl and packages/runner
 *
 * Model files outside the repository cannot otherwise resolve `@mamba2/dsl`
 * (node and TypeScript look in node_modules next to the file). Existing files
 * are never overwritten; the links are refreshed.
 */
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../worker/python.ts';

export interface InitResult {
  readonly dir: string;
  readonly written: readonly string[];
  readonly kept: readonly string[];
}

export class InitError extends Error {
  override readonly name = 'InitError';
}

const q = (s: string) => JSON.stringify(s);

/** The files of a new project, by path inside it. */
function projectFiles(dir: string, root: string): Map<string, string> {
  const tsx = join(root, 'node_modules/.bin/tsx');
  const gen = `${q(tsx)} ${q(join(root, 'packages/codegen/src/cli.ts'))} --out kernels-out models/*.ts`;
  const bench = `${q(tsx)} ${q(join(root, 'packages/runner/src/cli/bench.ts'))}`;
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'mamba2-models';
  const files = new Map<string, string>();
  files.set(
    'package.json',
    `${JSON.stringify(
      {
        name,
        private: true,
        type: 'module',
        description: `Mamba-2 models compiled with ${root}`,
        scripts: { gen: gen, 'gen:check': `${gen} --check`, bench, sweep: `${bench} --sweep` },
      },
      null,
      2,
    )}\n`,
  );
  files.set(
    'tsconfig.json',
    `${JSON.stringify({ extends: join(root, 'tsconfig.base.json'), include: ['models', 'sweeps'] }, null, 2)}\n`,
  );
  files.set(
    'models/my-block.ts',
    [
      '// A Mamba-2 block: every argument of the seed Mamba2Simple, in camelCase (see README of the compiler).',
      '// `pnpm gen` writes the Python package kernels-out/my_block/ (the name comes from this file name).',
      "import { mamba2 } from '@mamba2/dsl';",
      '',
      'export default mamba2({ dModel: 256, headdim: 32, dState: 64, chunkSize: 64 });',
      '',
    ].join('\n'),
  );
  files.set(
    'sweeps/my-block-cpu.ts',
    [
      '// A small tuning sweep of models/my-block.ts; `pnpm sweep sweeps/my-block-cpu.ts` runs it.',
      "import { fileURLToPath } from 'node:url';",
      "import { defineSweep } from '@mamba2/runner/sweep';",
      '',
      'export default defineSweep({',
      "  model: fileURLToPath(new URL('../models/my-block.ts', import.meta.url)),",
      '  shapes: [{ batch: 1, seqlen: 128 }],',
      '  grid: { chunkSize: [32, 64], headdim: [32] },',
      '});',
      '',
    ].join('\n'),
  );
  files.set(
    'README.md',
    [
      `# ${name}`,
      '',
      `Mamba-2 models for the compiler in ${root}.`,
      '',
      '- `pnpm gen`: every `models/*.ts` -> `kernels-out/<name>/` (a pip-installable Python package)',
      '- `pnpm gen:check`: exit 1 when `kernels-out/` is out of date',
      '- `pnpm sweep sweeps/my-block-cpu.ts`: a tuning sweep',
      '',
      '`node_modules/@mamba2/*` link to the compiler checkout; if you move it, run',
      `\`pnpm init-project ${dir}\` from the new checkout to refresh them.`,
      '',
    ].join('\n'),
  );
  return files;
}

/** (Re)points `link` at `target`; refuses to replace anything that is not a link. */
function linkTo(link: string, target: string): void {
  mkdirSync(dirname(link), { recursive: true });
  let st;
  try {
    st = lstatSync(link);
  } catch {
    st = null;
  }
  if (st !== null) {
    if (!st.isSymbolicLink()) {
      throw new InitError(`${link} exists and is not a link; move it away (init links it to ${target}) and run again.`);
    }
    if (resolve(dirname(link), readlinkSync(link)) === target) return;
    rmSync(link);
  }
  symlinkSync(target, link, 'dir');
}

export function initProject(dirArg: string, root: string = repoRoot()): InitResult {
  const dir = resolve(dirArg);
  if (existsSync(dir) && !lstatSync(dir).isDirectory()) {
    throw new InitError(`${dirArg} is a file; give init-project a folder (new or existing) to set up.`);
  }
  const rel = relative(root, dir);
  if (!rel.startsWith('..') && !isAbsolute(rel)) {
    throw new InitError(
      `${dir} is inside the compiler checkout ${root}; model files there import @mamba2/dsl already. ` +
        'Put them in examples/, or give a folder outside the checkout.',
    );
  }
  const written: string[] = [];
  const kept: string[] = [];
  for (const [path, text] of projectFiles(dir, root)) {
    const target = join(dir, path);
    if (existsSync(target)) {
      kept.push(path);
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    written.push(path);
  }
  linkTo(join(dir, 'node_modules/@mamba2/dsl'), join(root, 'packages/dsl'));
  linkTo(join(dir, 'node_modules/@mamba2/runner'), join(root, 'packages/runner'));
  linkTo(join(dir, 'node_modules/@mamba2/codegen'), join(root, 'packages/codegen'));
  return { dir, written, kept };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (args.length !== 1 || args[0]!.startsWith('-')) {
    process.stderr.write('usage: pnpm init-project <folder>   (a folder outside this checkout, new or existing)\n');
    process.exit(2);
  }
  // `pnpm <script>` runs in the repository root; INIT_CWD is where the user typed it.
  const base = process.env['INIT_CWD'] ?? process.cwd();
  try {
    const r = initProject(resolve(base, args[0]!));
    for (const f of r.written) process.stdout.write(`wrote ${join(r.dir, f)}\n`);
    for (const f of r.kept) process.stdout.write(`kept  ${join(r.dir, f)} (exists)\n`);
    process.stdout.write(`linked ${join(r.dir, 'node_modules/@mamba2')}/{dsl,runner,codegen} -> ${repoRoot()}/packages\n`);
    process.stdout.write(`next: cd ${r.dir} && pnpm gen\n`);
  } catch (e) {
    if (!(e instanceof InitError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  }
}
