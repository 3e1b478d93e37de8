// The dashboard in Chromium on a busy 8-GPU box, in Dark/Light Modern, High Contrast and a theme whose
// badge colour is the fill's blue: meters draw a track that contrasts with their fill (measured from
// screenshot pixels), and no number is cut or wrapped at 420 or 1400 px. Screenshots go to
// test-artifacts/layout-<theme>-<width>.png.

import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { createRequire } from 'node:module';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { launchBrowser, screenshot, type TestBrowser } from './browser';
import { SyntheticCollector } from '../../bench/dashboard/_synthetic-collector';
import { BUSY_MODEL_SERVERS, busySources } from './busy-sources';

const GIB = 1024 ** 3;

/** The pngjs that playwright-core bundles for its screenshot comparisons: decodes our own screenshots. */
const { PNG } = createRequire(__filename)('playwright-core/lib/utilsBundle') as {
  PNG: { sync: { read(png: Buffer): { width: number; height: number; data: Buffer } } };
};

/** VS Code theme variables for themes the browser defaults do not cover (set on <html> as VS Code does). */
const THEMES: Record<string, { scheme: 'dark' | 'light'; vars: Record<string, string> }> = {
  dark: { scheme: 'dark', vars: {} },
  light: { scheme: 'light', vars: {} },
  'high-contrast': {
    scheme: 'dark',
    vars: {
      '--vscode-foreground': '#ffffff',
      '--vscode-editor-background': '#000000',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-badge-background': '#000000',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-descriptionForeground': '#ffffff',
    },
  },
  // The theme of the bug report: the badge colour is the fill's blue, so a badge-coloured track looked full.
  'blue-badge': { scheme: 'light', vars: { '--vscode-badge-background': '#0078d4', '--vscode-charts-blue': '#0078d4' } },
};

/** WCAG relative luminance of an sRGB colour. */
function luminance([r, g, b]: number[]): number {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r as number) + 0.7152 * lin(g as number) + 0.0722 * lin(b as number);
}

/** WCAG contrast ratio of two colours. */
function contrast(a: number[], b: number[]): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/** Fill and track colours of the first meter filled 2–50 %, read from a screenshot of its track. */
async function meterColours(page: Page): Promise<{ fill: number[]; track: number[]; page: number[]; label: string }> {
  const meters = page.locator('rw-meter');
  const n = await meters.count();
  for (let i = 0; i < n; i++) {
    const m = meters.nth(i);
    const now = Number(await m.locator('[role=meter]').getAttribute('aria-valuenow'));
    if (!(now >= 2 && now <= 50)) continue;
    const track = m.locator('.track');
    await track.scrollIntoViewIfNeeded();
    const box = await track.boundingBox();
    if (!box || box.width < 40) continue;
    // The track plus a margin of page around it.
    const shot = PNG.sync.read(await page.screenshot({ clip: { x: box.x, y: box.y - 4, width: box.width, height: box.height + 8 } }));
    const px = (x: number, y: number): number[] => {
      const o = (Math.round(y) * shot.width + Math.round(x)) * 4;
      return [shot.data[o] as number, shot.data[o + 1] as number, shot.data[o + 2] as number];
    };
    const mid = 4 + box.height / 2;
    return { fill: px(2, mid), track: px(shot.width - 3, mid), page: px(shot.width / 2, 0), label: (await m.getAttribute('label')) ?? `meter ${i}` };
  }
  throw new Error('no meter filled 2–50 % is on the page');
}

/** Elements whose text starts with a number and that overflow their box or wrap (piercing shadow roots). */
async function cutNumbers(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const visit = (root: Document | ShadowRoot): void => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el.shadowRoot) visit(el.shadowRoot);
        if (el.children.length > 0 || !(el instanceof HTMLElement)) continue;
        const text = (el.textContent ?? '').trim();
        // A value: starts with a number, short, no word of 4+ letters (`71.3/79.6 GiB`, `3 min 20 s`, not a name).
        if (!/^[<>~≈]?\d/.test(text) || text.length > 40 || /[A-Za-z]{4}/.test(text) || el.offsetParent === null) continue;
        const cs = getComputedStyle(el);
        if (cs.display !== 'inline' && el.scrollWidth > el.clientWidth + 1)
          out.push(`cut: "${text}" (${el.scrollWidth} > ${el.clientWidth} px) in <${el.tagName.toLowerCase()} class="${el.className}">`);
        const range = document.createRange();
        range.selectNodeContents(el);
        const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
        if (lines.size > 1) out.push(`wrapped: "${text}" over ${lines.size} lines in <${el.tagName.toLowerCase()} class="${el.className}">`);
      }
    };
    visit(document);
    return out;
  });
}

/**
 * Layout faults of the source cards (databases, model servers, Docker, runs), piercing shadow roots:
 * a number and its unit on two lines (`19.6` / `ms`), a host:port broken across lines, and a value of a
 * card's key/value list or its empty text cut off by an ellipsis.
 */
async function sourceCardFaults(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const NUM_UNIT = /\d[\d.,]*\s(?:ms|µs|s|min|h|GiB|MiB|KiB|B|%|°C|W|tok\/s|\/s)(?![\w/])/g;
    // host:port with its scheme, which starts the line the host must fit on.
    const HOST_PORT = /(?:[a-z][a-z0-9+.-]*:\/\/)?[A-Za-z0-9][A-Za-z0-9.-]*:\d{2,5}\b/g;
    // The text boxes of the characters [from, to) of an element's text, across its descendants.
    const boxes = (el: Element, from: number, to: number): DOMRect[] => {
      const out: DOMRect[] = [];
      const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      let at = 0;
      for (let n = walk.nextNode() as Text | null; n && at < to; n = walk.nextNode() as Text | null) {
        const end = at + n.data.length;
        if (end > from) {
          const r = document.createRange();
          r.setStart(n, Math.max(0, from - at));
          r.setEnd(n, Math.min(n.data.length, to - at));
          out.push(...Array.from(r.getClientRects()).filter((x) => x.width > 0));
        }
        at = end;
      }
      return out;
    };
    const lines = (el: Element, from: number, to: number): number => new Set(boxes(el, from, to).map((x) => Math.round(x.top))).size;
    // Width of a piece of text were it on one line.
    const width = (el: Element, from: number, to: number): number => boxes(el, from, to).reduce((a, x) => a + x.width, 0);
    const visit = (root: Document | ShadowRoot): void => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el.shadowRoot) visit(el.shadowRoot);
        if (!(el instanceof HTMLElement) || el.offsetParent === null) continue;
        const card = el.closest('article.card, rw-container-timeline section');
        if (!card) continue;
        const where = `${card.getAttribute('aria-label') ?? card.tagName.toLowerCase()}`;
        const text = el.textContent ?? '';
        // Each piece is checked in the innermost element that holds all of it.
        const inner = (m: RegExpMatchArray): boolean => !Array.from(el.children).some((c) => (c.textContent ?? '').includes(m[0]));
        for (const m of text.matchAll(NUM_UNIT))
          if (inner(m) && lines(el, m.index, m.index + m[0].length) > 1) out.push(`${where}: "${m[0]}" wraps between number and unit`);
        for (const m of text.matchAll(HOST_PORT)) {
          if (!inner(m)) continue;
          // host:port wider than the line may break after a dot of the host, never before its last label.
          const fits = width(el, m.index, m.index + m[0].length) <= el.clientWidth;
          const from = fits ? m.index : m.index + m[0].lastIndexOf('.', m[0].lastIndexOf(':')) + 1;
          if (lines(el, from, m.index + m[0].length) > 1) out.push(`${where}: URL breaks inside "${m[0]}"${fits ? '' : ` (its last label and port)`}`);
        }
        // Key values and empty texts are never cut (the longest query's text may be: it has a tooltip).
        const cs = getComputedStyle(el);
        if ((el.tagName === 'DD' || el.closest('dd')) && cs.display !== 'inline' && el.scrollWidth > el.clientWidth + 1)
          out.push(`${where}: "${(el.textContent ?? '').trim()}" cut (${el.scrollWidth} > ${el.clientWidth} px)`);
      }
    };
    visit(document);
    return out;
  });
}

/**
 * Charts stacked in one column whose plot areas (chart.js chartArea, in page pixels) do not share the
 * same left and right edge: their time axes would not line up.
 */
async function misalignedCharts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const charts: { name: string; col: number; left: number; right: number }[] = [];
    const visit = (root: Document | ShadowRoot): void => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el.shadowRoot) visit(el.shadowRoot);
        if (el.tagName !== 'RW-CHART') continue;
        const chart = (el as unknown as { chart?: { chartArea?: { left: number; right: number }; canvas: HTMLCanvasElement } }).chart;
        if (!chart?.chartArea) continue;
        const box = chart.canvas.getBoundingClientRect();
        if (box.width === 0) continue;
        const name = el.getAttribute('heading') ?? '?';
        charts.push({ name, col: Math.round(box.left), left: box.left + chart.chartArea.left, right: box.left + chart.chartArea.right });
      }
    };
    visit(document);
    const out: string[] = [];
    const first = new Map<number, (typeof charts)[number]>();
    for (const c of charts) {
      const f = first.get(c.col);
      if (!f) first.set(c.col, c);
      else if (Math.abs(f.left - c.left) > 1 || Math.abs(f.right - c.right) > 1)
        out.push(`"${c.name}" plots ${c.left.toFixed(0)}–${c.right.toFixed(0)} px, "${f.name}" above it ${f.left.toFixed(0)}–${f.right.toFixed(0)} px`);
    }
    if (charts.length < 4) out.push(`only ${charts.length} charts drawn`);
    return out;
  });
}

describe('dashboard layout and meters in every theme (Chromium, 8 GPUs)', function () {
  this.timeout(120_000);
  let collector: RunningCollector;
  let gpuState: ReturnType<typeof makeFakeStateDir>;

  before(async function () {
    this.timeout(60_000);
    gpuState = makeFakeStateDir();
    writeFakeState(gpuState.stateFile, {
      count: 8,
      'gpu.*.name': 'NVIDIA H100 80GB HBM3',
      'gpu.*.mem_total': 80 * GIB,
      'gpu.*.mem_used': Math.round(71.3 * GIB),
      'gpu.*.util': 97,
      'gpu.*.temp': 70,
      'gpu.*.power_mw': 700_000,
      'gpu.*.power_limit_mw': 700_000,
      // GPU 0 holds 12 GiB of 80: a meter at 15 % that must not look full.
      'gpu.0.mem_used': 12 * GIB,
      'gpu.0.util': 12,
    });
    collector = await startCollector({
      interval: 0.5,
      config: { postgres: false, redis: false, docker: false, models: false },
      env: { RIGWATCH_NVML_PATH: buildFakeNvml(), FAKE_NVML_STATE: gpuState.stateFile },
    });
  });
  after(async () => {
    await collector?.stop();
    gpuState?.dispose();
  });

  for (const [name, theme] of Object.entries(THEMES)) {
    it(`${name}: meter track contrasts with its fill; no number cut or wrapped at 420 and 1400 px`, async () => {
      let b: TestBrowser | undefined;
      try {
        b = await launchBrowser({ colorScheme: theme.scheme, width: 1400, height: 1000 });
        const page = b.page;
        await page.goto(`${collector.url}/#token=${collector.token}`);
        await page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 15_000 });
        await page.evaluate((vars) => {
          for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
        }, theme.vars);
        await page.locator('rw-gpu-card').nth(7).waitFor({ timeout: 15_000 });
        for (const width of [1400, 420]) {
          await page.setViewportSize({ width, height: 1000 });
          await page.waitForTimeout(400);
          await screenshot(page, `layout-${name}-${width}`);
          const c = await meterColours(page);
          const fillTrack = contrast(c.fill, c.track);
          const trackPage = contrast(c.track, c.page);
          assert.ok(
            fillTrack >= 1.8,
            `${name} ${width} px: ${c.label} fill rgb(${c.fill}) vs track rgb(${c.track}) contrast ${fillTrack.toFixed(2)} (the bar must not look full)`,
          );
          assert.ok(
            trackPage >= 1.15,
            `${name} ${width} px: ${c.label} track rgb(${c.track}) vs page rgb(${c.page}) contrast ${trackPage.toFixed(2)} (the track must show)`,
          );
          assert.deepEqual(await cutNumbers(page), [], `${name} at ${width} px`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `${name} at ${width} px scrolls sideways by ${overflow} px`);
        }
        assert.deepEqual(b.problems, []);
      } finally {
        await b?.close();
      }
    });
  }
});

describe('dashboard layout of database, model-server, Docker and runs cards in every theme (Chromium)', function () {
  this.timeout(120_000);
  let synth: SyntheticCollector;
  let url: string;

  before(async () => {
    synth = new SyntheticCollector({ gpus: 2, cores: 8, history: true, intervalMs: 1000, extra: busySources() });
    url = await synth.start();
  });
  after(async () => {
    await synth?.stop();
  });

  for (const [name, theme] of Object.entries(THEMES)) {
    it(`${name}: no key number cut or wrapped, no URL broken inside host:port, stacked charts' time axes aligned, at 420 and 1400 px`, async () => {
      let b: TestBrowser | undefined;
      const faults: string[] = [];
      try {
        b = await launchBrowser({ colorScheme: theme.scheme, width: 1400, height: 1000 });
        const page = b.page;
        await page.goto(url);
        await page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 15_000 });
        await page.evaluate((vars) => {
          for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
        }, theme.vars);
        // Every section of the fixture is on the page before anything is measured.
        await page.locator('rw-db-cards article.card').nth(1).waitFor({ timeout: 15_000 });
        await page
          .locator('rw-model-cards article.card')
          .nth(BUSY_MODEL_SERVERS.length - 1)
          .waitFor({ timeout: 15_000 });
        await page.locator('rw-container-timeline .row').nth(2).waitFor({ timeout: 15_000 });
        await page.locator('rw-source-cards[data-kind="runs"], rw-source-cards article[data-source="runs"]').first().waitFor({ timeout: 15_000 });
        for (const width of [1400, 420]) {
          await page.setViewportSize({ width, height: 1000 });
          await page.waitForTimeout(400);
          await screenshot(page, `layout-sources-${name}-${width}`);
          for (const f of [...(await cutNumbers(page)), ...(await sourceCardFaults(page)), ...(await misalignedCharts(page))]) faults.push(`${width} px: ${f}`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          if (overflow > 0) faults.push(`${width} px: the page scrolls sideways by ${overflow} px`);
        }
        assert.deepEqual(faults, [], `${name}: every fault at both widths`);
        assert.deepEqual(b.problems, []);
      } finally {
        await b?.close();
      }
    });
  }
});
