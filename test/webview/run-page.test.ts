// The run page in headless Chromium against the real collector (dist/collector.js): two real Python
// processes write JSON-lines metrics and are listed as GPU processes by the fake NVML, so the runs source
// finds both on their GPUs with no configuration. The page shows a run's scalars on the same time axis
// as its GPU's utilisation, VRAM and power, follows the time range, compares the two runs by time and by
// step, and keeps its address (#run=…). Screenshots in dark, light and high contrast at 1400 and 420 px:
// test-artifacts/run-page-*.png.

import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { RunInfo } from '../../protocol/details/runs';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { PYTHON } from '../collector/sources/runs/helpers';
import { ARTIFACTS, launchBrowser, screenshot, until as untilDefault, type TestBrowser } from './browser';

/** A training loop's logging, without the model: one JSON line per step, 10 steps a second. */
const TRAIN_PY = `
import json, math, sys, time
offset = float(sys.argv[1])
print("ready", flush=True)
with open("metrics.jsonl", "a") as f:
    for step in range(100000):
        loss = offset + 2.0 * math.exp(-step / 40.0)
        f.write(json.dumps({"step": step, "loss": loss, "lr": 3e-4 * (1 - step / 20000), "tokens_per_sec": 1500 + 100 * math.sin(step / 5)}) + "\\n")
        f.flush()
        time.sleep(0.1)
`;

/** This page's waits: two Python runs and their GPUs take longer than the dashboard's defaults. */
const until = <T>(what: string, fn: () => Promise<T> | T, timeoutMs = 20_000): Promise<NonNullable<T>> => untilDefault(what, fn, timeoutMs, 150);

/** High contrast's variables (the browser's own dark and light defaults cover the others). */
const THEMES: Record<string, { scheme: 'dark' | 'light'; vars: Record<string, string> }> = {
  dark: { scheme: 'dark', vars: {} },
  light: { scheme: 'light', vars: {} },
  'high-contrast': {
    scheme: 'dark',
    vars: {
      '--vscode-foreground': '#ffffff',
      '--vscode-editor-background': '#000000',
      '--vscode-editorWidget-background': '#000000',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-button-background': '#000000',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-descriptionForeground': '#ffffff',
    },
  },
};

interface ChartState {
  heading: string;
  lines: string[];
  points: number[];
  xRange: [number, number] | null;
  /** The plot area's left and right edges in page pixels. */
  plot: [number, number] | null;
  summary: string;
}

/** What a <rw-chart> draws: its series, points per line, time span, plot edges and text summary. */
function chartState(loc: Locator): Promise<ChartState> {
  return loc.evaluate((el) => {
    const c = el as unknown as {
      heading: string;
      lines: { name: string }[];
      pointCounts: number[];
      xRange: [number, number] | null;
      textSummary: string;
      chart?: { chartArea: { left: number; right: number } };
    };
    const box = el.getBoundingClientRect();
    const a = c.chart?.chartArea;
    return {
      heading: c.heading,
      lines: c.lines.map((l) => l.name),
      points: c.pointCounts,
      xRange: c.xRange,
      plot: a ? [Math.round(box.left + a.left), Math.round(box.left + a.right)] : null,
      summary: c.textSummary,
    };
  });
}

describe('run page in Chromium against the real collector (two Python runs on fake-NVML GPUs)', function () {
  this.timeout(120_000);
  let collector: RunningCollector;
  let gpuState: ReturnType<typeof makeFakeStateDir>;
  let dir: string;
  const children: ChildProcess[] = [];
  let browser: TestBrowser;
  let page: Page;
  let runA: RunInfo;
  let runB: RunInfo;

  const startRun = async (name: string, offset: number): Promise<ChildProcess> => {
    const cwd = path.join(dir, name);
    fs.mkdirSync(cwd);
    fs.writeFileSync(path.join(cwd, `${name}.py`), TRAIN_PY);
    const child = spawn(PYTHON, [`${name}.py`, String(offset)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`${name}.py exited with ${code} (needs ${PYTHON}: apt-get install python3)`)));
    });
    return child;
  };

  before(async function () {
    this.timeout(120_000);
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} not found: apt-get install python3`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-run-page-'));
    const a = await startRun('pretrain', 0.4);
    const b = await startRun('finetune', 0.9);
    gpuState = makeFakeStateDir();
    writeFakeState(gpuState.stateFile, {
      count: 2,
      'gpu.0.util': 87,
      'gpu.1.util': 42,
      'gpu.*.power_mw': 250_000,
      'gpu.*.mem_used': 20 * 2 ** 30,
      'gpu.0.compute': `${a.pid}:${12 * 2 ** 30}`,
      'gpu.1.compute': `${b.pid}:${6 * 2 ** 30}`,
    });
    collector = await startCollector({
      interval: 0.5,
      env: { RIGWATCH_NVML_PATH: buildFakeNvml(), FAKE_NVML_STATE: gpuState.stateFile },
    });
    let lastRuns = '';
    // Both runs found on their GPUs, each with its scalars and a few steps behind it.
    const runs = await until('both runs with their scalars', async () => {
      const cur = ((await (await collector.get('/api/current')).json()) as { latest?: { details?: { runs?: { runs: RunInfo[] } } } }).latest ?? {};
      const rs = cur.details?.runs?.runs ?? [];
      lastRuns = JSON.stringify(rs.map((r) => [r.name, r.gpus, r.lastStep, r.scalars.length, r.files])) + JSON.stringify(Object.keys(cur.details ?? {}));
      const ok = ['pretrain.py', 'finetune.py'].every((n) => rs.some((r) => r.name === n && r.gpus.length > 0 && (r.lastStep ?? 0) >= 5));
      return ok ? rs : null;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; runs: ${lastRuns}; collector stderr: ${collector.stderr().slice(-2000)}`);
    });
    runA = runs.find((r) => r.name === 'pretrain.py') as RunInfo;
    runB = runs.find((r) => r.name === 'finetune.py') as RunInfo;
    assert.deepEqual(
      runA.gpus.map((g) => g.index),
      [0],
    );
    browser = await launchBrowser({ colorScheme: 'dark', width: 1400, height: 1000 });
    page = browser.page;
    await page.goto(`${collector.url}/#token=${collector.token}`);
    await page.locator('rw-header .conn[data-state="live"]').waitFor({ timeout: 15_000 });
  });

  after(async function () {
    this.timeout(30_000);
    await browser?.close();
    await collector?.stop();
    for (const c of children) c.kill('SIGKILL');
    gpuState?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    const problems = browser?.problems.splice(0) ?? [];
    assert.deepEqual(problems, [], `the page reported problems:\n${problems.join('\n')}`);
  });

  it("opens from the run's row in the dashboard: header, every scalar and its GPU's charts on one time axis", async () => {
    const link = page.locator(`rw-source-cards button[data-open-run="${runA.id}"]`);
    await link.waitFor({ timeout: 10_000 });
    await link.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'run-page-dashboard-card-dark-1400.png') });
    await link.click();
    const pageLoc = page.locator(`rw-run-page section[data-run-page="${runA.id}"]`);
    await pageLoc.waitFor({ timeout: 10_000 });
    assert.equal(new URL(page.url()).hash, `#run=${runA.id}`, 'the address names the run');
    const fact = async (f: string): Promise<string> => (await pageLoc.locator(`[data-fact="${f}"]`).innerText()).replace(/\s+/g, ' ').trim();
    assert.match(await fact('command'), /pretrain\.py 0\.4$/);
    assert.match(await fact('state'), /running/);
    assert.match(await fact('gpus'), /GPU 0 12(\.0)? GiB/);
    assert.match(await fact('user'), new RegExp(os.userInfo().username));
    assert.match(await fact('loss'), /0\.\d+ \(loss\)/);
    assert.match(await fact('step'), /Step \d+/);

    // One chart per scalar (three tags fit the default), then utilisation, VRAM and power of GPU 0.
    const tags = await pageLoc.locator('rw-chart[data-tag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag')));
    assert.deepEqual(tags, ['loss', 'tokens_per_sec', 'lr']);
    const charts = [
      'rw-chart[data-tag="loss"]',
      'rw-chart[data-tag="lr"]',
      'rw-chart[data-gpu="util"]',
      'rw-chart[data-gpu="vram"]',
      'rw-chart[data-gpu="power"]',
    ];
    const states = await until('every chart drawn with points', async () => {
      const s = await Promise.all(charts.map((c) => chartState(pageLoc.locator(c))));
      return s.every((x) => x.points.length > 0 && x.points.every((n) => n > 1) && x.xRange && x.plot) ? s : null;
    });
    const [loss, lr, util, vram, power] = states;
    assert.deepEqual(loss.lines, [`run.${runA.id}.loss`]);
    assert.deepEqual(util.lines, ['gpu.0.utilization_ratio']);
    assert.deepEqual(vram.lines, ['gpu.0.memory_used_bytes', `run.${runA.id}.gpu_memory_used_bytes`]);
    assert.deepEqual(power.lines, ['gpu.0.power_watts']);
    await until('summaries with values', async () => {
      const [l, u, r] = await Promise.all([
        chartState(pageLoc.locator(charts[0])),
        chartState(pageLoc.locator(charts[2])),
        chartState(pageLoc.locator(charts[1])),
      ]);
      return /loss: now 0\.\d/.test(l.summary) && /now 87 ?%/.test(u.summary) && /now 0\.000\d/.test(r.summary);
    });
    // The same time axis: the same span and the same plot edges on the page for scalars and GPUs.
    for (const s of states) {
      assert.ok(
        s.xRange && loss.xRange && Math.abs(s.xRange[1] - s.xRange[0] - 120_000) < 1000,
        `${s.heading}: the Live range (2 min), got ${JSON.stringify(s.xRange)}`,
      );
      assert.deepEqual(s.plot, loss.plot, `${s.heading}: plot edges line up with the loss chart's`);
    }
    assert.ok(lr.plot);
    // The dashboard's time ranges: 15 min reaches back through history for scalars and GPUs alike.
    await page.locator('rw-time-range vscode-button[data-range="15m"]').click();
    await until('15 min on every chart', async () => {
      const s = await Promise.all(charts.map((c) => chartState(pageLoc.locator(c))));
      return s.every((x) => x.xRange && Math.abs(x.xRange[1] - x.xRange[0] - 15 * 60_000) < 1000);
    });
    await page.locator('rw-time-range vscode-button[data-range="live"]').click();
  });

  it('a scalar picked off is no longer charted; picked on again it is', async () => {
    const pageLoc = page.locator(`rw-run-page section[data-run-page="${runA.id}"]`);
    await pageLoc.locator('button.chip[data-tag="lr"]').click();
    await until('lr chart gone', async () => (await pageLoc.locator('rw-chart[data-tag="lr"]').count()) === 0);
    assert.equal(await pageLoc.locator('button.chip[data-tag="lr"]').getAttribute('aria-pressed'), 'false');
    await pageLoc.locator('button.chip[data-tag="lr"]').click();
    await pageLoc.locator('rw-chart[data-tag="lr"]').waitFor();
  });

  it('compares the two runs on one chart by time and by step', async () => {
    const pageLoc = page.locator(`rw-run-page section[data-run-page="${runA.id}"]`);
    await pageLoc.locator('button.chip[data-view="compare"]').click();
    const cmp = pageLoc.locator('[data-charts="compare"] rw-chart');
    const byTime = await until('two runs by time', async () => {
      const s = await chartState(cmp);
      return s.points.length === 2 && s.points.every((n) => n > 1) ? s : null;
    });
    assert.deepEqual(byTime.lines, [`run.${runA.id}.loss`, `run.${runB.id}.loss`]);
    await until('both runs in the summary', async () => /pretrain\.py: now 0\.\d.*finetune\.py: now \d\.\d/.test((await chartState(cmp)).summary));

    await pageLoc.locator('button.chip[data-by="step"]').click();
    const steps = pageLoc.locator('[data-charts="compare"] rw-step-chart');
    const drawn = await until('two runs by step', async () => {
      const d = await steps.evaluate((el) => (el as unknown as { drawnPoints: { x: number; y: number | null }[][] }).drawnPoints);
      return d.length === 2 && d.every((pts) => pts.length >= 3) ? d : null;
    });
    for (const pts of drawn) {
      // Steps ascend and each value is that step's loss: offset + 2·e^(−step/40).
      for (let i = 1; i < pts.length; i++) assert.ok(pts[i].x > pts[i - 1].x, `steps ascend: ${JSON.stringify(pts.slice(0, 12))}`);
    }
    const lastA = drawn[0][drawn[0].length - 1];
    const lastB = drawn[1][drawn[1].length - 1];
    assert.ok(Math.abs((lastA.y as number) - (0.4 + 2 * Math.exp(-lastA.x / 40))) < 0.02, `pretrain loss at step ${lastA.x}: ${lastA.y}`);
    assert.ok(Math.abs((lastB.y as number) - (0.9 + 2 * Math.exp(-lastB.x / 40))) < 0.02, `finetune loss at step ${lastB.x}: ${lastB.y}`);

    // One run picked off leaves one line.
    await pageLoc.locator(`button.chip[data-run="${runB.id}"]`).click();
    await until('one line left', async () => (await steps.evaluate((el) => (el as unknown as { lines: unknown[] }).lines.length)) === 1);
    await pageLoc.locator(`button.chip[data-run="${runB.id}"]`).click();
  });

  it('screenshots in dark, light and high contrast at 1400 and 420 px (no sideways scroll)', async () => {
    const faults: string[] = [];
    for (const [name, theme] of Object.entries(THEMES)) {
      await page.emulateMedia({ colorScheme: theme.scheme });
      await page.evaluate((vars) => {
        document.documentElement.removeAttribute('style');
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      }, theme.vars);
      for (const view of ['run', 'compare-time', 'compare-step'] as const) {
        await page.locator(`rw-run-page button.chip[data-view="${view === 'run' ? 'run' : 'compare'}"]`).click();
        if (view !== 'run') await page.locator(`rw-run-page button.chip[data-by="${view.slice(8)}"]`).click();
        for (const width of [1400, 420]) {
          await page.setViewportSize({ width, height: 1000 });
          await page.waitForTimeout(300);
          await screenshot(page, `run-page-${view}-${name}-${width}`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          if (overflow > 0) faults.push(`${name} ${view} ${width} px: the page scrolls sideways by ${overflow} px`);
        }
      }
    }
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.locator('rw-run-page button.chip[data-view="run"]').click();
    assert.deepEqual(faults, []);
  });

  it('the address opens the run page; Back returns to the dashboard', async () => {
    await page.reload();
    await page.locator(`rw-run-page section[data-run-page="${runA.id}"]`).waitFor({ timeout: 15_000 });
    await page.locator('rw-run-page button[data-control="back"]').click();
    await page.locator('rw-source-cards section[data-kind="runs"]').waitFor();
    assert.equal(new URL(page.url()).hash, '');
    await page.goBack();
    await page.locator(`rw-run-page section[data-run-page="${runA.id}"]`).waitFor({ timeout: 10_000 });
    await page.goBack();
    await page.locator('rw-source-cards section[data-kind="runs"]').waitFor({ timeout: 10_000 });
  });
});
