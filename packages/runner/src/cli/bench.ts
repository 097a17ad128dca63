/**
 * `pnpm bench`: check each provider against the float64 reference, then time
 * the generated SSD scan and block against mamba_ssm and a naive PyTorch SSD.
 *
 *   pnpm bench [--configs all|tiny|NAME,...] [--providers fused,chunked,torch,mamba_ssm]
 *              [--out bench/results/<date>-<gpu>.json] [--pkg kernels-out/mamba2_simple]
 *              [--block-pkgs 1536=kernels-out/bench_block_1536,...] [--chunk-size Q] [--check-only]
 *              [--python PATH] [--timeout S] [--direct]
 *   pnpm bench --sweep|--plan|--report ...      tuning sweeps (cli/sweep.ts)
 *
 * The Python side (`mamba2_runner.bench`) owns the shapes, checks, timing and
 * the JSON; this command sends the flags to the worker's `bench` op, shows its
 * progress events, and prints the table it returns. `--direct` runs
 * `python -m mamba2_runner.bench` as a plain child instead (its own output on
 * the terminal as it comes; what to use when debugging the worker).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { $ } from 'zx';
import { findPython, repoRoot, runnerPythonPath } from '../worker/python.ts';
import { WorkerCrashedError } from '../worker/errors.ts';
import { WorkerSupervisor } from '../worker/supervisor.ts';
import { isSweepArgv, runSweepCli } from './sweep.ts';

export interface BenchOptions {
  readonly configs?: string;
  readonly providers?: string;
  readonly out?: string;
  readonly pkg?: string;
  readonly blockPkgs?: string;
  readonly chunkSize?: string;
  readonly checkOnly?: boolean;
  readonly warmup?: string;
  readonly rep?: string;
  readonly graph?: boolean;
  readonly budget?: string;
  readonly mode?: string;
  readonly gradTol?: string;
  readonly python?: string;
  readonly timeout?: string;
  readonly direct?: boolean;
}

/** The Python flags as the `bench` op's args (unset ones keep Python's defaults). */
export function benchArgs(o: BenchOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== '') args[k] = v;
  };
  set('pkg', o.pkg);
  set('configs', o.configs);
  set('providers', o.providers);
  set('block_pkgs', o.blockPkgs);
  set('chunk_size', o.chunkSize);
  set('out', o.out && resolve(o.out));
  set('warmup', o.warmup);
  set('rep', o.rep);
  set('budget_s', o.budget);
  set('mode', o.mode);
  set('grad_tol', o.gradTol);
  if (o.checkOnly) args.check_only = true;
  if (o.graph === false) args.no_graph = true;
  return args;
}

/** The same args as `python -m mamba2_runner.bench` flags (what op_bench does on the Python side). */
export function benchArgv(o: BenchOptions): string[] {
  const argv: string[] = [];
  for (const [k, v] of Object.entries(benchArgs(o))) {
    const flag = `--${k.replace(/_/g, '-')}`;
    if (v === true) argv.push(flag);
    else argv.push(flag, String(v));
  }
  return argv;
}

interface BenchEvent {
  readonly stage?: string;
  readonly config?: string;
  readonly provider?: string;
  readonly index?: number;
  readonly total?: number;
  readonly jobs?: number;
  readonly providers?: Record<string, { status?: string; median_ms?: number | string | null; err?: number | string | null }>;
}

interface BenchResult {
  readonly out: string;
  readonly table: string;
  readonly failed: readonly string[];
}

function describe(ev: BenchEvent): string | undefined {
  const at = ev.index !== undefined && ev.total !== undefined ? `[${ev.index + 1}/${ev.total}] ` : '';
  switch (ev.stage) {
    case 'config':
      return `bench ${at}${ev.config}`;
    case 'check':
    case 'time':
      return `  ${ev.stage} ${ev.provider}`;
    case 'done': {
      const parts = Object.entries(ev.providers ?? {}).map(([p, r]) => {
        const ms = r.median_ms === null || r.median_ms === undefined ? '' : ` ${Number(r.median_ms).toFixed(3)} ms`;
        return `${p} ${r.status}${ms}`;
      });
      return `  ${parts.join(', ')}`;
    }
    case 'graph':
      return `bench: CUDA-graph timings (${ev.jobs})`;
    default:
      return undefined;
  }
}

async function runViaWorker(o: BenchOptions): Promise<number> {
  const sup = new WorkerSupervisor(o.python ? { python: o.python } : {});
  try {
    const timeoutMs = Number(o.timeout ?? 1800) * 1000;
    const res = await sup.request<BenchResult>('bench', benchArgs(o), {
      timeoutMs,
      onEvent: (data) => {
        const line = describe(data as BenchEvent);
        if (line) process.stderr.write(`${line}\n`);
      },
    });
    process.stdout.write(`${res.table}\nwrote ${res.out}\n`);
    if (res.failed.length) {
      process.stdout.write(`FAILED: ${res.failed.join('; ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await sup.close();
  }
}

async function runDirect(o: BenchOptions): Promise<number> {
  const { python } = await findPython(o.python ? { python: o.python } : {});
  const root = repoRoot();
  const env = {
    ...process.env,
    PYTHONPATH: [runnerPythonPath(root), process.env.PYTHONPATH].filter(Boolean).join(':'),
    PYTHONUNBUFFERED: '1',
  };
  const proc = await $({ cwd: root, env, stdio: 'inherit', nothrow: true, verbose: false })`${python} -m mamba2_runner.bench ${benchArgv(o)}`;
  return proc.exitCode ?? 1;
}

export async function runBenchCli(argv: readonly string[]): Promise<number> {
  if (isSweepArgv(argv)) return runSweepCli(argv);
  const program = new Command('bench')
    .description('check against the float64 reference, then time the generated kernels vs mamba_ssm')
    .option('--configs <names>', 'all | tiny | NAME,... (default: all on a GPU, tiny on CPU)')
    .option('--providers <names>', 'fused,chunked,torch,mamba_ssm (blocks: generated, mamba_ssm)')
    .option('--out <file>', 'JSON output (default bench/results/<date>-<gpu>.json; with --check-only a temp folder)')
    .option('--pkg <dir>', 'generated package for the SSD configs (default kernels-out/mamba2_simple)')
    .option('--block-pkgs <map>', 'D_MODEL=DIR,... for block configs (default kernels-out/bench_block_<D>)')
    .option('--chunk-size <q>', "chunk for fused/chunked/torch (default: the package's CHUNK_SIZE)")
    .option('--check-only', 'correctness only, no timing (the CPU path); JSON to a temp folder unless --out')
    .option('--warmup <ms>', 'do_bench warmup, ms')
    .option('--rep <ms>', 'do_bench repetition, ms')
    .option('--budget <s>', 'start no new config after this many seconds (Python default 480; 0 = none)')
    .option('--mode <m>', 'fwd | fwdbwd | both (fwdbwd checks every gradient before timing)')
    .option('--grad-tol <t>', 'one tolerance for every gradient check (fwdbwd)')
    .option('--no-graph', 'skip CUDA-graph timing of the seed shape')
    .option('--python <path>', 'Python interpreter (default MAMBA2_PYTHON, .venv, python3)')
    .option('--timeout <s>', 'worker timeout for the whole run, seconds', '1800')
    .option('--direct', 'run python -m mamba2_runner.bench as a plain child, not through the worker')
    .exitOverride()
    .allowExcessArguments(false);
  program.parse([...argv], { from: 'user' });
  const o = withDefaultOut(program.opts<BenchOptions>());
  try {
    return await (o.direct ? runDirect(o) : runViaWorker(o));
  } catch (e) {
    const msg = noGpuMessage(e);
    if (msg === null) throw e;
    process.stderr.write(`${msg}\n`);
    return 1;
  }
}

/**
 * `--check-only` is the CPU correctness pass anyone may run: it writes its
 * JSON into a fresh temporary folder unless --out names one, never into the
 * repository's bench/results/ (that is for timed GPU runs).
 */
export function withDefaultOut(o: BenchOptions): BenchOptions {
  if (!o.checkOnly || (o.out !== undefined && o.out !== '')) return o;
  return { ...o, out: join(mkdtempSync(join(tmpdir(), 'mamba2-bench-check-')), 'check.json') };
}

/** The worker exits on a machine without a GPU unless --check-only: say that, not "worker crashed". */
export function noGpuMessage(e: unknown): string | null {
  if (!(e instanceof WorkerCrashedError) || !e.stderrTail.some((l) => /no CUDA device/.test(l))) return null;
  return (
    'error: no GPU: `pnpm bench` times kernels on a CUDA device and this machine has none. ' +
    'Use `pnpm bench --check-only` for the CPU correctness pass (or `pnpm verify`).'
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runBenchCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      if ((e as { code?: string }).code?.startsWith('commander.')) process.exit((e as { exitCode?: number }).exitCode ?? 2);
      process.stderr.write(`${e.name}: ${e.message}\n`);
      process.exit(2);
    },
  );
}
