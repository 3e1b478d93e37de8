// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with every console error,
// page error and CSP violation recorded so tests can fail on them.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { dashboardHtml } from '../../webview/html';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots go (gitignored). */
export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');

/** A launched browser with one page and the problems it reported. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations, in order. */
  problems: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile and opens a page that records problems. */
export async function launchBrowser(opts: { colorScheme?: 'dark' | 'light'; width?: number; height?: number } = {}): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    colorScheme: opts.colorScheme ?? 'dark',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // CSP violations are reported as events inside the page; forward them.
  await page.exposeFunction('__rwCspViolation', (s: string) => problems.push(`CSP violation: ${s}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const w = window as unknown as { __rwCspViolation(s: string): void };
      w.__rwCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  return {
    context,
    page,
    problems,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot under test-artifacts/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // Charts outside the viewport redraw only every few seconds; scroll through once so every chart
  // is drawn as a user scrolling down would see it.
  await page.evaluate(async () => {
    const frame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
    for (let y = 0; y < document.documentElement.scrollHeight; y += Math.max(200, innerHeight / 2)) {
      scrollTo(0, y);
      await frame();
    }
    scrollTo(0, 0);
    await frame();
  });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Serves the panel page the way the extension's WebviewPanel would (VS Code mode, no connect-src), with
 * `js` as its script (default: the built dist/webview.js).
 */
export function servePanel(js = path.resolve(__dirname, '..', '..', 'dist', 'webview.js')): Promise<{ url: string; close(): Promise<void> }> {
  const css = path.join(path.dirname(js), 'webview.css');
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/') {
      const nonce = randomBytes(16).toString('base64');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(dashboardHtml({ nonce, scriptUri: '/webview.js', styleUri: '/webview.css', cspSource: "'self'", mode: 'vscode' }));
    } else if (p === '/webview.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(fs.readFileSync(js));
    } else if (p === '/webview.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(fs.existsSync(css) ? fs.readFileSync(css) : '');
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

export { until } from '../helpers/until';

/** The visible text of an element and everything below it, shadow roots included. */
export function deepText(loc: Locator): Promise<string> {
  return loc.evaluate((root) => {
    const parts: string[] = [];
    const walk = (n: Node): void => {
      if (n.nodeType === Node.TEXT_NODE) {
        const t = (n.textContent ?? '').trim();
        if (t) parts.push(t);
        return;
      }
      const el = n as Element;
      if (el.shadowRoot) walk(el.shadowRoot);
      n.childNodes.forEach(walk);
    };
    walk(root);
    return parts.join(' ');
  });
}
