// The GPU view adapter's health lines (issue 12): NVLink, throttle shares, energy — through the Services tree.

import { strict as assert } from 'node:assert';
import { servicesTree } from '../../extension/views/services-model';
import type { GpuDetails } from '../../protocol/details/gpu';
import { liveSnapshot, twoGpuSample } from './fixtures';
import { counterIncrease } from '../../client/views/adapters/gpu';

describe('GPU adapter: health lines in the tooltip', () => {
  it('NVLink: links up, the ones down by number, throughput and error counters; nothing on a GPU without links', () => {
    const sample = twoGpuSample();
    const det = sample.details.gpu as GpuDetails;
    det.devices[1].nvlink = {
      links: [0, 1, 2, 3].map((link) => ({ link, active: link !== 2, crcErrors: 1, replayErrors: 0, recoveryErrors: link === 3 ? 2 : 0 })),
    };
    Object.assign(sample.series, {
      'gpu.1.nvlink_links_count': 4,
      'gpu.1.nvlink_links_active_count': 3,
      'gpu.1.nvlink_crc_errors_count': 4,
      'gpu.1.nvlink_replay_errors_count': 0,
      'gpu.1.nvlink_recovery_errors_count': 2,
      'gpu.1.nvlink_rx_bytes_per_second': 100 * 1048576,
      'gpu.1.nvlink_tx_bytes_per_second': 200 * 1048576,
    });
    const [conn] = servicesTree([liveSnapshot(sample)]);
    const [g0, g1] = conn.children![0].children!;
    assert.doesNotMatch(g0.tooltip!, /NVLink/);
    const line = g1.tooltip!.split('\n\n').find((l) => l.startsWith('NVLink'));
    assert.match(line ?? '', /^NVLink 3\/4 links up \(down: 2\) · rx 10\d(\.\d)? MiB\/s · tx 2\d\d(\.\d)? MiB\/s · errors: CRC 4, replay 0, recovery 2$/);
  });

  it('NVLink: the busiest link by rx + tx from the per-link rates; a GPU whose counters are unsupported says so', () => {
    const sample = twoGpuSample();
    const det = sample.details.gpu as GpuDetails;
    const rate = (l: number): number => [1, 5, 3][l] * 1048576;
    det.devices[0].nvlink = {
      links: [0, 1, 2].map((link) => ({
        link,
        active: true,
        crcErrors: 0,
        replayErrors: 0,
        recoveryErrors: 0,
        rxBytesPerSecond: rate(link),
        txBytesPerSecond: link === 1 ? null : rate(link),
      })),
      throughputCounters: 'data',
    };
    det.devices[1].nvlink = {
      links: [{ link: 0, active: true, crcErrors: 0, replayErrors: 0, recoveryErrors: 0, rxBytesPerSecond: null, txBytesPerSecond: null }],
      throughputUnavailable: 'NVLink throughput counters not supported',
    };
    const [conn] = servicesTree([liveSnapshot(sample)]);
    const [g0, g1] = conn.children![0].children!;
    const line0 = g0.tooltip!.split('\n\n').find((l) => l.startsWith('NVLink')) ?? '';
    // Link 1 has 5 MiB/s in and no tx rate (5 in all); link 2 has 3 + 3 = 6: link 2 is the busiest.
    assert.match(line0, / · busiest link 2: rx 3(\.0\d?)? MiB\/s · tx 3(\.0\d?)? MiB\/s/);
    const line1 = g1.tooltip!.split('\n\n').find((l) => l.startsWith('NVLink')) ?? '';
    assert.match(line1, /throughput n\/a \(counters not supported\)/);
    assert.doesNotMatch(line1, /busiest/);
  });

  it('throttle: SM clock of max, then power cap and thermal always and the other reasons only when they held', () => {
    const sample = twoGpuSample();
    const det = sample.details.gpu as GpuDetails;
    det.devices[0].throttle = {
      windowMs: 300_000,
      reasons: [
        { reason: 'power_cap', label: 'power cap', windowRatio: 0.62, lastRatio: 1 },
        { reason: 'thermal', label: 'thermal', windowRatio: 0, lastRatio: 0 },
        { reason: 'hw_slowdown', label: 'HW slowdown', windowRatio: 0, lastRatio: 0 },
        { reason: 'idle', label: 'idle', windowRatio: 0.3, lastRatio: 0 },
      ],
    };
    Object.assign(sample.series, { 'gpu.0.sm_clock_hertz': 1.2e9, 'gpu.0.sm_clock_max_hertz': 1.98e9 });
    const [conn] = servicesTree([liveSnapshot(sample)]);
    const [g0, g1] = conn.children![0].children!;
    const line = g0.tooltip!.split('\n\n').find((l) => l.includes('Throttle'));
    assert.equal(line, 'SM clock 1.2 GHz of 1.98 GHz · Throttle, last 5 min: power cap 62 % · thermal 0 % · idle 30 %');
    assert.doesNotMatch(g1.tooltip!, /Throttle,/, 'nothing before the window has a tick');
  });

  it("energy over a range: the counter's rises summed; a drop is a driver reload counted from 0; nulls skipped", () => {
    const pts = (ys: (number | null)[]) => ys.map((y) => ({ y }));
    assert.equal(counterIncrease(pts([1000, 1100, null, 1300])), 300);
    assert.equal(counterIncrease(pts([5000, 5100, 40, 90])), 100 + 40 + 50, 'reset to 0 then 40 J');
    assert.equal(counterIncrease(pts([5000])), null, 'one point tells nothing');
    assert.equal(counterIncrease(pts([null, null])), null);
  });

  it('MIG: each instance with its VRAM in the tooltip; nothing without MIG', () => {
    const sample = twoGpuSample();
    const det = sample.details.gpu as GpuDetails;
    det.devices[1].mig = {
      instances: [
        { gpuInstanceId: 1, computeInstanceId: 0, memoryUsedBytes: 2 * 1024 ** 3, memoryTotalBytes: 10 * 1024 ** 3 },
        { gpuInstanceId: 2, computeInstanceId: 0, memoryUsedBytes: null, memoryTotalBytes: 20 * 1024 ** 3, smActivityRatio: 0.31 },
      ],
      perInstance: ['VRAM'],
      notAvailable: ['utilisation'],
    };
    const [conn] = servicesTree([liveSnapshot(sample)]);
    const [g0, g1] = conn.children![0].children!;
    assert.doesNotMatch(g0.tooltip!, /MIG/);
    assert.match(g1.tooltip!, /\n\nMIG: GI 1 2(\.0)?\/10 GiB · GI 2 .*\/20 GiB SM 31 %(\n|$)/);
  });
});
