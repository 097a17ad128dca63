import { describe, expect, it } from 'vitest';
import { defineSweep, SweepSpecError } from '../src/sweep/define.ts';
import { configId, expandSweep } from '../src/sweep/expand.ts';
import { buildPlan } from '../src/sweep/plan.ts';
import { DIMS, H200_LIKE } from './sweep.fixtures.ts';

describe('grid expansion', () => {
  it('names a config by its values: chunk, headdim, tiles and the scan shape', () => {
    const id = configId(
      { chunk_size: 128, block_p: 64, num_warps: 4, num_stages: 2 },
      { batch: 4, seqlen: 4096, nheads: 80, headdim: 64, ngroups: 1, d_state: 128 },
    );
    expect(id).toBe('Q128-P64-bp64-w4-s2@B4-L4096-H80');
  });

  it('gives unique ids, and the same ids on every expansion', () => {
    const a = expandSweep(H200_LIKE, DIMS).map((c) => c.id);
    const b = expandSweep(H200_LIKE, DIMS).map((c) => c.id);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
    expect(a.length).toBe(60);
  });

  it('keeps ids when the grid lists its values in another order or twice', () => {
    const shuffled = defineSweep({
      model: H200_LIKE.model,
      shapes: [...H200_LIKE.shapes].reverse(),
      grid: { chunkSize: [256, 64, 128, 64], headdim: [128, 32, 64], blockP: [64, 32], scanWarps: [8, 4], scanStages: [2] },
    });
    expect(new Set(expandSweep(shuffled, DIMS).map((c) => c.id))).toEqual(new Set(expandSweep(H200_LIKE, DIMS).map((c) => c.id)));
  });

  it('derives nheads from d_inner / headdim and skips block_p above headdim', () => {
    const cfgs = expandSweep(H200_LIKE, DIMS);
    expect(new Set(cfgs.filter((c) => c.shape.headdim === 32).map((c) => c.shape.nheads))).toEqual(new Set([160]));
    expect(cfgs.some((c) => c.shape.headdim === 32 && c.params.block_p === 64)).toBe(false);
    expect(cfgs.find((c) => c.id === 'Q128-P128-bp64-w8-s2@B1-L16384-H40')?.problem).toBe('B1-L16384-D5120');
  });

  it('rejects a headdim that does not divide d_inner, naming the ones that do', () => {
    const bad = defineSweep({ model: 'm.ts', shapes: [{ batch: 1, seqlen: 64 }], grid: { chunkSize: [64], headdim: [48] } });
    expect(() => expandSweep(bad, { ...DIMS, dInner: 512 })).toThrow(/headdim 48 does not divide d_inner 512.*32, 64/);
  });

  it('rejects a chunk size that is not a power of two in 16..256', () => {
    expect(() => defineSweep({ model: 'm.ts', shapes: [{ batch: 1, seqlen: 64 }], grid: { chunkSize: [96], headdim: [64] } })).toThrow(SweepSpecError);
  });

  it('writes one package per headdim plus the model default, and one baseline per problem', () => {
    const plan = buildPlan(defineSweep({ ...H200_LIKE, grid: { ...H200_LIKE.grid, headdim: [32, 128] }, where: undefined, name: undefined, export: undefined, options: {} }), 'x', DIMS);
    expect(Object.keys(plan.packages).sort()).toEqual(['128', '32', '64']);
    expect(plan.baselines['B4-L4096-D5120']).toEqual({ package: '64', shape: { batch: 4, seqlen: 4096, nheads: 80, headdim: 64, ngroups: 1, d_state: 128 } });
  });
});
