// The GPU source on its NVML path, against the fake libnvidia-ml.so.1 (real ABI, built with gcc).

import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type { GpuDetails } from '../../../../protocol/details/gpu';
import { SourceError } from '../../../../collector/source';
import { stuckNvmlWorkers } from '../../../../collector/sources/gpu';
import { buildFakeNvml } from '../../../fakes/nvml/build';
import { gpuHarness, spawnSleeper, waitFor, NEVER, type GpuHarness } from './helpers';

const GIB = 1024 ** 3;

describe('gpu source: NVML path (fake libnvidia-ml)', function () {
  this.timeout(20_000);
  let lib: string;
  let lib470: string;
  let h: GpuHarness | undefined;
  let sleepers: ChildProcess[] = [];

  before(() => {
    lib = buildFakeNvml('current');
    lib470 = buildFakeNvml('470');
  });
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
    for (const s of sleepers) s.kill('SIGKILL');
    sleepers = [];
  });

  it('reads every field exactly, in base units, with decoded reasons and static facts', async () => {
    h = gpuHarness(
      { nvmlPath: lib },
      {
        count: 2,
        driver: '550.54.15',
        cuda: 12040,
        'gpu.1.name': 'NVIDIA H100 80GB HBM3',
        'gpu.1.uuid': 'GPU-abc',
        'gpu.1.cc': '9.0',
        'gpu.1.util': 73,
        'gpu.1.memutil': 21,
        'gpu.1.mem_total': 80 * GIB,
        'gpu.1.mem_used': 12345678912,
        'gpu.1.mem_reserved': 555745280,
        'gpu.1.temp': 66,
        'gpu.1.power_mw': 234567,
        'gpu.1.power_limit_mw': 300000,
        'gpu.1.fan': 45,
        'gpu.1.clock_sm': 1755,
        'gpu.1.clock_mem': 2619,
        'gpu.1.clock_sm_max': 1980,
        'gpu.1.clock_mem_max': 2619,
        'gpu.1.pcie_rx_kbs': 12345,
        'gpu.1.pcie_tx_kbs': 6789,
        'gpu.1.enc': 12,
        'gpu.1.dec': 34,
        'gpu.1.pstate': 2,
        'gpu.1.reasons': '0x44',
        'gpu.1.ecc_corrected': 3,
        'gpu.1.ecc_uncorrected': 4,
      },
    );
    const p = await h.source.probe(NEVER);
    assert.deepEqual(p, { status: 'ready', description: '2 GPUs (NVIDIA A100-SXM4-80GB, NVIDIA H100 80GB HBM3) via NVML' });
    const r = await h.source.sample(NEVER);
    const s = r.series;
    assert.equal(s['gpu.1.utilization_ratio'], 0.73);
    assert.equal(s['gpu.1.memory_utilization_ratio'], 0.21);
    assert.equal(s['gpu.1.memory_total_bytes'], 80 * GIB);
    assert.equal(s['gpu.1.memory_used_bytes'], 12345678912);
    assert.equal(s['gpu.1.memory_reserved_bytes'], 555745280);
    assert.equal(s['gpu.1.memory_used_ratio'], 12345678912 / (80 * GIB));
    assert.equal(s['gpu.1.temperature_celsius'], 66);
    // The board's own limits (nvmlDeviceGetTemperatureThreshold SLOWDOWN/SHUTDOWN; fake defaults 87/92 °C).
    assert.equal(s['gpu.1.temperature_slowdown_celsius'], 87);
    assert.equal(s['gpu.1.temperature_shutdown_celsius'], 92);
    assert.equal(s['gpu.1.power_watts'], 234.567);
    assert.equal(s['gpu.1.power_limit_watts'], 300);
    assert.equal(s['gpu.1.fan_ratio'], 0.45);
    assert.equal(s['gpu.1.sm_clock_hertz'], 1755e6);
    assert.equal(s['gpu.1.memory_clock_hertz'], 2619e6);
    assert.equal(s['gpu.1.sm_clock_max_hertz'], 1980e6);
    assert.equal(s['gpu.1.memory_clock_max_hertz'], 2619e6);
    assert.equal(s['gpu.1.pcie_rx_bytes_per_second'], 12345 * 1024);
    assert.equal(s['gpu.1.pcie_tx_bytes_per_second'], 6789 * 1024);
    assert.equal(s['gpu.1.encoder_utilization_ratio'], 0.12);
    assert.equal(s['gpu.1.decoder_utilization_ratio'], 0.34);
    assert.equal(s['gpu.1.pstate_count'], 2);
    assert.equal(s['gpu.1.ecc_volatile_errors_count'], 7);
    assert.equal(s['gpu.0.temperature_celsius'], 40);
    const d = r.details as GpuDetails;
    assert.equal(d.backend, 'nvml');
    assert.equal(d.driverVersion, '550.54.15');
    assert.equal(d.cudaVersion, '12.4');
    assert.deepEqual(d.devices[1], {
      index: 1,
      name: 'NVIDIA H100 80GB HBM3',
      uuid: 'GPU-abc',
      pciBusId: '00000000:0F:00.0',
      computeCapability: '9.0',
      migMode: false,
      throttleReasons: ['sw_power_cap', 'hw_thermal_slowdown'],
      pstate: 'P2',
      vendor: 'nvidia',
      driver: 'nvml',
      notes: ['GPM not supported (Hopper and later); SM activity, occupancy, tensor and DRAM shares are null'],
      events: { source: 'nvml', recent: [] },
      health: {
        verdict: 'action-needed',
        reasons: [
          '4 uncorrected ECC error(s) since the driver loaded: restart the affected work and reset the GPU',
          'hardware/thermal slowdown 100 % of the last interval',
        ],
      },
    });
    // Values follow the state file at run time.
    h.setState({ count: 2, 'gpu.1.temp': 91 });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await h.source.sample(NEVER)).series['gpu.1.temperature_celsius'], 91);
  });

  it('a NOT_SUPPORTED field is null (not 0) and warned about once', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 2, 'gpu.1.unsupported': 'fan,temp,pcie_rx_kbs,ecc_corrected,enc' });
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    await h.source.sample(NEVER);
    const s = (await h.source.sample(NEVER)).series;
    for (const m of ['fan_ratio', 'temperature_celsius', 'pcie_rx_bytes_per_second', 'ecc_volatile_errors_count', 'encoder_utilization_ratio']) {
      assert.equal(s[`gpu.1.${m}`], null, `gpu.1.${m}`);
      assert.notEqual(s[`gpu.0.${m}`], null, `gpu.0.${m}`);
    }
    assert.equal(s['gpu.1.pcie_tx_bytes_per_second'], 2000 * 1024);
    // Warnings travel by message (asynchronously to the shared-memory batches).
    await waitFor(() => h!.logs.some((l) => l.includes('nvmlDeviceGetFanSpeed is not supported')), 3000, 'the warning');
    await h.source.sample(NEVER);
    await new Promise((r) => setTimeout(r, 50));
    const fanWarnings = h.logs.filter((l) => l.includes('nvmlDeviceGetFanSpeed is not supported'));
    assert.equal(fanWarnings.length, 1, h.logs.join('\n'));
  });

  it('8 GPUs, enumerated out of PCI order, are indexed by PCI bus id', async () => {
    const buses = [
      '00000000:C1:00.0',
      '00000000:07:00.0',
      '00000000:81:00.0',
      '00000000:0F:00.0',
      '00000000:47:00.0',
      '00000000:4E:00.0',
      '00000000:B7:00.0',
      '00000000:BD:00.0',
    ];
    const state: Record<string, string | number> = { count: 8 };
    buses.forEach((b, i) => {
      state[`gpu.${i}.busid`] = b;
      state[`gpu.${i}.temp`] = 50 + i;
    });
    h = gpuHarness({ nvmlPath: lib }, state);
    assert.deepEqual(await h.source.probe(NEVER), { status: 'ready', description: '8 × NVIDIA A100-SXM4-80GB via NVML' });
    const r = await h.source.sample(NEVER);
    const sorted = [...buses].sort();
    const d = r.details as GpuDetails;
    assert.deepEqual(
      d.devices.map((x) => x.pciBusId),
      sorted,
    );
    sorted.forEach((b, i) => assert.equal(r.series[`gpu.${i}.temperature_celsius`], 50 + buses.indexOf(b), b));
    assert.equal(Object.keys(r.series).filter((k) => k.endsWith('.utilization_ratio') && !k.includes('memory') && !k.includes('coder')).length, 8);
  });

  it('processes: names and users from /proc, VRAM, SM utilisation, N/A memory as null', async () => {
    const a = spawnSleeper();
    const b = spawnSleeper();
    sleepers.push(a, b);
    h = gpuHarness(
      { nvmlPath: lib },
      {
        count: 2,
        'gpu.0.compute': `${a.pid}:${3 * GIB}`,
        'gpu.0.putil': `${a.pid}:37`,
        'gpu.1.compute': `${b.pid}:na`,
        'gpu.1.graphics': `${b.pid}:${GIB};4194303:1048576`,
      },
    );
    await h.source.probe(NEVER);
    const d = (await h.source.sample(NEVER)).details as GpuDetails;
    const me = os.userInfo().username;
    const pa = d.processes.find((p) => p.pid === a.pid)!;
    const { command, startTime, owner, ...rest } = pa;
    assert.deepEqual(rest, {
      pid: a.pid,
      name: 'sleep',
      user: me,
      gpuIndex: 0,
      usedMemoryBytes: 3 * GIB,
      smUtilRatio: 0.37,
      type: 'compute',
      memUtilRatio: 0,
      encoderUtilRatio: 0,
      decoderUtilRatio: 0,
      // Per-process energy estimate: 0 at the first tick (no interval yet).
      energyJoules: 0,
    });
    // Attribution: full command, start time (within the last minute), owner from /proc/<pid>/cgroup.
    assert.equal(command, 'sleep 60');
    assert.ok(startTime !== null && startTime !== undefined && Math.abs(startTime - Date.now()) < 60_000, `start time ${startTime}`);
    assert.ok(owner && typeof owner.kind === 'string', 'owner read from cgroup');
    // In both lists (C+G): shown once as compute; memory taken from the list that has it.
    const pb = d.processes.find((p) => p.pid === b.pid)!;
    assert.deepEqual([pb.gpuIndex, pb.usedMemoryBytes, pb.smUtilRatio, pb.type, pb.name], [1, GIB, null, 'compute', 'sleep']);
    // A pid that exists nowhere (exited, VRAM orphaned): listed without name/user, marked not alive.
    assert.deepEqual(
      d.processes.find((p) => p.pid === 4194303),
      {
        pid: 4194303,
        name: null,
        user: null,
        command: null,
        startTime: null,
        owner: null,
        alive: false,
        gpuIndex: 1,
        usedMemoryBytes: 1048576,
        smUtilRatio: null,
        type: 'graphics',
        memUtilRatio: null,
        encoderUtilRatio: null,
        decoderUtilRatio: null,
        energyJoules: null,
      },
    );
  });

  it('grows the process buffer on INSUFFICIENT_SIZE (100 processes on one GPU)', async () => {
    const list = Array.from({ length: 100 }, (_, i) => `${100000 + i}:${(i + 1) * 1048576}`).join(';');
    h = gpuHarness({ nvmlPath: lib }, { count: 1, 'gpu.0.compute': list });
    await h.source.probe(NEVER);
    const d = (await h.source.sample(NEVER)).details as GpuDetails;
    assert.equal(d.processes.length, 100);
    assert.equal(d.processes[0].usedMemoryBytes, 100 * 1048576);
    assert.equal(new Set(d.processes.map((p) => p.pid)).size, 100);
  });

  it('driver 470 library: falls back to _v2 process calls, v1 memory info and ThrottleReasons', async () => {
    const a = spawnSleeper();
    sleepers.push(a);
    h = gpuHarness(
      { nvmlPath: lib470 },
      { count: 1, 'gpu.0.reasons': '0x4', 'gpu.0.compute': `${a.pid}:${GIB}`, 'gpu.0.mem_used': 2 * GIB, 'gpu.0.mem_reserved': 0 },
    );
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    const r = await h.source.sample(NEVER);
    assert.equal(r.series['gpu.0.memory_used_bytes'], 2 * GIB);
    assert.equal(r.series['gpu.0.memory_reserved_bytes'], null);
    const d = r.details as GpuDetails;
    assert.deepEqual(d.devices[0].throttleReasons, ['sw_power_cap']);
    assert.equal(d.processes[0].pid, a.pid);
    assert.equal(d.processes[0].usedMemoryBytes, GIB);
    await waitFor(() => h!.logs.some((l) => l.includes('no nvmlDeviceGetMemoryInfo_v2')), 3000, 'the missing-symbol warning');
  });

  it('MIG mode: utilisation null with a note', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 1, 'gpu.0.mig': 1 });
    await h.source.probe(NEVER);
    const r = await h.source.sample(NEVER);
    assert.equal(r.series['gpu.0.utilization_ratio'], null);
    assert.equal(r.series['gpu.0.memory_used_bytes'], GIB);
    const d = r.details as GpuDetails;
    assert.equal(d.devices[0].migMode, true);
    assert.deepEqual(d.devices[0].notes, [
      'utilisation not available under MIG',
      "MIG enabled: VRAM per instance (the GPU's own VRAM is the whole board); not available under MIG: utilisation, per-process utilisation, GPM, row remapping",
      'GPM not supported (Hopper and later); SM activity, occupancy, tensor and DRAM shares are null',
    ]);
  });

  it('MIG instances: per-instance VRAM with GPU/compute instance ids; the parent says what is per instance and what is not available', async () => {
    h = gpuHarness(
      { nvmlPath: lib },
      {
        count: 2,
        'gpu.0.mig': 1,
        'gpu.0.mig_instances': 3,
        'gpu.0.mig_mem_used': 2 * GIB,
        'gpu.0.compute': `${process.pid}:${GIB}:2`,
        'gpu.1.compute': `${process.pid}:${GIB}`,
      },
    );
    await h.source.probe(NEVER);
    const r = await h.source.sample(NEVER);
    const d = r.details as GpuDetails;
    const mig = d.devices[0].mig;
    const slice = Math.floor(85899345920 / 7);
    assert.deepEqual(
      mig?.instances,
      [1, 2, 3].map((gi) => ({ gpuInstanceId: gi, computeInstanceId: 0, memoryTotalBytes: slice * gi, memoryUsedBytes: 2 * GIB, smActivityRatio: null })),
    );
    assert.deepEqual(mig?.perInstance, ['VRAM']);
    assert.ok(mig?.notAvailable.includes('utilisation'));
    assert.equal(d.devices[0].notes.filter((n) => n.startsWith('MIG enabled')).length, 1, 'said once');
    assert.equal(d.devices[1].mig, undefined, 'a GPU without MIG has no MIG section');
    assert.equal(r.series['gpu.0.utilization_ratio'], null);
    // Processes say which instance they run in (NVML's per-process gpuInstanceId); outside MIG nothing.
    assert.equal(d.processes.find((p) => p.gpuIndex === 0)?.gpuInstanceId, 2);
    assert.equal(d.processes.find((p) => p.gpuIndex === 1)?.gpuInstanceId, undefined);
  });

  it('a GPU that fell off the bus: its values are null with a note, the other GPU keeps reading', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 2 });
    await h.source.probe(NEVER);
    h.setState({ count: 2, fail: 'nvmlDeviceGetTemperature:15:0' });
    await new Promise((r) => setTimeout(r, 60));
    const r = await h.source.sample(NEVER);
    assert.equal(r.series['gpu.0.temperature_celsius'], null);
    assert.equal(r.series['gpu.0.power_watts'], null);
    assert.equal(r.series['gpu.1.temperature_celsius'], 41);
    assert.equal(r.series['gpu.1.power_watts'], 61);
    const d = r.details as GpuDetails;
    assert.match(d.devices[0].notes.join(), /GPU is lost/);
    await waitFor(() => h!.logs.some((l) => l.includes('GPU is lost (15)')), 3000, 'the lost-GPU warning');
  });

  it('a hung NVML call: the event loop keeps running, the sample fails after the watchdog, recovery after re-probe', async () => {
    h = gpuHarness({ nvmlPath: lib, callTimeoutMs: 400 }, { count: 2 });
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    h.setState({ count: 2, hang: 'nvmlDeviceGetTemperature' });
    await new Promise((r) => setTimeout(r, 60));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const t0 = Date.now();
    await assert.rejects(h.source.sample(NEVER), (e: unknown) => e instanceof SourceError && e.retry && /did not return within 400 ms/.test(e.message));
    clearInterval(timer);
    const took = Date.now() - t0;
    assert.ok(took >= 380 && took < 3000, `watchdog fired after ${took} ms`);
    assert.ok(ticks >= 10, `main event loop ran only ${ticks} timer callbacks during the hang`);
    // The worker is gone: later samples fail at once; a probe during the hang is not "ready".
    await assert.rejects(h.source.sample(NEVER), SourceError);
    await assert.rejects(h.source.probe(NEVER), (e: unknown) => e instanceof SourceError && e.retry && /did not return within 400 ms/.test(e.message));
    // Stuck threads are counted (process.exit() would block on them) until their call returns.
    assert.ok(stuckNvmlWorkers() >= 1, `stuck workers: ${stuckNvmlWorkers()}`);
    // Driver recovers: re-probe starts a fresh worker.
    h.setState({ count: 2, 'gpu.0.temp': 55 });
    await new Promise((r) => setTimeout(r, 120));
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    assert.equal((await h.source.sample(NEVER)).series['gpu.0.temperature_celsius'], 55);
    await waitFor(() => stuckNvmlWorkers() === 0, 5000, 'the stuck threads to exit once the call returned');
  });

  it('an abort from the tick loop does not kill a slow-but-alive worker', async () => {
    h = gpuHarness({ nvmlPath: lib, callTimeoutMs: 3000 }, { count: 1 });
    await h.source.probe(NEVER);
    h.setState({ count: 1, hang: 'nvmlDeviceGetPowerUsage' });
    await new Promise((r) => setTimeout(r, 60));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    await assert.rejects(h.source.sample(ac.signal), /aborted/);
    h.setState({ count: 1, 'gpu.0.power_mw': 123000 });
    // The next read waits for the in-flight batch, then reads again with the same worker.
    const r = await h.source.sample(NEVER);
    assert.equal(r.series['gpu.0.power_watts'], 123);
  });

  it("nvmlInit_v2 failing (driver not loaded) without nvidia-smi: unavailable with NVML's reason", async () => {
    h = gpuHarness({ nvmlPath: lib, nvidiaSmiPath: '/nonexistent/nvidia-smi' }, { count: 1, fail: 'nvmlInit_v2:9' });
    const p = await h.source.probe(NEVER);
    assert.equal(p.status, 'unavailable');
    assert.match((p as { reason: string }).reason, /nvmlInit_v2 failed: Driver Not Loaded \(9\) and \/nonexistent\/nvidia-smi not found/);
  });
});
