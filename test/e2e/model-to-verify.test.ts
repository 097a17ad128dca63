/**
 * The whole path a user takes, on CPU: a model file -> `pnpm gen` (the CLI, in
 * a fresh output folder) -> the generated package imported by Python -> verify
 * of the whole block against the float64 reference under Triton's interpreter.
 * Every stage is the real command; nothing is mocked.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const PYTHON = join(ROOT, '.venv/bin/python');
const MODEL = 'test/fixtures/e2e-tiny.ts';

function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('model file to verified package', () => {
  it('generates a package from a model file, imports it and passes verify of the whole block on CPU', () => {
    const out = mkdtempSync(join(tmpdir(), 'e2e-'));
    run('pnpm', ['gen', '--out', out, MODEL]);
    const pkg = join(out, 'e2e_tiny');
    expect(existsSync(join(pkg, 'e2e_tiny', 'kernels', 'ssd_fused.py'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(pkg, 'manifest.json'), 'utf8')) as { source: string };
    expect(manifest.source).toBe(MODEL);

    const json = join(out, 'verify.json');
    const log = run(
      PYTHON,
      ['-m', 'mamba2_runner.verify', pkg, '--device', 'cpu', '--shapes', 'quick', '--ops', 'block', '--no-grads', '--json', json],
      { PYTHONPATH: join(ROOT, 'packages/runner/python'), TRITON_INTERPRET: '1' },
    );
    expect(log).toMatch(/e2e_tiny on cpu: (\d+)\/\1 passed/);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { rows: { op: string; passed: boolean; rel_err: number | string }[] };
    const rows = doc.rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.op).toMatch(/^block/);
      expect(r.passed).toBe(true);
    }
  });
});
