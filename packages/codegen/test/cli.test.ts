import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function gen(args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(TSX, ['packages/codegen/src/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('pnpm gen', () => {
  it('prints a DSL error as one line with file:line and exits 1, without a stack', { timeout: 120_000 }, () => {
    const r = gen(['--out', mkdtempSync(join(tmpdir(), 'gen-')), 'examples/invalid/headdim-does-not-divide.ts']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: .*examples\/invalid\/headdim-does-not-divide\.ts:\d+/);
  });

  it('--check exits 1 naming a package that was never generated, then 0 after generating it', { timeout: 120_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'gen-'));
    const before = gen(['--out', out, '--check', 'examples/mamba2-simple.ts']);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/missing .*mamba2_simple/);
    const made = gen(['--out', out, 'examples/mamba2-simple.ts']);
    expect(made.code).toBe(0);
    expect(made.stdout.trim().split('\n')).toHaveLength(1);
    expect(gen(['--out', out, '--check', 'examples/mamba2-simple.ts']).code).toBe(0);
  });
});
