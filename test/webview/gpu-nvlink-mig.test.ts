// End to end: the real collector (dist/collector.js) on the fake libnvidia-ml with an NVLink GPU (12 links,
// throughput counters growing) and a MIG GPU (3 instances, GPM): /metrics carries the per-link and
// per-instance series, and the dashboard's GPU cards show NVLink throughput and a MIG table (Chromium).

import * as assert from 'node:assert/strict';
import { SOURCE_FACTORIES } from '../../collector/sources/index';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';
import * as path from 'node:path';
import { ARTIFACTS, deepText, launchBrowser, screenshot, type TestBrowser } from './browser';

describe('NVLink throughput and MIG instances, end to end (collector + /metrics + dashboard)', function () {
  this.timeout(90_000);
  let c: RunningCollector | undefined;
  let b: TestBrowser | undefined;
  const dir = makeFakeStateDir();

  before(async () => {
    const lib = buildFakeNvml();
    writeFakeState(dir.stateFile, {
      count: 2,
      'gpu.0.name': 'NVIDIA H100 80GB HBM3',
      'gpu.0.nvlinks': 12,
      'gpu.0.nvlink_rx_kibps': 1_000_000,
      'gpu.0.nvlink_tx_kibps': 500_000,
      'gpu.1.name': 'NVIDIA H100 80GB HBM3',
      'gpu.1.mig': 1,
      'gpu.1.mig_instances': 3,
      'gpu.1.mig_mem_used': 3221225472,
      'gpu.1.gpm': 1,
      'gpu.1.mig_sm': 30,
    });
    const config: Record<string, unknown> = {};
    for (const f of SOURCE_FACTORIES) if (f.kind !== 'host' && f.kind !== 'gpu') config[f.kind] = false;
    config.gpu = { events: false, drm: false };
    c = await startCollector({
      config,
      interval: 0.5,
      env: { RIGWATCH_NVML_PATH: lib, FAKE_NVML_STATE: dir.stateFile, RIGWATCH_NVIDIA_SMI: '/nonexistent/nvidia-smi' },
    });
  });
  after(async () => {
    await b?.close();
    await c?.stop();
    dir.dispose();
  });

  it('/metrics: per-link NVLink rates and per-instance MIG values under their own families', async () => {
    const col = c as RunningCollector;
    let text = '';
    for (let i = 0; i < 60 && !/rigwatch_gpu_mig_sm_activity_ratio/.test(text); i++) {
      text = await (await col.get('/metrics')).text();
      if (!/rigwatch_gpu_nvlink_link_rx_bytes_per_second/.test(text) || !/rigwatch_gpu_mig_sm_activity_ratio/.test(text))
        await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(text, /^rigwatch_gpu_nvlink_link_rx_bytes_per_second\{gpu="0",nvlink="11"\} \d/m, `stderr: ${col.stderr()}`);
    assert.match(text, /^rigwatch_gpu_nvlink_rx_bytes_per_second\{gpu="0"\} \d/m);
    assert.match(text, /^rigwatch_gpu_mig_memory_used_bytes\{gpu="1",mig="2"\} 3221225472$/m);
    assert.match(text, /^rigwatch_gpu_mig_sm_activity_ratio\{gpu="1",mig="3"\} 0\.33$/m);
    assert.doesNotMatch(text, /rigwatch_gpu_memory_used_bytes\{[^}]*mig=/, 'MIG values never mix into the GPU family');
  });

  it('the GPU cards show NVLink throughput with links up, and one MIG row per instance with VRAM and SM activity', async () => {
    const col = c as RunningCollector;
    b = await launchBrowser({ colorScheme: 'dark', width: 1400 });
    await b.page.goto(`${col.url}/#token=${col.token}`);
    const cards = b.page.locator('rw-gpu-card');
    await cards.nth(1).waitFor({ timeout: 15_000 });
    const rx = /NVLink rx 74\.4 GiB \/s NVLink tx 37\.2 GiB \/s/;
    let first = '';
    for (let i = 0; i < 40 && !rx.test(first); i++) {
      first = await deepText(cards.nth(0));
      if (!rx.test(first)) await new Promise((r) => setTimeout(r, 250));
    }
    // 1,000,000 KiB/s × (1 + 2 + … + 12) in, half that out.
    assert.match(first, rx);
    const title = (await cards.nth(0).locator('dd[title^="link 0"]').first().getAttribute('title')) ?? '';
    assert.equal(title.split('\n').length, 12, 'each link in the title');
    assert.equal(await cards.nth(0).locator('dt[title="12 of 12 links up"]').count(), 2);
    const second = await deepText(cards.nth(1));
    assert.match(second, /GI 1 .*GI 2 .*GI 3/);
    assert.match(second, /33\s*%/);
    assert.doesNotMatch(second, /NVLink/, 'no NVLink row on a GPU without links');
    assert.doesNotMatch(second, /GPM not supported/, 'GPM runs per MIG instance: no note saying it is unsupported');
    await screenshot(b.page, 'gpu-nvlink-mig-dark-1400');
    await b.page.setViewportSize({ width: 420, height: 900 });
    await screenshot(b.page, 'gpu-nvlink-mig-dark-420');
    await b.page.emulateMedia({ colorScheme: 'light' });
    await screenshot(b.page, 'gpu-nvlink-mig-light-420');
    // The two cards alone, at full size (the page shots are long).
    await cards.nth(0).screenshot({ path: path.join(ARTIFACTS, 'gpu-nvlink-card-light-420.png') });
    await cards.nth(1).screenshot({ path: path.join(ARTIFACTS, 'gpu-mig-card-light-420.png') });
    await b.page.setViewportSize({ width: 1400, height: 900 });
    await screenshot(b.page, 'gpu-nvlink-mig-light-1400');
    await b.page.emulateMedia({ colorScheme: 'dark', forcedColors: 'active' });
    await b.page.setViewportSize({ width: 420, height: 900 });
    await screenshot(b.page, 'gpu-nvlink-mig-hc-420');
    await cards.nth(1).screenshot({ path: path.join(ARTIFACTS, 'gpu-mig-card-hc-420.png') });
    assert.deepEqual(b.problems, []);
  });
});
