import { createHash } from 'node:crypto';
import type { Graph } from './nodes.ts';

/**
 * JSON with object keys sorted and no whitespace, so two graphs that differ
 * only in key order (or in how they were built) print the same text.
 * Non-finite numbers and `undefined` array slots have no JSON form; they are
 * refused rather than silently turned into null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonicalJson: ${value} has no JSON form. Store +infinity as null in the IR.`);
      }
      return JSON.stringify(value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      }
      const entries = Object.keys(value as object)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
      return `{${entries.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form. The IR holds plain data only.`);
  }
}

/** sha256 (hex) of the graph's canonical JSON: the IR hash stamped into generated files. */
export function hashGraph(graph: Graph): string {
  return createHash('sha256').update(canonicalJson(graph)).digest('hex');
}
