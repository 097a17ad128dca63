/**
 * The tuning report (issue 13): <dir>/report.html (self-contained: inline CSS and SVG, no scripts, nothing
 * fetched), <dir>/kernels.csv, <dir>/model.csv and <dir>/charts/*.svg, from <dir>/kernels.jsonl and
 * <dir>/model.jsonl (python -m mamba2_runner.tuning) and, when given, the tuned-vs-default bench JSON.
 *
 * What a reader gets: provenance (GPU, driver, CUDA, torch, triton, commit, kernel shas, dates); the
 * model-level answer per d_model in one sentence, a table and a heatmap (headdim x d_state, best Q);
 * forward and backward kernel sweeps side by side per shape, each with the default, the best config,
 * its speedup, the run's noise, the incumbent and the fraction of the floor; heatmaps over the knob
 * pair the reader picks (CSS radio buttons: no script); CSV downloads (data: links, also on disk).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import {
  AXES, answers, axisCells, kernelRows, modelRows, readJsonl, readTunedBench, toCsv,
  type AxisCell, type KernelRow, type ModelRow, type TuningRecord, type TunedBench,
} from './tuning-data.ts';

const esc = (s: unknown): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const ms = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? '–' : v.toFixed(d));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(0)} %`);
const x = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${v.toFixed(2)}x`);
const okMs = (r: TuningRecord | undefined): number | null => (r && r.status === 'ok' && typeof r.ms === 'number' ? r.ms : null);
const cfgName = (r: TuningRecord | undefined): string => (r ? r.id.split('@')[0]!.replace(/^(fwd|bwd|block):/, '') : '–');

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const doc = (): Document => new JSDOM('<!DOCTYPE html><body></body>').window.document;
const svgOf = (el: Element): string => {
  const svg = el.tagName.toLowerCase() === 'svg' ? el : el.querySelector('svg:not([class$="-ramp"]):not([class$="-swatches"])') ?? el;
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg.outerHTML}\n`;
};

interface Chart { name: string; html: string; svg: string }

function heat(name: string, cells: readonly AxisCell[], xl: string, yl: string, sub: (c: AxisCell) => string, cw = 110, ch = 52): Chart {
  const num = (a: string, b: string) => Number(a) - Number(b) || a.localeCompare(b);
  const xs = [...new Set(cells.map((c) => c.x))].sort(num);
  const ys = [...new Set(cells.map((c) => c.y))].sort(num);
  const data = cells.map((c) => ({ ...c, label: c.ms === null ? 'failed' : `${c.ms < 10 ? c.ms.toFixed(3) : c.ms.toFixed(1)} ms${sub(c)}` }));
  const make = (legend: boolean): Element => Plot.plot({
    document: doc(), width: 120 + cw * xs.length, height: 70 + ch * ys.length, marginLeft: 70, padding: 0.05,
    x: { label: xl, type: 'band', domain: xs }, y: { label: yl, type: 'band', domain: ys },
    color: { type: 'quantize', n: 6, scheme: 'viridis', reverse: true, label: 'ms', legend },
    marks: [
      Plot.cell(data.filter((c) => c.ms === null), { x: 'x', y: 'y', fill: '#ddd' }),
      Plot.cell(data.filter((c) => c.ms !== null), { x: 'x', y: 'y', fill: 'ms', title: (d: AxisCell) => d.id ?? '' }),
      Plot.text(data, { x: 'x', y: 'y', text: 'label', fill: 'black', stroke: 'white', strokeWidth: 3, fontSize: 11 }),
    ],
  }) as Element;
  return { name, html: make(true).outerHTML, svg: svgOf(make(false)) };
}

function provenanceTable(records: readonly TuningRecord[]): string {
  const keys = ['gpu_model', 'driver', 'cuda', 'torch', 'triton', 'python', 'host', 'commit'];
  const vals = (k: string) => [...new Set(records.map((r) => r.provenance?.[k] ?? null).filter((v) => v !== null))];
  const shas = [...new Set(records.map((r) => `${r.kind}: ${r.kernel_sha ?? '–'}`))].sort();
  const dates = records.map((r) => r.t).filter((t): t is string => typeof t === 'string').sort();
  const rows = keys.map((k) => [esc(k), esc(vals(k).join(', ') || '–')]);
  rows.push(['kernel sha (per kind)', shas.map((s) => `<code>${esc(s.slice(0, 20))}</code>`).join('<br>')]);
  rows.push(['dates (UTC)', esc(dates.length ? `${dates[0]} – ${dates[dates.length - 1]}` : '–')]);
  return table(['what', 'value'], rows, 'prov');
}

function modelSection(rows: readonly ModelRow[], charts: Chart[]): string {
  if (rows.length === 0) return '<p>No model-level sweep in this folder (model.jsonl).</p>';
  const parts: string[] = [];
  parts.push(`<ul class="answers">${answers(rows).map((a) => `<li data-answer="${a.d_model}">${esc(a.text)}</li>`).join('')}</ul>`);
  for (const d of [...new Set(rows.map((r) => r.d_model))]) {
    const mine = rows.filter((r) => r.d_model === d);
    const cells = new Map<string, ModelRow>();
    for (const r of mine) {
      const k = `${r.headdim}|${r.d_state}`;
      const cur = cells.get(k);
      if (okMs(r.rec) !== null && (cur === undefined || okMs(cur.rec) === null || (r.rec.ms as number) < (cur.rec.ms as number))) cells.set(k, r);
      else if (cur === undefined) cells.set(k, r);
    }
    const ax: AxisCell[] = [...cells.values()].map((r) => ({ x: String(r.headdim), y: String(r.d_state), ms: okMs(r.rec), speedup: null, id: `Q${r.q}` }));
    const byCell = new Map([...cells.values()].map((r) => [`${r.headdim}|${r.d_state}`, r]));
    const c = heat(`model-d${d}`, ax, 'headdim', 'd_state', (cell) => {
      const r = byCell.get(`${cell.x}|${cell.y}`);
      const inc = okMs(r?.incumbent);
      return `\nQ${r?.q}${inc !== null && cell.ms ? `\n${x(inc / cell.ms)} vs mamba_ssm` : ''}`;
    }, 190, 80);
    charts.push(c);
    parts.push(`<h3>d_model ${d}</h3><div class="chart" data-chart="${c.name}">${c.html}</div>`);
    parts.push(table(
      ['headdim', 'd_state', 'Q', 'heads', 'params', 'fwd+bwd ms', 'fwd ms', 'mamba_ssm fwd+bwd ms', 'ours vs mamba_ssm', 'floor', 'rel err / tol', 'status'],
      mine.map((r) => [
        String(r.headdim), String(r.d_state), String(r.q), String(r.rec.nheads ?? '–'), r.rec.params_count ? `${(r.rec.params_count / 1e6).toFixed(2)}M` : '–',
        `<b>${ms(okMs(r.rec), 2)}</b>`, ms(r.rec.fwd_ms, 2), ms(okMs(r.incumbent), 2),
        okMs(r.incumbent) !== null && okMs(r.rec) !== null ? x((okMs(r.incumbent) as number) / (okMs(r.rec) as number)) : '–',
        pct(r.rec.floor_frac), `${r.rec.rel_err?.toExponential(1) ?? '–'} / ${r.rec.tol ?? '–'}`,
        `<span class="st st-${esc(r.rec.status)}">${esc(r.rec.status)}</span>`,
      ]), 'model'));
  }
  return parts.join('\n');
}

function kernelSection(rows: readonly KernelRow[]): string {
  const shapes = [...new Set(rows.map((r) => r.shapeKey))];
  const side = (r: KernelRow | undefined): string[] => r === undefined ? Array(7).fill('–') : [
    ms(okMs(r.default)), `<code>${esc(cfgName(r.best))}</code> ${ms(okMs(r.best))}`, x(r.best?.speedup),
    pct(r.default?.noise ?? null), ms(okMs(r.incumbent)),
    okMs(r.incumbent) !== null && okMs(r.best) !== null ? x((okMs(r.incumbent) as number) / (okMs(r.best) as number)) : '–',
    pct(r.best?.floor_frac),
  ];
  const head = ['default ms', 'best config, ms', 'speedup', 'noise', 'mamba_ssm ms', 'best vs mamba_ssm', 'floor'];
  return table(['shape', ...head.map((h) => `fwd ${h}`), ...head.map((h) => `bwd ${h}`)],
    shapes.map((s) => [esc(s), ...side(rows.find((r) => r.shapeKey === s && r.kind === 'fwd')), ...side(rows.find((r) => r.shapeKey === s && r.kind === 'bwd'))]),
    'kernels');
}

/** Per kind, heatmaps for every axis pair; the reader picks the pair with radio buttons (CSS only). */
function pickers(rows: readonly KernelRow[], charts: Chart[]): { html: string; css: string } {
  const css: string[] = [];
  const html: string[] = [];
  for (const kind of ['fwd', 'bwd']) {
    const mine = rows.filter((r) => r.kind === kind);
    if (mine.length === 0) continue;
    const pairs = AXES[kind] ?? [];
    const radios = pairs.map(([a, b], i) =>
      `<input type="radio" name="ax-${kind}" id="ax-${kind}-${i}"${i === 0 ? ' checked' : ''}><label for="ax-${kind}-${i}">${esc(a)} × ${esc(b)}</label>`);
    const panes = pairs.map(([a, b], i) => {
      css.push(`#ax-${kind}-${i}:checked ~ .panes .pane-${i} { display: flex; }`);
      const cs = mine.map((r) => {
        const c = heat(`${kind}-${a}-${b}-${r.shapeKey.replace(/ /g, '')}`, axisCells(r.records, a, b), a, b, (cell) => (cell.speedup ? `\n${x(cell.speedup)}` : ''));
        charts.push(c);
        return `<div class="chart" data-chart="${c.name}"><h4>${esc(r.shapeKey)}</h4>${c.html}</div>`;
      });
      return `<div class="pane pane-${i}" data-axes="${esc(a)}×${esc(b)}">${cs.join('')}</div>`;
    });
    html.push(`<div class="picker" data-kind="${kind}"><h3>${kind === 'fwd' ? 'Forward' : 'Backward'}: best time over the other knobs, axes of your choice</h3>${radios.join('')}<div class="panes">${panes.join('')}</div></div>`);
  }
  return { html: html.join('\n'), css: css.join('\n') };
}

function tunedSection(tb: TunedBench | null): string {
  if (tb === null) return '<p>Not measured yet: <code>STAGE=tuned bash scripts/gpu/sweep13.sh</code>, then <code>pnpm report:tuning DIR --tuned-bench FILE</code>.</p>';
  const rows = tb.results.map((r) => {
    const d = r.providers.default ?? {};
    const t = r.providers.tuned ?? {};
    const sp = t.speedup_vs_default as number | undefined;
    return [esc(r.config.name), ms(d.median_ms as number), ms(t.median_ms as number), sp ? `<b>${x(sp)}</b>` : '–',
      t.tuned_row ? `<code>${esc(JSON.stringify(t.tuned_row))}</code>` : 'none (defaults)', esc(`${d.status ?? '–'} / ${t.status ?? '–'}`)];
  });
  return `${table(['shape', 'default ms', 'tuned ms', 'tuned vs default', 'tuned row', 'check (default / tuned)'], rows, 'tuned')}<p>${esc(JSON.stringify(tb.summary ?? {}))}</p>`;
}

const dataLink = (file: string, csv: string): string =>
  `<a class="csv" download="${file}" href="data:text/csv;charset=utf-8,${encodeURIComponent(csv)}">${file}</a>`;

export interface TuningReportFiles { readonly html: string; readonly csvs: string[]; readonly svgs: string[] }

export function writeTuningReport(dir: string, opts: { title?: string; tunedBench?: string } = {}): TuningReportFiles {
  const kernels = readJsonl(join(dir, 'kernels.jsonl'));
  const model = readJsonl(join(dir, 'model.jsonl'));
  if (kernels.length === 0 && model.length === 0) {
    throw new Error(`${dir} has neither kernels.jsonl nor model.jsonl. Run STAGE=sweep bash scripts/gpu/sweep13.sh (or pnpm sweep:model) first.`);
  }
  const all = [...kernels, ...model];
  const charts: Chart[] = [];
  const krows = kernelRows(kernels);
  const mrows = modelRows(model);
  const pick = pickers(krows, charts);
  const modelHtml = modelSection(mrows, charts);
  const kcsv = toCsv(kernels);
  const mcsv = toCsv(model);
  const title = opts.title ?? 'Tuning report';
  const counts = [...new Set(all.map((r) => r.status))].map((s) => `${s}: ${all.filter((r) => r.status === s).length}`).join(' · ');
  const failures = all.filter((r) => r.status !== 'ok');
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1400px; color: #222; padding: 0 16px; }
h2 { margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; } h4 { font-size: 12px; margin: 4px 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; } th { background: #f4f4f4; }
.chart { border: 1px solid #eee; padding: 6px; display: inline-block; margin: 4px; }
.panes .pane { display: none; flex-wrap: wrap; gap: 8px; }
.picker label { margin: 0 12px 0 4px; cursor: pointer; }
.answers li { font-size: 15px; margin: 4px 0; }
.st { padding: 0 4px; border-radius: 3px; background: #fde2dc; } .st-ok { background: #d8f3dc; }
${pick.css}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${esc(counts)}. Every configuration was checked against the float64 reference before it was timed (a wrong one is never timed).
Times: triton.testing.do_bench medians; the default of each problem was timed three times in the same run, and its spread is the
<i>noise</i> (a tuned row needs a speedup above 1 + noise at every shape of its bucket). Floor: max(bytes / bandwidth, flops / matmul rate),
the H200's measured ceilings (mamba2_runner/bench/configs.py); the fraction is floor / time. Downloads: ${dataLink('kernels.csv', kcsv)} · ${dataLink('model.csv', mcsv)}.</p>
<h2>Provenance</h2>
${provenanceTable(all)}
<h2>Which headdim, d_state and chunk train fastest (block forward + backward)</h2>
<p>Budget rule: at one d_model every variant has expand 2 (d_inner = 2·d_model), one group and d_conv 4, so the parameters
agree within 4 % (the params column) and so do the projection FLOPs, most of the block's work; what differs is the SSD's cost.
Q is our scan's time tile (forward and backward); the incumbent is mamba_ssm's Mamba2Simple (fused path) at chunk 256 on the same weights.</p>
${modelHtml}
<h2>Kernel sweeps: forward and backward side by side</h2>
${kernels.length ? kernelSection(krows) : '<p>No kernel sweep in this folder (kernels.jsonl).</p>'}
${pick.html}
<h2>Tuned package vs default</h2>
${tunedSection(readTunedBench(opts.tunedBench))}
<h2>Not ok (${failures.length})</h2>
${failures.length ? table(['config', 'status', 'reason'], failures.map((r) => [`<code>${esc(r.id)}</code>`, esc(r.status), esc(r.reason ?? '')]), 'failures') : '<p>None.</p>'}
</body></html>
`;
  mkdirSync(join(dir, 'charts'), { recursive: true });
  const htmlPath = join(dir, 'report.html');
  writeFileSync(htmlPath, html);
  const csvs = [join(dir, 'kernels.csv'), join(dir, 'model.csv')];
  writeFileSync(csvs[0]!, kcsv);
  writeFileSync(csvs[1]!, mcsv);
  const svgs = charts.map((c) => {
    const p = join(dir, 'charts', `${c.name}.svg`);
    writeFileSync(p, c.svg);
    return p;
  });
  return { html: htmlPath, csvs, svgs };
}
