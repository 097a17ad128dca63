import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../src/report/index.ts';
import { summarize } from '../src/report/data.ts';
import { tunedPython, tunedTable } from '../src/sweep/tuned.ts';
import { fakeRecords, writeFakeResults } from './sweep.fixtures.ts';

describe('report', () => {
  it('finds the best config per problem and the best time per (chunk_size, headdim) cell', () => {
    const data = summarize(fakeRecords(), 't');
    expect(data.problems.map((p) => p.problem)).toEqual(['B1-L16384-D5120', 'B4-L4096-D5120']);
    const p = data.problems[1];
    expect(p?.best?.id).toBe('Q128-P64-bp64-w4-s2@B4-L4096-H80');
    expect(p?.cells).toHaveLength(9);
    expect(p?.cells.find((c) => c.chunk_size === 128 && c.headdim === 64)?.speedup).toBeCloseTo(2);
    expect(data.counts).toEqual({ ok: 54, out_of_resources: 4, wrong: 2 });
  });

  it('writes a self-contained report.html and one SVG per chart, with chart marks in them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const files = writeReport(writeFakeResults(dir), { title: 'fake sweep' });
    const html = readFileSync(files.html, 'utf8');
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
    const doc = new JSDOM(html).window.document;
    expect(doc.querySelectorAll('[data-chart^="heatmap-"] svg [aria-label="cell"] rect').length).toBe(9 * 2);
    expect(doc.querySelectorAll('table.failures tbody tr').length).toBe(6);
    expect(doc.querySelector('table.best')?.textContent).toContain('Q128-P64-bp64-w4-s2@B4-L4096-H80');
    expect(files.svgs.map((f) => f.split('/').pop())).toEqual([
      'heatmap-B1-L16384-D5120.svg', 'heatmap-B4-L4096-D5120.svg', 'speedup-B1-L16384-D5120.svg', 'speedup-B4-L4096-D5120.svg', 'status.svg',
    ]);
    const svg = readFileSync(files.svgs[0] as string, 'utf8');
    expect(svg).toMatch(/^<\?xml[^>]*>\n<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });
});

describe('tuned table', () => {
  it('keeps the fastest config per (headdim, nheads, seqlen bucket) that was ok at every shape of the bucket', () => {
    const t = tunedTable(fakeRecords());
    expect(t).toHaveLength(6); // 3 headdims x 2 seqlen buckets
    const e = t.find((x) => x.headdim === 64 && x.max_seqlen === 4096);
    expect(e).toMatchObject({ nheads: 80, chunk_size: 128, block_p: 64, num_warps: 4, num_stages: 2 });
    expect(t.every((x) => !(x.headdim === 32 && x.chunk_size === 64 && x.num_warps === 8))).toBe(true);
  });

  it('prints the TUNED literal for one headdim', () => {
    const py = tunedPython(tunedTable(fakeRecords()), 64);
    expect(py).toBe(
      'TUNED = [\n' +
        '    {"nheads": 80, "max_seqlen": 4096, "chunk_size": 128, "block_p": 64, "num_warps": 4, "num_stages": 2},\n' +
        '    {"nheads": 80, "max_seqlen": 16384, "chunk_size": 128, "block_p": 64, "num_warps": 4, "num_stages": 2},\n' +
        ']\n',
    );
  });
});
