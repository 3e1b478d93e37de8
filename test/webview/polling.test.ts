// When the page cannot hold a WebSocket (here: the page's WebSocket is replaced by one that never
// connects, as behind a proxy that drops upgrades) it falls back to polling the real collector over
// HTTP, says so in the header, keeps the cards live and still loads history for a time range.

import * as assert from 'node:assert/strict';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { launchBrowser, screenshot, type TestBrowser } from './browser';

describe('dashboard HTTP polling fallback', function () {
  this.timeout(60_000);
  let collector: RunningCollector;
  let browser: TestBrowser;
  const apiCalls: string[] = [];

  before(async () => {
    collector = await startCollector({ interval: 0.5 });
    browser = await launchBrowser();
    browser.page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/')) apiCalls.push(`${u.pathname}${u.search}`);
    });
    await browser.page.addInitScript(() => {
      // A WebSocket that always fails to connect, like one dropped by a proxy.
      class DroppedSocket extends EventTarget {
        static readonly CONNECTING = 0;
        static readonly OPEN = 1;
        static readonly CLOSING = 2;
        static readonly CLOSED = 3;
        readyState = 0;
        onopen: ((e: Event) => void) | null = null;
        onmessage: ((e: MessageEvent) => void) | null = null;
        onerror: ((e: Event) => void) | null = null;
        onclose: ((e: CloseEvent) => void) | null = null;
        constructor(readonly url: string) {
          super();
          setTimeout(() => {
            this.readyState = 3;
            this.onerror?.(new Event('error'));
            this.onclose?.(new CloseEvent('close', { code: 1006 }));
          }, 20);
        }
        send(): void {
          throw new Error('not open');
        }
        close(): void {
          this.readyState = 3;
        }
      }
      (window as unknown as { WebSocket: unknown }).WebSocket = DroppedSocket;
    });
    await browser.page.goto(`${collector.url}/#token=${collector.token}`);
  });

  after(async () => {
    await browser?.close();
    await collector?.stop();
  });

  it('polls over HTTP, shows it, keeps the numbers fresh and loads history', async () => {
    const page = browser.page;
    await page.locator('rw-header .conn[data-state="polling"]').waitFor({ timeout: 20_000 });
    assert.match(await page.locator('rw-header .conn').innerText(), /polling/);
    const t0 = await page.evaluate(() => (document.querySelector('rw-app') as unknown as { store: { lastSampleT: number } }).store.lastSampleT);
    await page.waitForFunction((t) => (document.querySelector('rw-app') as unknown as { store: { lastSampleT: number } }).store.lastSampleT > t, t0, {
      timeout: 10_000,
    });
    await page.locator('rw-host-row article[aria-label="CPU"]').waitFor();
    assert.ok(
      apiCalls.some((c) => c.startsWith('/api/current')),
      'polled /api/current',
    );
    const drawn = Number(await page.locator('rw-app').getAttribute('data-history-drawn'));
    await page.locator('rw-time-range [data-range="15m"]').click();
    await page.waitForFunction((n) => Number(document.querySelector('rw-app')!.getAttribute('data-history-drawn')) > n, drawn, { timeout: 10_000 });
    const h = apiCalls.find((c) => c.startsWith('/api/history') && c.includes('from='));
    assert.ok(h && /series=[^&]*host\.cpu_busy_ratio/.test(decodeURIComponent(h)), `history over HTTP: ${h}`);
    await screenshot(page, 'dashboard-polling-dark');
    assert.deepEqual(browser.problems, []);
  });
});
