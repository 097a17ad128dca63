import type { SweepRecord } from '../sweep/results.ts';
import type { TunedEntry } from '../sweep/tuned.ts';
import type { Chart } from './charts.ts';
import type { ReportData } from './data.ts';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const num = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? '–' : v.toFixed(d));
const sci = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toExponential(1));
const par = (v: number | null | undefined): string => (v === null || v === undefined ? 'default' : String(v));

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function bestTable(data: ReportData): string {
  return table(
    ['problem', 'best config', 'Q', 'P', 'block_p', 'warps', 'stages', 'ms', 'default ms', 'speedup', 'rel err', 'ok / tried'],
    data.problems.map((p) => {
      const b = p.best;
      const ok = p.records.filter((r) => r.status === 'ok').length;
      return [
        esc(p.problem), b ? `<code>${esc(b.id)}</code>` : 'none ok',
        esc(b?.params?.chunk_size ?? '–'), esc(b?.shape?.headdim ?? '–'), esc(par(b?.params?.block_p)),
        esc(par(b?.params?.num_warps)), esc(par(b?.params?.num_stages)), num(b?.ms), num(p.baselineMs),
        b?.speedup ? `<b>${b.speedup.toFixed(2)}x</b>` : '–', sci(b?.rel_err), `${ok} / ${p.records.length}`,
      ];
    }),
    'best',
  );
}

function failureTable(failures: readonly SweepRecord[]): string {
  if (failures.length === 0) return '<p>No failures.</p>';
  return table(
    ['config', 'status', 'reason'],
    failures.map((r) => [`<code>${esc(r.id)}</code>`, `<span class="st st-${esc(r.status)}">${esc(r.status)}</span>`, esc(r.reason ?? '')]),
    'failures',
  );
}

function tunedTableHtml(entries: readonly TunedEntry[]): string {
  if (entries.length === 0) return '<p>No bucket has a config that was ok at all its shapes.</p>';
  return table(
    ['headdim', 'nheads', 'max_seqlen', 'chunk_size', 'block_p', 'num_warps', 'num_stages', 'ms', 'speedup'],
    entries.map((e) => [e.headdim, e.nheads, e.max_seqlen, e.chunk_size, par(e.block_p), par(e.num_warps), par(e.num_stages), num(e.ms), e.speedup ? `${e.speedup.toFixed(2)}x` : '–'].map(esc)),
  );
}

function allTable(data: ReportData): string {
  const rows = data.problems.flatMap((p) =>
    [...p.records]
      .sort((a, b) => (a.ms ?? Infinity) - (b.ms ?? Infinity))
      .map((r) => [`<code>${esc(r.id)}</code>`, esc(r.status), num(r.ms), r.speedup ? `${r.speedup.toFixed(2)}x` : '–', sci(r.rel_err), num(r.elapsed_s ?? null, 1)]),
  );
  return table(['config', 'status', 'ms', 'speedup', 'rel err', 'wall s'], rows, 'all');
}

/** One self-contained page: inline CSS and SVG, no scripts, nothing fetched. */
export function renderHtml(data: ReportData, charts: { heatmaps: Chart[]; speedups: Chart[]; status: Chart }, tuned: readonly TunedEntry[]): string {
  const counts = Object.entries(data.counts).map(([k, v]) => `${esc(k)}: ${v}`).join(' · ');
  const section = (c: Chart): string => `<div class="chart" data-chart="${esc(c.name)}"><h3>${esc(c.title)}</h3>${c.html}</div>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 14px; margin: 8px 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } code { font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.chart { border: 1px solid #eee; padding: 8px; }
.st { padding: 0 4px; border-radius: 3px; background: #fde2dc; } .st-wrong { background: #ffe9a8; } .st-timeout { background: #e0e0ff; }
details { margin: 12px 0; }
</style></head><body>
<h1>${esc(data.title)}</h1>
<p>${data.device ? `device: ${esc(data.device)} · ` : ''}${counts}. Times are triton.testing.do_bench medians of the SSD scan alone; the default is the model's package with its _config defaults.</p>
<h2>Best config per shape</h2>
${bestTable(data)}
<h2>Time per (chunk_size, headdim)</h2>
<div class="charts">${charts.heatmaps.map(section).join('')}</div>
<h2>Speedup over the default config</h2>
<div class="charts">${charts.speedups.map(section).join('')}</div>
<h2>Tuned dispatch table (<code>pnpm gen --tuned</code>)</h2>
${tunedTableHtml(tuned)}
<h2>Failures</h2>
<div class="charts">${section(charts.status)}</div>
${failureTable(data.failures)}
<details><summary>Every config</summary>${allTable(data)}</details>
</body></html>
`;
}
