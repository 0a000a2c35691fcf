/**
 * The web UI of `modelctl serve` in a real headless browser (Debian's chromium, driven by
 * playwright-core): open the models page, click into a model, sort the versions by a metric,
 * see the metric chart drawn, follow a stage move made by another process appear live, open a
 * version and see its lineage graph drawn, and the audit log with its verified badge.
 * Screenshots of each step go to test/artifacts/serve-ui/ (ignored by git; CI keeps them).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { buildRegistryFixture, type RegistryFixture } from '../helpers/registry-fixture.js';
import { startServe, type ServeHandle } from '../helpers/serve.js';
import { runCliAsync } from '../helpers/temp-repo.js';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/serve-ui/', import.meta.url));
const available = chromiumAvailable();
if (!available) console.warn('serve-ui: skipped — /usr/bin/chromium is not installed (apt-get install chromium)');

describe.skipIf(!available)('serve: the web UI in a browser', () => {
  let fx: RegistryFixture;
  let server: ServeHandle;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    fx = await buildRegistryFixture();
    server = await startServe(fx.root);
    expect(server.started.ui).toBe(true);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    const code = await server?.stop();
    fx?.remove();
    expect(code).toBe(0);
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const refsInTable = () => page.$$eval('#versions tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.ref));

  it('opens the models page, clicks into a model, sorts by a metric and draws the chart', async () => {
    await page.goto(server.url);
    await page.waitForSelector('#models-table tbody tr[data-model="fraud"]');
    expect(await page.$$eval('#models-table tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.model))).toEqual(['fraud', 'team/ranker']);
    expect(await page.textContent('#models-table tr[data-model="fraud"] td[data-stage="production"]')).toBe('v2');
    // Counts read as English ("2 models"), never "2 model(s)".
    expect(await page.textContent('main .sub')).toMatch(/^2 models;/);
    await page.waitForSelector('#live.on');
    await shot('1-models');

    await page.click('#models-table tr[data-model="fraud"]');
    await page.waitForSelector('#versions tbody tr');
    expect(await refsInTable()).toEqual(['fraud@v4', 'fraud@v3', 'fraud@v2', 'fraud@v1']);
    expect(await page.textContent('main')).toContain('4 versions · latest v4');

    // The chart: uPlot drew a canvas with one point per version, and it is not blank.
    await page.waitForSelector('#chart canvas');
    expect(await page.getAttribute('#chart', 'data-points')).toBe('4');
    const inked = await page.$eval('#chart canvas', (c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(200);

    await page.click('#versions th[data-sort="accuracy"]');
    await page.waitForSelector('#versions[data-sort="-accuracy"]');
    expect(await refsInTable()).toEqual(['fraud@v2', 'fraud@v4', 'fraud@v3', 'fraud@v1']);
    await page.click('#versions th[data-sort="accuracy"]');
    await page.waitForSelector('#versions[data-sort="accuracy"]');
    expect(await refsInTable()).toEqual(['fraud@v1', 'fraud@v3', 'fraud@v4', 'fraud@v2']);
    expect(await page.$$eval('#versions tbody td[data-metric="accuracy"]', (tds) => tds.map((t) => Number(t.textContent)))).toEqual([0.81, 0.88, 0.9, 0.93]);

    await page.selectOption('#metric-select', 'loss');
    await page.waitForFunction(() => document.querySelector('#chart .u-legend')?.textContent?.includes('loss'));
    await shot('2-model-sorted');
  });

  it('shows a stage move made by another process live, without a reload', async () => {
    expect(await page.textContent('#stage-holders [data-stage="production"] .v')).toBe('v2');
    const before = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    const moved = await runCliAsync(fx.root, ['promote', 'fraud@v4', '--to', 'production', '--reason', 'seen live']);
    expect(moved.code).toBe(0);
    await page.waitForFunction(() => document.querySelector('#stage-holders [data-stage="production"] .v')?.textContent === 'v4', undefined, { timeout: 15_000 });
    const newest = await page.textContent('#timeline li:first-child');
    expect(newest).toContain('v4');
    expect(newest).toContain('seen live');
    await page.waitForSelector('.toast');
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(before);
    await shot('3-live-stage-move');
  });

  it('opens a version and draws its lineage graph, files, params and a diff', async () => {
    await page.click('#versions tbody tr[data-ref="fraud@v3"]');
    await page.waitForSelector('#files tbody tr');
    expect(await page.$$eval('#files tbody tr td:first-child', (tds) => tds.map((t) => t.textContent))).toEqual(['model/config.json', 'model/weights.bin']);
    expect(await page.textContent('#params')).toContain('0.03');
    await page.waitForSelector('#lineage[data-drawn="true"] canvas');
    expect(Number(await page.getAttribute('#lineage', 'data-nodes'))).toBeGreaterThanOrEqual(2);
    await page.waitForSelector('#diff table');
    expect(await page.textContent('#diff')).toContain('accuracy');
    expect(await page.textContent('main')).toContain('Not signed');
    await shot('4-version');

    // A fine-tune's graph reaches its parent in another model.
    await page.goto(`${server.url}#/versions/${encodeURIComponent('team/ranker@v1')}`);
    // Only the hash changed: wait for this page's graph, not the one still on screen.
    await page.waitForFunction(() => document.querySelector('h1')?.textContent?.startsWith('team/ranker@v1'));
    await page.waitForSelector('#lineage[data-drawn="true"] canvas');
    expect(await page.getAttribute('#lineage', 'data-nodes')).toBe('3');
    expect(await page.getAttribute('#lineage', 'data-edges')).toBe('2');
    await shot('5-lineage-fine-tune');
  });

  it('shows the audit log with its verified badge', async () => {
    await page.click('a[data-nav="audit"]');
    await page.waitForSelector('#chain-status');
    expect(await page.getAttribute('#chain-status', 'data-verified')).toBe('true');
    expect(await page.textContent('#chain-status')).toMatch(/· \d+ events$/);
    expect(await page.$$eval('#events tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.action))).toContain('rollback');
    await shot('6-audit');
    expect(problems).toEqual([]);
  });
});
