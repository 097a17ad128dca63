/**
 * The report in a real browser: Debian's chromium (scripts/install-chromium.sh)
 * driven by playwright-core, offline, from a file:// URL.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../src/report/index.ts';
import { writeTuningReport } from '../src/report/tuning.ts';
import { writeFakeResults } from './sweep.fixtures.ts';
import { fakeKernelRecords, fakeModelRecords, writeFakeTuning } from './tuning.fixtures.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

describe.skipIf(!existsSync(CHROMIUM))('report in headless chromium', () => {
  it('draws every chart with its marks, without any network request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-browser-'));
    const files = writeReport(writeFakeResults(dir), { title: 'fake sweep' });
    // launchPersistentContext is how Playwright takes a fresh --user-data-dir
    const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-profile-')), {
      executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await ctx.newPage();
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
      expect(await page.title()).toBe('fake sweep');
      const counts = await page.evaluate(() => ({
        charts: document.querySelectorAll('.chart svg').length,
        heatCells: document.querySelectorAll('[data-chart^="heatmap-"] [aria-label="cell"] rect').length,
        bars: document.querySelectorAll('[data-chart^="speedup-"] [aria-label="bar"] rect').length,
        // drawn, not just present: the first heatmap has a real size on the page
        heatWidth: (document.querySelector('[data-chart^="heatmap-"] svg:not([class$="-ramp"])') as SVGSVGElement | null)?.getBoundingClientRect().width ?? 0,
      }));
      expect(counts.charts).toBeGreaterThanOrEqual(5);
      expect(counts.heatCells).toBe(18);
      expect(counts.bars).toBe(54);
      expect(counts.heatWidth).toBeGreaterThan(200);
      expect(requests).toEqual([]);
      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      console.log(`report screenshot: ${shot}`);
    } finally {
      await ctx.close();
    }
  });
});

describe.skipIf(!existsSync(CHROMIUM))('tuning report in headless chromium', () => {
  it('draws the model and kernel heatmaps, switches heatmap axes without a script, and offers the CSVs', async () => {
    const dir = writeFakeTuning(mkdtempSync(join(tmpdir(), 'tuning-browser-')));
    const files = writeTuningReport(dir, { title: 'fake tuning' });
    const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-profile-')), {
      executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 900 },
    });
    try {
      const page = await ctx.newPage();
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
      });
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
      expect(await page.title()).toBe('fake tuning');
      const visible = () => page.evaluate(() =>
        [...document.querySelectorAll('.picker[data-kind="fwd"] .pane')].map((p) => (p as HTMLElement).offsetWidth > 0));
      const state = await page.evaluate(() => ({
        modelCells: document.querySelectorAll('[data-chart^="model-d"] [aria-label="cell"] rect').length,
        answers: document.querySelectorAll('.answers li').length,
        csv: [...document.querySelectorAll('a.csv')].map((a) => decodeURIComponent((a as HTMLAnchorElement).href.split(',').slice(1).join(',')).trim().split('\n').length),
        kernelRows: document.querySelectorAll('table.kernels tbody tr').length,
      }));
      expect(state.modelCells).toBe(2 * 6);
      expect(state.answers).toBe(2);
      expect(state.csv).toEqual([fakeKernelRecords().length + 1, fakeModelRecords().length + 1]);
      expect(state.kernelRows).toBe(2);
      expect(await visible()).toEqual([true, false, false, false]);
      await page.click('label[for="ax-fwd-1"]');
      expect(await visible()).toEqual([false, true, false, false]);
      // the picked pane really draws its heatmaps: num_warps x num_stages, 2 x 2 cells per shape
      const cells = await page.evaluate(() => document.querySelectorAll('.picker[data-kind="fwd"] .pane-1 [aria-label="cell"] rect').length);
      expect(cells).toBe(2 * 4);
      expect(requests).toEqual([]);
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
      console.log(`tuning report screenshot: ${join(dir, 'report.png')}`);
    } finally {
      await ctx.close();
    }
  });
});
