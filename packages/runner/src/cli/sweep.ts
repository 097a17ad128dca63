/**
 * Tuning sweeps and their reports.
 *
 *   pnpm bench --sweep examples/sweeps/ssd-h200.ts [--resume] [--out bench/sweeps/<name>]
 *   pnpm bench --sweep <file> --prepare-only      packages + plan.json only (to carry to a GPU box
 *                                                 and run there with `python -m mamba2_runner.sweep run`)
 *   pnpm bench --plan bench/sweeps/<name>/plan.json [--resume]   run an existing plan
 *   pnpm bench --report bench/sweeps/<name>/results.jsonl         report.html + charts/*.svg
 *   pnpm bench --sweep <file> --gpus 0,1,2,3 | --gpus auto        one worker per GPU, one shared queue
 *
 * (`tsx packages/runner/src/cli/sweep.ts ...` takes the same flags.)
 * Configs run one by one through the Python worker; each result is appended
 * and fsync'ed as it arrives, so killing this command loses only the config in
 * flight, and --resume picks up from there.
 */
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { writeReport } from '../report/index.ts';
import { prepareSweep } from '../sweep/prepare.ts';
import type { SweepRecord } from '../sweep/results.ts';
import { detectGpus, parseGpus, runSweepMulti, type StartWorkerOn } from '../sweep/multi.ts';
import { runSweep, type RunSweepResult } from '../sweep/run.ts';
import { startPythonWorker, type StartWorker } from '../sweep/worker.ts';
import { findPython } from '../worker/index.ts';

export interface SweepCliOptions {
  readonly sweep?: string;
  readonly plan?: string;
  readonly report?: string;
  readonly out?: string;
  readonly resume?: boolean;
  readonly prepareOnly?: boolean;
  readonly timeout?: string;
  readonly report_?: boolean;
}

/** True when these bench flags are a sweep or report command (for cli/bench.ts to route). */
export function isSweepArgv(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--sweep' || a === '--report' || a === '--plan' || /^--(sweep|report|plan)=/.test(a));
}

const bestText = (b: SweepRecord | null): string =>
  b === null || b.ms === null ? '-' : `${b.ms.toFixed(3)} ms ${b.id.split('@')[0]}${b.speedup ? ` (${b.speedup.toFixed(2)}x)` : ''}`;

/** A worker pinned to one GPU: CUDA_VISIBLE_DEVICES=<device>, so it sees that GPU as cuda:0. */
export const startPinnedWorker: StartWorkerOn = (device) =>
  startPythonWorker({ env: { ...process.env, CUDA_VISIBLE_DEVICES: device } });

export async function runPlan(
  planPath: string,
  outPath: string,
  o: { resume: boolean; timeoutMs?: number; startWorker?: StartWorker; gpus?: readonly string[]; startWorkerOn?: StartWorkerOn },
): Promise<boolean> {
  const tty = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format: 'sweep {bar} {value}/{total} | ETA {eta_formatted} | {current} | best {best}',
      etaBuffer: 8,
      hideCursor: true,
      stream: process.stderr,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const ac = new AbortController();
  const onSig = (): void => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    const common = {
      planPath,
      outPath,
      resume: o.resume,
      signal: ac.signal,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      onStart: ({ total, done, best }: { total: number; done: number; best: SweepRecord | null }) => {
        if (tty) bar.start(total, done, { current: '', best: bestText(best) });
        else process.stderr.write(`sweep: ${done}/${total} done\n`);
      },
      onResult: (rec: SweepRecord, p: { done: number; total: number; best: SweepRecord | null }) => {
        if (tty) bar.update(p.done, { best: bestText(p.best) });
        else {
          const what = rec.ms !== null ? `${rec.ms.toFixed(3)} ms` : (rec.reason ?? '').slice(0, 100);
          const on = rec.gpu !== undefined ? ` (GPU ${rec.gpu})` : '';
          process.stderr.write(`[${p.done}/${p.total}] ${rec.id}${on} ${rec.status} ${what} | best ${bestText(p.best)}\n`);
        }
      },
    };
    let res: RunSweepResult;
    if (o.gpus !== undefined && o.gpus.length > 0) {
      process.stderr.write(`sweep: ${o.gpus.length} workers, GPUs ${o.gpus.join(',')}\n`);
      res = await runSweepMulti({
        ...common,
        devices: o.gpus,
        startWorker: o.startWorkerOn ?? startPinnedWorker,
        onConfigStart: (cfg, slot) => {
          if (tty) bar.update({ current: `${cfg.id} on GPU ${slot.gpu}` });
        },
        onRestart: (why) => {
          if (tty) bar.update({ current: why });
          else process.stderr.write(`sweep: ${why}\n`);
        },
      });
    } else {
      res = await runSweep({
        ...common,
        startWorker: o.startWorker ?? (() => startPythonWorker()),
        onConfigStart: (cfg) => {
          if (tty) bar.update({ current: cfg.id });
        },
        onRestart: (why) => {
          if (tty) bar.update({ current: `restarting worker: ${why}` });
          else process.stderr.write(`sweep: restarting the worker (${why})\n`);
        },
      });
    }
    if (tty) bar.stop();
    const failed = res.records.filter((r) => r.status !== 'ok').length;
    process.stderr.write(
      `sweep: ${res.records.length}/${res.plan.configs.length} recorded in ${outPath} (${failed} not ok)` +
        `${res.complete ? '' : '; rerun with --resume to finish'}\n`,
    );
    return res.complete;
  } finally {
    if (tty) bar.stop();
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

/** `pnpm bench --sweep/--plan/--report ...`; argv without node and script. Resolves to the exit code. */
export async function runSweepCli(
  argv: readonly string[],
  deps: { startWorker?: StartWorker; startWorkerOn?: StartWorkerOn; detectGpus?: () => Promise<string[]> } = {},
): Promise<number> {
  const cmd = new Command('sweep')
    .description('tuning sweeps of the SSD scan and their reports')
    .option('--sweep <file>', 'sweep file (export default defineSweep({...}))')
    .option('--plan <plan.json>', 'run an existing plan instead of preparing one')
    .option('--report <results.jsonl>', 'write report.html and charts/*.svg next to the results')
    .option('--out <dir>', 'output folder (default bench/sweeps/<name>)')
    .option('--resume', 'skip configs already in results.jsonl', false)
    .option('--prepare-only', 'generate the packages and plan.json, run nothing', false)
    .option('--timeout <seconds>', "per-config timeout (default: the plan's timeout_s)")
    .option('--gpus <list>', 'one worker per GPU from one shared queue: 0,1,2,3 or auto (CUDA_VISIBLE_DEVICES, nvidia-smi, torch)')
    .option('--no-report', 'do not write the report after the run')
    .exitOverride()
    .allowExcessArguments(false);
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<{ sweep?: string; plan?: string; report?: string | boolean; out?: string; resume: boolean; prepareOnly: boolean; timeout?: string; gpus?: string }>();
  const timeoutMs = o.timeout !== undefined ? Number(o.timeout) * 1000 : undefined;
  // checked before any package is generated: a typo in --gpus costs nothing
  const gpuList = o.gpus !== undefined && o.gpus !== 'auto' ? parseGpus(o.gpus) : undefined;
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
    const prep = await prepareSweep(o.sweep, o.out ? { outDir: o.out } : {});
    planPath = prep.planPath;
    outDir = prep.outDir;
    process.stderr.write(`sweep ${prep.name}: ${prep.plan.configs.length} configs, ${Object.keys(prep.plan.packages).length} packages, plan ${planPath}\n`);
    if (o.prepareOnly) return 0;
  } else {
    process.stderr.write('pass --sweep <file>, --plan <plan.json> or --report <results.jsonl>\n');
    return 2;
  }
  const outPath = join(outDir, 'results.jsonl');
  let gpus = gpuList;
  if (o.gpus === 'auto') {
    gpus = await (deps.detectGpus ?? (async () => detectGpus({ python: (await findPython()).python })))();
    if (gpus.length <= 1) {
      process.stderr.write(`sweep: --gpus auto found ${gpus.length === 0 ? 'no GPU' : `one GPU (${gpus[0]})`}: one worker, as without --gpus\n`);
      gpus = undefined;
    }
  }
  const complete = await runPlan(planPath, outPath, {
    resume: o.resume,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(deps.startWorker ? { startWorker: deps.startWorker } : {}),
    ...(gpus !== undefined ? { gpus } : {}),
    ...(deps.startWorkerOn ? { startWorkerOn: deps.startWorkerOn } : {}),
  });
  if (o.report !== false) {
    try {
      const files = writeReport(outPath, { outDir });
      process.stderr.write(`report: ${files.html}\n`);
    } catch (e) {
      process.stderr.write(`report not written: ${(e as Error).message}\n`);
    }
  }
  return complete ? 0 : 1;
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
