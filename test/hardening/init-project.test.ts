/**
 * Authoring models outside the repository: `pnpm init-project <folder>`
 * writes a ready folder whose model and sweep files import @mamba2/dsl and
 * @mamba2/runner by name, and whose `gen` script compiles them.
 */
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initProject } from '../../packages/runner/src/cli/init.ts';
import { loadSweepFile } from '../../packages/runner/src/sweep/prepare.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
// realpath: on some systems tmpdir() is itself a link, and paths are compared below.
const outside = () => realpathSync(mkdtempSync(join(tmpdir(), 'mamba2-user-')));

function gen(cwd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(TSX, [join(ROOT, 'packages/codegen/src/cli.ts'), ...args], { cwd, encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('models outside the repository', () => {
  it('without a project, fails in one line that says how to set one up (not "fix the types")', { timeout: 120_000 }, () => {
    const dir = outside();
    writeFileSync(join(dir, 'm.ts'), "import { mamba2 } from '@mamba2/dsl';\nexport default mamba2({ dModel: 256 });\n");
    const r = gen(dir, ['m.ts']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot find @mamba2\/dsl: .*Run `pnpm init-project <your folder>`/);
    expect(r.stderr).not.toMatch(/Fix the types/);
  });

  it('init-project writes a folder whose gen script compiles its model and whose sweep file loads', { timeout: 180_000 }, async () => {
    const dir = outside();
    const r = initProject(dir, ROOT);
    expect([...r.written].sort()).toEqual(['README.md', 'models/my-block.ts', 'package.json', 'sweeps/my-block-cpu.ts', 'tsconfig.json']);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // The script exactly as `pnpm gen` would run it there (sh expands models/*.ts).
    const out = execSync(pkg.scripts['gen']!, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    expect(out).toMatch(/kernels-out\/my_block +MyBlock/);
    const manifest = JSON.parse(readFileSync(join(dir, 'kernels-out/my_block/manifest.json'), 'utf8'));
    expect(manifest.className).toBe('MyBlock');
    expect(existsSync(join(dir, 'kernels-out/my_block/my_block/module.py'))).toBe(true);
    expect(execSync(pkg.scripts['gen:check']!, { cwd: dir, encoding: 'utf8', stdio: 'pipe' })).toMatch(/^ok +kernels-out\/my_block/m);

    const sweep = await loadSweepFile(join(dir, 'sweeps/my-block-cpu.ts'));
    expect(sweep.spec.model).toBe(join(dir, 'models/my-block.ts'));

    // A second run keeps the user's edits and only refreshes the links.
    writeFileSync(join(dir, 'models/my-block.ts'), '// mine\n');
    const again = initProject(dir, ROOT);
    expect(again.written).toEqual([]);
    expect(readFileSync(join(dir, 'models/my-block.ts'), 'utf8')).toBe('// mine\n');
  });

  it('refuses a folder inside the checkout, where models import @mamba2/dsl already', () => {
    expect(() => initProject(join(ROOT, 'examples'), ROOT)).toThrow(/inside the compiler checkout/);
  });
});
