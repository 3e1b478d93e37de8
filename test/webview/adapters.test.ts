// The dashboard reads the view adapters: two containers whose names clash (my.app, my_app) each show
// their own numbers, and a toy source added with one adapter (test/fixtures/toy-source/) gets a card
// with its rows and chart. The page runs in VS Code mode; the test plays the extension and sends
// crafted collector messages, so no collector or engine is needed.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { HelloMessage, SampleMessage, SourceStatus } from '../../protocol';
import type { HostToWebview } from '../../protocol/bridge';
import { CLASHING, clashingDocker } from '../helpers/clashing-containers';
import { launchBrowser, screenshot, servePanel, type TestBrowser } from './browser';

const ROOT = path.resolve(__dirname, '..', '..');

/** Bundles a dashboard entry (the product's, or the toy fixture's) into `dir`. */
async function bundle(entry: string, dir: string): Promise<string> {
  const out = path.join(dir, 'webview.js');
  await build({ entryPoints: [path.join(ROOT, entry)], outfile: out, bundle: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'error' });
  return out;
}

const SOURCES: SourceStatus[] = [
  { id: 'docker', kind: 'docker', state: 'ready', description: 'Docker 26.1.5' },
  { id: 'toy.red', kind: 'toy', state: 'ready', description: 'a six-sided die' },
];

function messages(now: number): [HelloMessage, SampleMessage] {
  const { details, series } = clashingDocker();
  const sample: SampleMessage = {
    type: 'sample',
    t: now,
    series: { ...series, 'toy.red.roll_count': 4, 'toy.red.rolls_total': 10 },
    details: { docker: details },
  };
  const hello: HelloMessage = {
    type: 'hello',
    protocol: 1,
    host: { hostname: 'trainbox', platform: 'linux', arch: 'x64', collectorVersion: '0.1.0', pid: 1, startedAt: 0, cpuCores: 8 },
    intervalMs: 1000,
    serverTime: now,
    sources: SOURCES,
    alerts: [],
    logging: { enabled: false },
    latest: sample,
  };
  return [hello, sample];
}

describe('dashboard: view adapters (Chromium)', function () {
  this.timeout(60_000);
  let dir: string;
  let panel: { url: string; close(): Promise<void> };
  let browser: TestBrowser;

  before(async function () {
    this.timeout(90_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-adapters-'));
    const js = await bundle('test/fixtures/toy-source/dashboard-entry.ts', dir);
    panel = await servePanel(js);
    browser = await launchBrowser({ colorScheme: 'dark', width: 1400 });
    const page = browser.page;
    const toPage = (env: HostToWebview): Promise<void> => page.evaluate((e) => window.postMessage(e, '*'), env).then(() => undefined);
    await page.exposeFunction('__rwToHost', async (json: string) => {
      const env = JSON.parse(json) as { kind: string };
      if (env.kind !== 'ready') return;
      const [hello, sample] = messages(Date.now());
      await toPage({ kind: 'connection', state: 'live', name: 'local' });
      await toPage({ kind: 'server', message: hello });
      await toPage({ kind: 'server', message: sample });
    });
    await page.addInitScript(() => {
      let state: unknown;
      const w = window as unknown as { acquireVsCodeApi(): unknown; __rwToHost(s: string): void };
      w.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => w.__rwToHost(JSON.stringify(m)),
        getState: () => state,
        setState: (s: unknown) => (state = s),
      });
    });
    await page.goto(panel.url);
  });

  after(async () => {
    await browser?.close();
    await panel?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows my.app and my_app each with its own CPU and memory', async () => {
    const page = browser.page;
    const row = (name: string) => page.locator(`rw-container-timeline .row[data-container="${name}"] .meta`);
    await row(CLASHING[1].name).waitFor({ timeout: 15_000 });
    const dotted = await row('my.app').innerText();
    const underscored = await row('my_app').innerText();
    assert.match(dotted, /CPU 11 %/);
    assert.match(dotted, /\b1 GiB/);
    assert.match(underscored, /CPU 73 %/);
    assert.match(underscored, /\b3(\.0)? GiB/);
  });

  it('shows a toy source added with one adapter: its card, rows and chart', async () => {
    const page = browser.page;
    const card = page.locator('rw-source-cards article[data-source="toy.red"]');
    await card.waitFor({ timeout: 15_000 });
    assert.match(await card.locator('h3').innerText(), /Die red/);
    assert.match(await card.locator('dl').innerText(), /rolled 4\s*·\s*10 rolls/);
    assert.equal(await card.locator('rw-chart').getAttribute('heading'), 'Rolls');
    await screenshot(page, 'dashboard-adapters');
    assert.deepEqual(browser.problems, [], 'no console errors and no CSP violations');
  });
});
