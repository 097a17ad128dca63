import type { SweepRecord } from '../sweep/results.ts';

/** The numbers the report shows, computed from results.jsonl alone. */
export interface ProblemSummary {
  readonly problem: string;
  readonly batch: number;
  readonly seqlen: number;
  readonly records: readonly SweepRecord[];
  readonly best: SweepRecord | null;
  readonly baselineMs: number | null;
  /** Best time per (chunk_size, headdim) over the tile settings: the heatmap's cells. */
  readonly cells: readonly HeatCell[];
}

export interface HeatCell {
  readonly chunk_size: number;
  readonly headdim: number;
  /** null when no config of this cell was ok. */
  readonly ms: number | null;
  readonly speedup: number | null;
  readonly bestId: string | null;
  readonly tried: number;
}

export interface ReportData {
  readonly title: string;
  readonly problems: readonly ProblemSummary[];
  readonly failures: readonly SweepRecord[];
  readonly counts: Readonly<Record<string, number>>;
  readonly device: string | null;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? null;
};

/** The last record of each id wins (a resumed sweep never writes two, but hand-merged files might). */
export function dedupe(records: readonly SweepRecord[]): SweepRecord[] {
  const byId = new Map<string, SweepRecord>();
  for (const r of records) if ((r.type ?? 'config') === 'config') byId.set(r.id, r);
  return [...byId.values()];
}

/** Problem id of a record; records written after a crash carry only the id, so fall back to parsing it. */
export function problemOf(r: SweepRecord): string {
  if (r.problem) return r.problem;
  const at = r.id.indexOf('@');
  return at < 0 ? 'unknown' : r.id.slice(at + 1);
}

export function summarize(all: readonly SweepRecord[], title: string): ReportData {
  const records = dedupe(all);
  const counts: Record<string, number> = {};
  for (const r of records) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const groups = new Map<string, SweepRecord[]>();
  for (const r of records) {
    const p = problemOf(r);
    groups.set(p, [...(groups.get(p) ?? []), r]);
  }
  const problems: ProblemSummary[] = [];
  for (const [problem, rs] of [...groups].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    const ok = rs.filter((r) => r.status === 'ok' && r.ms !== null);
    const best = ok.reduce<SweepRecord | null>((b, r) => (b === null || (r.ms as number) < (b.ms as number) ? r : b), null);
    const baselineMs = median(rs.map((r) => r.baseline_ms).filter((x): x is number => x !== null));
    const cellMap = new Map<string, { chunk_size: number; headdim: number; rs: SweepRecord[] }>();
    for (const r of rs) {
      if (!r.params || !r.shape) continue;
      const k = `${r.params.chunk_size}/${r.shape.headdim}`;
      const c = cellMap.get(k) ?? { chunk_size: r.params.chunk_size, headdim: r.shape.headdim, rs: [] };
      c.rs.push(r);
      cellMap.set(k, c);
    }
    const cells: HeatCell[] = [...cellMap.values()].map((c) => {
      const b = c.rs
        .filter((r) => r.status === 'ok' && r.ms !== null)
        .reduce<SweepRecord | null>((x, r) => (x === null || (r.ms as number) < (x.ms as number) ? r : x), null);
      return {
        chunk_size: c.chunk_size, headdim: c.headdim, ms: b?.ms ?? null,
        speedup: b && baselineMs ? baselineMs / (b.ms as number) : null, bestId: b?.id ?? null, tried: c.rs.length,
      };
    });
    const first = rs.find((r) => r.shape)?.shape;
    problems.push({
      problem, batch: first?.batch ?? 0, seqlen: first?.seqlen ?? 0, records: rs, best, baselineMs,
      cells: cells.sort((a, b) => a.headdim - b.headdim || a.chunk_size - b.chunk_size),
    });
  }
  const failures = records.filter((r) => r.status !== 'ok');
  const device = records.find((r) => r.device)?.device ?? null;
  return { title, problems, failures, counts, device };
}
