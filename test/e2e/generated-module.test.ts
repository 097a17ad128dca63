/**
 * Generate packages from fixtures and run them under Triton's interpreter on
 * CPU: the module builds, has the seed's state_dict, and maps (2, 16, 256) to
 * (2, 16, 256). Numerics are the runner's job.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePackage } from '../../packages/codegen/src/index.ts';
import { seedModel, type Variant } from '../../packages/codegen/test/fixtures/graphs.ts';

const PYTHON = resolve(import.meta.dirname, '../../.venv/bin/python');

function runPython(dir: string, script: string): string {
  return execFileSync(PYTHON, ['-c', script], {
    cwd: dir,
    env: { ...process.env, TRITON_INTERPRET: '1', PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
  });
}

const SCRIPT = (className: string, pkg: string) => `
import json, torch
import ${pkg} as m
blk = m.${className}(256)
keys = {k: list(v.shape) for k, v in blk.state_dict().items()}
y = blk(torch.randn(2, 16, 256))
try:
    m.${className}(256, headdim=32)
    err = None
except ValueError as e:
    err = str(e)
print(json.dumps({"keys": keys, "shape": list(y.shape), "finite": bool(y.isfinite().all()), "err": err}))
`;

const cases: [string, Variant, Record<string, number[]>][] = [
  ['the seed', {}, {
    'in_proj.weight': [1288, 256], 'conv1d.weight': [768, 1, 4], 'conv1d.bias': [768], dt_bias: [8], A_log: [8], D: [8],
    'norm.weight': [512], 'out_proj.weight': [256, 512],
  }],
  ['gate in the scan, per-channel D, learnable init states', { name: 'mamba2_variant', className: 'Mamba2Variant', tail: 'gate', perChannelD: true, learnableInitStates: true, scanImpl: 'chunked' }, {
    'in_proj.weight': [1288, 256], 'conv1d.weight': [768, 1, 4], 'conv1d.bias': [768], init_states: [8, 64, 128], dt_bias: [8], A_log: [8], D: [512],
    'out_proj.weight': [256, 512],
  }],
];

describe.skipIf(!existsSync(PYTHON))('end to end (Python, TRITON_INTERPRET=1)', () => {
  // Both packages generated first, then imported and run by one Python process
  // (a process per case would repeat the ~4 s of CPU torch's import costs).
  const results = new Map<string, { keys: Record<string, number[]>; shape: number[]; finite: boolean; err: string | null }>();
  beforeAll(async () => {
    const dirs: string[] = [];
    const scripts: string[] = [];
    for (const [label, variant] of cases) {
      const model = seedModel(variant);
      const { dir } = await generatePackage(model, { outDir: mkdtempSync(join(tmpdir(), 'mamba2-e2e-')) });
      dirs.push(dir);
      scripts.push(`sys.path.insert(0, ${JSON.stringify(dir)})\n${SCRIPT(model.graph.className, model.graph.name)}\nprint(${JSON.stringify(label)})`);
    }
    const lines = runPython(dirs[0]!, `import sys\n${scripts.join('\n')}`).trim().split('\n');
    for (const [label] of cases) {
      const at = lines.indexOf(label);
      expect(at, lines.join('\n')).toBeGreaterThan(0);
      results.set(label, JSON.parse(lines[at - 1]!));
    }
  }, 300_000);

  it.each(cases)('builds %s and maps (2, 16, 256) to (2, 16, 256)', (label, _variant, keys) => {
    const out = results.get(label)!;
    expect(out.shape).toEqual([2, 16, 256]);
    expect(out.finite).toBe(true);
    expect(out.keys).toEqual(keys);
    expect(out.err).toMatch(/headdim=32.*generated for headdim=64.*pnpm gen/);
  });
});
