// The `gpu` source with DRM GPUs: alone (no NVIDIA library) and beside NVIDIA (fake NVML), in PCI order.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { GpuDetails } from '../../../../../protocol/details/gpu';
import { buildFakeNvml } from '../../../../fakes/nvml/build';
import { gpuHarness, NEVER, type GpuHarness } from '../helpers';

const FIX = path.resolve(__dirname, '../../../../fixtures/gpu/drm');

describe('gpu source with DRM GPUs', function () {
  this.timeout(20_000);
  let h: GpuHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  const env = (tree: string): NodeJS.ProcessEnv => ({ RIGWATCH_SYSFS_ROOT: path.join(FIX, tree, 'sys'), RIGWATCH_PROC_ROOT: path.join(FIX, tree, 'proc') });

  it('no NVIDIA library: ready with the AMD GPUs alone, series gpu.<i>.* and details with vendor and reasons', async () => {
    h = gpuHarness({ nvmlPath: '/nonexistent/libnvidia-ml.so.1', nvidiaSmiPath: '/nonexistent/nvidia-smi' }, {}, env('amdgpu-6.8-mi300x'));
    assert.deepEqual(await h.source.probe(NEVER), { status: 'ready', description: '2 × AMD Instinct MI300X OAM via amdgpu sysfs' });
    const r = await h.source.sample(NEVER);
    assert.equal(r.series['gpu.0.utilization_ratio'], 0.87);
    assert.equal(r.series['gpu.0.temperature_junction_celsius'], 52);
    assert.equal(r.series['gpu.1.memory_used_bytes'], 291782656);
    assert.equal(r.series['gpu.1.fan_ratio'], null);
    const det = r.details as GpuDetails;
    assert.equal(det.backend, 'drm');
    assert.deepEqual(
      det.devices.map((d) => [d.index, d.vendor, d.driver, d.name]),
      [
        [0, 'amd', 'amdgpu', 'AMD Instinct MI300X OAM'],
        [1, 'amd', 'amdgpu', 'AMD Instinct MI300X OAM'],
      ],
    );
    assert.match(det.devices[0].unavailable?.fan_ratio ?? '', /no fan sensor/);
    const p = det.processes.find((x) => x.pid === 4242);
    assert.deepEqual(p && { name: p.name, gpuIndex: p.gpuIndex, type: p.type }, { name: 'python3 train.py', gpuIndex: 0, type: 'unknown' });
    assert.ok(p?.user, 'user from /proc/<pid>/status under RIGWATCH_PROC_ROOT');
    // The shared attribution (cgroup → owner) applies to DRM processes as to NVIDIA's.
    assert.deepEqual(p?.owner && [p.owner.kind, p.owner.runtime], ['container', 'docker']);
    await assert.rejects(h.source.actions?.report({ index: '0' }, NEVER) ?? Promise.resolve(), /not an NVIDIA GPU/);
  });

  it('NVIDIA and AMD on one box: both, ordered by PCI bus id, NVIDIA through NVML', async () => {
    const lib = buildFakeNvml();
    h = gpuHarness(
      { nvmlPath: lib },
      { count: 2, 'gpu.0.busid': '00000000:40:00.0', 'gpu.1.busid': '00000000:05:00.0', 'gpu.*.util': 10 },
      env('amdgpu-6.8-mi300x'),
    );
    const pr = await h.source.probe(NEVER);
    assert.equal(pr.status, 'ready');
    assert.match((pr as { description: string }).description, /via NVML; 2 × AMD Instinct MI300X OAM via amdgpu sysfs$/);
    const r = await h.source.sample(NEVER);
    const det = r.details as GpuDetails;
    assert.equal(det.backend, 'nvml');
    assert.deepEqual(
      det.devices.map((d) => [d.pciBusId, d.vendor]),
      [
        ['00000000:05:00.0', 'nvidia'],
        ['00000000:11:00.0', 'amd'],
        ['00000000:2F:00.0', 'amd'],
        ['00000000:40:00.0', 'nvidia'],
      ],
    );
    assert.equal(r.series['gpu.0.utilization_ratio'], 0.1);
    assert.equal(r.series['gpu.1.utilization_ratio'], 0.87);
    assert.equal(r.series['gpu.3.utilization_ratio'], 0.1);
  });

  it('gpu.drm: false leaves the DRM GPUs out; a bad value names the key', async () => {
    h = gpuHarness({ drm: false, nvmlPath: '/nonexistent/libnvidia-ml.so.1', nvidiaSmiPath: '/nonexistent/nvidia-smi' }, {}, env('amdgpu-6.8-mi300x'));
    assert.equal((await h.source.probe(NEVER)).status, 'unavailable');
    await h.dispose();
    h = undefined;
    assert.throws(() => gpuHarness({ drm: 'yes' }, {}, env('amdgpu-6.8-mi300x')), /gpu\.drm.*true or false/);
  });
});
