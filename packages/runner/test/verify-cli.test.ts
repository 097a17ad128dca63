import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NoGeneratedPackageError, formatRow, resolvePackages, runVerify } from '../src/cli/verify.ts';
import { repoRoot } from '../src/index.ts';

const SIMPLE = join(repoRoot(), 'kernels-out', 'mamba2_simple');

describe('pnpm verify', () => {
  it('names pnpm gen as the fix when the model has no generated package', () => {
    expect(() => resolvePackages('no_such_model')).toThrow(NoGeneratedPackageError);
    expect(() => resolvePackages('no_such_model')).toThrow(/pnpm gen/);
  });

  it('finds no packages in an empty kernels-out and says so', () => {
    const root = mkdtempSync(join(tmpdir(), 'empty-'));
    expect(() => resolvePackages(undefined, root)).toThrow(/no generated package at .*kernels-out/);
  });

  it('prints a failed row with its reason and a NaN error as nan', () => {
    const line = formatRow({
      op: 'scan out', shape: 'B2-L37', dtype: 'float32', device: 'cpu', rel_err: 'nan', tol: 1e-4,
      passed: false, note: 'output has NaN/inf', seconds: 0,
    });
    expect(line).toMatch(/scan out\s+B2-L37\s+float32\s+nan\s+1e-4\s+FAIL\s+output has NaN\/inf/);
  });

  it.skipIf(!existsSync(join(SIMPLE, 'manifest.json')))(
    'streams rows from the worker and passes the dt and norm ops of mamba2_simple',
    async () => {
      const lines: string[] = [];
      const { code, reports } = await runVerify('mamba2_simple', { ops: 'dt,norm', shapes: 'quick' }, (s) => lines.push(s));
      expect(code).toBe(0);
      expect(reports[0]?.n_rows).toBeGreaterThan(0);
      expect(lines.filter((l) => /\bPASS$/.test(l))).toHaveLength(reports[0]!.n_rows);
    },
  );
});
