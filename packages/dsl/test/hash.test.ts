import { describe, expect, it } from 'vitest';
import { canonicalJson, hashGraph, mamba2 } from '../src/index.ts';
import type { Graph } from '../src/index.ts';

/** The same value with every object's keys in reverse order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
  }
  return v;
}

describe('hashGraph', () => {
  it('prints canonical JSON with sorted keys and no whitespace', () => {
    expect(canonicalJson({ b: [1, { d: 2, c: null }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":null,"d":2}]}');
  });

  it('gives the same hash whatever the key order of the graph', () => {
    const g = mamba2({ dModel: 64, headdim: 32 }).graph;
    const reordered = reverseKeys(g) as Graph;
    expect(Object.keys(reordered)[0]).not.toBe(Object.keys(g)[0]);
    expect(hashGraph(reordered)).toBe(hashGraph(g));
  });

  it('is a 64-character sha256 hex digest', () => {
    expect(hashGraph(mamba2({ dModel: 64, headdim: 32 }).graph)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when one dimension changes', () => {
    const a = mamba2({ dModel: 64, headdim: 32, name: 'same' }).graph;
    const b = mamba2({ dModel: 64, headdim: 32, dState: 64, name: 'same' }).graph;
    expect(hashGraph(a)).not.toBe(hashGraph(b));
  });

  it('does not change when the model moves to another line (locations live outside the graph)', () => {
    const a = mamba2({ dModel: 64, headdim: 32, name: 'same' });
    const b =
      mamba2({ dModel: 64, headdim: 32, name: 'same' });
    expect(a.sourceMap['scan']!.line).not.toBe(b.sourceMap['scan']!.line);
    expect(hashGraph(a.graph)).toBe(hashGraph(b.graph));
  });

  it('refuses non-finite numbers instead of writing null', () => {
    expect(() => canonicalJson({ hi: Infinity })).toThrow(/Infinity has no JSON form/);
  });
});
