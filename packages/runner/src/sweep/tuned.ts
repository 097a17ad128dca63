import { nextPow2, tunedChoices, type TunedChoice } from '@mamba2/codegen';
import type { SweepRecord } from './results.ts';

/**
 * The tuned table a sweep implies: one row per (headdim, nheads, seqlen
 * bucket). The algorithm lives in @mamba2/codegen (it is what
 * `pnpm gen --tuned` bakes into `_config.TUNED`); the report shows the same
 * rows, so what you read is what gets generated.
 */
export type TunedEntry = TunedChoice;
export { nextPow2 };

export function tunedTable(records: readonly SweepRecord[]): TunedEntry[] {
  return tunedChoices(records);
}

/** The `TUNED = [...]` lines for a package of the given headdim (what codegen emits). */
export function tunedPython(entries: readonly TunedEntry[], headdim: number): string {
  const py = (v: number | null): string => (v === null ? 'None' : String(v));
  const rows = entries
    .filter((e) => e.headdim === headdim)
    .map((e) =>
      `    {"nheads": ${e.nheads}, "max_seqlen": ${e.max_seqlen}, "chunk_size": ${py(e.chunk_size)}, ` +
      `"block_p": ${py(e.block_p)}, "num_warps": ${py(e.num_warps)}, "num_stages": ${py(e.num_stages)}},`,
    );
  return rows.length === 0 ? 'TUNED = []\n' : `TUNED = [\n${rows.join('\n')}\n]\n`;
}
