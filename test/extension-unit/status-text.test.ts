import { strict as assert } from 'node:assert';
import { formatPercent, formatUsedTotal, type SampleMessage } from '../../protocol';
import { allGpusText, parseGpuChoice, pickGpu, plainWords, statusView } from '../../extension/views/status-text';
import { gpuReadings } from '../../extension/views/snapshot';
import { alert, hostOnlySample, liveSnapshot, SOURCES, twoGpuSample } from './fixtures';

const GIB = 1024 ** 3;

/** A busy 8-GPU box: GPU 3 the busiest, GPU 5 the fullest. */
function eightGpus(): SampleMessage {
  const series: SampleMessage['series'] = {};
  const utils = [0.97, 0.96, 0.95, 0.98, 0.0, 0.5, 0.97, 0.97];
  utils.forEach((u, i) => {
    series[`gpu.${i}.utilization_ratio`] = u;
    series[`gpu.${i}.memory_used_bytes`] = (i === 5 ? 79 : 71) * GIB;
    series[`gpu.${i}.memory_total_bytes`] = 80 * GIB;
    series[`gpu.${i}.temperature_celsius`] = 63;
  });
  return { type: 'sample', t: 1_700_000_000_000, series, details: {} };
}

describe('extension status text', () => {
  it('formats percentages and GiB with the protocol formatter', () => {
    assert.equal(formatPercent(0.424), '42 %');
    assert.equal(formatUsedTotal(10.2 * GIB, 80 * GIB, true), '10/80 GiB');
    assert.equal(formatUsedTotal(2.5 * GIB, 80 * GIB, true), '2.5/80 GiB');
  });

  it('tooltip: "kernel time" (NVML utilisation) with GPM SM activity beside it where a GPU reports it', () => {
    const plain = statusView(liveSnapshot(twoGpuSample()), 'busiest').tooltip;
    assert.match(plain, /\| GPU \| Kernel time \| VRAM \|/);
    assert.doesNotMatch(plain, /SM active/);
    const sample = twoGpuSample();
    sample.series['gpu.1.sm_activity_ratio'] = 0.17;
    const tip = statusView(liveSnapshot(sample), 'busiest').tooltip;
    assert.match(tip, /\| GPU \| Kernel time \| SM active \| VRAM \|/);
    assert.match(tip, /\| 1 NVIDIA A100\\-SXM4\\-80GB \| 42 % \| 17 % \|/);
    assert.match(tip, /\| 0 NVIDIA A100\\-SXM4\\-80GB \| 12 % \| n\/a \|/);
  });

  it('shows the busiest GPU by default and names it', () => {
    const v = statusView(liveSnapshot(twoGpuSample()), 'busiest');
    assert.equal(v.text, '$(pulse) GPU1 42 % · 10/80 GiB');
    assert.equal(v.severity, undefined);
    assert.equal(statusView(liveSnapshot(eightGpus()), 'busiest').text, '$(pulse) GPU3 98 % · 71/80 GiB');
  });

  it('shows a chosen index, and falls back to the busiest for a missing index', () => {
    assert.equal(statusView(liveSnapshot(twoGpuSample()), 0).text, '$(pulse) GPU0 12 % · 2.5/80 GiB');
    assert.equal(statusView(liveSnapshot(twoGpuSample()), 7).text, '$(pulse) GPU1 42 % · 10/80 GiB');
  });

  it('shows a compact list for "all", and block glyphs plus the fullest VRAM for 8 GPUs', () => {
    assert.equal(statusView(liveSnapshot(twoGpuSample()), 'all').text, '$(pulse) 0: 12 % 2.5/80 GiB · 1: 42 % 10/80 GiB');
    const eight = statusView(liveSnapshot(eightGpus()), 'all');
    // One glyph per GPU (GPU 4 idle, GPU 5 half busy), then the VRAM used on the fullest GPU (GPU 5).
    assert.equal(eight.text, '$(pulse) ████▁▅██ 79 GiB');
    // Fits VS Code's limit at a 420 px window (40 % = 162 px): 8 glyphs of ≈9 px and ≈45 px of figure at 12 px
    // (measured in code-server by the in-VS Code suite 07-everyday).
    assert.ok(plainWords(eight.text).length <= 16, eight.text);
    assert.equal(allGpusText(gpuReadings(eightGpus())), plainWords(eight.text));
    // The screen reader hears plain words: no glyphs, no icon or Markdown syntax.
    assert.equal(eight.accessibilityLabel, 'Rigwatch: 8 GPUs busy 0 % to 98 %, busiest GPU 3; fullest memory GPU 5, 79 of 80 GiB used');
    assert.doesNotMatch(eight.accessibilityLabel, /[▁-█]|\$\(|\*\*|\|/);
    // The full table stays in the tooltip, with a legend for the glyphs.
    assert.equal((eight.tooltip.match(/^\| \d /gm) ?? []).length, 8);
    assert.match(eight.tooltip, /^Status bar: one block per GPU, ▁ idle … █ busy; then VRAM used on the fullest GPU \(GPU 5\)\.$/m);
    assert.doesNotMatch(statusView(liveSnapshot(eightGpus()), 'busiest').tooltip, /Status bar:/);
  });

  it('16 GPUs still fit: one glyph per pair of GPUs, showing the less busy one so an idle GPU is not hidden', () => {
    const series: SampleMessage['series'] = {};
    for (let i = 0; i < 16; i++) {
      series[`gpu.${i}.utilization_ratio`] = i === 9 ? 0 : 0.97;
      series[`gpu.${i}.memory_used_bytes`] = (i === 12 ? 78 : 40) * GIB;
      series[`gpu.${i}.memory_total_bytes`] = 80 * GIB;
    }
    const v = statusView(liveSnapshot({ type: 'sample', t: 1, series, details: {} }), 'all');
    assert.equal(v.text, '$(pulse) ████▁███ 78 GiB');
    assert.match(v.tooltip, /one block per 2 GPUs \(the least busy of them\).*fullest GPU \(GPU 12\)/);
    assert.match(v.accessibilityLabel, /^Rigwatch: 16 GPUs busy 0 % to 97 %, busiest GPU 0; fullest memory GPU 12, 78 of 80 GiB used$/);
  });

  it('says what is wrong when coloured, and leaves acknowledged or muted alerts out', () => {
    const t = 1_700_000_000_000;
    const hot = alert('gpu-temperature:gpu.3.temperature_celsius', 'firing', 'critical', t, {
      value: 91,
      unit: 'celsius',
      message: 'GPU 3 temperature 91 °C (above 86 °C; slowdown at 87 °C)',
    });
    const v = statusView(liveSnapshot(eightGpus(), [hot]), 'busiest', t);
    assert.deepEqual([v.text, v.severity], ['$(error) GPU3 91 °C', 'critical']);
    assert.equal(
      v.accessibilityLabel,
      'Rigwatch: critical alert: GPU 3 temperature 91 °C (above 86 °C; slowdown at 87 °C). GPU 3 98 % busy, 71 of 80 GiB memory used',
    );
    assert.doesNotMatch(v.accessibilityLabel, /\$\(|\*\*|\|/);
    const acked = statusView(liveSnapshot(eightGpus(), [{ ...hot, acknowledged: true }]), 'busiest', t);
    assert.deepEqual([acked.text, acked.severity], ['$(pulse) GPU3 98 % · 71/80 GiB', undefined]);
    const muted = statusView(liveSnapshot(eightGpus(), [{ ...hot, mutedUntil: t + 60_000 }]), 'busiest', t);
    assert.equal(muted.severity, undefined);
    const disk = alert('host-disk:host.mount.root.used_ratio', 'firing', 'warning', t, { message: 'Disk root used 85 % (above 80 %)' });
    assert.equal(statusView(liveSnapshot(eightGpus(), [disk, hot]), 'busiest', t).text, '$(error) GPU3 91 °C +1');
  });

  it('shows host CPU/RAM when there is no GPU', () => {
    const snap = liveSnapshot(
      hostOnlySample(),
      [],
      SOURCES.map((s) => (s.kind === 'gpu' ? { ...s, state: 'unavailable' as const, reason: 'libnvidia-ml.so.1 not found' } : s)),
    );
    const v = statusView(snap, 'busiest');
    assert.equal(v.text, '$(pulse) CPU 7 % · RAM 3/24 GiB');
    assert.match(v.tooltip, /No GPU: libnvidia\\-ml\\\.so\\\.1 not found/);
  });

  it('is honest about connection states', () => {
    const base = liveSnapshot(twoGpuSample());
    assert.match(statusView({ ...base, state: 'reconnecting', reason: 'connection refused' }, 'busiest').text, /reconnecting/);
    assert.match(statusView({ ...base, state: 'connecting', latest: undefined }, 'busiest').text, /connecting/);
    assert.match(statusView({ ...base, state: 'failed', reason: 'token rejected' }, 'busiest').text, /not connected/);
    assert.match(statusView({ ...base, state: 'failed', reason: 'token rejected' }, 'busiest').tooltip, /failed — token rejected/);
    assert.match(statusView({ ...base, state: 'polling' }, 'busiest').text, /^\$\(pulse\) GPU1 42 % .* \$\(warning\)$/);
    assert.equal(statusView(undefined, 'busiest').text, '$(pulse) Rigwatch');
  });

  it('takes the worst firing alert as severity, ignoring pending and resolved', () => {
    const t = 1_700_000_000_000;
    const s = (alerts: ReturnType<typeof alert>[]) => statusView(liveSnapshot(twoGpuSample(), alerts), 'busiest').severity;
    assert.equal(s([alert('a:x', 'pending', 'critical', t)]), undefined);
    assert.equal(s([alert('a:x', 'firing', 'warning', t), alert('b:y', 'resolved', 'critical', t)]), 'warning');
    assert.equal(s([alert('a:x', 'firing', 'warning', t), alert('b:y', 'firing', 'critical', t)]), 'critical');
  });

  it('puts every GPU, host CPU/RAM and the connection state in the tooltip table', () => {
    const tip = statusView(liveSnapshot(twoGpuSample()), 'busiest').tooltip;
    assert.match(tip, /\| GPU \| Kernel time \| VRAM \| Temp \| Power \|/);
    assert.match(tip, /\| 0 NVIDIA A100\\-SXM4\\-80GB \| 12 % \| 2\.5\/80 GiB \| 41 °C \| 60 W \/ 400 W \|/);
    assert.match(tip, /\| 1 NVIDIA A100\\-SXM4\\-80GB \| 42 % \| 10\.2\/80 GiB \| 67 °C \| n\/a \|/);
    assert.match(tip, /Host CPU 25 % · RAM 5\.1\/16 GiB/);
    assert.match(tip, /Connection: live/);
  });

  it('parses the GPU choice setting', () => {
    assert.equal(parseGpuChoice('busiest'), 'busiest');
    assert.equal(parseGpuChoice('all'), 'all');
    assert.equal(parseGpuChoice('2'), 2);
    assert.equal(parseGpuChoice(1), 1);
    assert.equal(parseGpuChoice('nonsense'), 'busiest');
    assert.equal(pickGpu([], 'busiest'), undefined);
    assert.deepEqual(
      gpuReadings(twoGpuSample()).map((g) => g.index),
      [0, 1],
    );
  });
});
