// NVLink throughput per link (NVML field values → rates) and MIG per-instance series, end to end through
// the fake libnvidia-ml: series and details, rates across ticks, counter resets, NOT_SUPPORTED → null with
// one reason, and MIG instances destroyed and created while the collector runs.

import { strict as assert } from 'node:assert';
import type { GpuDetails, GpuDevice } from '../../../../protocol/details/gpu';
import type { SeriesMap } from '../../../../protocol';
import { mapSeries } from '../../../../protocol/prometheus';
import { buildFakeNvml, type FakeGpuState } from '../../../fakes/nvml/build';
import { gpuHarness, NEVER, waitFor, type GpuHarness } from './helpers';

const KIB = 1024;
const T0_US = 1_700_000_000_000_000;

describe('gpu NVLink throughput and MIG instances (fake libnvidia-ml)', function () {
  this.timeout(30000);
  let lib: string;
  let h: GpuHarness | undefined;

  before(() => {
    lib = buildFakeNvml();
  });
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  async function sample(): Promise<{ series: SeriesMap; devices: GpuDevice[] }> {
    const r = await (h as GpuHarness).source.sample(NEVER);
    return { series: r.series, devices: (r.details as GpuDetails).devices };
  }
  /** Samples until `pred` holds (the fake re-reads its state file within ~20 ms of a change). */
  async function sampleUntil(
    pred: (s: { series: SeriesMap; devices: GpuDevice[] }) => boolean,
    what: string,
  ): Promise<{ series: SeriesMap; devices: GpuDevice[] }> {
    return waitFor(
      async () => {
        const s = await sample();
        return pred(s) ? s : null;
      },
      5000,
      what,
    );
  }

  it('per-link rx/tx rates from the throughput counters across two ticks, summed per GPU; a counter reset gives null, not a spike', async () => {
    const base: FakeGpuState = { count: 2, 'gpu.0.nvlinks': 4, 'gpu.0.nvlink_rx_kib': 1000, 'gpu.0.nvlink_tx_kib': 5000, 'gpu.0.nvlink_ts_us': T0_US };
    h = gpuHarness({ nvmlPath: lib }, base);
    await h.source.probe(NEVER);
    let s = await sample();
    // The same time stamp as the probe's read: the same sample, so no rate yet.
    assert.equal(s.series['gpu.0.nvlink.0.link_rx_bytes_per_second'], null);
    assert.equal(s.series['gpu.0.nvlink_rx_bytes_per_second'], null);
    assert.equal(s.devices[0].nvlink?.throughputCounters, 'data');

    // 2 s later link l has moved 2000·(l+1) KiB in and 4000·(l+1) KiB out.
    h.setState({ ...base, 'gpu.0.nvlink_rx_kib': 3000, 'gpu.0.nvlink_tx_kib': 9000, 'gpu.0.nvlink_ts_us': T0_US + 2_000_000 });
    s = await sampleUntil((x) => x.series['gpu.0.nvlink.0.link_rx_bytes_per_second'] !== null, 'the second reading');
    for (let l = 0; l < 4; l++) {
      assert.equal(s.series[`gpu.0.nvlink.${l}.link_rx_bytes_per_second`], (2000 * (l + 1) * KIB) / 2, `link ${l} rx`);
      assert.equal(s.series[`gpu.0.nvlink.${l}.link_tx_bytes_per_second`], (4000 * (l + 1) * KIB) / 2, `link ${l} tx`);
      assert.equal(s.devices[0].nvlink?.links[l].rxBytesPerSecond, (2000 * (l + 1) * KIB) / 2);
    }
    assert.equal(s.series['gpu.0.nvlink_rx_bytes_per_second'], (2000 * 10 * KIB) / 2, 'the GPU: the sum of its links');
    assert.equal(s.series['gpu.0.nvlink_tx_bytes_per_second'], (4000 * 10 * KIB) / 2);
    assert.equal(Object.keys(s.series).filter((k) => k.startsWith('gpu.0.nvlink.')).length, 8, 'two series per active link, none for the 14 inactive ones');
    assert.equal(Object.keys(s.series).filter((k) => k.startsWith('gpu.1.nvlink.')).length, 0, 'a GPU without NVLink has no link series');
    assert.deepEqual(mapSeries('gpu.0.nvlink.3.link_rx_bytes_per_second'), {
      name: 'rigwatch_gpu_nvlink_link_rx_bytes_per_second',
      labels: { gpu: '0', nvlink: '3' },
    });

    // Counters cleared (nvidia-smi nvlink -r, driver reload): one null interval, then rates again.
    h.setState({ ...base, 'gpu.0.nvlink_rx_kib': 10, 'gpu.0.nvlink_tx_kib': 10, 'gpu.0.nvlink_ts_us': T0_US + 3_000_000 });
    s = await sampleUntil((x) => x.series['gpu.0.nvlink.0.link_rx_bytes_per_second'] === null, 'the reset');
    assert.equal(s.series['gpu.0.nvlink.3.link_tx_bytes_per_second'], null);
    assert.equal(s.series['gpu.0.nvlink_rx_bytes_per_second'], null, 'no sum of nothing');
    h.setState({ ...base, 'gpu.0.nvlink_rx_kib': 510, 'gpu.0.nvlink_tx_kib': 10, 'gpu.0.nvlink_ts_us': T0_US + 4_000_000 });
    s = await sampleUntil((x) => x.series['gpu.0.nvlink.0.link_rx_bytes_per_second'] !== null, 'rates after the reset');
    assert.equal(s.series['gpu.0.nvlink.1.link_rx_bytes_per_second'], 500 * 2 * KIB);
    assert.equal(s.series['gpu.0.nvlink.1.link_tx_bytes_per_second'], 0);
    assert.equal(h.logs.filter((l) => /warn|error/i.test(l) && l.includes('NVLink')).length, 0, 'nothing to warn about');
  });

  it('throughput counters answering NOT_SUPPORTED: per-link and GPU rates null (never 0) with one reason; DATA unsupported falls back to RAW', async () => {
    const base: FakeGpuState = {
      count: 2,
      'gpu.*.nvlinks': 2,
      'gpu.*.nvlink_rx_kib': 100,
      'gpu.*.nvlink_tx_kib': 100,
      'gpu.*.nvlink_ts_us': T0_US,
      'gpu.0.unsupported': 'nvlink_tput',
      'gpu.1.unsupported': 'nvlink_data',
    };
    h = gpuHarness({ nvmlPath: lib }, base);
    await h.source.probe(NEVER);
    await sample();
    h.setState({ ...base, 'gpu.*.nvlink_rx_kib': 300, 'gpu.*.nvlink_ts_us': T0_US + 1_000_000 });
    const s = await sampleUntil((x) => x.series['gpu.1.nvlink.0.link_rx_bytes_per_second'] !== null, 'RAW rates on GPU 1');
    for (const k of [
      'gpu.0.nvlink.0.link_rx_bytes_per_second',
      'gpu.0.nvlink.1.link_tx_bytes_per_second',
      'gpu.0.nvlink_rx_bytes_per_second',
      'gpu.0.nvlink_tx_bytes_per_second',
    ])
      assert.equal(s.series[k], null, k);
    const d0 = s.devices[0];
    assert.match(d0.nvlink?.throughputUnavailable ?? '', /NVLink throughput counters not supported/);
    assert.equal(d0.nvlink?.links[0].rxBytesPerSecond, null);
    assert.equal(d0.unavailable?.nvlink_rx_bytes_per_second, d0.nvlink?.throughputUnavailable, 'the n/a reason of the GPU value');
    assert.equal(d0.nvlink?.links[0].active, true, 'state and error counters still read');
    // The warning comes from the NVML worker thread (posted): under load it may land after the sample.
    const logs = (h as GpuHarness).logs;
    await waitFor(() => logs.some((l) => l.includes('NVLink throughput counters')), 5000, 'the NVLink warning');
    await sample();
    assert.equal(logs.filter((l) => l.includes('NVLink throughput counters')).length, 1, 'warned once for GPU 0, not every tick');
    assert.equal(s.series['gpu.1.nvlink.1.link_rx_bytes_per_second'], 200 * 2 * KIB, 'RAW counters of GPU 1');
    assert.equal(s.devices[1].nvlink?.throughputCounters, 'raw');
    assert.ok(s.devices[1].notes.some((n) => n.includes('RAW counters')));
  });

  it('MIG instance GPM answering NOT_SUPPORTED: SM activity null with the reason, warned once, VRAM still per instance', async () => {
    h = gpuHarness(
      { nvmlPath: lib },
      { count: 1, 'gpu.0.mig': 1, 'gpu.0.mig_instances': 2, 'gpu.0.gpm': 1, 'gpu.0.mig_sm': 20, fail: 'nvmlGpmMigSampleGet:3:0' },
    );
    await h.source.probe(NEVER);
    await sample();
    const s = await sample();
    assert.equal(s.series['gpu.0.mig.1.sm_activity_ratio'], null, 'null, never 0');
    assert.equal(s.series['gpu.0.mig.2.memory_total_bytes'], Math.floor(85899345920 / 7) * 2);
    assert.match(s.devices[0].mig?.smActivityUnavailable ?? '', /needs GPM/);
    assert.ok(s.devices[0].mig?.notAvailable.includes('GPM'));
    assert.equal(h.logs.filter((l) => l.includes('nvmlGpmMigSampleGet is not supported')).length, 1);
  });

  it('MIG: series per GPU instance (VRAM, GPM SM activity); a destroyed instance ends its series without an error, a new one starts its own', async () => {
    const GIB = 1073741824;
    const base: FakeGpuState = {
      count: 2,
      'gpu.0.mig': 1,
      'gpu.0.mig_instances': 3,
      'gpu.0.mig_mem_used': 2 * GIB,
      'gpu.0.gpm': 1,
      'gpu.0.mig_sm': 20,
      'gpu.1.mig': 1,
      'gpu.1.mig_instances': 1,
    };
    h = gpuHarness({ nvmlPath: lib, migDiscoveryIntervalMs: 100 }, base);
    await h.source.probe(NEVER);
    await new Promise((r) => setTimeout(r, 20));
    let s = await sample();
    const slice = Math.floor(85899345920 / 7);
    for (const gi of [1, 2, 3]) {
      assert.equal(s.series[`gpu.0.mig.${gi}.memory_used_bytes`], 2 * GIB, `GI ${gi} used`);
      assert.equal(s.series[`gpu.0.mig.${gi}.memory_total_bytes`], slice * gi, `GI ${gi} total`);
      assert.equal(s.series[`gpu.0.mig.${gi}.sm_activity_ratio`], (20 + gi) / 100, `GI ${gi} SM activity`);
    }
    assert.equal(s.devices[0].mig?.instances[1].smActivityRatio, 0.22);
    assert.deepEqual(s.devices[0].mig?.perInstance, ['VRAM', 'SM activity']);
    assert.ok(!s.devices[0].mig?.notAvailable.includes('GPM'));
    assert.equal(s.devices[0].mig?.smActivityUnavailable, undefined);
    assert.equal(s.series['gpu.0.utilization_ratio'], null, 'the parent GPU still has no utilisation under MIG');
    // GPU 1: no GPM: SM activity null with the reason, VRAM per instance all the same.
    assert.equal(s.series['gpu.1.mig.1.sm_activity_ratio'], null);
    assert.equal(s.series['gpu.1.mig.1.memory_total_bytes'], slice);
    assert.match(s.devices[1].mig?.smActivityUnavailable ?? '', /needs GPM/);
    assert.deepEqual(mapSeries('gpu.0.mig.2.memory_used_bytes'), { name: 'rigwatch_gpu_mig_memory_used_bytes', labels: { gpu: '0', mig: '2' } });

    // An administrator destroys GPU instance 3: its handle stops answering; its series end at once.
    h.setState({ ...base, 'gpu.0.mig_instances': 2 });
    s = await sampleUntil((x) => !('gpu.0.mig.3.memory_used_bytes' in x.series), 'GI 3 gone');
    assert.equal(s.devices[0].mig?.instances.length, 2);
    assert.equal(s.series['gpu.0.mig.2.memory_used_bytes'], 2 * GIB, 'the others keep reading');
    assert.equal(s.series['gpu.0.mig.2.sm_activity_ratio'], 0.22);
    assert.ok(!Object.keys(s.series).some((k) => k.startsWith('gpu.0.mig.3.')), 'no GI 3 series left, not even null');
    // And creates it again: found at the next look-up, SM activity from its second sample.
    h.setState({ ...base, 'gpu.0.mig_sm': 40 });
    s = await sampleUntil((x) => x.series['gpu.0.mig.3.sm_activity_ratio'] === 0.43, 'GI 3 back');
    assert.equal(s.series['gpu.0.mig.3.memory_total_bytes'], slice * 3);
    assert.equal(h.logs.filter((l) => /warn|error/i.test(l) && /MIG|nvmlDeviceGetMemoryInfo/.test(l)).length, 0, 'no warning or error about it');
  });
});
