/**
 * The multi-GPU sweep (sweep/multi.ts) with fake devices: scripted in-process
 * workers for the queue's rules, then real Python workers on CPU, each given
 * its own made-up CUDA_VISIBLE_DEVICES (passed through untouched; without a
 * GPU the worker runs on CPU), one of them killed mid-config.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweepCli } from '../src/cli/sweep.ts';
import { prepareSweep } from '../src/sweep/prepare.ts';
import { detectGpus, NoWorkerStartedError, parseGpus, runSweepMulti, type SlotInfo } from '../src/sweep/multi.ts';
import { readResults, type SweepRecord } from '../src/sweep/results.ts';
import { runSweep } from '../src/sweep/run.ts';
import { REPO_ROOT, startPythonWorker, type SweepWorker } from '../src/sweep/worker.ts';
import { WorkerCrashedError, WorkerTimeoutError } from '../src/worker/index.ts';
import { fakeConfig, writeFakePlan } from './sweep.fixtures.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sweep-multi-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const okRecord = (id: string, ms = 1): SweepRecord => ({
  type: 'config', id, status: 'ok', reason: null, ms, rel_err: 1e-6, baseline_ms: 2, speedup: 2 / ms,
});

type Behaviour = 'crash' | 'hang' | 'raise';

/** In-process workers, one per device: each answers sweep_point after a short wait, or fails as scripted per config id. */
function fakeFleet(script: Record<string, Behaviour[]> = {}, opts: { failStart?: (device: string, n: number) => boolean } = {}) {
  const calls: { id: string; device: string; worker: number }[] = [];
  const starts = new Map<string, number>();
  let nextPid = 1000;
  const start = async (device: string): Promise<SweepWorker> => {
    const n = (starts.get(device) ?? 0) + 1;
    starts.set(device, n);
    if (opts.failStart?.(device, n)) throw new Error(`CUDA error: no device ${device}`);
    const pid = nextPid++;
    return {
      pid,
      async request(_op, args) {
        const id = (args as { id: string }).id;
        calls.push({ id, device, worker: pid });
        await sleep(5);
        const what = script[id]?.shift();
        if (what === 'crash') throw new WorkerCrashedError('sweep_point', null, 'SIGKILL', []);
        if (what === 'hang') throw new WorkerTimeoutError('sweep_point', 10, pid);
        if (what === 'raise') throw new Error('KeyError: no such config');
        return okRecord(id);
      },
      async close() {},
    };
  };
  return { start, calls, starts };
}

function countIds(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of readResults(out).records) m.set(r.id, (m.get(r.id) ?? 0) + 1);
  return m;
}

const byId = (out: string): Record<string, SweepRecord> => Object.fromEntries(readResults(out).records.map((r) => [r.id, r]));

describe('multi-GPU sweep with scripted workers', () => {
  it('records every config exactly once and spreads them over all the workers', async () => {
    const dir = tmp();
    const configs = Array.from({ length: 12 }, (_, i) => fakeConfig(i));
    const plan = writeFakePlan(dir, configs);
    const out = join(dir, 'results.jsonl');
    const fleet = fakeFleet();
    const res = await runSweepMulti({ planPath: plan, outPath: out, resume: false, devices: ['0', '1', '2'], startWorker: fleet.start });
    expect(res.complete).toBe(true);
    expect([...countIds(out)].sort()).toEqual(configs.map((c) => [c.id, 1]).sort());
    const recs = readResults(out).records;
    expect(new Set(recs.map((r) => r.gpu))).toEqual(new Set(['0', '1', '2']));
    expect(new Set(recs.map((r) => r.worker))).toEqual(new Set([0, 1, 2]));
    for (const r of recs) expect(r.gpu).toBe(String(r.worker));
    expect(fleet.calls).toHaveLength(12);
  });

  it('retries a dead worker’s config on another worker and restarts the dead one', async () => {
    const dir = tmp();
    const configs = Array.from({ length: 6 }, (_, i) => fakeConfig(i));
    const plan = writeFakePlan(dir, configs);
    const out = join(dir, 'results.jsonl');
    const fleet = fakeFleet({ c1: ['crash'] });
    const restarts: [string, SlotInfo][] = [];
    const res = await runSweepMulti({
      planPath: plan, outPath: out, resume: false, devices: ['0', '1'], startWorker: fleet.start,
      onRestart: (why, slot) => restarts.push([why, slot]),
    });
    expect(res.complete).toBe(true);
    expect([...countIds(out).values()]).toEqual([1, 1, 1, 1, 1, 1]);
    const tries = fleet.calls.filter((c) => c.id === 'c1');
    expect(tries).toHaveLength(2);
    expect(tries[1]?.device).not.toBe(tries[0]?.device);
    expect(byId(out).c1).toMatchObject({ status: 'ok', gpu: tries[1]?.device });
    expect(restarts.map(([why]) => why)).toEqual([expect.stringMatching(/died during c1/)]);
    expect(fleet.starts.get(tries[0]?.device as string)).toBe(2);
  });

  it('records a config that kills a second worker as error, and goes on', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1, 2, 3].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    const fleet = fakeFleet({ c2: ['crash', 'crash', 'crash'] });
    const res = await runSweepMulti({ planPath: plan, outPath: out, resume: false, devices: ['0', '1', '2'], startWorker: fleet.start });
    expect(res.complete).toBe(true);
    const tries = fleet.calls.filter((c) => c.id === 'c2');
    expect(tries).toHaveLength(2);
    expect(tries[1]?.device).not.toBe(tries[0]?.device);
    expect(byId(out).c2).toMatchObject({ status: 'error', reason: expect.stringMatching(/died on this config 2 times/) });
    expect([...countIds(out).values()]).toEqual([1, 1, 1, 1]);
  });

  it('with one device retries a dead worker’s config on that device’s fresh worker', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    const fleet = fakeFleet({ c0: ['crash'] });
    const res = await runSweepMulti({ planPath: plan, outPath: out, resume: false, devices: ['3'], startWorker: fleet.start });
    expect(res.complete).toBe(true);
    expect(byId(out).c0).toMatchObject({ status: 'ok', gpu: '3', worker: 0 });
    expect(fleet.starts.get('3')).toBe(2);
  });

  it('records a timeout and an op error without retrying them', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1, 2].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    const fleet = fakeFleet({ c0: ['hang'], c1: ['raise'] });
    await runSweepMulti({ planPath: plan, outPath: out, resume: false, devices: ['0', '1'], startWorker: fleet.start });
    expect(byId(out).c0?.status).toBe('timeout');
    expect(byId(out).c1).toMatchObject({ status: 'error', reason: 'KeyError: no such config' });
    expect(byId(out).c2?.status).toBe('ok');
    expect(fleet.calls.map((c) => c.id).sort()).toEqual(['c0', 'c1', 'c2']);
  });

  it('lets the other workers finish when one GPU’s worker does not start', async () => {
    const dir = tmp();
    const configs = Array.from({ length: 5 }, (_, i) => fakeConfig(i));
    const plan = writeFakePlan(dir, configs);
    const out = join(dir, 'results.jsonl');
    const fleet = fakeFleet({}, { failStart: (d) => d === '1' });
    const why: string[] = [];
    const res = await runSweepMulti({
      planPath: plan, outPath: out, resume: false, devices: ['0', '1'], startWorker: fleet.start, onRestart: (w) => why.push(w),
    });
    expect(res.complete).toBe(true);
    expect(new Set(readResults(out).records.map((r) => r.gpu))).toEqual(new Set(['0']));
    expect(why).toEqual([expect.stringMatching(/worker 1 \(GPU 1\) did not start/)]);
  });

  it('fails when no worker starts at all', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [fakeConfig(0)]);
    const fleet = fakeFleet({}, { failStart: () => true });
    await expect(
      runSweepMulti({ planPath: plan, outPath: join(dir, 'r.jsonl'), resume: false, devices: ['0', '1'], startWorker: fleet.start }),
    ).rejects.toThrow(NoWorkerStartedError);
  });

  it('resumes from results written by any worker and redoes a torn last line', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1, 2, 3, 4].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    writeFileSync(out, `${JSON.stringify({ ...okRecord('c0', 7), worker: 1, gpu: '1' })}\n${JSON.stringify(okRecord('c3'))}\n{"id":"c4","sta`);
    const fleet = fakeFleet();
    const res = await runSweepMulti({ planPath: plan, outPath: out, resume: true, devices: ['0', '1'], startWorker: fleet.start });
    expect(res.complete).toBe(true);
    expect(fleet.calls.map((c) => c.id).sort()).toEqual(['c1', 'c2', 'c4']);
    expect([...countIds(out).values()]).toEqual([1, 1, 1, 1, 1]);
    expect(readResults(out).records[0]?.ms).toBe(7);
  });

  it('starts no worker when everything is already recorded', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [fakeConfig(0)]);
    const out = join(dir, 'results.jsonl');
    writeFileSync(out, `${JSON.stringify(okRecord('c0'))}\n`);
    const fleet = fakeFleet();
    const res = await runSweepMulti({ planPath: plan, outPath: out, resume: true, devices: ['0', '1'], startWorker: fleet.start });
    expect(res.complete).toBe(true);
    expect(fleet.starts.size).toBe(0);
  });
});

describe('--gpus', () => {
  it('parses a list of devices and refuses empty entries and repeats', () => {
    expect(parseGpus('0,1, 3')).toEqual(['0', '1', '3']);
    expect(parseGpus('GPU-8f2a')).toEqual(['GPU-8f2a']);
    expect(() => parseGpus('0,,1')).toThrow(/empty entry/);
    expect(() => parseGpus('0,1,0')).toThrow(/lists 0 twice/);
  });

  it('auto-detects the GPUs CUDA_VISIBLE_DEVICES names', async () => {
    expect(await detectGpus({ env: { CUDA_VISIBLE_DEVICES: '4,5' } })).toEqual(['4', '5']);
  });

  it('runs one pinned worker per listed GPU from the command line', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1, 2, 3, 4, 5].map((i) => fakeConfig(i)));
    const fleet = fakeFleet();
    const code = await runSweepCli(['--plan', plan, '--gpus', '2,3', '--no-report'], { startWorkerOn: fleet.start });
    expect(code).toBe(0);
    const recs = readResults(join(dir, 'results.jsonl')).records;
    expect(recs).toHaveLength(6);
    expect(new Set(recs.map((r) => r.gpu))).toEqual(new Set(['2', '3']));
  });

  it('falls back to the single-worker path when auto-detection finds at most one GPU', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1].map((i) => fakeConfig(i)));
    const single = fakeFleet();
    const code = await runSweepCli(['--plan', plan, '--gpus', 'auto', '--no-report'], {
      startWorker: () => single.start('-'),
      startWorkerOn: () => Promise.reject(new Error('the multi path must not run')),
      detectGpus: async () => [],
    });
    expect(code).toBe(0);
    const recs = readResults(join(dir, 'results.jsonl')).records;
    expect(recs.map((r) => r.id)).toEqual(['c0', 'c1']);
    expect(recs.every((r) => r.worker === undefined && r.gpu === undefined)).toBe(true);
  });
});

describe('multi-GPU sweep with real Python workers on fake devices', () => {
  // every config sleeps, so the three workers are all busy at once and a kill lands mid-config
  const CONFIGS = [
    ...Array.from({ length: 8 }, (_, i) => fakeConfig(i, { sleep_s: 1.5, chunk_size: 4 * (1 + (i % 4)) })),
    fakeConfig(8, { sleep_s: 1.5, block_p: 16 }),
  ];

  it('survives a worker killed mid-config: every config once, spread over the workers, same ids as one worker', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, CONFIGS);
    const single = tmp();
    cpSync(dir, single, { recursive: true });
    const out = join(dir, 'results.jsonl');
    let killed: { id: string; gpu: string } | null = null;
    const restarts: string[] = [];
    const started = new Map<string, string[]>();
    const visible = new Map<string, string[]>();
    const res = await runSweepMulti({
      planPath: plan,
      outPath: out,
      resume: false,
      devices: ['5', '6', '7'],
      startWorker: async (device) => {
        const w = await startPythonWorker({ env: { ...process.env, CUDA_VISIBLE_DEVICES: device } });
        const environ = `/proc/${w.pid}/environ`;
        if (existsSync(environ)) visible.set(device, readFileSync(environ, 'utf8').split('\0').filter((v) => v.startsWith('CUDA_VISIBLE_DEVICES=')));
        return w;
      },
      onConfigStart: (cfg, slot) => {
        started.set(slot.gpu, [...(started.get(slot.gpu) ?? []), cfg.id]);
        // the first config the middle GPU's worker takes
        if (killed === null && slot.gpu === '6' && slot.pid !== undefined) {
          killed = { id: cfg.id, gpu: slot.gpu };
          const pid = slot.pid;
          setTimeout(() => process.kill(pid, 'SIGKILL'), 700);
        }
      },
      onRestart: (why) => restarts.push(why),
    });
    expect(killed).not.toBeNull();
    const k = killed as unknown as { id: string; gpu: string };
    expect(restarts).toEqual([expect.stringMatching(new RegExp(`GPU 6\\) died during ${k.id}`))]);
    expect(res.complete).toBe(true);
    expect([...countIds(out)].sort()).toEqual(CONFIGS.map((c) => [c.id, 1]).sort());
    const recs = byId(out);
    expect(recs[k.id]?.status).toBe('ok');
    expect(recs[k.id]?.gpu).not.toBe('6'); // retried on another worker
    // each Python worker got its own device in its environment (Linux: read from /proc)
    if (process.platform === 'linux') expect([...visible.keys()].sort()).toEqual(['5', '6', '7']);
    for (const [device, vars] of visible) expect(vars).toEqual([`CUDA_VISIBLE_DEVICES=${device}`]);
    // every worker took configs; the results name at least the two that were never killed
    expect([...started.keys()].sort()).toEqual(['5', '6', '7']);
    const gpus = new Set(Object.values(recs).map((r) => r.gpu));
    expect(gpus.has('5') && gpus.has('7')).toBe(true);
    for (const r of Object.values(recs)) expect(started.get(r.gpu as string)).toContain(r.id);
    expect(recs.c8?.status).toBe('wrong');
    expect(Object.values(recs).filter((r) => r.id !== 'c8').every((r) => r.status === 'ok')).toBe(true);

    // the same plan through the single-worker path: the same set of ids
    const singleOut = join(single, 'results.jsonl');
    const one = await runSweep({ planPath: join(single, 'plan.json'), outPath: singleOut, resume: false, startWorker: () => startPythonWorker() });
    expect(one.complete).toBe(true);
    expect([...countIds(singleOut).keys()].sort()).toEqual([...countIds(out).keys()].sort());
  }, 240_000);
});

describe('the tiny CPU plan over two fake GPUs', () => {
  it('records the same configs, each once and all ok, as the single-worker run', async () => {
    const dir = tmp();
    const prep = await prepareSweep(join(REPO_ROOT, 'examples/sweeps/tiny-cpu.ts'), { outDir: join(dir, 'multi') });
    cpSync(join(dir, 'multi'), join(dir, 'single'), { recursive: true });
    expect(await runSweepCli(['--plan', prep.planPath, '--gpus', '8,9', '--no-report'])).toBe(0);
    expect(await runSweepCli(['--plan', join(dir, 'single', 'plan.json'), '--no-report'])).toBe(0);
    const multi = readResults(join(dir, 'multi', 'results.jsonl')).records;
    const one = readResults(join(dir, 'single', 'results.jsonl')).records;
    expect(multi.map((r) => r.id).sort()).toEqual(one.map((r) => r.id).sort());
    expect(multi.map((r) => r.id).sort()).toEqual(prep.plan.configs.map((c) => c.id).sort());
    expect(multi.every((r) => r.status === 'ok' && (r.gpu === '8' || r.gpu === '9'))).toBe(true);
    expect(one.every((r) => r.status === 'ok' && r.gpu === undefined)).toBe(true);
  }, 300_000);
});
