import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineSweep } from '../src/sweep/define.ts';
import type { ModelDims, SweepConfig } from '../src/sweep/expand.ts';
import type { SweepPlan } from '../src/sweep/plan.ts';
import type { SweepRecord } from '../src/sweep/results.ts';

/** A package with the generated layout whose ssd_fused_fwd is the float64 reference (CPU, instant). */
const FAKE_KERNEL = `
from mamba2_runner.reference.scan import ref_scan


def ssd_fused_fwd(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
                  seq_idx=None, dt_softplus=False, dt_limit=(0.0, float("inf")),
                  return_final_states=False, block_p=None, block_q=None, num_warps=None, num_stages=None):
    out = ref_scan(x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, dt_softplus=dt_softplus).to(x.dtype)
    return out * 1.5 if block_p == 16 else out
`;

export const FAKE_SHAPE = { batch: 1, seqlen: 16, nheads: 2, headdim: 4, ngroups: 1, d_state: 4 };

export function fakeConfig(i: number, extra: Record<string, unknown> = {}): SweepConfig {
  return {
    id: `c${i}`,
    problem: 'B1-L16-D8',
    package: '4',
    shape: FAKE_SHAPE,
    params: { chunk_size: 8, block_p: 4, num_warps: 4, num_stages: 2, ...extra } as SweepConfig['params'],
  };
}

/** Writes <dir>/pkgs/hd4 (the fake package) and <dir>/plan.json; returns the plan path. */
export function writeFakePlan(dir: string, configs: SweepConfig[]): string {
  const pkg = join(dir, 'pkgs', 'hd4');
  mkdirSync(join(pkg, 'sweepfake', 'kernels'), { recursive: true });
  writeFileSync(join(pkg, 'manifest.json'), JSON.stringify({ name: 'sweepfake' }));
  writeFileSync(join(pkg, 'sweepfake', '__init__.py'), '');
  writeFileSync(join(pkg, 'sweepfake', '_config.py'), 'CHUNK_SIZE = 8\nTUNED = []\n');
  writeFileSync(join(pkg, 'sweepfake', 'kernels', '__init__.py'), '');
  writeFileSync(join(pkg, 'sweepfake', 'kernels', 'ssd_fused.py'), FAKE_KERNEL);
  const plan: SweepPlan = {
    version: 1,
    sweep: 'fake',
    model: 'fake',
    options: { dtype: 'float32', with_z: false, tol: 1e-4, check_seqlen: 16, check_heads: 2, warmup_ms: 1, rep_ms: 1, timeout_s: 60 },
    packages: { '4': { dir: 'pkgs/hd4', headdim: 4, nheads: 2 } },
    baselines: { 'B1-L16-D8': { package: '4', shape: FAKE_SHAPE } },
    configs,
  };
  const path = join(dir, 'plan.json');
  writeFileSync(path, JSON.stringify(plan));
  return path;
}

export const DIMS: ModelDims = { dInner: 5120, ngroups: 1, dState: 128, headdim: 64, chunkSize: 256 };

export const H200_LIKE = defineSweep({
  model: 'examples/sweeps/h200-block.ts',
  shapes: [{ batch: 4, seqlen: 4096 }, { batch: 1, seqlen: 16384 }],
  grid: { chunkSize: [64, 128, 256], headdim: [32, 64, 128], blockP: [32, 64], scanWarps: [4, 8], scanStages: [2] },
});

/** <dir>/results.jsonl from fakeRecords(), a corrupt line in the middle and a torn last line. */
export function writeFakeResults(dir: string): string {
  const out = join(dir, 'results.jsonl');
  const lines = fakeRecords().map((r) => JSON.stringify(r));
  lines.splice(3, 0, '{"id": garbage');
  writeFileSync(out, `${lines.join('\n')}\n{"id":"torn`);
  return out;
}

/** A made-up results file: problem x (Q, P) x tiles with times that make Q128-P64-bp64-w4 the best. */
export function fakeRecords(): SweepRecord[] {
  const out: SweepRecord[] = [];
  for (const [batch, seqlen] of [[4, 4096], [1, 16384]] as const) {
    for (const P of [32, 64, 128]) {
      for (const Q of [64, 128, 256]) {
        for (const bp of [32, 64]) {
          if (bp > P) continue;
          for (const w of [4, 8]) {
            const H = 5120 / P;
            const id = `Q${Q}-P${P}-bp${bp}-w${w}-s2@B${batch}-L${seqlen}-H${H}`;
            const base = 1.0;
            const ms = 0.5 + Math.abs(Math.log2(Q / 128)) * 0.2 + Math.abs(Math.log2(P / 64)) * 0.15 + (bp === 64 ? 0 : 0.05) + (w === 4 ? 0 : 0.03);
            const common = {
              type: 'config' as const, id, problem: `B${batch}-L${seqlen}-D5120`,
              shape: { batch, seqlen, nheads: H, headdim: P, ngroups: 1, d_state: 128 },
              params: { chunk_size: Q, block_p: bp, num_warps: w, num_stages: 2 }, device: 'cuda',
            };
            if (Q === 256 && P === 128 && w === 8) {
              out.push({ ...common, status: 'out_of_resources', reason: 'OutOfResources: shared memory, Required: 262144, Hardware limit: 232448', ms: null, rel_err: null, baseline_ms: base, speedup: null });
            } else if (Q === 64 && P === 32 && w === 8) {
              out.push({ ...common, status: 'wrong', reason: 'rel err 0.8 > tol 0.03 against the float64 reference', ms: null, rel_err: 0.8, baseline_ms: base, speedup: null });
            } else {
              out.push({ ...common, status: 'ok', reason: null, ms, rel_err: 4e-3, baseline_ms: base, noise: 0.02, speedup: base / ms, confirm_speedup: base / ms });
            }
          }
        }
      }
    }
  }
  return out;
}
