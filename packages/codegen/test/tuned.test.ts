import { describe, expect, it } from 'vitest';
import { parseTuned } from '../src/tuned.ts';

describe('--tuned results', () => {
  it('keeps the fastest ok row per shape for this package, sorted by shape', () => {
    const text = [
      { name: 'mamba2_simple', shape: { L: 2048 }, params: { blockP: 32 }, ms: 0.3 },
      { name: 'mamba2_simple', shape: { L: 2048 }, params: { blockP: 64 }, ms: 0.2 },
      { name: 'mamba2_simple', shape: { L: 128 }, params: { blockP: 16 }, ms: 0.1, ok: false },
      { name: 'other', shape: { L: 128 }, params: { blockP: 16 }, ms: 0.01 },
      { shape: { L: 128 }, params: { blockP: 8 }, ms: 0.05 },
    ].map((r) => JSON.stringify(r)).join('\n');
    expect(parseTuned(text, 'mamba2_simple')).toEqual([
      { shape: { L: 128 }, params: { blockP: 8 }, ms: 0.05 },
      { shape: { L: 2048 }, params: { blockP: 64 }, ms: 0.2 },
    ]);
  });

  it('names the file and line of a malformed row', () => {
    expect(() => parseTuned('{"params": {}, "ms": 1}\nnope', 'x', 'r.jsonl')).toThrow('r.jsonl:2: not JSON');
  });
});
