// Runs the in-VS Code Mocha suite (test/extension/) inside code-server's real extension host, driven by
// Debian's Chromium through playwright-core. Recipe: notes/vscode-e2e.md. Installs and caches Node 24 and
// code-server under .vscode-test/, bundles the suite with esbuild, starts code-server on a free port with
// its own temp dirs, loads the extension through the smoke-test payload (extensionDevelopmentPath,
// extensionTestsPath, extensionEnvironment), answers the suite's UI requests, and collects the result
// from codeAutomationExit and the results file. Everything it starts is stopped before it returns.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { format } from 'node:util';
import { build, type Plugin } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { ensureVscodeTestTools, REPO_ROOT } from './install';
import { UI_DIR_ENV, type UiRequest, type UiResponse } from './ui-protocol';

/** Chromium used by Playwright (Debian package `chromium`). */
export const CHROMIUM = process.env.RIGWATCH_CHROMIUM ?? '/usr/bin/chromium';
/** Time allowed for code-server to answer /healthz, in ms. */
const SERVER_READY_TIMEOUT_MS = 60_000;

/** Options of one run. */
export interface RunOptions {
  /** Suite files to run, relative to test/extension/suite (default: every *.test.ts). */
  suites?: string[];
  /** Extra environment for the extension host (and the collector it starts). */
  env?: Record<string, string>;
  /** User settings written before start. */
  settings?: Record<string, unknown>;
  /** Overall time limit, in ms. */
  timeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Also print the suite's console output through `log`. */
  echo?: boolean;
}

/** Outcome of a run. */
export interface RunResult {
  exitCode: number;
  passed: number;
  failed: number;
  failures: { title: string; error: string }[];
  /** The suite's console output (printf-formatted). */
  output: string;
  /** Whatever the suite reported in its results file (`extra` carries benchmark numbers). */
  results: SuiteResults | undefined;
}

/** What test/extension/index.ts writes. */
export interface SuiteResults {
  passed: number;
  failed: number;
  pending: number;
  failures: { title: string; error: string }[];
  extra?: Record<string, unknown>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Test helpers locate the repository (dist/collector.js, the C fakes) from their own __dirname: keep it real in the bundle. */
const realDirname: Plugin = {
  name: 'real-dirname',
  setup(b) {
    b.onLoad({ filter: /[\\/]test[\\/](helpers|fakes)[\\/].*\.ts$/ }, (args) => ({
      contents: fs.readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))),
      loader: 'ts',
    }));
  },
};

/** Bundles test/extension (index + suites) into `.vscode-test/out/extension-tests/`. */
export async function bundleSuite(cacheDir: string): Promise<string> {
  const outdir = path.join(cacheDir, 'out', 'extension-tests');
  fs.rmSync(outdir, { recursive: true, force: true });
  const suiteDir = path.join(REPO_ROOT, 'test', 'extension', 'suite');
  const suites = fs
    .readdirSync(suiteDir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(suiteDir, f));
  await build({
    entryPoints: [path.join(REPO_ROOT, 'test', 'extension', 'index.ts'), ...suites],
    outdir,
    outbase: path.join(REPO_ROOT, 'test', 'extension'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    sourcemap: 'inline',
    // mocha is resolved from the repository's node_modules at run time (the bundle lives inside the repo).
    external: ['vscode', 'mocha', 'koffi', 'playwright-core', 'esbuild'],
    logLevel: 'warning',
    plugins: [realDirname],
  });
  return path.join(outdir, 'index.js');
}

async function waitHealthy(url: string, proc: ChildProcess, output: () => string): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < SERVER_READY_TIMEOUT_MS) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode} before it was ready:\n${output().slice(-3000)}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${SERVER_READY_TIMEOUT_MS / 1000} s:\n${output().slice(-3000)}`);
}

function stopProcess(p: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        p.kill('SIGKILL');
      }
    }, graceMs);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    // code-server runs in its own process group: its extension host and any collector it started go too.
    try {
      process.kill(-p.pid!, 'SIGTERM');
    } catch {
      p.kill('SIGTERM');
    }
  });
}

/** Texts of elements, reading through open shadow roots (the dashboard's Lit elements). */
async function deepText(page: Page, frameSel: (p: Page) => ReturnType<Page['frameLocator']>): Promise<string> {
  return frameSel(page)
    .locator('body')
    .evaluate((body) => {
      const parts: string[] = [];
      const walk = (n: Node): void => {
        if (n.nodeType === 3) {
          const t = (n.textContent ?? '').trim();
          if (t) parts.push(t);
          return;
        }
        const el = n as Element;
        if (el.shadowRoot) walk(el.shadowRoot);
        for (const c of Array.from(n.childNodes)) walk(c);
      };
      walk(body);
      return parts.join(' ');
    });
}

async function handleUi(page: Page, req: UiRequest): Promise<UiResponse> {
  switch (req.op) {
    case 'statusbar': {
      const texts = await page.locator('#workbench\\.parts\\.statusbar .statusbar-item').allInnerTexts();
      return { ok: true, texts: texts.map((t) => t.trim()).filter(Boolean) };
    }
    case 'notifications': {
      const texts = await page.locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item').allInnerTexts();
      return { ok: true, texts };
    }
    case 'query': {
      const texts = await page.locator(req.selector).evaluateAll((els) => els.map((e) => `${e.className} :: ${(e as HTMLElement).innerText?.slice(0, 200)}`));
      return { ok: true, texts };
    }
    case 'palette': {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${req.command}`);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: req.command }).first();
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('Enter');
      return { ok: true };
    }
    case 'webviewText': {
      const frame = (p: Page) => p.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
      const deadline = Date.now() + (req.timeoutMs ?? 20_000);
      let text = '';
      for (;;) {
        try {
          await frame(page).locator('rw-app').waitFor({ state: 'attached', timeout: 2000 });
          text = await deepText(page, frame);
          if (!req.waitFor || text.includes(req.waitFor)) return { ok: true, texts: [text] };
        } catch (e) {
          text = `(${(e as Error).message.split('\n')[0]})`;
        }
        if (Date.now() > deadline)
          return { ok: false, error: `webview did not show ${req.waitFor ? `"${req.waitFor}"` : 'rw-app'}; last text: ${text.slice(0, 500)}`, texts: [text] };
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    case 'viewport':
      await page.setViewportSize({ width: req.width, height: req.height });
      return { ok: true };
    case 'screenshot':
      fs.mkdirSync(path.dirname(req.file), { recursive: true });
      await page.screenshot({ path: req.file });
      return { ok: true };
    case 'measure': {
      const root = req.inWebview ? page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame') : page;
      let loc = root.locator(req.selector);
      if (req.hasText) loc = loc.filter({ hasText: req.hasText });
      const boxes = await loc.evaluateAll((els) =>
        els.map((e) => {
          const el = e as HTMLElement;
          const r = el.getBoundingClientRect();
          const cs = getComputedStyle(el);
          // The nearest ancestor that clips (overflow not visible): where the element's text would be cut.
          let clipRight = document.documentElement.clientWidth;
          for (let p = el.parentElement; p; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible') clipRight = Math.min(clipRight, p.getBoundingClientRect().right);
          }
          return JSON.stringify({
            text: el.innerText ?? el.textContent ?? '',
            scrollWidth: el.scrollWidth,
            clientWidth: el.clientWidth,
            left: r.left,
            right: r.right,
            viewportWidth: document.documentElement.clientWidth,
            clipRight,
            visible: r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none',
          });
        }),
      );
      return { ok: true, texts: boxes };
    }
    case 'hover': {
      const target = page.locator(req.selector, { hasText: req.hasText }).first();
      await target.waitFor({ state: 'visible', timeout: req.timeoutMs ?? 10_000 });
      await target.hover();
      const hover = page.locator('.workbench-hover, .monaco-hover:not(.hidden)').filter({ hasText: /\S/ }).first();
      await hover.waitFor({ state: 'visible', timeout: req.timeoutMs ?? 10_000 });
      return { ok: true, texts: [await hover.innerText()] };
    }
    case 'unhover':
      await page.mouse.move(1, 1);
      await page.keyboard.press('Escape');
      return { ok: true };
    case 'webviewClick': {
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
      await frame.locator(req.selector).first().click({ timeout: 10_000 });
      return { ok: true };
    }
    case 'treeRows': {
      const tab = page.locator(`.activitybar .action-item a[aria-label^="${req.container}"]`).first();
      await tab.waitFor({ state: 'visible', timeout: 10_000 });
      const sidebar = page.locator('#workbench\\.parts\\.sidebar');
      const isOpen = await sidebar
        .locator(`.composite.title:has-text("${req.container}")`)
        .count()
        .catch(() => 0);
      if (!isOpen || !(await sidebar.isVisible())) await tab.click();
      const deadline = Date.now() + (req.timeoutMs ?? 15_000);
      const wanted = req.waitFor === undefined ? [] : Array.isArray(req.waitFor) ? req.waitFor : [req.waitFor];
      for (;;) {
        const texts = await sidebar.locator('.monaco-list-row').allInnerTexts();
        const missing = wanted.filter((w) => !texts.some((t) => t.includes(w)));
        if (!missing.length) return { ok: true, texts };
        if (Date.now() > deadline) return { ok: false, error: `no tree row with ${missing.map((m) => `"${m}"`).join(', ')}`, texts };
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }
}

/** Runs the suite once in code-server; never throws for test failures (see exitCode), throws for setup problems. */
export async function runInCodeServer(opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const distExt = path.join(REPO_ROOT, 'dist', 'extension.js');
  if (!fs.existsSync(distExt)) throw new Error(`${distExt} is missing: run "node build.mjs" first`);
  const tools = await ensureVscodeTestTools(log);
  const testsIndex = await bundleSuite(tools.cacheDir);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-vscode-'));
  const dirs = Object.fromEntries(
    ['user-data', 'extensions', 'workspace', 'xdg-config', 'xdg-data', 'xdg-state', 'xdg-cache', 'tmp', 'ui'].map((d) => [d, path.join(tmp, d)]),
  );
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const resultsFile = path.join(tmp, 'results.json');
  fs.mkdirSync(path.join(dirs['user-data'], 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs['user-data'], 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'workbench.tips.enabled': false,
        ...opts.settings,
      },
      null,
      2,
    ),
  );
  // Also as the remote machine's settings: code-server's extension host reads machine(-overridable)
  // settings from there, and a Global update from the suite rewrites the User file.
  fs.mkdirSync(path.join(dirs['user-data'], 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(dirs['user-data'], 'Machine', 'settings.json'), JSON.stringify(opts.settings ?? {}, null, 2));
  fs.writeFileSync(path.join(dirs['user-data'], 'config.yaml'), 'auth: none\n');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const nodeDir = path.dirname(tools.node);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${nodeDir}:${process.env.PATH ?? ''}`,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs['xdg-config'],
    XDG_DATA_HOME: dirs['xdg-data'],
    XDG_STATE_HOME: dirs['xdg-state'],
    XDG_CACHE_HOME: dirs['xdg-cache'],
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k.startsWith('ELECTRON_')) delete env[k];
  let serverOut = '';
  const server = spawn(
    tools.node,
    [
      tools.codeServerEntry,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir',
      dirs['user-data'],
      '--extensions-dir',
      dirs.extensions,
      '--config',
      path.join(dirs['user-data'], 'config.yaml'),
      '--vscode-option',
      'enable-smoke-test-driver',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  server.stdout!.on('data', (d: Buffer) => (serverOut = (serverOut + d.toString()).slice(-20_000)));
  server.stderr!.on('data', (d: Buffer) => (serverOut = (serverOut + d.toString()).slice(-20_000)));

  let browser: Browser | undefined;
  let uiTimer: NodeJS.Timeout | undefined;
  const output: string[] = [];
  try {
    await waitHealthy(base, server, () => serverOut);
    log(`code-server ready at ${base}`);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let exitCode: number | undefined;
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => {
        exitCode = code;
        resolve(code);
      });
    });
    await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      output.push(line);
      if (opts.echo) log(line);
    });
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    const extEnv = {
      [UI_DIR_ENV]: dirs.ui,
      RIGWATCH_TEST_RESULTS: resultsFile,
      RIGWATCH_TEST_SUITES: (opts.suites ?? []).join(','),
      // Where code-server keeps User/ and Machine/ settings (the suite checks which file a command wrote).
      RIGWATCH_TEST_USER_DATA: dirs['user-data'],
      // Screenshots of the workbench go here (ignored by git).
      RIGWATCH_TEST_ARTIFACTS: path.join(REPO_ROOT, 'test-artifacts', 'vscode'),
      XDG_STATE_HOME: dirs['xdg-state'],
      ...opts.env,
    };
    const payload = [
      ['extensionDevelopmentPath', remote(REPO_ROOT)],
      ['extensionTestsPath', remote(testsIndex)],
      ['extensionEnvironment', JSON.stringify(extEnv)],
    ];
    const url = `${base}/?folder=${encodeURIComponent(dirs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    log('workbench loading; suite running in the extension host');

    // Answer UI requests from the suite one at a time.
    let busy = false;
    const pollUi = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        for (const f of fs
          .readdirSync(dirs.ui)
          .filter((x) => x.endsWith('.request.json'))
          .sort()) {
          const reqFile = path.join(dirs.ui, f);
          const req = JSON.parse(fs.readFileSync(reqFile, 'utf8')) as UiRequest;
          fs.unlinkSync(reqFile);
          let res: UiResponse;
          try {
            res = await handleUi(page, req);
          } catch (e) {
            res = { ok: false, error: (e as Error).message.split('\n').slice(0, 3).join(' ') };
          }
          const out = path.join(dirs.ui, f.replace('.request.json', '.response.json'));
          fs.writeFileSync(`${out}.tmp`, JSON.stringify(res));
          fs.renameSync(`${out}.tmp`, out);
        }
      } finally {
        busy = false;
      }
    };
    uiTimer = setInterval(() => void pollUi(), 150);

    const limit = opts.timeoutMs ?? 10 * 60_000;
    const code = await Promise.race([
      exited,
      new Promise<number>((_, rej) =>
        setTimeout(() => rej(new Error(`the suite did not finish within ${limit / 1000} s; last output:\n${output.slice(-30).join('\n')}`)), limit),
      ),
      new Promise<number>((_, rej) => server.once('exit', (c) => rej(new Error(`code-server exited (${c}) during the suite:\n${serverOut.slice(-3000)}`)))),
    ]);
    let results: SuiteResults | undefined;
    try {
      results = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as SuiteResults;
    } catch {
      results = undefined;
    }
    if (!results) {
      throw new Error(
        `the suite exited with ${exitCode ?? code} but wrote no results file (${resultsFile}); output:\n${output.slice(-40).join('\n')}\ncode-server:\n${serverOut.slice(-2000)}`,
      );
    }
    return { exitCode: code, passed: results.passed, failed: results.failed, failures: results.failures, output: output.join('\n'), results };
  } finally {
    if (uiTimer) clearInterval(uiTimer);
    await browser?.close().catch(() => {});
    await stopProcess(server);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
