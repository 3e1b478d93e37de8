import { strict as assert } from 'node:assert';
import {
  formatCompared,
  formatDurationMs,
  formatInOneUnit,
  formatPercent,
  formatUsedTotal,
  formatValue,
  nice125,
  niceTicks,
  NO_DATA,
  SERIES_UNITS,
  type DisplayUnit,
} from '../../protocol';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

describe('protocol formatter', () => {
  it('formats every series unit with one spacing and binary prefixes', () => {
    const cases: Record<DisplayUnit, [number, string][]> = {
      ratio: [
        [0.93, '93 %'],
        [0.904, '90 %'],
        [0.9996, '99.96 %'],
        [0.996, '99.6 %'],
        [0.003, '0.3 %'],
        [1, '100 %'],
        [0, '0 %'],
      ],
      bytes: [
        [512 * MIB, '512 MiB'],
        [71.3 * GIB, '71.3 GiB'],
        [79.6 * GIB, '79.6 GiB'],
        [1000 * MIB, '0.98 GiB'],
        [1536, '1.5 KiB'],
        [12, '12 B'],
        [2 * 1024 * GIB, '2 TiB'],
      ],
      bytes_per_second: [
        [47.7 * MIB, '47.7 MiB/s'],
        [1000, '0.98 KiB/s'],
        [999, '999 B/s'],
        [2048, '2 KiB/s'],
      ],
      celsius: [
        [63.4, '63 °C'],
        [91, '91 °C'],
      ],
      joules: [
        [1.8e7, '5 kWh'],
        [5400, '1.5 Wh'],
        [500, '500 J'],
      ],
      watts: [
        [250.4, '250 W'],
        [0.9, '0.9 W'],
        [75.25, '75.3 W'],
      ],
      hertz: [
        [1.41e9, '1.41 GHz'],
        [877e6, '877 MHz'],
        [2500, '2.5 kHz'],
        [50, '50 Hz'],
      ],
      seconds: [
        [0.00085, '850 µs'],
        [0.0125, '12.5 ms'],
        [0.65, '650 ms'],
        [1.38, '1.38 s'],
        [200, '3 min 20 s'],
        [7500, '2 h 5 min'],
        [0, '0 s'],
      ],
      per_second: [
        [12.5, '12.5/s'],
        [1234, '1234/s'],
        [12_345, '12.3k/s'],
      ],
      count: [
        [3, '3'],
        [12_345, '12.3k'],
        [2_500_000, '2.5M'],
      ],
      total: [[42, '42']],
      state: [[1, '1']],
      info: [[7, '7']],
      multiple: [[2.4, '2.4×']],
    };
    for (const u of SERIES_UNITS) assert.ok(cases[u], `a case for unit ${u}`);
    for (const [unit, list] of Object.entries(cases)) {
      for (const [v, want] of list) assert.equal(formatValue(unit, v), want, `${unit} ${v}`);
      assert.equal(formatValue(unit, null), NO_DATA);
      assert.equal(formatValue(unit, Number.NaN), NO_DATA);
    }
  });

  it('takes the unit from a series name', () => {
    assert.equal(formatValue('gpu.0.memory_used_bytes', 71.3 * GIB), '71.3 GiB');
    assert.equal(formatValue('host.cpu_busy_ratio', 0.5), '50 %');
    assert.equal(formatValue('redis.main.ops_per_second', 5), '5/s');
    assert.equal(formatValue('host.net.eth0.rx_bytes_per_second', 5 * MIB), '5 MiB/s');
    assert.equal(formatValue('something.unknown', 0.8476157142857144), '0.85');
  });

  it('never prints a compared value equal to a different threshold', () => {
    assert.deepEqual(formatCompared('ratio', 0.904, 0.9), ['90.4 %', '90 %']);
    assert.deepEqual(formatCompared('ratio', 0.9, 0.9), ['90 %', '90 %']);
    assert.deepEqual(formatCompared('ratio', 0.9001, 0.9), ['90.01 %', '90 %']);
    assert.deepEqual(formatCompared('celsius', 85.2, 85), ['85.2 °C', '85 °C']);
    assert.deepEqual(formatCompared('bytes', GIB + 1024 * 1024, GIB), ['1.001 GiB', '1 GiB']);
    // A ratio rule prints percent for both sides, never the series' watts.
    assert.deepEqual(formatCompared('ratio', 0.928, 0.9), ['93 %', '90 %']);
  });

  it('prints used/total in one prefix chosen by the total', () => {
    assert.equal(formatUsedTotal(71.3 * GIB, 79.6 * GIB), '71.3/79.6 GiB');
    assert.equal(formatUsedTotal(512 * MIB, 79.6 * GIB), '0.5/79.6 GiB');
    assert.equal(formatUsedTotal(71.3 * GIB, 80 * GIB, true), '71/80 GiB');
    assert.equal(formatUsedTotal(79.7 * GIB, 80 * GIB, true), '79.7/80 GiB');
    assert.equal(formatUsedTotal(null, 80 * GIB), `${NO_DATA}/80 GiB`);
    assert.equal(formatUsedTotal(null, null), `${NO_DATA}/${NO_DATA}`);
  });

  it('prints a list of values in one prefix chosen by the largest', () => {
    // The dashboard's energy line once read `GPU 0 2 Wh · GPU 2 1549 J`.
    assert.deepEqual(formatInOneUnit('joules', [7200, 1549, 10296, null]), ['2 Wh', '0.43 Wh', '2.86 Wh', NO_DATA]);
    assert.deepEqual(formatInOneUnit('joules', [500, 20]), ['500 J', '20 J']);
    assert.deepEqual(formatInOneUnit('bytes', [2 * GIB, 512 * MIB]), ['2 GiB', '0.5 GiB']);
    // Units whose prefix is glued to the number keep formatValue's own form.
    assert.deepEqual(formatInOneUnit('ratio', [0.5, null]), [formatValue('ratio', 0.5), NO_DATA]);
  });

  it('keeps percentages honest at the ends', () => {
    assert.equal(formatPercent(0.9999), '99.99 %');
    assert.equal(formatPercent(0.0001), '0.01 %');
    assert.equal(formatPercent(0.5, 1), '50 %');
  });

  it('prints durations exactly', () => {
    assert.equal(formatDurationMs(30_000), '30 s');
    assert.equal(formatDurationMs(120_000), '2 min');
    assert.equal(formatDurationMs(3_600_000), '1 h');
    assert.equal(formatDurationMs(1500), '1.5 s');
  });
});

describe('nice ticks', () => {
  it('picks 1-2-5 steps', () => {
    assert.equal(nice125(0.3), 0.5);
    assert.equal(nice125(18.6), 20);
    assert.equal(nice125(1), 1);
    assert.equal(nice125(1.2), 2);
    assert.equal(nice125(7), 10);
  });

  it('ends a VRAM axis at the card total with GiB steps', () => {
    const a = niceTicks('gpu.0.memory_used_bytes', 0, 74.5 * GIB, { physicalMax: 79.6 * GIB });
    assert.equal(a.max, 79.6 * GIB);
    assert.deepEqual(a.labels, ['0 GiB', '20 GiB', '40 GiB', '60 GiB']);
    assert.equal(a.unitLabel, 'GiB');
  });

  it('uses one prefix per axis', () => {
    const a = niceTicks('bytes_per_second', 0, 2048);
    assert.deepEqual(a.labels, ['0 KiB/s', '0.5 KiB/s', '1 KiB/s', '1.5 KiB/s', '2 KiB/s']);
    const b = niceTicks('bytes_per_second', 0, 143 * MIB);
    assert.deepEqual(b.labels, ['0 MiB/s', '50 MiB/s', '100 MiB/s', '150 MiB/s']);
    const c = niceTicks('seconds', 0, 0.65);
    assert.ok(
      c.labels.every((l) => l.endsWith(' ms')),
      c.labels.join(),
    );
  });

  it('gives counts whole ticks', () => {
    const a = niceTicks('postgres.main.connections_active_count', 0, 3);
    assert.ok(
      a.ticks.every((t) => Number.isInteger(t)),
      a.ticks.join(),
    );
    assert.deepEqual(a.labels, ['0', '1', '2', '3']);
    const flat = niceTicks('count', 0, 0);
    assert.deepEqual(flat.labels, ['0', '1']);
  });

  it('prints ratios as percent up to 100 %', () => {
    const a = niceTicks('ratio', 0, 0.97, { physicalMax: 1 });
    assert.deepEqual(a.labels, ['0 %', '50 %', '100 %']);
    assert.equal(a.max, 1);
    assert.ok(a.labels.every((l) => / %$/.test(l)));
    assert.deepEqual(niceTicks('ratio', 0, 1, { physicalMax: 1, maxTicks: 6 }).labels, ['0 %', '20 %', '40 %', '60 %', '80 %', '100 %']);
  });

  it('prints every series unit with ticks that label in one unit', () => {
    for (const u of [...SERIES_UNITS, 'multiple']) {
      const a = niceTicks(u, 0, 1234.5);
      assert.ok(a.ticks.length >= 2 && a.ticks.length <= 6, `${u}: ${a.labels.join()}`);
      assert.equal(new Set(a.labels).size, a.labels.length, `${u}: distinct labels ${a.labels.join()}`);
      assert.ok(a.max >= 1234.5, `${u}: axis covers the data`);
      for (let i = 1; i < a.ticks.length; i++) assert.ok(Math.abs((a.ticks[i] as number) - (a.ticks[i - 1] as number) - a.step) < a.step * 1e-6);
    }
  });
});
