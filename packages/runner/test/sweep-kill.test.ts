/**
 * Crash safety with the real Python worker (CPU): the package under sweep is
 * a fake whose kernel is the reference, and one config sleeps so that a kill
 * lands while it is in flight.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweepCli } from '../src/cli/sweep.ts';
import { readResults } from '../src/sweep/results.ts';
import { runSweep } from '../src/sweep/run.ts';
import { REPO_ROOT, startPythonWorker, type SweepWorker } from '../src/sweep/worker.ts';
import { fakeConfig, writeFakePlan } from './sweep.fixtures.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function countIds(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of readResults(out).records) m.set(r.id, (m.get(r.id) ?? 0) + 1);
  return m;
}

const CONFIGS = [fakeConfig(0), fakeConfig(1, { chunk_size: 4 }), fakeConfig(2, { sleep_s: 4 }), fakeConfig(3, { chunk_size: 16 }), fakeConfig(4, { block_p: 16 })];

describe('a sweep survives kills', () => {
  it('loses only the in-flight config when the worker is killed, and retries it on a fresh worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-kill-'));
    const plan = writeFakePlan(dir, CONFIGS);
    const out = join(dir, 'results.jsonl');
    let current: SweepWorker | null = null;
    let killed = 0;
    const restarts: string[] = [];
    const res = await runSweep({
      planPath: plan,
      outPath: out,
      resume: false,
      startWorker: async () => (current = await startPythonWorker()),
      onConfigStart: (cfg) => {
        if (cfg.id === 'c2' && killed === 0) {
          killed++;
          const pid = current?.pid;
          setTimeout(() => pid && process.kill(pid, 'SIGKILL'), 1500);
        }
      },
      onRestart: (why) => restarts.push(why),
    });
    expect(restarts).toEqual([expect.stringMatching(/worker died during c2/)]);
    expect(res.complete).toBe(true);
    expect([...countIds(out)]).toEqual(CONFIGS.map((c) => [c.id, 1]));
    const status = Object.fromEntries(readResults(out).records.map((r) => [r.id, r.status]));
    expect(status).toEqual({ c0: 'ok', c1: 'ok', c2: 'ok', c3: 'ok', c4: 'wrong' });
  });

  it('keeps every finished config when the whole command is killed, and --resume completes the rest once each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-kill-cli-'));
    const plan = writeFakePlan(dir, CONFIGS);
    const out = join(dir, 'results.jsonl');
    const tsx = join(REPO_ROOT, 'node_modules/.bin/tsx');
    const child = spawn(tsx, [join(REPO_ROOT, 'packages/runner/src/cli/sweep.ts'), '--plan', plan, '--no-report'], {
      cwd: REPO_ROOT, detached: true, stdio: 'ignore',
    });
    const t0 = Date.now();
    while (!(existsSync(out) && readResults(out).records.length >= 2)) {
      if (Date.now() - t0 > 120_000) throw new Error('the sweep wrote nothing in 120 s');
      await sleep(100);
    }
    process.kill(-(child.pid as number), 'SIGKILL'); // tsx, node and the Python worker
    await new Promise((r) => child.once('exit', r));
    const before = readResults(out).records.map((r) => r.id);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.length).toBeLessThan(CONFIGS.length);

    const code = await runSweepCli(['--plan', plan, '--resume', '--no-report']);
    expect(code).toBe(0);
    expect([...countIds(out)].sort()).toEqual(CONFIGS.map((c) => [c.id, 1]));
    expect(readResults(out).records.slice(0, before.length).map((r) => r.id)).toEqual(before);
  });
});
