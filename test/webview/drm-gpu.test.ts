// End to end: the real collector (dist/collector.js) with RIGWATCH_SYSFS_ROOT/RIGWATCH_PROC_ROOT at a
// captured amdgpu tree (two MI300X) shows the GPUs in /api/current, /metrics and the dashboard (Chromium).

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { SampleMessage } from '../../protocol';
import type { GpuDetails } from '../../protocol/details/gpu';
import { SOURCE_FACTORIES } from '../../collector/sources/index';
import { startCollector, ROOT, type RunningCollector } from '../helpers/collector-process';
import { deepText, launchBrowser, screenshot, type TestBrowser } from './browser';

const TREE = path.join(ROOT, 'test/fixtures/gpu/drm/amdgpu-6.8-mi300x');

describe('AMD GPUs through DRM sysfs, end to end (collector + HTTP + /metrics + dashboard)', function () {
  this.timeout(60_000);
  let c: RunningCollector | undefined;
  let b: TestBrowser | undefined;

  before(async () => {
    const config: Record<string, unknown> = {};
    for (const f of SOURCE_FACTORIES) if (f.kind !== 'host' && f.kind !== 'gpu') config[f.kind] = false;
    c = await startCollector({
      config,
      interval: 0.5,
      env: {
        RIGWATCH_SYSFS_ROOT: path.join(TREE, 'sys'),
        RIGWATCH_PROC_ROOT: path.join(TREE, 'proc'),
        RIGWATCH_NVML_PATH: '/nonexistent/libnvidia-ml.so.1',
        RIGWATCH_NVIDIA_SMI: '/nonexistent/nvidia-smi',
      },
    });
  });
  after(async () => {
    await b?.close();
    await c?.stop();
  });

  it('/api/current: both MI300X with vendor, values and null reasons', async () => {
    const col = c as RunningCollector;
    let latest: SampleMessage | undefined;
    for (let i = 0; i < 50; i++) {
      const body = (await (await col.get('/api/current')).json()) as { latest?: SampleMessage };
      latest = body.latest;
      if (latest?.series['gpu.1.memory_used_bytes'] !== undefined) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(latest, `no sample; stderr: ${col.stderr()}`);
    assert.equal(latest.series['gpu.0.utilization_ratio'], 0.87);
    assert.equal(latest.series['gpu.0.temperature_celsius'], 52);
    assert.equal(latest.series['gpu.0.memory_total_bytes'], 206141652992);
    assert.equal(latest.series['gpu.1.power_watts'], 141);
    assert.equal(latest.series['gpu.0.fan_ratio'], null);
    const det = latest.details.gpu as GpuDetails;
    assert.equal(det.backend, 'drm');
    assert.deepEqual(
      det.devices.map((d) => [d.vendor, d.pciBusId]),
      [
        ['amd', '00000000:11:00.0'],
        ['amd', '00000000:2F:00.0'],
      ],
    );
    assert.match(det.devices[0].unavailable?.fan_ratio ?? '', /no fan sensor/);
    assert.ok(
      det.processes.some((p) => p.pid === 4242 && p.name === 'python3 train.py' && p.gpuIndex === 0),
      JSON.stringify(det.processes),
    );
    assert.match(col.stderr(), /GPU 00000000:11:00\.0 \(AMD Instinct MI300X OAM, amdgpu\): null: .*fan_ratio/);
  });

  it('/metrics: the AMD GPUs as rigwatch_gpu_* families; null values are left out, not 0', async () => {
    const text = await (await (c as RunningCollector).get('/metrics')).text();
    assert.match(text, /^rigwatch_gpu_utilization_ratio\{gpu="0"\} 0\.87$/m);
    assert.match(text, /^rigwatch_gpu_temperature_junction_celsius\{gpu="1"\} 41$/m);
    assert.match(text, /^rigwatch_gpu_memory_total_bytes\{gpu="1"\} 206141652992$/m);
    assert.doesNotMatch(text, /rigwatch_gpu_fan_ratio/);
    assert.match(text, /^rigwatch_source_up\{source="gpu",kind="gpu",state="ready"\} 1$/m);
  });

  it('the dashboard shows both GPUs with their names and values', async () => {
    const col = c as RunningCollector;
    b = await launchBrowser({ colorScheme: 'dark', width: 1400 });
    await b.page.goto(`${col.url}/#token=${col.token}`);
    const cards = b.page.locator('rw-gpu-card');
    await cards.nth(1).waitFor({ timeout: 15_000 });
    const first = await deepText(cards.nth(0));
    assert.match(first, /AMD Instinct MI300X OAM/);
    assert.match(first, /87\s*%/);
    assert.match(await deepText(b.page.locator('rw-gpu-row')), /GPUs 2 · drm/);
    await screenshot(b.page, 'drm-mi300x-dark-1400');
    assert.deepEqual(b.problems, []);
  });

  it("an n/a value carries its reason as the cell's title (tooltip and accessible description)", async () => {
    const page = (b as TestBrowser).page;
    const fan = page.locator('rw-gpu-card').nth(0).locator('dd[title]', { hasText: 'n/a' });
    await fan.first().waitFor({ timeout: 15_000 });
    const titles = await fan.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
    assert.ok(
      titles.some((t) => /^n\/a: no fan sensor under .*hwmon3 \(passively cooled GPU\?\)$/.test(t)),
      JSON.stringify(titles),
    );
    // Advanced-only rows too: amdgpu has no P-states.
    assert.ok(
      titles.some((t) => /^n\/a: amdgpu has no P-states/.test(t)),
      JSON.stringify(titles),
    );
    // A value that is there has no such title.
    assert.equal(await page.locator('rw-gpu-card').nth(0).locator('.big').getAttribute('title'), null);
  });
});

const XE_TREE = path.join(ROOT, 'test/fixtures/gpu/drm/xe-6.12-arc-b580');

describe('Intel Arc B580 (xe) through DRM sysfs: n/a values with reasons in the GPU table and card', function () {
  this.timeout(60_000);
  let c: RunningCollector | undefined;
  let b: TestBrowser | undefined;

  before(async () => {
    const config: Record<string, unknown> = {};
    for (const f of SOURCE_FACTORIES) if (f.kind !== 'host' && f.kind !== 'gpu') config[f.kind] = false;
    c = await startCollector({
      config,
      interval: 0.5,
      env: {
        RIGWATCH_SYSFS_ROOT: path.join(XE_TREE, 'sys'),
        RIGWATCH_PROC_ROOT: path.join(XE_TREE, 'proc'),
        RIGWATCH_NVML_PATH: '/nonexistent/libnvidia-ml.so.1',
        RIGWATCH_NVIDIA_SMI: '/nonexistent/nvidia-smi',
      },
    });
  });
  after(async () => {
    await b?.close();
    await c?.stop();
  });

  it("the table's temperature cell and the card's temperature say why they are n/a", async () => {
    const col = c as RunningCollector;
    b = await launchBrowser({ colorScheme: 'light', width: 1400 });
    await b.page.goto(`${col.url}/#token=${col.token}`);
    const why = /^n\/a: xe hwmon has no temperature sensor on this kernel\/GPU$/;
    const cell = b.page.locator('rw-gpu-table [role="cell"][title]', { hasText: 'n/a' });
    await cell.first().waitFor({ timeout: 15_000 });
    const titles = await cell.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
    assert.ok(
      titles.some((t) => why.test(t)),
      JSON.stringify(titles),
    );
    const card = b.page.locator('rw-gpu-card').nth(0);
    assert.match((await card.locator('.top .num').getAttribute('title')) ?? '', why);
    assert.match(await deepText(card.locator('.top .num')), /n\/a/);
    await screenshot(b.page, 'drm-xe-b580-light-1400');
    // The titles change nothing visible: a narrow and a forced-colours (high-contrast) look for the record.
    await b.page.setViewportSize({ width: 420, height: 900 });
    await screenshot(b.page, 'drm-xe-b580-light-420');
    await b.page.emulateMedia({ colorScheme: 'dark', forcedColors: 'active' });
    await screenshot(b.page, 'drm-xe-b580-hc-420');
    assert.deepEqual(b.problems, []);
  });
});
