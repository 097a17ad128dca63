/**
 * Tuning sweeps and their reports.
 *
 *   pnpm bench --sweep examples/sweeps/ssd-h200.ts [--resume] [--out bench/sweeps/<name>]
 *              [--gpus 0,1,2,3 | --gpus auto] [--timeout <s>] [--budget <s>]
 *   pnpm bench --sweep <file> --prepare-only      packages + plan.json only (carry them to a GPU box
 *                                                 and run there with `python -m mamba2_runner.sweep run`)
 *   pnpm bench --plan bench/sweeps/<name>/plan.json [--resume]   run an existing plan
 *   pnpm bench --report bench/sweeps/<name>/results.jsonl         report.html + charts/*.svg
 *
 * (`tsx packages/runner/src/cli/sweep.ts ...` takes the same flags.)
 * This side is a thin caller: it loads and checks the sweep file, writes the
 * packages and plan.json, then starts the one sweep supervisor,
 * `python -m mamba2_runner.sweep run` (packages/runner/python/mamba2_runner/sweep.py:
 * worker processes, watchdog, retries, results lock, resume), draws the
 * progress events it sends on fd 3 as a bar, and writes the report.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { writeReport } from '../report/index.ts';
import { SweepSpecError } from '../sweep/define.ts';
import { prepareSweep, type PreparedSweep } from '../sweep/prepare.ts';
import { findPython, runnerPythonPath } from '../worker/python.ts';

/** True when these bench flags are a sweep or report command (for cli/bench.ts to route). */
export function isSweepArgv(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--sweep' || a === '--report' || a === '--plan' || /^--(sweep|report|plan)=/.test(a));
}

/** A bad flag: one line on stderr, exit 2. */
export class SweepUsageError extends Error {
  override name = 'SweepUsageError';
}

/** `--timeout 120` -> 120; anything but a positive finite number is refused, naming the flag and the fix. */
export function parseSeconds(flag: string, text: string): number {
  const v = text.trim() === '' ? NaN : Number(text);
  if (!(Number.isFinite(v) && v > 0)) {
    throw new SweepUsageError(`${flag} ${JSON.stringify(text)} is not a positive number of seconds. Pass e.g. ${flag} 120.`);
  }
  return v;
}

/** One progress event of the Python supervisor (mamba2_runner.sweep `--events-fd`). */
export interface SweepEvent {
  readonly event: 'start' | 'config' | 'result' | 'restart' | 'end';
  readonly [key: string]: unknown;
}

export interface RunPlanOptions {
  readonly resume: boolean;
  readonly timeoutS?: number;
  readonly budgetS?: number;
  /** `--gpus` as given ("0,1" or "auto"); the supervisor checks it. */
  readonly gpus?: string;
  readonly python?: string;
  onEvent?(e: SweepEvent): void;
}

interface Best { readonly id: string; readonly ms: number; readonly speedup?: number | null }

const bestText = (b: unknown): string => {
  const x = b as Best | null | undefined;
  return x ? `${x.ms.toFixed(3)} ms ${x.id.split('@')[0]}${x.speedup ? ` (${x.speedup.toFixed(2)}x)` : ''}` : '-';
};

/**
 * Runs a plan through `python -m mamba2_runner.sweep run`; resolves to its
 * exit code (0 every config recorded, 1 some left, 2 refused). On a terminal
 * the supervisor's log goes behind a progress bar (MAMBA2_SWEEP_DEBUG=1 shows
 * it); otherwise its lines pass through as they come.
 */
export async function runPlan(planPath: string, outPath: string, o: RunPlanOptions): Promise<number> {
  const python = o.python ?? (await findPython()).python;
  const args = ['-m', 'mamba2_runner.sweep', 'run', '--plan', planPath, '--out', outPath, '--events-fd', '3'];
  if (o.resume) args.push('--resume');
  if (o.timeoutS !== undefined) args.push('--timeout-s', String(o.timeoutS));
  if (o.budgetS !== undefined) args.push('--budget-s', String(o.budgetS));
  if (o.gpus !== undefined) args.push('--gpus', o.gpus);
  const pp = process.env.PYTHONPATH;
  const tty = process.stderr.isTTY === true;
  const quiet = tty && !process.env.MAMBA2_SWEEP_DEBUG;
  const child = spawn(python, args, {
    env: { ...process.env, PYTHONPATH: pp ? `${runnerPythonPath()}:${pp}` : runnerPythonPath() },
    stdio: ['ignore', 'inherit', quiet ? 'pipe' : 'inherit', 'pipe'],
  });
  const bar = new cliProgress.SingleBar(
    { format: 'sweep {bar} {value}/{total} | ETA {eta_formatted} | {current} | best {best}', etaBuffer: 8, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let barOn = false;
  const tail: string[] = [];
  if (quiet && child.stderr) {
    createInterface({ input: child.stderr }).on('line', (l) => {
      tail.push(l);
      if (tail.length > 20) tail.shift();
    });
  }
  const events = child.stdio[3];
  if (events && 'on' in events) {
    createInterface({ input: events as NodeJS.ReadableStream }).on('line', (l) => {
      let e: SweepEvent;
      try {
        e = JSON.parse(l) as SweepEvent;
      } catch {
        return;
      }
      o.onEvent?.(e);
      if (!quiet) return;
      if (e.event === 'start') {
        bar.start(Number(e.total), Number(e.done), { current: '', best: bestText(e.best) });
        barOn = true;
      } else if (e.event === 'config') bar.update({ current: `${String(e.id)}${e.gpu != null ? ` on GPU ${String(e.gpu)}` : ''}` });
      else if (e.event === 'result') bar.update(Number(e.done), { best: bestText(e.best) });
      else if (e.event === 'restart') bar.update({ current: String(e.why) });
      else if (e.event === 'end' && barOn) {
        bar.stop(); // before the supervisor prints its summary table
        barOn = false;
      }
    });
  }
  // Ctrl-C reaches the supervisor too (same process group): wait for it to stop cleanly
  const onSig = (): void => undefined;
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    const code = await new Promise<number>((res, rej) => {
      child.once('error', rej);
      child.once('close', (c, sig) => res(c ?? (sig ? 128 + 15 : 1)));
    });
    if (barOn) bar.stop();
    if (code !== 0 && quiet && tail.length > 0) process.stderr.write(`${tail.join('\n')}\n`);
    return code;
  } finally {
    if (barOn) bar.stop();
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

/** `pnpm bench --sweep/--plan/--report ...`; argv without node and script. Resolves to the exit code. */
export async function runSweepCli(argv: readonly string[], deps: { onEvent?: (e: SweepEvent) => void } = {}): Promise<number> {
  const cmd = new Command('sweep')
    .description('tuning sweeps of the SSD scan and their reports')
    .option('--sweep <file>', 'sweep file (export default defineSweep({...}))')
    .option('--plan <plan.json>', 'run an existing plan instead of preparing one')
    .option('--report <results.jsonl>', 'write report.html and charts/*.svg next to the results')
    .option('--out <dir>', 'output folder (default bench/sweeps/<name>)')
    .option('--resume', 'skip configs already in results.jsonl', false)
    .option('--prepare-only', 'generate the packages and plan.json, run nothing', false)
    .option('--timeout <seconds>', "per-config timeout (default: the plan's timeout_s)")
    .option('--budget <seconds>', 'stop starting configs after this long (finish later with --resume)')
    .option('--gpus <list>', 'one worker per GPU from one shared queue: 0,1,2,3 or auto (CUDA_VISIBLE_DEVICES, nvidia-smi, torch)')
    .option('--no-report', 'do not write the report after the run')
    .exitOverride()
    .allowExcessArguments(false);
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<{ sweep?: string; plan?: string; report?: string | boolean; out?: string; resume: boolean; prepareOnly: boolean; timeout?: string; budget?: string; gpus?: string }>();
  let timeoutS: number | undefined;
  let budgetS: number | undefined;
  try {
    // checked before any package is generated: a typo costs nothing
    if (o.timeout !== undefined) timeoutS = parseSeconds('--timeout', o.timeout);
    if (o.budget !== undefined) budgetS = parseSeconds('--budget', o.budget);
  } catch (e) {
    if (!(e instanceof SweepUsageError)) throw e;
    process.stderr.write(`sweep: ${e.message}\n`);
    return 2;
  }
  if (typeof o.report === 'string') {
    const files = writeReport(resolve(o.report), o.out ? { outDir: resolve(o.out) } : {});
    process.stdout.write(`${files.html}\n${files.svgs.join('\n')}\n`);
    return 0;
  }
  let planPath: string;
  let outDir: string;
  if (o.plan) {
    planPath = resolve(o.plan);
    outDir = resolve(o.out ?? dirname(planPath));
  } else if (o.sweep) {
    let prep: PreparedSweep;
    try {
      prep = await prepareSweep(o.sweep, o.out ? { outDir: o.out } : {});
    } catch (e) {
      if (!(e instanceof SweepSpecError)) throw e;
      process.stderr.write(`sweep: ${e.message}\n`);
      return 2;
    }
    planPath = prep.planPath;
    outDir = prep.outDir;
    process.stderr.write(`sweep ${prep.name}: ${prep.plan.configs.length} configs, ${Object.keys(prep.plan.packages).length} packages, plan ${planPath}\n`);
    if (o.prepareOnly) return 0;
  } else {
    process.stderr.write('sweep: pass --sweep <file>, --plan <plan.json> or --report <results.jsonl>\n');
    return 2;
  }
  const outPath = join(outDir, 'results.jsonl');
  const code = await runPlan(planPath, outPath, {
    resume: o.resume,
    ...(timeoutS !== undefined ? { timeoutS } : {}),
    ...(budgetS !== undefined ? { budgetS } : {}),
    ...(o.gpus !== undefined ? { gpus: o.gpus } : {}),
    ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
  });
  if (o.report !== false && code !== 2 && existsSync(outPath) && statSync(outPath).size > 0) {
    try {
      const files = writeReport(outPath, { outDir });
      process.stderr.write(`report: ${files.html}\n`);
    } catch (e) {
      process.stderr.write(`report not written: ${(e as Error).message}\n`);
    }
  }
  return code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runSweepCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      if ((e as { code?: string }).code?.startsWith('commander.')) process.exit((e as { exitCode?: number }).exitCode ?? 2);
      process.stderr.write(`${e.name}: ${e.message}\n`);
      process.exit(1);
    },
  );
}
