import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { benchArgs, noGpuMessage, withDefaultOut } from '../src/cli/bench.ts';
import { WorkerCrashedError } from '../src/worker/errors.ts';
import { repoRoot } from '../src/index.ts';

const ROOT = repoRoot();
const PYTHON = join(ROOT, '.venv/bin/python');
const hasCuda = (): boolean => {
  try {
    return execFileSync(PYTHON, ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8' }).trim() === 'True';
  } catch {
    return false;
  }
};

describe('pnpm bench', () => {
  it('--check-only writes its JSON into a fresh temporary folder, not into the repository', () => {
    const a = benchArgs(withDefaultOut({ checkOnly: true }));
    const b = benchArgs(withDefaultOut({ checkOnly: true }));
    expect(typeof a['out']).toBe('string');
    const out = a['out'] as string;
    expect(out.startsWith(resolve(tmpdir()))).toBe(true);
    expect(out.startsWith(ROOT)).toBe(false);
    expect(b['out']).not.toBe(out);
  });

  it('--check-only keeps a folder the user names, and timed runs keep the default', () => {
    expect(benchArgs(withDefaultOut({ checkOnly: true, out: 'x/check.json' }))['out']).toBe(resolve('x/check.json'));
    expect(benchArgs(withDefaultOut({}))['out']).toBeUndefined();
  });

  it('turns the worker exiting for want of a GPU into "no GPU: use --check-only", and leaves other crashes alone', () => {
    const noGpu = new WorkerCrashedError('bench', 1, null, ['no CUDA device: timing needs a GPU. Use --check-only for the CPU correctness pass.']);
    expect(noGpuMessage(noGpu)).toMatch(/^error: no GPU: .*pnpm bench --check-only/);
    expect(noGpuMessage(new WorkerCrashedError('bench', null, 'SIGKILL', ['Killed']))).toBe(null);
    expect(noGpuMessage(new Error('no CUDA device'))).toBe(null);
  });

  it.skipIf(hasCuda())('on a machine without a GPU says "no GPU" in one line and exits 1, not WorkerCrashedError', { timeout: 120_000 }, () => {
    let out = '';
    let code = 0;
    try {
      execFileSync(join(ROOT, 'node_modules/.bin/tsx'), ['packages/runner/src/cli/bench.ts', '--configs', 'tiny'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { status: number; stderr: string };
      code = err.status;
      out = err.stderr;
    }
    expect(code).toBe(1);
    expect(out).not.toContain('WorkerCrashedError');
    expect(out.trim().split('\n').at(-1)).toMatch(/^error: no GPU: .*--check-only/);
  });

  it('names `pnpm run doctor` as the fix, not `pnpm doctor` (pnpm\'s own command)', () => {
    const msg = new WorkerCrashedError('bench', 1, null, []).message;
    expect(msg).toContain('`pnpm run doctor`');
    expect(msg).not.toMatch(/run `pnpm doctor`/);
  });
});
