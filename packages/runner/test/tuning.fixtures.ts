import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TuningRecord } from '../src/report/tuning-data.ts';

const PROV = { gpu_model: 'NVIDIA H200', driver: '570.00', cuda: '12.8', torch: '2.11.0', triton: '3.6.0', commit: 'abc123' };

/** Made-up kernel sweep records: fwd and bwd at two shapes, the default, a 2x2x2x2 grid and the incumbent. */
export function fakeKernelRecords(): TuningRecord[] {
  const out: TuningRecord[] = [];
  for (const kind of ['fwd', 'bwd'] as const) {
    for (const [b, l, h] of [[8, 2048, 48], [4, 4096, 80]] as const) {
      const shape = { batch: b, seqlen: l, nheads: h, headdim: 64, d_state: 128, ngroups: 1 };
      const problem = `${kind}-B${b}-L${l}-H${h}-P64-N128`;
      const base = kind === 'fwd' ? 0.3 : 1.1;
      const common = { type: 'config', kind, problem, shape, provenance: PROV, kernel_sha: `${kind}sha`, default_ms: base, noise: 0.02, t: '2026-12-01T13:00:00Z' };
      out.push({ ...common, id: `${kind}:default@${problem}`, provider: 'ours', params: {}, status: 'ok', ms: base, speedup: 1, floor_frac: 0.4 });
      const k3 = kind === 'fwd' ? 'num_stages' : 'walk_warps';
      for (const bq of [32, 64]) for (const bp of [32, 64]) for (const w of [4, 8]) for (const s of kind === 'fwd' ? [2, 3] : [4, 8]) {
        const params = { block_q: bq, block_p: bp, num_warps: w, [k3]: s };
        const t = base * (1 + (bq === 64 ? 0.1 : -0.05) + (w === 8 ? 0.05 : 0) + (bp === 32 ? 0.02 : 0));
        const wrong = bq === 64 && bp === 64 && w === 8 && s === (kind === 'fwd' ? 3 : 8);
        out.push({ ...common, id: `${kind}:bq${bq}-bp${bp}-w${w}-s${s}@${problem}`, provider: 'ours', params,
          status: wrong ? 'wrong' : 'ok', reason: wrong ? 'rel err 0.9 > tol 0.02' : null, ms: wrong ? null : t, speedup: wrong ? null : base / t, floor_frac: 0.4 * base / t });
      }
      out.push({ ...common, id: `${kind}:mamba_ssm@${problem}`, provider: 'mamba_ssm', params: { chunk_size: 256 }, status: 'ok', ms: base * 1.3, speedup: 1 / 1.3 });
    }
  }
  return out;
}

/** Made-up model sweep records: 2 d_model x 3 headdim x 2 d_state x 2 Q, and the incumbent per problem. */
export function fakeModelRecords(): TuningRecord[] {
  const out: TuningRecord[] = [];
  for (const d of [768, 1536]) for (const p of [32, 64, 128]) for (const n of [64, 128]) {
    const problem = `block-D${d}-P${p}-N${n}-B8-L2048`;
    const shape = { batch: 8, seqlen: 2048, d_model: d, headdim: p, d_state: n };
    const common = { type: 'config', kind: 'block', problem, shape, provenance: PROV, kernel_sha: 'blocksha', nheads: (2 * d) / p, params_count: 4e6, t: '2026-12-01T13:01:00Z' };
    for (const q of [32, 64]) {
      const t = (d / 768) * (2 + Math.abs(Math.log2(p / 64)) * 0.3 + (n === 128 ? 0.2 : 0) + (q === 64 ? -0.1 : 0));
      out.push({ ...common, id: `block:Q${q}@${problem}`, provider: 'ours', params: q === 32 ? {} : { q }, q, status: 'ok', ms: t, fwd_ms: t / 3, rel_err: 1e-2, tol: 5e-2, floor_frac: 0.3 });
    }
    out.push({ ...common, id: `block:mamba_ssm@${problem}`, provider: 'mamba_ssm', params: { chunk_size: 256 }, q: 256, status: 'ok', ms: (d / 768) * 2.6, fwd_ms: 1 });
  }
  return out;
}

export function writeFakeTuning(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kernels.jsonl'), `${fakeKernelRecords().map((r) => JSON.stringify(r)).join('\n')}\n`);
  writeFileSync(join(dir, 'model.jsonl'), `${fakeModelRecords().map((r) => JSON.stringify(r)).join('\n')}\n{"id": "torn`);
  return dir;
}
