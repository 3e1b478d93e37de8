// The same bundle in VS Code mode: the page gets `acquireVsCodeApi` and talks postMessage envelopes
// (protocol/bridge.ts) to a host — here the test plays the extension, relaying a real collector's
// WebSocket — under the panel's CSP, which allows no network connections at all.

import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { ServerMessage } from '../../protocol/messages';
import { dashboardHtml } from '../../webview/html';
import { ROOT, startCollector, type RunningCollector, type WsClient } from '../helpers/collector-process';
import { launchBrowser, screenshot, type TestBrowser } from './browser';

/** Serves the panel page the way the extension's WebviewPanel would (no connect-src). */
function servePanel(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/') {
      const nonce = randomBytes(16).toString('base64');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(dashboardHtml({ nonce, scriptUri: '/webview.js', styleUri: '/webview.css', cspSource: "'self'", mode: 'vscode' }));
    } else if (p === '/webview.js' || p === '/webview.css') {
      res.writeHead(200, { 'content-type': p.endsWith('.js') ? 'text/javascript' : 'text/css' });
      res.end(fs.readFileSync(path.join(ROOT, 'dist', p.slice(1))));
    } else res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}

describe('dashboard in VS Code mode (postMessage bridge)', function () {
  this.timeout(60_000);
  let collector: RunningCollector;
  let panel: { url: string; close(): Promise<void> };
  let browser: TestBrowser;
  let client: WsClient | undefined;
  const fromPage: { kind: string; message?: { type: string } }[] = [];

  before(async function () {
    this.timeout(90_000);
    collector = await startCollector({ interval: 0.5 });
    panel = await servePanel();
    browser = await launchBrowser({ colorScheme: 'dark' });
    const page = browser.page;
    const toPage = (env: unknown): Promise<void> => page.evaluate((e) => window.postMessage(e, '*'), env).then(() => undefined);
    await page.exposeFunction('__rwToHost', async (json: string) => {
      const env = JSON.parse(json) as { kind: string; message?: { type: string } };
      fromPage.push(env);
      if (env.kind === 'ready') {
        await toPage({ kind: 'connection', state: 'live', name: 'local' });
        client = await collector.ws();
        for (const m of client.messages) await toPage({ kind: 'server', message: m });
        client.ws.on('message', (d) => void toPage({ kind: 'server', message: JSON.parse(d.toString()) as ServerMessage }).catch(() => undefined));
      } else if (env.kind === 'client' && env.message) {
        client?.ws.send(JSON.stringify(env.message));
      }
    });
    await page.addInitScript(() => {
      // What VS Code provides: the API (once) and the theme as variables on <html> plus a body class.
      let state: unknown;
      let acquired = false;
      const w = window as unknown as { acquireVsCodeApi(): unknown; __rwToHost(s: string): void };
      w.acquireVsCodeApi = () => {
        if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
        acquired = true;
        return { postMessage: (m: unknown) => w.__rwToHost(JSON.stringify(m)), getState: () => state, setState: (s: unknown) => (state = s) };
      };
      document.addEventListener('DOMContentLoaded', () => {
        document.body.classList.add('vscode-light');
        const vars: Record<string, string> = {
          '--vscode-font-family': 'sans-serif',
          '--vscode-font-size': '13px',
          '--vscode-foreground': '#202020',
          '--vscode-editor-background': '#fafaf0',
          '--vscode-editorWidget-background': '#f0e6dc',
          '--vscode-panel-border': '#cccccc',
          '--vscode-descriptionForeground': '#555555',
          '--vscode-charts-blue': '#1a5fb4',
          '--vscode-charts-orange': '#c64600',
          '--vscode-focusBorder': '#0066cc',
        };
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      });
    });
    await page.goto(panel.url);
  });

  after(async () => {
    await browser?.close();
    await collector?.stop();
    await panel?.close();
  });

  it('renders the collector relayed over postMessage, with no network access of its own', async () => {
    const page = browser.page;
    assert.equal(await page.evaluate(() => document.documentElement.dataset.mode), 'vscode');
    await page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 15_000 });
    assert.equal(fromPage[0]?.kind, 'ready', 'the page says ready first');
    await page.locator('rw-host-row article[aria-label="CPU"]').waitFor();
    // The history request went through the host and its answer was drawn.
    await page.locator('rw-app[data-settled="true"]').waitFor({ timeout: 15_000 });
    assert.ok(fromPage.some((e) => e.kind === 'client' && e.message?.type === 'history'));
    const cpu = page.locator('rw-chart', { has: page.locator('figcaption:text-is("CPU busy")') });
    await cpu.scrollIntoViewIfNeeded();
    const count = (): Promise<number> =>
      cpu.evaluate((el) => {
        const c = el.shadowRoot!.querySelector('canvas')!;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        // The host's --vscode-charts-blue (#1a5fb4) is the first line colour.
        for (let i = 0; i < d.length; i += 4)
          if (d[i + 3] > 200 && Math.abs(d[i] - 0x1a) < 40 && Math.abs(d[i + 1] - 0x5f) < 40 && Math.abs(d[i + 2] - 0xb4) < 40) n++;
        return n;
      });
    let pixels = 0;
    // A line needs a few samples (interval 0.5 s) before it has length; on a loaded machine that takes a while.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && pixels <= 10;) {
      pixels = await count();
      if (pixels <= 10) await page.waitForTimeout(200);
    }
    assert.ok(pixels > 10, `CPU line drawn in the host's chart colour (${pixels} px)`);
    await screenshot(page, 'dashboard-vscode-mode');
    if (process.env.RW_DEBUG_SHOT) await cpu.screenshot({ path: 'test-artifacts/scratch/cpu-chart.png' });
    assert.deepEqual(browser.problems, [], 'no console errors and no CSP violations (connect-src is none)');
  });

  it('uses the theme variables VS Code provides instead of its own defaults', async () => {
    const bg = await browser.page
      .locator('rw-host-row article.card')
      .first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(bg, 'rgb(240, 230, 220)');
  });

  it('follows a high-contrast theme: outlines from contrastBorder', async () => {
    const page = browser.page;
    await page.evaluate(() => {
      // A subset of VS Code's "Dark High Contrast" colours, as the workbench sets them.
      const hc: Record<string, string> = {
        '--vscode-foreground': '#ffffff',
        '--vscode-editor-background': '#000000',
        '--vscode-editorWidget-background': '#0c141f',
        '--vscode-contrastBorder': '#6fc3df',
        '--vscode-contrastActiveBorder': '#f38518',
        '--vscode-focusBorder': '#f38518',
        '--vscode-descriptionForeground': '#ffffffb3',
        '--vscode-badge-background': '#000000',
        '--vscode-panel-border': '#6fc3df',
        '--vscode-charts-foreground': '#ffffff',
        '--vscode-charts-lines': '#ffffff80',
        '--vscode-charts-blue': '#3794ff',
        '--vscode-charts-orange': '#d18616',
        '--vscode-button-background': '#000000',
        '--vscode-button-border': '#6fc3df',
        '--vscode-button-secondaryBackground': '#000000',
      };
      document.body.classList.remove('vscode-light');
      document.body.classList.add('vscode-high-contrast');
      document.body.style.background = '#000000';
      for (const [k, v] of Object.entries(hc)) document.documentElement.style.setProperty(k, v);
    });
    const border = await page
      .locator('rw-host-row article.card')
      .first()
      .evaluate((el) => getComputedStyle(el).borderTopColor);
    assert.equal(border, 'rgb(111, 195, 223)');
    const pressed = await page.locator('rw-time-range vscode-button[aria-pressed="true"]').evaluate((el) => getComputedStyle(el).outlineColor);
    assert.equal(pressed, 'rgb(243, 133, 24)', 'the selected range is marked with contrastActiveBorder');
    await page.waitForTimeout(300);
    await screenshot(page, 'dashboard-vscode-high-contrast');
    assert.deepEqual(browser.problems, []);
  });

  it('shows the connection state the extension reports, and ignores malformed envelopes', async () => {
    const page = browser.page;
    await page.evaluate(() => {
      window.postMessage({ kind: 'server', message: { type: 'sample', t: 'yesterday' } }, '*');
      window.postMessage({ kind: 'connection', state: 'reconnecting', reason: 'collector exited', name: 'local' }, '*');
    });
    await page.locator('rw-header .conn[data-state="reconnecting"]').waitFor();
    assert.match(await page.locator('rw-header .conn').innerText(), /reconnecting.*collector exited/s);
    await page.evaluate(() => window.postMessage({ kind: 'connection', state: 'live', name: 'local' }, '*'));
    await page.locator('rw-header .conn[data-state="live"]').waitFor();
    assert.deepEqual(browser.problems, []);
  });
});
