import { strict as assert } from 'node:assert';
import { formatGiBTotal, formatPercent, formatUsedTotal } from '../../extension/format';
import { parseGpuChoice, pickGpu, statusView } from '../../extension/views/status-text';
import { gpuReadings } from '../../extension/views/snapshot';
import { alert, hostOnlySample, liveSnapshot, SOURCES, twoGpuSample } from './fixtures';

describe('extension status text', () => {
  it('formats percentages and GiB like the spec example', () => {
    assert.equal(formatPercent(0.424), '42%');
    assert.equal(formatPercent(null), '–%');
    assert.equal(formatUsedTotal(10.2 * 1024 ** 3, 80 * 1024 ** 3), '10.2/80 GB');
    assert.equal(formatGiBTotal(15.6 * 1024 ** 3), '15.6');
    assert.equal(formatUsedTotal(null, 80 * 1024 ** 3), '–/80 GB');
  });

  it('tooltip: "kernel time" (NVML utilisation) with GPM SM activity beside it where a GPU reports it', () => {
    const plain = statusView(liveSnapshot(twoGpuSample()), 'busiest').tooltip;
    assert.match(plain, /\| GPU \| Kernel time \| VRAM \|/);
    assert.doesNotMatch(plain, /SM active/);
    const sample = twoGpuSample();
    sample.series['gpu.1.sm_activity_ratio'] = 0.17;
    const tip = statusView(liveSnapshot(sample), 'busiest').tooltip;
    assert.match(tip, /\| GPU \| Kernel time \| SM active \| VRAM \|/);
    assert.match(tip, /\| 1 NVIDIA A100\\-SXM4\\-80GB \| 42% \| 17% \|/);
    assert.match(tip, /\| 0 NVIDIA A100\\-SXM4\\-80GB \| 12% \| –% \|/);
  });

  it('shows the busiest GPU by default', () => {
    const v = statusView(liveSnapshot(twoGpuSample()), 'busiest');
    assert.equal(v.text, '$(pulse) GPU 42% · 10.2/80 GB');
    assert.equal(v.severity, undefined);
  });

  it('shows a chosen index, and falls back to the busiest for a missing index', () => {
    assert.equal(statusView(liveSnapshot(twoGpuSample()), 0).text, '$(pulse) GPU 12% · 2.5/80 GB');
    assert.equal(statusView(liveSnapshot(twoGpuSample()), 7).text, '$(pulse) GPU 42% · 10.2/80 GB');
  });

  it('shows a compact list for "all"', () => {
    assert.equal(statusView(liveSnapshot(twoGpuSample()), 'all').text, '$(pulse) 0: 12% 2.5/80 · 1: 42% 10.2/80 GB');
  });

  it('shows host CPU/RAM when there is no GPU', () => {
    const snap = liveSnapshot(hostOnlySample(), [], SOURCES.map((s) => (s.kind === 'gpu' ? { ...s, state: 'unavailable' as const, reason: 'libnvidia-ml.so.1 not found' } : s)));
    const v = statusView(snap, 'busiest');
    assert.equal(v.text, '$(pulse) CPU 7% · RAM 3.0/23.5 GB');
    assert.match(v.tooltip, /No GPU: libnvidia\\-ml\\\.so\\\.1 not found/);
  });

  it('is honest about connection states', () => {
    const base = liveSnapshot(twoGpuSample());
    assert.match(statusView({ ...base, state: 'reconnecting', reason: 'connection refused' }, 'busiest').text, /reconnecting/);
    assert.match(statusView({ ...base, state: 'connecting', latest: undefined }, 'busiest').text, /connecting/);
    assert.match(statusView({ ...base, state: 'failed', reason: 'token rejected' }, 'busiest').text, /not connected/);
    assert.match(statusView({ ...base, state: 'failed', reason: 'token rejected' }, 'busiest').tooltip, /failed — token rejected/);
    assert.match(statusView({ ...base, state: 'polling' }, 'busiest').text, /^\$\(pulse\) GPU 42% .* \$\(warning\)$/);
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
    assert.match(tip, /\| 0 NVIDIA A100\\-SXM4\\-80GB \| 12% \| 2\.5\/80 GB \| 41 °C \| 60\/400 W \|/);
    assert.match(tip, /\| 1 NVIDIA A100\\-SXM4\\-80GB \| 42% \| 10\.2\/80 GB \| 67 °C \| – \|/);
    assert.match(tip, /Host CPU 25% · RAM 5\.1\/16 GB/);
    assert.match(tip, /Connection: live/);
  });

  it('parses the GPU choice setting', () => {
    assert.equal(parseGpuChoice('busiest'), 'busiest');
    assert.equal(parseGpuChoice('all'), 'all');
    assert.equal(parseGpuChoice('2'), 2);
    assert.equal(parseGpuChoice(1), 1);
    assert.equal(parseGpuChoice('nonsense'), 'busiest');
    assert.equal(pickGpu([], 'busiest'), undefined);
    assert.deepEqual(gpuReadings(twoGpuSample()).map((g) => g.index), [0, 1]);
  });
});
