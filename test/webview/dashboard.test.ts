// The dashboard in headless Chromium against the real collector (dist/collector.js) with the fake
// NVML library (3 GPUs the test can heat), the host source and a private Docker engine.

import * as assert from 'node:assert/strict';
import type { Page, WebSocket as PwWebSocket } from 'playwright-core';
import type { HistoryRequest } from '../../protocol/messages';
import { buildFakeNvml, makeFakeStateDir, writeFakeState, type FakeGpuState } from '../fakes/nvml/build';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { startDockerEngine, type DockerEngine } from '../helpers/docker-engine';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server';
import { startRedis, type RedisServer } from '../helpers/redis-server';
import { fixture, observe, bump, startFakeModelServer, type FakeModelServer } from '../fakes/model-servers/fake-server';
import { deepText, launchBrowser, screenshot, until, type TestBrowser } from './browser';

const GPUS = 3;
const COOL: FakeGpuState = {
  count: GPUS,
  'gpu.*.util': 35,
  'gpu.*.temp': 45,
  'gpu.*.mem_used': 8 * 2 ** 30,
  'gpu.0.compute': `${process.pid}:${3 * 2 ** 30}`,
  'gpu.1.compute': `${process.pid}:${2 ** 30}`,
};

/** The deep focused element (through shadow roots), described by its test hooks or label. */
function focusedDescriptor(page: Page): Promise<string> {
  return page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    // Focus inside a vscode-element's own shadow root counts as the element itself.
    let host: Element | null = el;
    while (host && !host.tagName.startsWith('VSCODE-') && !host.hasAttribute('data-sort')) {
      const root = host.getRootNode();
      if (!(root instanceof ShadowRoot) || root.host.tagName.startsWith('RW-')) break;
      host = root.host;
    }
    const e = host ?? el;
    if (!e) return 'none';
    return `${e.tagName.toLowerCase()}|${e.getAttribute('data-range') ?? e.getAttribute('data-control') ?? e.getAttribute('data-sort') ?? e.getAttribute('aria-label') ?? e.textContent?.trim()}`;
  });
}

/** Counts pixels of a chart canvas close to the given rgb colour. */
async function linePixels(page: Page, chartHeading: string): Promise<number> {
  const chart = page.locator('rw-chart', { has: page.locator(`figcaption:text-is("${chartHeading}")`) }).first();
  // Charts outside the viewport redraw only every few seconds: look at it where a user would.
  await chart.scrollIntoViewIfNeeded();
  return chart.evaluate((el: Element) => {
    const canvas = el.shadowRoot!.querySelector('canvas')!;
    const swatch = el.shadowRoot!.querySelector('.sw');
    // The first line's colour: from the legend swatch when there is one, else the theme's first chart colour.
    const colour = swatch ? getComputedStyle(swatch).backgroundColor : getComputedStyle(document.documentElement).getPropertyValue('--vscode-charts-blue');
    const probe = document.createElement('canvas').getContext('2d')!;
    probe.fillStyle = colour.trim();
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
    const img = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < img.length; i += 4) {
      if (img[i + 3] > 200 && Math.abs(img[i] - r) < 40 && Math.abs(img[i + 1] - g) < 40 && Math.abs(img[i + 2] - b) < 40) n++;
    }
    return n;
  });
}

describe('dashboard in Chromium against the real collector', function () {
  this.timeout(60_000);
  let collector: RunningCollector;
  let gpuState: ReturnType<typeof makeFakeStateDir>;
  let docker: DockerEngine;
  let postgres: PostgresServer;
  let redis: RedisServer;
  let vllm: FakeModelServer;
  let vllmTimer: ReturnType<typeof setInterval> | undefined;
  let browser: TestBrowser;
  let page: Page;
  const sent: HistoryRequest[] = [];
  /** Alert messages the page received (for failure messages). */
  const alertFrames: string[] = [];

  const open = async (b: TestBrowser): Promise<void> => {
    b.page.on('websocket', (ws: PwWebSocket) => {
      ws.on('framesent', (f) => {
        const m = JSON.parse(String(f.payload)) as { type?: string };
        if (m.type === 'history') sent.push(m as HistoryRequest);
      });
      ws.on('framereceived', (f) => {
        const text = String(f.payload);
        if (text.startsWith('{"type":"alert"')) alertFrames.push(text.slice(0, 400));
      });
    });
    await b.page.goto(`${collector.url}/#token=${collector.token}`);
    await b.page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 15_000 });
  };

  before(async function () {
    this.timeout(120_000);
    gpuState = makeFakeStateDir();
    writeFakeState(gpuState.stateFile, COOL);
    docker = await startDockerEngine();
    await docker.run('web', { flags: ['--health-cmd', 'true', '--health-interval', '1s'] });
    await docker.run('broken', { flags: ['--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1'] });
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    // A vLLM that serves requests: every 300 ms its histograms and token counters move.
    let metrics = fixture('vllm-0.6-metrics.txt');
    const model = { model_name: 'meta-llama/Llama-3.1-8B-Instruct' };
    vllm = await startFakeModelServer({ '/metrics': { body: metrics, contentType: 'text/plain' }, '/health': { body: '' } });
    let k = 0;
    vllmTimer = setInterval(() => {
      k++;
      metrics = observe(metrics, 'vllm:e2e_request_latency_seconds', model, 0.3 + (k % 5) * 0.2, 3);
      metrics = bump(metrics, 'vllm:generation_tokens_total', model, 400);
      vllm.routes.set('/metrics', { body: metrics, contentType: 'text/plain' });
    }, 300);
    collector = await startCollector({
      interval: 0.5,
      config: {
        postgres: [{ name: 'main', url: postgres.url() }],
        redis: [{ name: 'cache', url: redis.url() }],
        models: [{ name: 'llm', url: vllm.url, kind: 'vllm' }],
        // The hot-GPU test wants its alert at once (the default waits 30 s at the slowdown temperature).
        alerts: { rules: [{ id: 'gpu-temperature', for: 0, criticalFor: 0 }] },
      },
      env: { RIGWATCH_NVML_PATH: buildFakeNvml(), FAKE_NVML_STATE: gpuState.stateFile, DOCKER_HOST: docker.host },
    });
    browser = await launchBrowser({ colorScheme: 'dark' });
    page = browser.page;
    await open(browser);
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await collector?.stop();
    await docker?.dispose();
    clearInterval(vllmTimer);
    await vllm?.close();
    await postgres?.dispose();
    await redis?.dispose();
    gpuState?.dispose();
  });

  afterEach(function () {
    // No console errors, page errors or CSP violations in any test.
    const problems = browser.problems.splice(0);
    assert.deepEqual(problems, [], `the page reported problems:\n${problems.join('\n')}`);
  });

  it('loads, goes live and keeps the token out of the address bar', async () => {
    assert.equal(new URL(page.url()).hash, '', 'the token fragment was removed');
    const host = await page.locator('rw-header h1 span').first().textContent();
    assert.ok(host && host.length > 0 && host !== 'Rigwatch', `host name shown, got ${host}`);
    // Reloading keeps working from the tab's session storage.
    await page.reload();
    await page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 15_000 });
  });

  it('renders every section for the sources that are available', async () => {
    await page
      .locator('rw-gpu-card')
      .nth(GPUS - 1)
      .waitFor();
    assert.equal(await page.locator('rw-gpu-card').count(), GPUS);
    const gpuText = await page.locator('rw-gpu-card article').first().innerText();
    assert.match(gpuText, /GPU 0/);
    assert.match(gpuText, /35 %/, 'utilisation from the fake NVML');
    assert.match(gpuText, /45 °C/);
    // Process table: the two fake compute processes, with the real process name joined by pid.
    await until('two GPU process rows', async () => (await page.locator('rw-gpu-processes tbody tr').count()) === 2);
    assert.match(await page.locator('rw-gpu-processes tbody').innerText(), new RegExp(String(process.pid)));
    // Host row: CPU with a cell per core, memory and disks.
    const cores = await page.locator('rw-heat-strip .c').count();
    assert.ok(cores >= 1, 'a heat-strip cell per core');
    assert.match(await page.locator('rw-host-row article[aria-label="Memory"]').innerText(), /GiB/);
    // Containers: both, with their tracker.
    await until('both containers in the timeline', async () => (await page.locator('rw-container-timeline .row').count()) === 2, 20_000);
    await until(
      'a health run drawn for "web"',
      async () => (await page.locator('rw-container-timeline .row[data-container="web"] .run.ok').count()) > 0,
      20_000,
    );
    await until(
      '"broken" shown unhealthy',
      async () => /unhealthy/.test(await page.locator('rw-container-timeline .row[data-container="broken"]').innerText()),
      20_000,
    );
    // Databases: a card per instance with its key numbers.
    const pg = page.locator('rw-db-cards article[data-source="postgres.main"]');
    await until('PostgreSQL card with max_connections', async () => /Connections 1 active · \d+ idle \/ 100\b/.test(await deepText(pg)), 20_000);
    assert.equal(await pg.locator('[data-state="ready"]').count(), 1);
    const rd = page.locator('rw-db-cards article[data-source="redis.cache"]');
    await until('Redis card with its memory', async () => /Memory \d[\d.]* (KiB|MiB) \/ no maxmemory/.test(await deepText(rd)), 20_000);
    // Model server: up, with latency percentiles and throughput from the moving vLLM metrics.
    const llm = page.locator('rw-model-cards article[data-server="llm"]');
    await until('vLLM card with p50/p95/p99', async () => /p50\/p95\/p99\s*\d/.test(await llm.innerText()), 20_000);
    assert.match(await llm.innerText(), /vLLM[\s\S]*up/);
    await until('vLLM throughput', async () => /\d[\d.]*k? tok\/s/.test(await llm.innerText()), 20_000);
    assert.equal(await llm.locator('rw-chart').count(), 1, 'latency chart');
    // Sources list covers what the collector knows.
    for (const id of ['host', 'gpu', 'docker', 'postgres.main', 'redis.cache'])
      assert.equal(await page.locator(`rw-sources li[data-source="${id}"] [data-state="ready"]`).count(), 1, `${id} ready`);
  });

  it('draws the charts (canvas pixels in the line colour)', async () => {
    await until('GPU 0 utilisation line drawn', async () => (await linePixels(page, 'GPU 0 Utilisation')) > 20);
    await until('CPU line drawn', async () => (await linePixels(page, 'CPU busy')) > 20);
    const summary = await page
      .locator('rw-chart')
      .first()
      .evaluate((el) => el.shadowRoot!.querySelector('.sr-only')!.textContent);
    assert.match(summary ?? '', /GPU 0 Utilisation over the last 2 minutes\. .*35 %/, 'text summary for screen readers');
  });

  it('compare toggle draws every GPU on one chart; the selector picks the GPU', async () => {
    const util = page.locator('rw-gpu-charts rw-chart').first();
    assert.equal(await util.locator('figcaption').innerText(), 'GPU 0 Utilisation');
    await page.locator('rw-gpu-row vscode-single-select').evaluate((el) => {
      const s = el as HTMLElement & { value: string };
      s.value = '2';
      s.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await until('GPU 2 charts', async () => (await util.locator('figcaption').innerText()) === 'GPU 2 Utilisation');
    await page.locator('rw-gpu-row [data-control="compare"]').click();
    await until('compare view', async () => (await util.locator('figcaption').innerText()) === 'Utilisation');
    assert.equal(await util.locator('ul.legend li').count(), GPUS, 'a line per GPU');
    assert.equal(await page.locator('rw-gpu-row vscode-single-select').count(), 0, 'no selector in compare view');
    assert.equal(await page.locator('rw-gpu-row [data-control="compare"]').getAttribute('aria-pressed'), 'true');
    await until('compare lines drawn', async () => (await linePixels(page, 'Utilisation')) > 20);
    await screenshot(page, 'dashboard-compare-dark');
    await page.locator('rw-gpu-row [data-control="compare"]').click();
    await until('single view again', async () => (await util.locator('figcaption').innerText()) === 'GPU 2 Utilisation');
  });

  it('shows an alert callout while a GPU is hot and removes it when it cools', async () => {
    const callout = page.locator('rw-alert-callouts li[data-alert*="gpu.1.temperature_celsius"]');
    assert.equal(await callout.count(), 0, 'no callout while cool');
    writeFakeState(gpuState.stateFile, { ...COOL, 'gpu.1.temp': 91 });
    await callout.waitFor({ timeout: 15_000 }).catch(async (e: Error) => {
      const seen = await page.evaluate(() => {
        const st = (document.querySelector('rw-app') as unknown as { store: { value(n: string): unknown; lastSampleT: number; sources: Map<string, unknown> } })
          .store;
        return JSON.stringify({ temp: st.value('gpu.1.temperature_celsius'), t: st.lastSampleT, now: Date.now(), gpu: st.sources.get('gpu') });
      });
      throw new Error(
        `${e.message}\npage state: ${seen}\nalert messages received:\n${alertFrames.join('\n')}\ncollector stderr:\n${collector.stderr().slice(-2000)}`,
      );
    });
    assert.equal(await callout.getAttribute('data-severity'), 'critical');
    assert.match(await callout.innerText(), /91 °C/);
    await until('GPU 1 card marked critical', async () => (await page.locator('rw-gpu-card').nth(1).locator('article.critical').count()) === 1);
    await screenshot(page, 'dashboard-alert-dark');
    // Acknowledge goes to the collector and comes back as an alert event.
    await callout.locator('vscode-button', { hasText: 'Acknowledge' }).click();
    await until('acknowledged', async () => /✓ Acknowledged/.test(await callout.innerText()));
    assert.equal(await callout.locator('vscode-button', { hasText: 'Acknowledge' }).count(), 0);
    writeFakeState(gpuState.stateFile, COOL);
    await callout.waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('shows a dead collector and recovers (with a backfill request) when it comes back', async () => {
    const before = sent.length;
    await collector.kill9();
    await page.locator('rw-header .conn[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('rw-header .conn').innerText(), /reconnecting/);
    await screenshot(page, 'dashboard-disconnected-dark');
    await collector.restart();
    await page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 20_000 });
    // Chromium itself logs each refused WebSocket attempt as a console error; those are expected here
    // (and only those: anything else still fails the test).
    // Likewise an HTTP poll tried while the collector is dead (the polling fallback starts when the outage
    // outlasts a few WebSocket attempts, which a loaded machine makes likely).
    const refused =
      /^console error: (WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws\?token=[0-9a-f]+' failed: .*|Failed to load resource: net::)ERR_CONNECTION_REFUSED$/;
    for (let i = browser.problems.length - 1; i >= 0; i--) if (refused.test(browser.problems[i])) browser.problems.splice(i, 1);
    const backfill = await until('a backfill request', () => sent.slice(before).find((m) => m.since !== undefined));
    assert.ok(backfill.since! > 0 && backfill.series.includes('host.cpu_busy_ratio'));
    await until('GPU cards live again', async () => /35 %/.test(await page.locator('rw-gpu-card article').first().innerText()));
  });

  it('switching the time range requests history at the chart width and shows it', async () => {
    const before = sent.length;
    const drawn = Number(await page.locator('rw-app').getAttribute('data-history-drawn'));
    await page.locator('rw-time-range [data-range="5m"]').click();
    // A late request of the live window (2 min, e.g. a watcher catching up after the reconnect above) may come
    // first on a loaded machine: the switch must produce a request of exactly 5 minutes.
    const req = await until('a history request for 5 minutes', () => sent.slice(before).find((m) => m.from !== undefined && m.to! - m.from === 5 * 60_000));
    const width = await page
      .locator('rw-chart')
      .first()
      .evaluate((el) => el.getBoundingClientRect().width);
    assert.ok(req.points! >= Math.floor(width * 0.9) && req.points! <= 2000, `points ${req.points} fit the chart width ${width}`);
    assert.ok(req.series.includes('gpu.2.utilization_ratio') && req.series.includes('host.cpu_busy_ratio'), `series: ${req.series.join(', ')}`);
    await until('the reply drawn', async () => Number(await page.locator('rw-app').getAttribute('data-history-drawn')) > drawn);
    const info = await page
      .locator('rw-chart')
      .first()
      .evaluate((el) => {
        const c = el as unknown as { xRange: [number, number]; pointCounts: number[] };
        return { x: c.xRange, n: c.pointCounts };
      });
    assert.ok(Math.abs(info.x[1] - info.x[0] - 5 * 60_000) < 1000, 'the x axis spans 5 minutes');
    assert.ok(info.n[0] >= 3, `history points drawn (${info.n[0]})`);
    assert.equal(await page.locator('rw-time-range [data-range="5m"]').getAttribute('aria-pressed'), 'true');
    // The collector has been sampling for a while by now: its history is a visible stretch of line.
    await until('GPU line drawn at 5m', async () => (await linePixels(page, 'GPU 2 Utilisation')) > 10);
    await screenshot(page, 'dashboard-5m-dark');
    await page.locator('rw-time-range [data-range="live"]').click();
    await until('back to live', async () => (await page.locator('rw-time-range [data-range="live"]').getAttribute('aria-pressed')) === 'true');
  });

  it('reaches every control with the keyboard', async () => {
    await page.locator('rw-gpu-processes tbody tr').first().waitFor();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      seen.add(await focusedDescriptor(page));
    }
    const want = [
      ...['live', '5m', '15m', '1h', '6h', '24h', '7d'].map((r) => `vscode-button|${r}`),
      'vscode-button|mode',
      'vscode-button|compare',
      'vscode-single-select|gpu-select',
      ...['pid', 'name', 'user', 'gpuIndex', 'usedMemoryBytes', 'smUtilRatio'].map((k) => `button|${k}`),
    ];
    const missing = want.filter((w) => !seen.has(w));
    assert.deepEqual(missing, [], `not reachable by Tab; reached: ${[...seen].join(', ')}`);
    // Enter on a focused control acts on it: sort by PID.
    await page.locator('rw-gpu-processes [data-sort="pid"]').focus();
    await page.keyboard.press('Enter');
    await until('sorted by PID', async () => (await page.locator('rw-gpu-processes th[aria-sort="descending"] [data-sort="pid"]').count()) === 1);
  });

  it('basic view shows the dense GPU table only; advanced adds the cards, every chart and table', async () => {
    assert.ok((await page.locator('rw-chart').count()) >= 8);
    await page.locator('rw-header [data-control="mode"]').click();
    await until('no charts in basic view', async () => (await page.locator('rw-chart').count()) === 0);
    assert.equal(await page.locator('rw-gpu-processes').count(), 0);
    assert.equal(await page.locator('rw-gpu-card').count(), 0);
    // One row per GPU, first in the dashboard, numbers with their units.
    assert.equal(await page.locator('rw-gpu-table [role=row][data-gpu]').count(), GPUS);
    assert.match(await page.locator('rw-gpu-table [data-gpu="0"]').innerText(), /35 %[\s\S]*\/80 GiB[\s\S]*45 °C/);
    await page.locator('rw-header [data-control="mode"]').click();
    await until('charts back', async () => (await page.locator('rw-chart').count()) >= 8);
  });

  it('is readable dark, light and at 400 px (screenshots in test-artifacts/)', async () => {
    await until('charts drawn', async () => (await linePixels(page, 'CPU busy')) > 20);
    await screenshot(page, 'dashboard-dark');
    const light = await launchBrowser({ colorScheme: 'light' });
    try {
      await open(light);
      await light.page
        .locator('rw-gpu-card')
        .nth(GPUS - 1)
        .waitFor();
      const bg = await light.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, 'rgb(255, 255, 255)', 'light theme background');
      await until('light charts drawn', async () => (await linePixels(light.page, 'CPU busy')) > 20);
      await screenshot(light.page, 'dashboard-light');
      await light.page.setViewportSize({ width: 400, height: 900 });
      await light.page.waitForTimeout(500);
      const overflow = await light.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at 400 px (overflow ${overflow} px)`);
      await screenshot(light.page, 'dashboard-light-400');
      assert.deepEqual(light.problems, []);
    } finally {
      await light.close();
    }
    const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(darkBg, 'rgb(31, 31, 31)', 'dark theme background');
  });
});
