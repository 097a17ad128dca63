import { describe, expect, it } from 'vitest';
import { parseTuned } from '../src/tuned.ts';

const row = (batch: number, seqlen: number, headdim: number, chunk: number, bp: number, ms: number, status = 'ok') =>
  JSON.stringify({
    shape: { batch, seqlen, nheads: 5120 / headdim, headdim },
    params: { chunk_size: chunk, block_p: bp, num_warps: 4, num_stages: 2 },
    status, ms, speedup: 1,
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

  it('names the file and line of a malformed row', () => {
    expect(() => parseTuned(`${row(4, 4096, 64, 32, 64, 1)}\nnope`, 64, 'r.jsonl')).toThrow('r.jsonl:2: not JSON');
  });
});
