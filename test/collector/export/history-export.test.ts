// History export formatters: CSV aligned on the union of bucket times, JSON with units and ISO times.

import { strict as assert } from 'node:assert';
import { parse } from 'csv-parse/sync';
import type { HistoryAnswer } from '../../../collector/contracts';
import { exportCsv, exportJson } from '../../../collector/export';
import { SERIES_UNITS } from '../../../protocol';

const T0 = Date.UTC(2026, 10, 22, 6, 0, 0);
const answer: HistoryAnswer = {
  from: T0,
  to: T0 + 30_000,
  series: [
    {
      name: 'gpu.0.temperature_celsius',
      stepMs: 10_000,
      points: [
        [T0, 60, 61.5, 63],
        [T0 + 10_000, 64, 65, 66],
        [T0 + 20_000, null, null, null],
      ],
    },
    {
      name: 'host.cpu_busy_ratio',
      stepMs: 5_000,
      points: [
        [T0 + 5_000, 0.1, 0.2, 0.3],
        [T0 + 10_000, 0.25, 0.25, 0.25],
      ],
    },
  ],
};

describe('history export', () => {
  it('CSV: one row per bucket time across series, empty cells where a series has no point', () => {
    const rows = parse(exportCsv(answer)) as string[][];
    const iso = (ms: number): string => new Date(T0 + ms).toISOString();
    assert.deepEqual(rows, [
      ['timestamp', 'gpu.0.temperature_celsius [°C]', 'host.cpu_busy_ratio [ratio]'],
      [iso(0), '61.5', ''],
      [iso(5_000), '', '0.2'],
      [iso(10_000), '65', '0.25'],
      [iso(20_000), '', ''],
    ]);
  });

  it('CSV with min/max columns', () => {
    const rows = parse(exportCsv(answer, { minMax: true })) as string[][];
    assert.deepEqual(rows[0], [
      'timestamp',
      'gpu.0.temperature_celsius [°C]',
      'min(gpu.0.temperature_celsius) [°C]',
      'max(gpu.0.temperature_celsius) [°C]',
      'host.cpu_busy_ratio [ratio]',
      'min(host.cpu_busy_ratio) [ratio]',
      'max(host.cpu_busy_ratio) [ratio]',
    ]);
    assert.deepEqual(rows[1]?.slice(1), ['61.5', '60', '63', '', '', '']);
  });

  it('CSV headers carry the unit of every series unit as the formatter spells it (values stay in base units)', () => {
    const t = T0;
    const names = SERIES_UNITS.map((u) => `x.${u === 'count' ? 'n' : 'v'}_${u}`);
    const header = parse(exportCsv({ from: t, to: t, series: names.map((name) => ({ name, stepMs: 1000, points: [] })) }))[0] as string[];
    assert.deepEqual(Object.fromEntries(SERIES_UNITS.map((u, i) => [u, header[i + 1]])), {
      bytes: 'x.v_bytes [B]',
      seconds: 'x.v_seconds [s]',
      ratio: 'x.v_ratio [ratio]',
      celsius: 'x.v_celsius [°C]',
      watts: 'x.v_watts [W]',
      hertz: 'x.v_hertz [Hz]',
      per_second: 'x.v_per_second [/s]',
      bytes_per_second: 'x.v_bytes_per_second [B/s]',
      count: 'x.n_count',
      info: 'x.v_info',
      state: 'x.v_state',
      total: 'x.v_total',
      joules: 'x.v_joules [J]',
    });
  });

  it('CSV of an empty answer is just the header', () => {
    assert.equal(exportCsv({ from: T0, to: T0, series: [] }), 'timestamp\r\n');
  });

  it('JSON: range, unit, step and points with ISO times', () => {
    const doc = JSON.parse(exportJson(answer)) as {
      from: number;
      toTime: string;
      series: {
        name: string;
        unit: string;
        stepMs: number;
        points: { t: number; time: string; min: number | null; avg: number | null; max: number | null }[];
      }[];
    };
    assert.equal(doc.from, T0);
    assert.equal(doc.toTime, new Date(T0 + 30_000).toISOString());
    assert.deepEqual(
      doc.series.map((s) => [s.name, s.unit, s.stepMs, s.points.length]),
      [
        ['gpu.0.temperature_celsius', 'celsius', 10_000, 3],
        ['host.cpu_busy_ratio', 'ratio', 5_000, 2],
      ],
    );
    assert.deepEqual(doc.series[0]?.points[2], { t: T0 + 20_000, time: new Date(T0 + 20_000).toISOString(), min: null, avg: null, max: null });
  });
});
