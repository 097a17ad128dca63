import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readResults } from '../sweep/results.ts';
import { tunedTable } from '../sweep/tuned.ts';
import { heatmap, speedupBars, statusBars } from './charts.ts';
import { summarize } from './data.ts';
import { renderHtml } from './html.ts';

export { summarize } from './data.ts';
export type { ReportData, ProblemSummary, HeatCell } from './data.ts';

export interface ReportFiles {
  readonly html: string;
  readonly svgs: string[];
}

/**
 * results.jsonl -> <outDir>/report.html (self-contained) and
 * <outDir>/charts/*.svg. outDir defaults to the results file's folder.
 */
export function writeReport(resultsPath: string, opts: { outDir?: string; title?: string } = {}): ReportFiles {
  const outDir = opts.outDir ?? dirname(resultsPath);
  const { records } = readResults(resultsPath);
  if (records.length === 0) throw new Error(`${resultsPath} has no results. Run \`pnpm bench --sweep <file>\` first.`);
  const title = opts.title ?? `Sweep report: ${basename(outDir)}`;
  const data = summarize(records, title);
  const heatmaps = data.problems.map(heatmap);
  const speedups = data.problems.map(speedupBars);
  const status = statusBars(data.counts);
  const html = renderHtml(data, { heatmaps, speedups, status }, tunedTable(data.problems.flatMap((p) => p.records)));
  mkdirSync(join(outDir, 'charts'), { recursive: true });
  const htmlPath = join(outDir, 'report.html');
  writeFileSync(htmlPath, html);
  const svgs: string[] = [];
  for (const c of [...heatmaps, ...speedups, status]) {
    const p = join(outDir, 'charts', `${c.name}.svg`);
    writeFileSync(p, c.svg);
    svgs.push(p);
  }
  return { html: htmlPath, svgs };
}
