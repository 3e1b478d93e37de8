// The dashboard's pure pieces, without a browser: chart buffers, formatting, time ticks, UI state,
// process sorting and the container tracker.

import * as assert from 'node:assert/strict';
import type { GpuProcess } from '../../protocol/details/gpu';
import { fmtBytes, fmtCelsius, fmtPercent, fmtRate, fmtSeconds, formatterFor, NA, timeTicks } from '../../webview/format';
import { SeriesBuffer } from '../../webview/series-buffer';
import { parseUiState } from '../../webview/state';
import { sortProcesses } from '../../webview/components/rw-gpu-processes';
import { trackRuns } from '../../webview/components/rw-container-timeline';
import { alertChanges } from '../../client/http-poll';

describe('webview: SeriesBuffer', () => {
  it('averages samples that fall in the same bucket and starts a new point per bucket', () => {
    const b = new SeriesBuffer(1000, 5000);
    b.append(10_000, 1);
    b.append(10_400, 3);
    b.append(11_000, 5);
    assert.deepEqual(b.points, [
      { x: 10_000, y: 2 },
      { x: 11_000, y: 5 },
    ]);
  });

  it('keeps null as a gap and breaks the line after a silence', () => {
    const b = new SeriesBuffer(1000, 3000);
    b.append(1000, 1);
    b.append(2000, null);
    b.append(3000, 2);
    b.append(20_000, 4);
    assert.deepEqual(
      b.points.map((p) => p.y),
      [1, null, 2, null, 4],
      'a null sample and a silence are both gaps',
    );
    assert.ok(!b.points.some((p) => p.y === 0), 'missing never becomes 0');
  });

  it('trims to the window and to a point cap, keeping one point before the window edge', () => {
    const b = new SeriesBuffer(1000, 5000);
    for (let t = 0; t < 100_000; t += 1000) b.append(t, t);
    b.trim(50_500, 1000);
    assert.equal(b.points[0].x, 50_000);
    b.trim(0, 10);
    assert.equal(b.points.length, 10);
    assert.equal(b.points[9].x, 99_000);
  });

  it('stays bounded over a long run when trimmed every sample', () => {
    const b = new SeriesBuffer(500, 2000);
    for (let t = 0; t < 3_600_000; t += 100) {
      b.append(t, Math.sin(t));
      b.trim(t - 120_000, 2000);
    }
    assert.ok(b.points.length <= 242, `points ${b.points.length}`);
  });

  it('reset takes history avg values and keeps live points newer than the answer', () => {
    const b = new SeriesBuffer(1000, 5000);
    b.append(50_000, 9);
    b.reset(10_000, 30_000, [
      [0, 1, 2, 3],
      [10_000, 4, 5, 6],
      [20_000, null, null, null],
    ]);
    assert.deepEqual(
      b.points.map((p) => [p.x, p.y]),
      [
        [0, 2],
        [10_000, 5],
        [20_000, null],
        [50_000, 9],
      ],
    );
  });

  it('backfill inserts raw points after `since` beneath live points received meanwhile', () => {
    const b = new SeriesBuffer(1000, 60_000);
    b.append(1000, 1);
    b.append(9000, 9);
    b.backfill(1000, [
      [2000, 2, 2, 2],
      [3000, 3, 3, 3],
    ]);
    assert.deepEqual(
      b.points.map((p) => p.x),
      [1000, 2000, 3000, 9000],
    );
  });
});

describe('webview: formatting', () => {
  it('renders missing values as n/a, never 0', () => {
    for (const f of [fmtBytes, fmtPercent, fmtCelsius, fmtRate, fmtSeconds]) {
      assert.equal(f(null), NA);
      assert.equal(f(undefined), NA);
      assert.equal(f(Number.NaN), NA);
    }
    assert.equal(fmtPercent(0), '0 %', 'a real 0 stays 0');
  });

  it('formats base units for people', () => {
    assert.equal(fmtBytes(10.2 * 2 ** 30), '10.2 GiB');
    assert.equal(fmtPercent(0.423), '42 %');
    assert.equal(fmtSeconds(0.0123), '12.3 ms');
    assert.equal(fmtSeconds(200), '3 min 20 s');
    assert.equal(formatterFor('gpu.0.temperature_celsius')(71.6), '72 °C');
    assert.equal(formatterFor('host.net_rx_bytes_per_second')(2048), '2 KiB/s');
  });

  it('places time ticks on round local times, within the limit', () => {
    const min = Date.UTC(2026, 0, 1, 10, 0, 7);
    const ticks = timeTicks(min, min + 15 * 60_000, 6);
    assert.ok(ticks.length >= 3 && ticks.length <= 6, `${ticks.length} ticks`);
    for (const t of ticks) assert.equal(new Date(t).getSeconds(), 0);
    assert.deepEqual(timeTicks(5, 5, 6), []);
  });
});

describe('webview: UI state and tables', () => {
  it('accepts only valid persisted UI state', () => {
    assert.deepEqual(parseUiState({ range: '24h', mode: 'basic', gpuView: 'compare', gpu: 3 }), { range: '24h', mode: 'basic', gpuView: 'compare', gpu: 3 });
    assert.deepEqual(parseUiState({ range: '3y', mode: 'x', gpu: -1 }), { range: 'live', mode: 'advanced', gpuView: 'single', gpu: 0 });
    assert.deepEqual(parseUiState('garbage'), parseUiState(undefined));
  });

  it('sorts processes with missing values last in both directions', () => {
    const p = (pid: number, mem: number | null): GpuProcess => ({
      pid,
      name: `p${pid}`,
      user: null,
      gpuIndex: 0,
      usedMemoryBytes: mem,
      smUtilRatio: null,
      type: 'compute',
    });
    const list = [p(1, 10), p(2, null), p(3, 30)];
    assert.deepEqual(
      sortProcesses(list, 'usedMemoryBytes', -1).map((x) => x.pid),
      [3, 1, 2],
    );
    assert.deepEqual(
      sortProcesses(list, 'usedMemoryBytes', 1).map((x) => x.pid),
      [1, 3, 2],
    );
  });

  it('turns container running/health series into coloured runs', () => {
    const running = new SeriesBuffer(1000, 5000);
    const health = new SeriesBuffer(1000, 5000);
    for (let t = 0; t < 10_000; t += 1000) {
      running.append(t, t < 8000 ? 1 : 0);
      health.append(t, t < 4000 ? 0 : 2);
    }
    const runs = trackRuns(running, health, 0, 10_000);
    assert.deepEqual(
      runs.map((r) => [r.state, r.from, r.to]),
      [
        ['ok', 0, 0.4],
        ['unhealthy', 0.4, 0.8],
        ['stopped', 0.8, 1],
      ],
    );
  });
});

describe('webview: SeriesBuffer cadence', () => {
  it('does not break the line of a series that is sampled less often than the tick', () => {
    const b = new SeriesBuffer(500, 1500);
    for (let t = 0; t <= 40_000; t += 3500) b.append(t, 1);
    assert.ok(!b.points.slice(2).some((p) => p.y === null), 'no gaps once the cadence is known');
    b.append(100_000, 1);
    assert.equal(b.points[b.points.length - 2].y, null, 'a real silence is still a gap');
  });
});

describe('webview: polling turns alert states into events', () => {
  it('reports new, changed and vanished alerts', () => {
    const a = (id: string, state: 'pending' | 'firing', severity: 'warning' | 'critical' = 'warning') => ({
      id,
      ruleId: id,
      series: `s.${id}_ratio`,
      state,
      severity,
      value: 1,
      threshold: 0.5,
      message: id,
      activeSince: 0,
      acknowledged: false,
    });
    let n = 0;
    const ev = alertChanges([a('x', 'pending'), a('y', 'firing')], [a('x', 'firing', 'critical'), a('z', 'pending')], 100, () => ++n);
    assert.deepEqual(
      ev.map((e) => [e.alert.id, e.transition, e.alert.state]),
      [
        ['x', 'firing', 'firing'],
        ['z', 'pending', 'pending'],
        ['y', 'resolved', 'resolved'],
      ],
    );
    assert.deepEqual(
      alertChanges([a('x', 'firing')], [a('x', 'firing')], 1, () => 0),
      [],
      'nothing changed, no events',
    );
  });
});
