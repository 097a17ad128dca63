import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendResult, readResults, repairResults, type SweepRecord } from '../src/sweep/results.ts';
import { runSweep, SweepResultsExistError } from '../src/sweep/run.ts';
import type { SweepWorker } from '../src/sweep/worker.ts';
import { WorkerCrashedError, WorkerTimeoutError } from '../src/worker/index.ts';
import { fakeConfig, writeFakePlan } from './sweep.fixtures.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sweep-'));

const okRecord = (id: string, ms = 1): SweepRecord => ({
  type: 'config', id, status: 'ok', reason: null, ms, rel_err: 1e-6, baseline_ms: 2, speedup: 2 / ms,
});

/** An in-process worker: answers sweep_point from a script of behaviours per config id. */
function fakeWorkers(script: Record<string, ('crash' | 'hang' | 'raise')[]>, calls: string[]) {
  let started = 0;
  const start = async (): Promise<SweepWorker> => {
    started++;
    return {
      async request(_op, args) {
        const id = (args as { id: string }).id;
        calls.push(id);
        const what = script[id]?.shift();
        if (what === 'crash') throw new WorkerCrashedError('sweep_point', null, 'SIGKILL', []);
        if (what === 'hang') throw new WorkerTimeoutError('sweep_point', 10, 1);
        if (what === 'raise') throw new Error('KeyError: no such config');
        return okRecord(id);
      },
      async close() {},
    };
  };
  return { start, started: () => started };
}

describe('results file', () => {
  it('ignores a truncated last line and cuts it before the next append', () => {
    const dir = tmp();
    const out = join(dir, 'r.jsonl');
    writeFileSync(out, `${JSON.stringify(okRecord('a'))}\n${JSON.stringify(okRecord('b'))}\n{"type":"config","id":"c","sta`);
    expect(readResults(out).records.map((r) => r.id)).toEqual(['a', 'b']);
    repairResults(out);
    appendResult(out, okRecord('c'));
    expect(readResults(out).records.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(readFileSync(out, 'utf8').endsWith('}\n')).toBe(true);
  });

  it('reads floats sent as strings as numbers and "nan" as null', () => {
    const dir = tmp();
    const out = join(dir, 'r.jsonl');
    writeFileSync(out, '{"id":"a","status":"ok","ms":"0.5","rel_err":"nan","baseline_ms":null,"speedup":"2.0","reason":null}\n');
    const [r] = readResults(out).records;
    expect(r?.ms).toBe(0.5);
    expect(r?.rel_err).toBeNull();
  });
});

describe('runSweep with a scripted worker', () => {
  it('skips configs already recorded and redoes the torn last one', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1, 2, 3].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    writeFileSync(out, `${JSON.stringify(okRecord('c0', 7))}\n${JSON.stringify(okRecord('c1'))}\n{"id":"c2","stat`);
    const calls: string[] = [];
    const w = fakeWorkers({}, calls);
    const res = await runSweep({ planPath: plan, outPath: out, resume: true, startWorker: w.start });
    expect(calls).toEqual(['c2', 'c3']);
    expect(res.complete).toBe(true);
    expect(readResults(out).records.map((r) => r.id)).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(readResults(out).records[0]?.ms).toBe(7);
  });

  it('refuses to append to existing results without resume', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [fakeConfig(0)]);
    const out = join(dir, 'results.jsonl');
    writeFileSync(out, `${JSON.stringify(okRecord('c0'))}\n`);
    await expect(runSweep({ planPath: plan, outPath: out, resume: false, startWorker: fakeWorkers({}, []).start })).rejects.toThrow(SweepResultsExistError);
  });

  it('retries a config once on a fresh worker when the worker dies, then records it as error', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1, 2].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    const calls: string[] = [];
    const w = fakeWorkers({ c0: ['crash'], c1: ['crash', 'crash'] }, calls);
    await runSweep({ planPath: plan, outPath: out, resume: false, startWorker: w.start });
    const recs = readResults(out).records;
    expect(calls).toEqual(['c0', 'c0', 'c1', 'c1', 'c2']);
    expect(recs.map((r) => [r.id, r.status])).toEqual([['c0', 'ok'], ['c1', 'error'], ['c2', 'ok']]);
    expect(recs[1]?.reason).toMatch(/died on this config 2 times/);
    expect(w.started()).toBe(4);
  });

  it('records a timeout, replaces the worker and goes on', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    const w = fakeWorkers({ c0: ['hang'] }, []);
    await runSweep({ planPath: plan, outPath: out, resume: false, startWorker: w.start });
    expect(readResults(out).records.map((r) => r.status)).toEqual(['timeout', 'ok']);
    expect(w.started()).toBe(2);
  });

  it('keeps what a killed run wrote: the next run resumes after the last complete line', async () => {
    const dir = tmp();
    const plan = writeFakePlan(dir, [0, 1, 2].map((i) => fakeConfig(i)));
    const out = join(dir, 'results.jsonl');
    const ac = new AbortController();
    await runSweep({
      planPath: plan, outPath: out, resume: false, startWorker: fakeWorkers({}, []).start, signal: ac.signal,
      onResult: () => ac.abort(),
    });
    expect(readResults(out).records.map((r) => r.id)).toEqual(['c0']);
    appendFileSync(out, '{"id":"c1","sta'); // killed mid-write
    const res = await runSweep({ planPath: plan, outPath: out, resume: true, startWorker: fakeWorkers({}, []).start });
    expect(res.complete).toBe(true);
    expect(readResults(out).records.map((r) => r.id)).toEqual(['c0', 'c1', 'c2']);
  });
});
