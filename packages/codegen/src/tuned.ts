/**
 * `gen --tuned results.jsonl`: sweep results -> _config.TUNED dispatch entries.
 *
 * Each line is a JSON object. Lines with `ok: false`, or whose `name` (or
 * `model`) is another package, are skipped. Lines are grouped by `shape`
 * (any JSON; the dispatch key the kernels match on); in each group the
 * line with the smallest `ms` wins. An entry is `{shape, params, ms}`.
 * Entries are sorted by shape so the output is deterministic.
 */
import { readFileSync } from 'node:fs';
import { canonicalJson } from './emit/canonical-json.ts';
import type { TunedEntry } from './emit/context.ts';

export class TunedFileError extends Error {
  override readonly name = 'TunedFileError';
}

export function parseTuned(text: string, pkgName: string, file = '<tuned>'): TunedEntry[] {
  const best = new Map<string, { shape: unknown; params: unknown; ms: number }>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new TunedFileError(`${file}:${i + 1}: not JSON`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new TunedFileError(`${file}:${i + 1}: not a JSON object`);
    if (row.ok === false) return;
    const owner = row.name ?? row.model;
    if (owner !== undefined && owner !== pkgName) return;
    const ms = row.ms;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TunedFileError(`${file}:${i + 1}: "ms" must be a finite number`);
    if (row.params === null || typeof row.params !== 'object') throw new TunedFileError(`${file}:${i + 1}: "params" must be an object`);
    const shape = row.shape ?? null;
    const key = canonicalJson(shape);
    const prev = best.get(key);
    if (prev === undefined || ms < prev.ms) best.set(key, { shape, params: row.params, ms });
  });
  return [...best.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

export function readTuned(path: string, pkgName: string): TunedEntry[] {
  return parseTuned(readFileSync(path, 'utf8'), pkgName, path);
}
