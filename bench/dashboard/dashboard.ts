// Dashboard benchmark in headless Chromium (prints numbers; asserts nothing):
//  1. first meaningful render (every chart's history drawn) with 24 h of history for 8 GPUs + host,
//     against the same page with no history, in the same run → ratio (target < 2×);
//  2. cost of steady 1 Hz live updates as a share of the render thread (CDP TaskDuration; target < 5 %);
//  3. JS heap after 1 h of simulated 10 Hz samples vs after 5 min (target within 10 %);
//  4. size of dist/webview.js (target < 450 KB minified).
// Run: node build.mjs && node -r esbuild-register bench/dashboard/dashboard.ts

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../../test/webview/browser';
import { SyntheticCollector } from './_synthetic-collector';

const GPUS = 8;
const CORES = 16;
const RUNS = 3;
const LIVE_SECONDS = Number(process.env.LIVE_SECONDS ?? 20);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function openDashboard(sc: SyntheticCollector, range: string): Promise<{ b: TestBrowser; page: Page }> {
  const url = await sc.start();
  const b = await launchBrowser({ width: 1600, height: 1000 });
  await b.page.addInitScript((r) => {
    localStorage.setItem('rigwatch.ui', JSON.stringify({ range: r, mode: 'advanced', gpuView: 'compare', gpu: 0 }));
  }, range);
  await b.page.goto(url);
  await b.page.locator('rw-app[data-settled="true"]').waitFor({ timeout: 60_000 });
  return { b, page: b.page };
}

async function firstRender(history: boolean): Promise<{ ms: number; points: number }> {
  const sc = new SyntheticCollector({ gpus: GPUS, cores: CORES, history, intervalMs: 1000 });
  const { b, page } = await openDashboard(sc, '24h');
  try {
    const ms = await page.evaluate(() => performance.getEntriesByName('rw:first-render')[0].startTime);
    const points = await page.evaluate(() => {
      let n = 0;
      const walk = (root: Document | ShadowRoot): void => {
        for (const el of Array.from(root.querySelectorAll('*'))) {
          if (el.tagName === 'RW-CHART') n += (el as unknown as { pointCounts: number[] }).pointCounts.reduce((a, x) => a + x, 0);
          if (el.shadowRoot) walk(el.shadowRoot);
        }
      };
      walk(document);
      return n;
    });
    if (b.problems.length) console.log(`  page problems: ${b.problems.join('; ')}`);
    return { ms, points };
  } finally {
    await b.close();
    await sc.stop();
  }
}

async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN;
}

async function liveCost(): Promise<{ idle: number; live: number; series: number }> {
  const sc = new SyntheticCollector({ gpus: GPUS, cores: CORES, history: true, intervalMs: 1000 });
  const { b, page } = await openDashboard(sc, 'live');
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    // Baseline: the page with nothing arriving (timers, watchdog).
    let t0 = await taskSeconds(cdp);
    let w0 = Date.now();
    await page.waitForTimeout(5000);
    const idle = (await taskSeconds(cdp)) - t0;
    const idleShare = idle / ((Date.now() - w0) / 1000);
    t0 = await taskSeconds(cdp);
    w0 = Date.now();
    for (let i = 0; i < LIVE_SECONDS; i++) {
      await sc.push(Date.now());
      await new Promise((r) => setTimeout(r, 1000));
    }
    const busy = (await taskSeconds(cdp)) - t0;
    const live = busy / ((Date.now() - w0) / 1000);
    if (b.problems.length) console.log(`  page problems: ${b.problems.join('; ')}`);
    return { idle: idleShare, live, series: sc.seriesCount };
  } finally {
    await b.close();
    await sc.stop();
  }
}

async function heapAt(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const r = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  return r.usedSize;
}

async function heapGrowth(): Promise<{ at5m: number; at1h: number; seconds: number }> {
  const sc = new SyntheticCollector({ gpus: GPUS, cores: CORES, history: true, intervalMs: 100 });
  const { b, page } = await openDashboard(sc, 'live');
  const started = Date.now();
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    let t = Date.now();
    const feed = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        t += 100;
        await sc.push(t);
        // Let the page keep up (the simulated clock runs as fast as the page can take it).
        if (i % 200 === 199) {
          await page.waitForFunction(
            (want) => (document.querySelector('rw-app') as unknown as { store: { lastSampleT: number } }).store.lastSampleT >= want,
            t,
            { polling: 50, timeout: 60_000 },
          );
        }
      }
      await page.waitForFunction((want) => (document.querySelector('rw-app') as unknown as { store: { lastSampleT: number } }).store.lastSampleT >= want, t, {
        polling: 50,
        timeout: 60_000,
      });
      // Two frames so charts and cards have drawn the last samples.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    };
    await feed(5 * 60 * 10);
    const at5m = await heapAt(cdp);
    await feed(55 * 60 * 10);
    const at1h = await heapAt(cdp);
    if (b.problems.length) console.log(`  page problems: ${b.problems.slice(0, 5).join('; ')}`);
    return { at5m, at1h, seconds: (Date.now() - started) / 1000 };
  } finally {
    await b.close();
    await sc.stop();
  }
}

async function main(): Promise<void> {
  const bundle = path.resolve(__dirname, '..', '..', 'dist', 'webview.js');
  if (!fs.existsSync(bundle)) throw new Error('dist/webview.js is missing: run node build.mjs first');
  const size = fs.statSync(bundle).size;
  console.log(`bundle: dist/webview.js ${(size / 1024).toFixed(1)} KiB minified (target < 450 KB)`);

  const withH: number[] = [];
  const without: number[] = [];
  let points = 0;
  for (let i = 0; i < RUNS; i++) {
    // Alternate so machine noise hits both sides alike.
    const a = await firstRender(false);
    const h = await firstRender(true);
    without.push(a.ms);
    withH.push(h.ms);
    points = h.points;
  }
  const mw = median(withH);
  const mo = median(without);
  console.log(
    `first render, ${GPUS} GPUs (compare view) + host, 24h range: no history ${mo.toFixed(0)} ms, ` +
      `with 24 h history (${points} points drawn) ${mw.toFixed(0)} ms → ratio ${(mw / mo).toFixed(2)}× (target < 2×; medians of ${RUNS})`,
  );

  const live = await liveCost();
  console.log(
    `live 1 Hz, ${live.series} series per sample, ${GPUS}-GPU compare view: render thread busy ${(live.live * 100).toFixed(2)} % ` +
      `(idle page ${(live.idle * 100).toFixed(2)} %; target < 5 %; ${LIVE_SECONDS} s)`,
  );

  const heap = await heapGrowth();
  console.log(
    `heap after 5 min of 10 Hz samples ${(heap.at5m / 1048576).toFixed(1)} MiB, after 1 h ${(heap.at1h / 1048576).toFixed(1)} MiB → ` +
      `${(((heap.at1h - heap.at5m) / heap.at5m) * 100).toFixed(1)} % (target within 10 %; simulated in ${heap.seconds.toFixed(0)} s)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
