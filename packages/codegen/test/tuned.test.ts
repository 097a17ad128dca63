import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kernelSha, parseTuned, tunedFor } from '../src/tuned.ts';

const row = (batch: number, seqlen: number, headdim: number, chunk: number, bp: number, ms: number, status = 'ok') =>
  JSON.stringify({
    shape: { batch, seqlen, nheads: 5120 / headdim, headdim },
    params: { chunk_size: chunk, block_p: bp, num_warps: 4, num_stages: 2 },
    // the default took 1 ms at every shape, with a 2 % spread over its repeats in that run
    status, ms, default_ms: 1, noise: 0.02, speedup: 1 / ms, confirm_speedup: 1 / ms,
  });
const newRow = (params: object, ms: number, noise = 0.02, extra: object = {}) => ({
  kind: 'fwd', provider: 'ours', shape: { batch: 4, seqlen: 4096, nheads: 80, headdim: 64 }, params,
  status: 'ok', ms, default_ms: 1, noise, speedup: 1 / ms, confirm_speedup: 1 / ms, ...extra,
});

describe('--tuned results', () => {
  it('keeps, per (nheads, seqlen bucket), the settings fastest over the bucket and only rows of the model headdim', () => {
    const text = [
      row(4, 4096, 64, 32, 64, 0.64),
      row(4, 4096, 64, 64, 64, 0.77),
      row(4, 4096, 64, 16, 64, 0.1, 'wrong'),
      row(4, 4096, 32, 32, 32, 0.01),
      row(1, 16384, 64, 32, 32, 0.95),
      row(1, 16384, 64, 32, 64, 1.2),
    ].join('\n');
    expect(parseTuned(text, 64)).toEqual([
      { nheads: 80, max_seqlen: 4096, chunk_size: 32, block_p: 64, num_warps: 4, num_stages: 2 },
      { nheads: 80, max_seqlen: 16384, chunk_size: 32, block_p: 32, num_warps: 4, num_stages: 2 },
    ]);
  });

  it('drops settings that failed at one of the shapes of their bucket', () => {
    const text = [row(4, 3000, 64, 32, 64, 0.5), row(2, 4096, 64, 32, 64, 0.1, 'wrong'), row(4, 3000, 64, 64, 64, 0.9), row(2, 4096, 64, 64, 64, 0.3)].join('\n');
    expect(parseTuned(text, 64).map((e) => e.chunk_size)).toEqual([64]);
  });

  it('enters a setting only where the confirm pass, timing it alternately with the default, beat the noise again', () => {
    const sha = 'e'.repeat(64);
    const unconfirmed = [newRow({ block_q: 64, num_warps: 8 }, 0.75, 0.02, { confirm_speedup: 1.01 }), newRow({}, 1)];
    expect(tunedFor(unconfirmed, 64, sha).table.rows).toEqual([]);
    const { confirm_speedup: _, ...noConfirm } = newRow({ block_q: 64, num_warps: 8 }, 0.75);
    expect(tunedFor([noConfirm, newRow({}, 1)], 64, sha).table.rows).toEqual([]);
    const confirmed = [newRow({ block_q: 64, num_warps: 8 }, 0.75, 0.02, { confirm_speedup: 1.2 }), newRow({}, 1)];
    expect(tunedFor(confirmed, 64, sha).table.rows.length).toBe(1);
  });

  it('enters a setting only where it beat the default by more than the noise of its run, so a bucket without one keeps the defaults', () => {
    const within = [newRow({ block_q: 64, num_warps: 8 }, 0.985), newRow({}, 1)];
    expect(tunedFor(within, 64, 'e'.repeat(64)).table.rows).toEqual([]);
    const beyond = [newRow({ block_q: 64, num_warps: 8 }, 0.9), newRow({}, 1)];
    expect(tunedFor(beyond, 64, 'e'.repeat(64)).table.rows).toEqual([
      { nheads: 80, maxSeqlen: 4096, blockQ: 64, blockP: null, warps: 8, stages: null },
    ]);
    // a noisy run: the same 10 % gain is within a 15 % spread of the default
    expect(tunedFor([newRow({ block_q: 64 }, 0.9, 0.15)], 64, 'e'.repeat(64)).table.rows).toEqual([]);
    // no noise measured (an older sweep): no evidence, no row
    expect(tunedFor([newRow({ block_q: 64 }, 0.5, Number.NaN)], 64, 'e'.repeat(64)).table.rows).toEqual([]);
  });

  it('takes only forward rows of ours: backward, block and incumbent rows, and package-wide split settings, never become rows', () => {
    const rows = [
      newRow({ block_q: 64 }, 0.5, 0.02, { kind: 'bwd', kernel_sha: 'b'.repeat(64) }),
      newRow({ block_q: 64 }, 0.5, 0.02, { kind: 'block', kernel_sha: 'c'.repeat(64) }),
      newRow({ chunk_size: 256 }, 0.5, 0.02, { provider: 'mamba_ssm' }),
      newRow({ split: 4 }, 0.5),
    ];
    // the bwd/block rows' other shas are not refused either: they are not this kernel's rows
    expect(tunedFor(rows, 64, 'e'.repeat(64)).table.rows).toEqual([]);
  });

  it('names the file and line of a malformed row', () => {
    expect(() => parseTuned(`${row(4, 4096, 64, 32, 64, 1)}\nnope`, 64, 'r.jsonl')).toThrow('r.jsonl:2: not JSON');
  });
});

describe('--tuned and the kernel a sweep measured', () => {
  const measured = (sha: string | undefined) =>
    [{ ...JSON.parse(row(4, 4096, 64, 32, 64, 0.6)), ...(sha === undefined ? {} : { kernel_sha: sha }) }];

  it('hashes a kernel file without its generated header lines, as the sha256 of the library file', () => {
    const body = 'import triton\n\ndef f():\n    return 1\n';
    const a = `# generated from examples/a.ts by @mamba2/codegen 0.1.0 -- do not edit\n# ir-hash: aaaa\n# copied from x/kernels/k.py\n${body}`;
    const b = `# generated from bench/models/b.ts by @mamba2/codegen 0.1.0 -- do not edit\n# ir-hash: bbbb\n${body}`;
    expect(kernelSha(a)).toBe(kernelSha(b));
    expect(kernelSha(a)).toBe(createHash('sha256').update(body).digest('hex'));
    expect(kernelSha(a)).not.toBe(kernelSha(a.replace('return 1', 'return 2')));
  });

  it('refuses rows measured on another fused-scan kernel in one line naming both shas, the file set and the fix', () => {
    const err = (() => { try { tunedFor(measured('f'.repeat(64)), 64, 'e'.repeat(64), 'r.jsonl'); } catch (e) { return e as Error; } return null; })();
    expect(err?.message).toMatch(
      /^r\.jsonl: 1 row\(s\) were measured on a fused scan with kernel sha f{12}, but this package's has sha e{12}; the sha covers kernels\/ssd_fused\.py and what it imports \(.*kernels\/ssd_fused_dispatch\.py.*\)\. Re-run the sweep/,
    );
    expect(err?.message).not.toContain('\n');
  });

  it('refuses rows measured on another GPU model, naming both and the fix', () => {
    const rows = [{ ...measured('e'.repeat(64))[0], provenance: { gpu_model: 'NVIDIA A100-SXM4-80GB' } }];
    expect(() => tunedFor(rows, 64, 'e'.repeat(64), 'r.jsonl', 'NVIDIA H200')).toThrow(
      /r\.jsonl: rows were measured on GPU 'NVIDIA A100-SXM4-80GB' but the table is for 'NVIDIA H200' \(--gpu\)\. .*--gpu/,
    );
    const mixed = [rows[0], { ...rows[0], provenance: { gpu_model: 'NVIDIA H200' } }];
    expect(() => tunedFor(mixed, 64, 'e'.repeat(64), 'r.jsonl')).toThrow(/measured on GPU 'NVIDIA H200' but the table is for 'NVIDIA A100-SXM4-80GB'/);
  });

  it('records the GPU and kernel sha of the rows it uses, the fused tile as blockQ, and warns about rows without them', () => {
    const ok = tunedFor([{ ...measured('e'.repeat(64))[0], gpu: '0', provenance: { gpu_model: 'NVIDIA H200' } }], 64, 'e'.repeat(64), 'r.jsonl');
    expect(ok.warnings).toEqual([]);
    expect(ok.table).toEqual({
      kernel: 'kernels/ssd_fused.py', kernelSha: 'e'.repeat(64), gpu: 'NVIDIA H200', source: 'r.jsonl',
      rows: [{ nheads: 80, maxSeqlen: 4096, blockQ: 32, blockP: 64, warps: 4, stages: 2 }],
    });
    const old = tunedFor(measured(undefined), 64, 'e'.repeat(64));
    expect(old.table).toMatchObject({ kernelSha: null, gpu: null });
    expect(old.warnings.join(' ')).toMatch(/carry no kernel_sha.*do not record their GPU/);
  });
});
