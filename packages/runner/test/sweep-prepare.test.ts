import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSweepCli } from '../src/cli/sweep.ts';
import { readPlan } from '../src/sweep/plan.ts';
import { prepareSweep, REPO_ROOT } from '../src/sweep/prepare.ts';

describe('preparing a sweep', () => {
  // Preparing the tiny CPU sweep (one package per headdim, package dirs relative to the plan): sweep-cli.test.ts,
  // which sweeps it right after, so the two packages are generated once.
  it('lists the H200 sweep: at least 27 configs over 3 headdims and 2 shapes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sweep-prep-h200-'));
    expect(await runSweepCli(['--sweep', join(REPO_ROOT, 'examples/sweeps/ssd-h200.ts'), '--out', out, '--prepare-only'])).toBe(0);
    const plan = readPlan(join(out, 'plan.json'));
    expect(plan.configs.length).toBeGreaterThanOrEqual(27);
    expect(Object.values(plan.packages).map((p) => [p.headdim, p.nheads])).toEqual([[32, 160], [64, 80], [128, 40]]);
    expect(Object.keys(plan.baselines)).toEqual(['B4-L4096-D5120', 'B1-L16384-D5120']);
  });

  it('names the grid, not a --headdim flag, when a grid headdim does not divide d_inner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-prep-bad-'));
    const file = join(dir, 'bad.ts');
    writeFileSync(file, `import { defineSweep } from ${JSON.stringify(join(REPO_ROOT, 'packages/runner/src/sweep/define.ts'))};
export default defineSweep({ model: 'examples/mamba2-simple.ts', shapes: [{ batch: 1, seqlen: 64 }], grid: { chunkSize: [16], headdim: [48] } });
`);
    const err = await prepareSweep(file, { outDir: join(dir, 'out') }).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^grid\.headdim 48 does not divide d_inner 512\. Use 16, 32, 64, 128, 256\.$/);
    expect(existsSync(join(dir, 'out', 'pkgs'))).toBe(false);
  });
});
