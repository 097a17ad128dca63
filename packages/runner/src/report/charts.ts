import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import type { ProblemSummary } from './data.ts';

/**
 * Charts rendered in Node with Observable Plot on a jsdom document: plain SVG
 * markup, inlined in report.html and written as .svg files for READMEs.
 * Plot's continuous colour legend needs a canvas, so legends are quantized.
 */
export interface Chart {
  /** File name stem, e.g. `heatmap-B4-L4096-D5120`. */
  readonly name: string;
  readonly title: string;
  /** For the HTML page (may be a <figure> with a legend). */
  readonly html: string;
  /** A standalone SVG document (no legend). */
  readonly svg: string;
}

const doc = (): Document => new JSDOM('<!DOCTYPE html><body></body>').window.document;

function svgText(el: Element): string {
  const svg = el.tagName.toLowerCase() === 'svg' ? el : el.querySelector('svg:not([class$="-ramp"]):not([class$="-swatches"])') ?? el;
  svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg.outerHTML}\n`;
}

const fmtMs = (v: number | null): string => (v === null ? 'x' : v < 10 ? v.toFixed(3) : v.toFixed(1));

/** Best time per (chunk_size, headdim) cell; label = ms and speedup over the default. */
export function heatmap(p: ProblemSummary): Chart {
  const cells = p.cells.map((c) => ({
    ...c,
    Q: String(c.chunk_size),
    P: String(c.headdim),
    label: c.ms === null ? `failed (${c.tried})` : `${fmtMs(c.ms)} ms${c.speedup ? `\n${c.speedup.toFixed(2)}x` : ''}`,
  }));
  const ok = cells.filter((c) => c.ms !== null);
  const make = (legend: boolean): Element =>
    Plot.plot({
      document: doc(),
      width: 520,
      height: 80 + 60 * new Set(cells.map((c) => c.P)).size,
      marginLeft: 60,
      padding: 0.05,
      x: { label: 'chunk_size Q', type: 'band', domain: [...new Set(cells.map((c) => c.chunk_size))].sort((a, b) => a - b).map(String) },
      y: { label: 'headdim P', type: 'band', domain: [...new Set(cells.map((c) => c.headdim))].sort((a, b) => a - b).map(String) },
      color: { type: 'quantize', n: 6, scheme: 'viridis', reverse: true, label: 'ms', legend },
      marks: [
        Plot.cell(cells.filter((c) => c.ms === null), { x: 'Q', y: 'P', fill: '#ddd' }),
        Plot.cell(ok, { x: 'Q', y: 'P', fill: 'ms', title: (d: (typeof cells)[number]) => d.bestId ?? '' }),
        // dark text on a white halo reads on every colour of the scheme
        Plot.text(cells, { x: 'Q', y: 'P', text: 'label', fill: 'black', stroke: 'white', strokeWidth: 3, fontSize: 12 }),
      ],
    }) as Element;
  return { name: `heatmap-${p.problem}`, title: `Time per (chunk_size, headdim), ${p.problem}`, html: make(true).outerHTML, svg: svgText(make(false)) };
}

/** Speedup of each ok config over the package's default config, best first (top 30). */
export function speedupBars(p: ProblemSummary): Chart {
  const rows = p.records
    .filter((r) => r.status === 'ok' && r.speedup !== null)
    .sort((a, b) => (b.speedup as number) - (a.speedup as number))
    .slice(0, 30)
    .map((r) => ({ id: r.id.split('@')[0] as string, speedup: r.speedup as number, ms: r.ms as number }));
  const make = (): Element =>
    Plot.plot({
      document: doc(),
      width: 640,
      height: 60 + 18 * Math.max(rows.length, 1),
      marginLeft: 190,
      marginRight: 110,
      x: { label: 'speedup over the default config (x)', grid: true },
      y: { label: null, domain: rows.map((r) => r.id) },
      marks: [
        Plot.barX(rows, { y: 'id', x: 'speedup', fill: (d: (typeof rows)[number]) => (d.speedup >= 1 ? '#2a9d8f' : '#e76f51') }),
        Plot.text(rows, { y: 'id', x: 'speedup', text: (d: (typeof rows)[number]) => `${d.speedup.toFixed(2)}x  ${fmtMs(d.ms)} ms`, dx: 4, textAnchor: 'start' }),
        Plot.ruleX([1], { stroke: 'black', strokeDasharray: '4,3' }),
      ],
    }) as Element;
  return { name: `speedup-${p.problem}`, title: `Speedup over the default config, ${p.problem}`, html: make().outerHTML, svg: svgText(make()) };
}

/** Histogram of outcomes over all configs. */
export function statusBars(counts: Readonly<Record<string, number>>): Chart {
  const rows = Object.entries(counts).map(([status, n]) => ({ status, n }));
  const make = (): Element =>
    Plot.plot({
      document: doc(),
      width: 480,
      height: 50 + 24 * Math.max(rows.length, 1),
      marginLeft: 120,
      x: { label: 'configs', grid: true },
      y: { label: null },
      marks: [
        Plot.barX(rows, { y: 'status', x: 'n', fill: (d: (typeof rows)[number]) => (d.status === 'ok' ? '#2a9d8f' : '#e76f51'), sort: { y: '-x' } }),
        Plot.text(rows, { y: 'status', x: 'n', text: (d: (typeof rows)[number]) => String(d.n), dx: 4, textAnchor: 'start' }),
      ],
    }) as Element;
  return { name: 'status', title: 'Outcomes', html: make().outerHTML, svg: svgText(make()) };
}
