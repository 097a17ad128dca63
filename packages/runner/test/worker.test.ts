import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PythonDepsMissingError,
  PythonError,
  PythonNotFoundError,
  WorkerCrashedError,
  WorkerSupervisor,
  WorkerTimeoutError,
  checkPythonDeps,
  findPython,
  repoRoot,
} from '../src/index.ts';

const stderrLines: string[] = [];
let sup: WorkerSupervisor;

beforeAll(() => {
  sup = new WorkerSupervisor({ onStderr: (l) => stderrLines.push(l) });
});
afterAll(async () => {
  await sup.close();
});

async function pid(): Promise<number> {
  return ((await sup.request('ping')) as { pid: number }).pid;
}

describe('PythonWorker through the supervisor', () => {
  it('answers ping once the worker has said it is ready', async () => {
    const r = await sup.request<{ pong: boolean; echo: string }>('ping', { echo: 'hi' });
    expect(r).toMatchObject({ pong: true, echo: 'hi' });
    expect(sup.versions?.torch).toBeTruthy();
    expect(sup.versions?.triton).toBeTruthy();
  });

  it('turns a Python exception into a PythonError carrying the traceback', async () => {
    const e = await sup.request('raise', { message: 'boom' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PythonError);
    const pe = e as PythonError;
    expect(pe.pythonType).toBe('ValueError');
    expect(pe.pythonMessage).toBe('boom');
    expect(pe.traceback).toContain('Traceback (most recent call last)');
    expect(pe.traceback).toContain('_op_raise');
    expect(pe.message).toContain('op "raise" raised ValueError: boom');
  });

  it('keeps the same worker after a Python exception', async () => {
    const before = await pid();
    await sup.request('raise').catch(() => undefined);
    expect(await pid()).toBe(before);
  });

  it('delivers progress events to onEvent before the result', async () => {
    const events: unknown[] = [];
    const r = await sup.request('sleep', { seconds: 0.05 }, { onEvent: (d) => events.push(d) });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ sleeping: 0.05 });
    expect(r).toEqual({ slept: 0.05 });
  });

  it('raises WorkerTimeoutError past the timeout, and the next request works on a fresh worker', async () => {
    const before = await pid();
    const t0 = Date.now();
    const e = await sup.request('sleep', { seconds: 30 }, { timeoutMs: 500 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WorkerTimeoutError);
    expect((e as Error).message).toMatch(/did not answer op "sleep" within 500 ms.*killed/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const after = await pid();
    expect(after).not.toBe(before);
  });

  it('reports WorkerCrashedError with the signal when the worker is killed mid-request, then carries on', async () => {
    const starts = sup.starts;
    const e = await sup
      .request('sleep', { seconds: 30 }, {
        onEvent: (d) => process.kill((d as { pid: number }).pid, 'SIGKILL'),
      })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WorkerCrashedError);
    const ce = e as WorkerCrashedError;
    expect(ce.signal).toBe('SIGKILL');
    expect(ce.op).toBe('sleep');
    expect(ce.message).toContain('was killed by SIGKILL during op "sleep"');
    expect(ce.message).toContain('next request starts a fresh worker');
    await expect(sup.request('ping')).resolves.toMatchObject({ pong: true });
    expect(sup.starts).toBe(starts + 1);
  });

  it('reports the exit code and the last stderr lines when the worker exits by itself', async () => {
    const e = await sup.request('crash', { code: 7 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WorkerCrashedError);
    expect((e as WorkerCrashedError).exitCode).toBe(7);
    expect((e as Error).message).toContain('exited with code 7');
    expect((e as Error).message).toContain('crash op: exiting with code 7');
    expect(stderrLines).toContain('crash op: exiting with code 7');
    await expect(sup.request('ping')).resolves.toMatchObject({ pong: true });
  });

  it('answers requests queued together in order', async () => {
    const rs = await Promise.all([1, 2, 3].map((i) => sup.request<{ echo: number }>('ping', { echo: i })));
    expect(rs.map((r) => r.echo)).toEqual([1, 2, 3]);
  });
});

describe('finding Python', () => {
  it('gives PythonNotFoundError with the fix when --python points nowhere', async () => {
    const e = await findPython({ python: '/nonexistent/bin/python' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PythonNotFoundError);
    expect((e as Error).message).toContain('/nonexistent/bin/python');
    expect((e as Error).message).toContain('bash scripts/setup-python.sh');
  });

  it('gives PythonNotFoundError when there is no venv and no python3 on PATH', async () => {
    const root = mkdtempSync(join(tmpdir(), 'norepo-'));
    const e = await findPython({ root, env: { PATH: root } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PythonNotFoundError);
    expect((e as Error).message).toMatch(/tried: .*\.venv.*PATH python3 \(not on PATH\)/);
  });

  it('the supervisor surfaces PythonNotFoundError from MAMBA2_PYTHON on the first request', async () => {
    const s = new WorkerSupervisor({ env: { ...process.env, MAMBA2_PYTHON: '/nope/python3' } });
    await expect(s.request('ping')).rejects.toBeInstanceOf(PythonNotFoundError);
  });

  it('prefers the repo .venv when nothing is given', async () => {
    const found = await findPython({ env: { PATH: '' } });
    expect(found).toEqual({ python: join(repoRoot(), '.venv', 'bin', 'python'), source: '.venv' });
  });

  it('gives PythonDepsMissingError naming torch and the fix when torch does not import', async () => {
    // the venv's python with -S: no site-packages, so no torch or triton
    const dir = mkdtempSync(join(tmpdir(), 'nodeps-'));
    const py = join(dir, 'python');
    writeFileSync(py, `#!/bin/sh\nexec ${join(repoRoot(), '.venv', 'bin', 'python')} -S "$@"\n`);
    chmodSync(py, 0o755);
    const e = await checkPythonDeps(py).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PythonDepsMissingError);
    expect((e as PythonDepsMissingError).missing).toEqual(['torch', 'triton']);
    expect((e as Error).message).toContain('bash scripts/setup-python.sh');
    const s = new WorkerSupervisor({ python: py, onStderr: () => undefined });
    await expect(s.request('ping')).rejects.toBeInstanceOf(PythonDepsMissingError);
  });
});
