import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InstalledModuleError, refuseInstalledNames } from '../src/installed.ts';

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

  it('says in one line, with the fix, that a model file is missing, --tuned names no file, or --out is a file', () => {
    const out = mkdtempSync(join(tmpdir(), 'gen-'));
    const file = join(out, 'not-a-folder');
    writeFileSync(file, 'x\n');
    for (const [args, msg] of [
      [['--out', out, 'examples/no-such-model.ts'], /^error: model file examples\/no-such-model\.ts does not exist .*Check the path/],
      [['--out', out, '--tuned', 'no-such-results.jsonl', 'examples/mamba2-simple.ts'], /^error: --tuned no-such-results\.jsonl: no such file\. Pass a sweep's results\.jsonl/],
      [['--out', file, 'examples/mamba2-simple.ts'], /^error: --out .*not-a-folder is a file; .*Pass a folder\./],
    ] as const) {
      const r = gen([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('blames a bad --chunk-size on the flag and the model file, not on the gen CLI itself', { timeout: 120_000 }, () => {
    const r = gen(['--out', mkdtempSync(join(tmpdir(), 'gen-')), '--chunk-size', '100', 'examples/mamba2-simple.ts']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: chunkSize 100 is not a power of two in 16\.\.256 \(from --chunk-size 100\) \(examples\/mamba2-simple\.ts:\d+\)/);
    expect(r.stderr).not.toContain('packages/codegen');
  });

  it('refuses a package name an installed module already has, naming where it is installed', { timeout: 120_000 }, () => {
    const python = join(ROOT, '.venv/bin/python');
    expect(() => refuseInstalledNames([{ name: 'pluggy', where: 'm.ts' }], python)).toThrow(InstalledModuleError);
    expect(() => refuseInstalledNames([{ name: 'pluggy', where: 'm.ts' }], python)).toThrow(/pluggy.*site-packages.*Use name 'pluggy_block'/);
    expect(() => refuseInstalledNames([{ name: 'mamba2_surely_not_installed', where: 'm.ts' }], python)).not.toThrow();
    const out = mkdtempSync(join(tmpdir(), 'gen-'));
    const r = gen(['--out', out, 'packages/codegen/test/fixtures/models/name-pluggy.ts']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: package name 'pluggy' .* is already an installed module/);
    expect(existsSync(join(out, 'pluggy'))).toBe(false);
  });
});
