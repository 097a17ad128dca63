/**
 * `pnpm verify [model]`: check kernels-out/<model> (or every generated
 * package) against the float64 reference, through the Python worker's
 * `verify` op. Prints one row per check as it finishes, then a summary; exit
 * 1 when any check fails.
 *
 *   pnpm verify [model|kernels-out/<model>] [--device auto|cuda|cpu] [--dtypes fp32,bf16]
 *               [--shapes auto|quick|full] [--ops conv,dt,scan,norm,block] [--seed N]
 *               [--json PATH] [--timeout SECONDS] [--python PATH]
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { RunnerError } from '../worker/errors.ts';
import { repoRoot } from '../worker/python.ts';
import { WorkerSupervisor } from '../worker/supervisor.ts';

export interface VerifyRow {
  op: string;
  shape: string;
  dtype: string;
  device: string;
  rel_err: number | string | null;
  tol: number;
  passed: boolean;
  note: string;
  seconds: number;
}

export interface VerifyReport {
  package: string;
  device: string;
  seed: number;
  passed: boolean;
  n_rows: number;
  n_failed: number;
  rows: VerifyRow[];
}

export class NoGeneratedPackageError extends RunnerError {
  constructor(readonly where: string) {
    super(`no generated package at ${where} (no manifest.json). Run \`pnpm gen\` first, or name one of kernels-out/*.`);
  }
}

/** kernels-out/<model> for a name, the path itself for a path, every package when none. */
export function resolvePackages(model: string | undefined, root = repoRoot()): string[] {
  const out = join(root, 'kernels-out');
  if (!model) {
    const all = existsSync(out)
      ? readdirSync(out)
          .map((d) => join(out, d))
          .filter((d) => existsSync(join(d, 'manifest.json')))
          .sort()
      : [];
    if (!all.length) throw new NoGeneratedPackageError(`${out}/*`);
    return all;
  }
  const dir = [resolve(model), join(out, model)].find((d) => existsSync(join(d, 'manifest.json')));
  if (!dir) throw new NoGeneratedPackageError(`${model} (looked in ./${model} and kernels-out/${model})`);
  return [dir];
}

const fmtErr = (e: VerifyRow['rel_err']) => (e === null ? 'error' : typeof e === 'number' ? e.toExponential(2) : String(e));
export const HEADER = `${'op'.padEnd(34)} ${'shape'.padEnd(32)} ${'dtype'.padEnd(9)} ${'rel err'.padStart(9)} ${'tol'.padStart(8)}  pass`;
export function formatRow(r: VerifyRow): string {
  return (
    `${r.op.padEnd(34)} ${r.shape.padEnd(32)} ${r.dtype.padEnd(9)} ${fmtErr(r.rel_err).padStart(9)} ` +
    `${r.tol.toExponential(0).padStart(8)}  ${r.passed ? 'PASS' : 'FAIL'}${r.passed ? '' : `  ${r.note}`}`
  );
}

export interface VerifyOptions {
  readonly device?: string;
  readonly dtypes?: string;
  readonly shapes?: string;
  readonly ops?: string;
  readonly seed?: string;
  readonly json?: string;
  readonly timeout?: string;
  readonly python?: string;
}

export async function runVerify(
  model: string | undefined,
  o: VerifyOptions,
  log: (s: string) => void = (s) => console.log(s),
): Promise<{ code: number; reports: VerifyReport[] }> {
  const pkgs = resolvePackages(model);
  const sup = new WorkerSupervisor({ python: o.python });
  const reports: VerifyReport[] = [];
  let failed = false;
  try {
    for (const pkg of pkgs) {
      log(`\n== ${pkg}`);
      log(HEADER);
      const args: Record<string, unknown> = { pkg_dir: pkg, device: o.device ?? 'auto', shapes: o.shapes ?? 'auto' };
      if (o.dtypes) args.dtypes = o.dtypes.split(',');
      if (o.ops) args.ops = o.ops.split(',');
      if (o.seed) args.seed = Number(o.seed);
      try {
        const rep = await sup.request<VerifyReport>('verify', args, {
          timeoutMs: Number(o.timeout ?? 3600) * 1000,
          onEvent: (d) => {
            const row = (d as { row?: VerifyRow }).row;
            if (row) log(formatRow(row));
          },
        });
        reports.push(rep);
        const n = rep.n_rows;
        log(`${rep.package} on ${rep.device}: ${n - rep.n_failed}/${n} passed (seed ${rep.seed}; replay with --seed ${rep.seed})`);
        if (!rep.passed || n === 0) failed = true;
      } catch (e) {
        // a package that fails to import or crashes the worker fails on its own; the rest still run
        failed = true;
        if (!(e instanceof RunnerError)) throw e;
        log(`FAIL ${pkg}: ${e.name}: ${e.message}`);
      }
    }
  } finally {
    await sup.close();
  }
  if (o.json) writeFileSync(o.json, `${JSON.stringify(reports, null, 2)}\n`);
  if (pkgs.length > 1) log(`\n${failed ? 'FAILED' : 'all passed'}: ${pkgs.length} packages`);
  return { code: failed ? 1 : 0, reports };
}

export async function runVerifyCli(argv: readonly string[]): Promise<number> {
  const program = new Command('verify')
    .description('check generated kernels against the float64 reference')
    .argument('[model]', 'kernels-out/<model> name or path (default: every generated package)')
    .option('--device <device>', 'auto | cuda | cpu', 'auto')
    .option('--dtypes <list>', 'fp32,bf16 (default: both on cuda, fp32 on cpu)')
    .option('--shapes <set>', 'auto | quick | full', 'auto')
    .option('--ops <list>', 'conv,dt,scan,norm,block (default: all)')
    .option('--seed <n>', 'replay a run')
    .option('--json <path>', 'write the reports as JSON')
    .option('--timeout <seconds>', 'per package', '3600')
    .option('--python <path>', 'Python interpreter (default: MAMBA2_PYTHON, .venv, python3)')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const [model] = program.args;
  try {
    return (await runVerify(model, program.opts<VerifyOptions>())).code;
  } catch (e) {
    if (e instanceof RunnerError) {
      console.error(`verify: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runVerifyCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if ((e as { code?: string }).code?.startsWith('commander.')) process.exit((e as { exitCode?: number }).exitCode ?? 2);
      console.error(e);
      process.exit(1);
    },
  );
}
