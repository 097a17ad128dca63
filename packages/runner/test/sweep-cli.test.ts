/**
 * `pnpm bench --sweep/--plan` is a thin caller of the Python supervisor
 * (mamba2_runner.sweep run, tested in packages/runner/python/tests/test_sweep.py):
 * it checks its flags, writes the plan, runs the supervisor and draws its
 * progress events, passes its exit code on, and writes the report.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL_DEPENDENCIES, kernelSetSha, LAUNCH_KERNELS } from '@mamba2/codegen';
import { describe, expect, it, vi } from 'vitest';
import { parseSeconds, runSweepCli, type SweepEvent } from '../src/cli/sweep.ts';
import { REPO_ROOT } from '../src/sweep/prepare.ts';
import { readResults } from '../src/sweep/results.ts';
import { fakeConfig, writeFakePlan } from './sweep.fixtures.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sweep-cli-'));

function stderrOf<T>(f: () => Promise<T>): Promise<{ value: T; err: string }> {
  let err = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  return f().then(
    (value) => (spy.mockRestore(), { value, err }),
    (e: unknown) => {
      spy.mockRestore();
      throw e;
    },
  );
}

describe('the sweep command line', () => {
  it.each([['--timeout', 'abc'], ['--timeout', '-3'], ['--timeout', 'NaN'], ['--budget', '']])(
    'refuses %s %j in one line with exit 2, before anything runs',
    async (flag, value) => {
      const dir = tmp();
      const plan = writeFakePlan(dir, [fakeConfig(0)]);
      const { value: code, err } = await stderrOf(() => runSweepCli(['--plan', plan, flag, value, '--no-report']));
      expect(code).toBe(2);
      expect(err.trim().split('\n')).toEqual([expect.stringContaining(`${flag} ${JSON.stringify(value)} is not a positive number of seconds`)]);
      expect(existsSync(join(dir, 'results.jsonl'))).toBe(false);
    },
  );

  it('reads seconds as numbers', () => {
    expect(parseSeconds('--timeout', '2.5')).toBe(2.5);
  });

  it('runs a plan through the Python supervisor, shows its events, writes the report, and passes a refusal on as exit 2', async () => {
    const dir = tmp();
    const configs = [fakeConfig(0), fakeConfig(1, { chunk_size: 4 }), fakeConfig(2, { block_p: 16 })];
    const plan = writeFakePlan(dir, configs);
    const events: SweepEvent[] = [];
    const code = await runSweepCli(['--plan', plan, '--timeout', '120'], { onEvent: (e) => events.push(e) });
    expect(code).toBe(0);
    const recs = readResults(join(dir, 'results.jsonl')).records;
    expect(recs.map((r) => r.id).sort()).toEqual(['c0', 'c1', 'c2']);
    expect(recs.map((r) => r.status).sort()).toEqual(['ok', 'ok', 'wrong']);
    expect(events[0]).toMatchObject({ event: 'start', total: 3, done: 0 });
    expect(events.filter((e) => e.event === 'result').map((e) => e.done)).toEqual([1, 2, 3]);
    expect(events.at(-1)).toMatchObject({ event: 'end', complete: true });
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    // results exist and no --resume: the supervisor refuses, and so does the command
    expect(await runSweepCli(['--plan', plan, '--no-report'])).toBe(2);
  }, 120_000);

  it('prepares the tiny CPU plan (one package per headdim) and sweeps it end to end: every config ok, stamped with the library kernel sha codegen computes too', async () => {
    const dir = tmp();
    expect(await runSweepCli(['--sweep', join(REPO_ROOT, 'examples/sweeps/tiny-cpu.ts'), '--out', dir, '--no-report'])).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as { configs: { id: string }[]; commit: string | null; packages: Record<string, { dir: string }> };
    // what preparing it wrote: one package per headdim, at dirs relative to the plan
    expect(plan.configs.map((c) => c.id)).toEqual([
      'Q16-P32-bp32-wdef-sdef@B1-L64-H16', 'Q32-P32-bp32-wdef-sdef@B1-L64-H16',
      'Q16-P64-bp32-wdef-sdef@B1-L64-H8', 'Q32-P64-bp32-wdef-sdef@B1-L64-H8',
    ]);
    for (const [key, pkg] of Object.entries(plan.packages)) {
      expect(existsSync(join(dir, pkg.dir, 'manifest.json'))).toBe(true);
      const ir = JSON.parse(readFileSync(join(dir, pkg.dir, 'mamba2_simple', 'ir.json'), 'utf8')) as { nodes: { kind: string; headdim?: number }[] };
      expect(ir.nodes.find((n) => n.kind === 'SsdScan')?.headdim).toBe(Number(key));
      expect(existsSync(join(dir, pkg.dir, 'mamba2_simple', 'kernels', 'ssd_fused.py'))).toBe(true);
    }
    const recs = readResults(join(dir, 'results.jsonl')).records;
    expect(recs.map((r) => r.id).sort()).toEqual(plan.configs.map((c) => c.id).sort());
    expect(recs.every((r) => r.status === 'ok')).toBe(true);
    // the fused scan's sha: over ssd_fused.py and every library file it imports, as codegen records it
    const lib = join(REPO_ROOT, 'packages/kernels/python/mamba2_kernels');
    const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
    const sha = sha256([...KERNEL_DEPENDENCIES[LAUNCH_KERNELS.fused]!].sort()
      .map((f) => `${f} ${sha256(readFileSync(join(lib, f)))}\n`).join(''));
    const copy = join(dir, plan.packages['32']!.dir, 'mamba2_simple');
    expect(kernelSetSha(LAUNCH_KERNELS.fused, (f) => readFileSync(join(copy, f), 'utf8'))).toBe(sha);
    for (const r of recs) {
      expect(r.kernel_sha).toBe(sha);
      expect(r.provenance).toMatchObject({ kernel_sha: sha, commit: plan.commit, date: r.t });
      expect(typeof r.provenance?.torch).toBe('string');
    }
  }, 300_000);
});
