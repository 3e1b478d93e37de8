// The GPU source on its nvidia-smi fallback path, against the fake nvidia-smi (built with gcc), and
// the no-GPU path on a machine without NVIDIA hardware.

import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type { GpuDetails } from '../../../../protocol/details/gpu';
import { SourceError } from '../../../../collector/source';
import { findExecutable } from '../../../../collector/sources/gpu/report';
import { buildFakeNvidiaSmi } from '../../../fakes/nvml/build';
import { gpuHarness, spawnSleeper, waitFor, NEVER, type GpuHarness } from './helpers';

const MIB = 1024 * 1024;

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('gpu source: nvidia-smi fallback (fake nvidia-smi)', function () {
  this.timeout(20_000);
  let smi: string;
  let h: GpuHarness | undefined;
  let sleepers: ChildProcess[] = [];

  before(() => {
    smi = buildFakeNvidiaSmi();
  });
  afterEach(async () => {
    const pid = h?.source.smiBackend?.childPid;
    await h?.dispose();
    h = undefined;
    for (const s of sleepers) s.kill('SIGKILL');
    sleepers = [];
    // close() kills the streaming child.
    if (pid !== undefined) await waitFor(() => !alive(pid), 2000, `nvidia-smi child ${pid} to exit`);
  });

  it('one long-lived streaming child: values parsed in base units, updated without new spawns', async () => {
    h = gpuHarness(
      { backend: 'nvidia-smi', nvidiaSmiPath: smi },
      { count: 2, 'gpu.1.util': 64, 'gpu.1.mem_used': 2048 * MIB, 'gpu.1.power_mw': 123450, 'gpu.1.reasons': '0x4' },
      {},
      200,
    );
    const p = await h.source.probe(NEVER);
    assert.deepEqual(p, { status: 'ready', description: '2 × NVIDIA A100-SXM4-80GB via nvidia-smi (nvidia-smi backend chosen in config)' });
    const pid = h.source.smiBackend!.childPid;
    assert.ok(alive(pid));
    const r = await h.source.sample(NEVER);
    assert.equal(r.series['gpu.1.utilization_ratio'], 0.64);
    assert.equal(r.series['gpu.1.memory_used_bytes'], 2048 * MIB);
    assert.equal(r.series['gpu.1.power_watts'], 123.45);
    assert.equal(r.series['gpu.1.memory_reserved_bytes'], 604 * MIB);
    assert.equal(r.series['gpu.1.pcie_rx_bytes_per_second'], null, 'not a --query-gpu field: null, not 0');
    const d = r.details as GpuDetails;
    assert.equal(d.backend, 'nvidia-smi');
    assert.equal(d.driverVersion, '550.54.15');
    assert.equal(d.cudaVersion, '12.4');
    assert.deepEqual(d.devices[1].throttleReasons, ['sw_power_cap']);
    h.setState({ count: 2, 'gpu.1.util': 99 });
    await waitFor(async () => (await h!.source.sample(NEVER)).series['gpu.1.utilization_ratio'] === 0.99, 3000, 'streamed update');
    assert.equal(h.source.smiBackend!.childPid, pid, 'still the same child');
    assert.equal(h.source.smiBackend!.restartCount, 0);
  });

  it('auto: falls back to nvidia-smi when NVML is missing, and says so', async () => {
    h = gpuHarness({ nvmlPath: '/nonexistent/libnvidia-ml.so.1', nvidiaSmiPath: smi }, { count: 1 }, {}, 200);
    const p = await h.source.probe(NEVER);
    assert.equal(p.status, 'ready');
    assert.match((p as { description: string }).description, /via nvidia-smi \(NVML unavailable: libnvidia-ml\.so\.1 not found\)/);
    const d = (await h.source.sample(NEVER)).details as GpuDetails;
    assert.equal(d.backendReason, 'NVML unavailable: libnvidia-ml.so.1 not found');
  });

  it('field drift: without --help-query-gpu, rejected fields are dropped and older names used', async () => {
    h = gpuHarness({ backend: 'nvidia-smi', nvidiaSmiPath: smi }, { count: 1, smi_nohelp: 1, smi_legacy: 1, 'gpu.0.reasons': '0x40' }, {}, 200);
    assert.equal((await h.source.probe(NEVER)).status, 'ready', h.logs.join('\n'));
    const fields = h.source.smiBackend!.queryFields;
    assert.ok(fields.includes('clocks_throttle_reasons.active'), fields.join());
    assert.ok(!fields.includes('clocks_event_reasons.active') && !fields.includes('memory.reserved') && !fields.includes('compute_cap'), fields.join());
    const r = await h.source.sample(NEVER);
    assert.deepEqual((r.details as GpuDetails).devices[0].throttleReasons, ['hw_thermal_slowdown']);
    assert.equal(r.series['gpu.0.memory_reserved_bytes'], null);
    assert.ok(
      h.logs.some((l) => l.includes('does not know the field "clocks_event_reasons.active"')),
      h.logs.join('\n'),
    );
  });

  it('field discovery: a 470-era --help-query-gpu list is used without any rejected start', async () => {
    h = gpuHarness({ backend: 'nvidia-smi', nvidiaSmiPath: smi }, { count: 1, smi_legacy: 1 }, {}, 200);
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    assert.ok(h.source.smiBackend!.queryFields.includes('clocks_throttle_reasons.active'));
    assert.ok(!h.logs.some((l) => l.includes('does not know the field')), h.logs.join('\n'));
  });

  it('a silent child is killed and restarted; the source reports it meanwhile', async () => {
    h = gpuHarness({ backend: 'nvidia-smi', nvidiaSmiPath: smi, silenceTimeoutMs: 600 }, { count: 1 }, {}, 100);
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    const first = h.source.smiBackend!.childPid;
    h.setState({ count: 1, smi_silent: 1 });
    await waitFor(() => !alive(first), 4000, 'the silent child to be killed');
    await assert.rejects(h.source.sample(NEVER), (e: unknown) => e instanceof SourceError && /printed nothing/.test(e.message));
    h.setState({ count: 1, 'gpu.0.temp': 77 });
    await waitFor(async () => (await h!.source.sample(NEVER)).series['gpu.0.temperature_celsius'] === 77, 6000, 'data from a restarted child');
    const second = h.source.smiBackend!.childPid;
    assert.notEqual(second, first);
    assert.ok(alive(second));
    assert.ok(h.source.smiBackend!.restartCount >= 1);
  });

  it('processes from --query-compute-apps on a slower cadence, named from /proc', async () => {
    const a = spawnSleeper();
    sleepers.push(a);
    h = gpuHarness({ backend: 'nvidia-smi', nvidiaSmiPath: smi, processIntervalMs: 500 }, { count: 2, 'gpu.1.compute': `${a.pid}:${300 * MIB}` }, {}, 200);
    await h.source.probe(NEVER);
    const d = await waitFor(
      async () => {
        const det = (await h!.source.sample(NEVER)).details as GpuDetails;
        return det.processes.length > 0 ? det : null;
      },
      4000,
      'process list',
    );
    assert.equal(d.processes.length, 1);
    const { command, startTime, owner, ...rest } = d.processes[0];
    assert.deepEqual(rest, {
      pid: a.pid,
      name: 'sleep',
      user: os.userInfo().username,
      gpuIndex: 1,
      usedMemoryBytes: 300 * MIB,
      smUtilRatio: null,
      type: 'compute',
    });
    assert.equal(command, 'sleep 60');
    assert.ok(typeof startTime === 'number' && owner, 'the fallback backend gets the same attribution');
  });

  it('report action: nvidia-smi -q text of one GPU (by PCI order), clear errors for bad indexes', async () => {
    h = gpuHarness(
      { backend: 'nvidia-smi', nvidiaSmiPath: smi },
      { count: 2, 'gpu.0.busid': '00000000:81:00.0', 'gpu.1.busid': '00000000:07:00.0', 'gpu.1.name': 'NVIDIA L40S' },
      {},
      200,
    );
    await h.source.probe(NEVER);
    await h.source.sample(NEVER);
    const text = (await h.source.actions!.report({ index: '0' }, NEVER)) as string;
    assert.match(text, /^GPU 00000000:07:00\.0$/m);
    assert.match(text, /Product Name\s+: NVIDIA L40S/);
    assert.doesNotMatch(text, /00000000:81:00\.0/);
    await assert.rejects(h.source.actions!.report({ index: '2' }, NEVER), /index: expected 0\.\.1, got 2/);
    await assert.rejects(h.source.actions!.report({ index: 'x;rm' }, NEVER), /index: expected a GPU index/);
  });
});

describe('gpu source: no GPU (this machine)', function () {
  this.timeout(20_000);
  it('is unavailable with the reason, retried later, and costs nothing when probed again soon', async () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    assert.equal(findExecutable('nvidia-smi', env), null, 'this test expects a machine without nvidia-smi on PATH');
    const h = gpuHarness({}, { count: 1 }, env);
    try {
      // The fake library is not on the loader path: the default soname is not found.
      const p = await h.source.probe(NEVER);
      assert.deepEqual(p, { status: 'unavailable', reason: 'libnvidia-ml.so.1 not found and nvidia-smi not on PATH', retry: true });
      const t0 = Date.now();
      assert.deepEqual(await h.source.probe(NEVER), p);
      assert.ok(Date.now() - t0 < 50, 'a re-probe within the no-GPU window does not start a worker');
      await assert.rejects(h.source.sample(NEVER), SourceError);
      await assert.rejects(h.source.actions!.report({ index: '0' }, NEVER), /no GPU is known yet/);
    } finally {
      await h.dispose();
    }
  });
});
