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
import { writeFakeResults } from './sweep.fixtures.ts';

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
