// Apple GPU statistics from `ioreg -c IOAccelerator` text (captured format), and the gpu source on a
// stand-in ioreg (a script printing the fixture) — macOS itself cannot run here.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GpuDetails } from '../../../../../protocol/details/gpu';
import { appleReadings, parseIoregAccelerators } from '../../../../../collector/sources/gpu/apple/ioreg';
import { metricOf } from '../../../../../collector/sources/gpu/reading';
import { gpuHarness, NEVER, type GpuHarness } from '../helpers';

const FIX = path.resolve(__dirname, '../../../../fixtures/gpu/apple/macos-15-m4max-ioreg-ioaccelerator.txt');

describe('apple GPU through ioreg', function () {
  this.timeout(20_000);
  let h: GpuHarness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('parses PerformanceStatistics: device utilisation, in-use memory (not the "(driver)" key), model, cores', () => {
    const [s, ...rest] = parseIoregAccelerators(fs.readFileSync(FIX, 'utf8'));
    assert.equal(rest.length, 0);
    assert.deepEqual(s, {
      className: 'AGXAcceleratorG16X',
      model: 'Apple M4 Max',
      cores: 40,
      utilRatio: 0.16,
      rendererRatio: null,
      tilerRatio: 0.1,
      inUseBytes: 2363801600,
      allocBytes: 52967440384,
    });
    const [d] = appleReadings([s], 64 * 1024 ** 3);
    assert.equal(metricOf(d, 'memory_total_bytes'), 64 * 1024 ** 3, 'unified memory: the machine’s RAM');
    assert.equal(metricOf(d, 'temperature_celsius'), null);
    assert.match(d.unavailable?.temperature_celsius ?? '', /sudo/);
  });

  it('no statistics, over-100 % values and garbage are absent, not 0', () => {
    assert.deepEqual(parseIoregAccelerators(''), []);
    assert.deepEqual(parseIoregAccelerators('+-o IntelAccelerator  <class IntelAccelerator>\n    {\n      "IOClass" = "IntelAccelerator"\n    }\n'), []);
    const [s] = parseIoregAccelerators('+-o X  <class X>\n {\n "PerformanceStatistics" = {"Device Utilization %"=140,"Renderer Utilization %"=30}\n }\n');
    assert.equal(s.utilRatio, null);
    assert.equal(appleReadings([s], 1).map((d) => metricOf(d, 'utilization_ratio'))[0], 0.3, 'renderer utilisation stands in');
  });

  it('the gpu source uses ioreg when there is no NVIDIA or DRM GPU', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-ioreg-'));
    const fake = path.join(dir, 'ioreg');
    fs.writeFileSync(fake, `#!/bin/sh\ncat '${FIX}'\n`, { mode: 0o755 });
    h = gpuHarness(
      { nvmlPath: '/nonexistent/libnvidia-ml.so.1', nvidiaSmiPath: '/nonexistent/nvidia-smi' },
      {},
      { RIGWATCH_IOREG: fake, RIGWATCH_SYSFS_ROOT: dir },
    );
    assert.deepEqual(await h.source.probe(NEVER), { status: 'ready', description: 'Apple M4 Max via ioreg' });
    const r = await h.source.sample(NEVER);
    assert.equal(r.series['gpu.0.utilization_ratio'], 0.16);
    assert.equal(r.series['gpu.0.memory_used_bytes'], 2363801600);
    assert.equal(r.series['gpu.0.power_watts'], null);
    const det = r.details as GpuDetails;
    assert.equal(det.backend, 'ioreg');
    assert.equal(det.devices[0].vendor, 'apple');
  });
});
