// Rule config: defaults, overrides, disabling, and errors that name the rule and the field.

import { strict as assert } from 'node:assert';
import { matchesSelector } from '../../../protocol';
import { DEFAULT_RULE_CONFIGS, parseAlertsConfig } from '../../../collector/alerts';
import { ConfigError } from '../../../collector/config-error';
import { compileSelector, expandCaptures } from '../../../collector/alerts/selector';
import { parseDuration } from '../../../collector/alerts/rules';

function rejects(config: unknown, message: string | RegExp): void {
  assert.throws(
    () => parseAlertsConfig(config, '/etc/rigwatch.json'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

describe('alert rules config', () => {
  it('defaults cover the SPEC table and resolve without errors', () => {
    const { rules, historySize } = parseAlertsConfig(undefined);
    assert.equal(historySize, 500);
    assert.deepEqual(
      rules.map((r) => r.id),
      DEFAULT_RULE_CONFIGS.map((r) => r.id),
    );
    // A busy box is quiet: no utilisation or power rule; VRAM only when full and growing.
    assert.ok(!rules.some((r) => /utilization|power/.test(r.selector)), rules.map((r) => r.selector).join());
    const mem = rules.find((r) => r.id === 'gpu-memory');
    assert.deepEqual([mem?.warning, mem?.critical, mem?.growingOverMs], [0.99, null, 60_000]);
    const temp = rules.find((r) => r.id === 'gpu-temperature');
    assert.deepEqual(
      [temp?.relativeTo, temp?.warning, temp?.critical, temp?.warningClear, temp?.criticalClear],
      ['gpu.$1.temperature_slowdown_celsius', -6, -1, -9, -4],
    );
    assert.equal(rules.find((r) => r.id === 'gpu-temperature-fixed')?.whenMissing, 'gpu.$1.temperature_slowdown_celsius');
    assert.equal(rules.find((r) => r.id === 'source-down')?.warningForMs, 30_000);
    assert.equal(rules.find((r) => r.id === 'redis-memory')?.unit, 'ratio');
    // Every default holds for a while and has hysteresis, so nothing flaps (collector write errors are at once).
    for (const r of rules) {
      // Events (collector write errors, counter increases such as Xids, run states) fire at once and hold instead.
      if (r.id === 'collector-write-error' || r.increase || r.id === 'gpu-row-remap' || r.id.startsWith('run-')) continue;
      assert.ok(r.warningForMs >= 30_000 || r.criticalForMs >= 30_000, `${r.id} has a minimum duration`);
      if (r.unit !== 'count' && (r.unit as string | null) !== 'state' && r.warning !== 0)
        assert.ok(r.warningClear !== r.warning || r.warning === null, `${r.id} has a clear level`);
    }
    assert.equal(rules.find((r) => r.id === 'model-latency')?.unit, 'multiple');
  });

  it('overrides fields of a default by id, adds new rules and disables by id', () => {
    const { rules } = parseAlertsConfig({
      rules: [
        { id: 'gpu-temperature', warning: 80, critical: 90, clear: null },
        { id: 'loss-spike', selector: 'train.*.loss_ratio', comparison: 'above', critical: 2, for: 30, message: 'loss $1 at {value}' },
        { id: 'host-cpu', enabled: false },
      ],
      disable: ['gpu-memory'],
    });
    const ids = rules.map((r) => r.id);
    assert.ok(!ids.includes('host-cpu') && !ids.includes('gpu-memory'));
    // Levels given without relativeTo are absolute °C, and the fixed fallback would only duplicate them.
    assert.equal(rules.find((r) => r.id === 'gpu-temperature')?.relativeTo, null);
    assert.ok(!ids.includes('gpu-temperature-fixed'));
    assert.ok(ids.includes('loss-spike'));
    const t = rules.find((r) => r.id === 'gpu-temperature');
    assert.deepEqual([t?.warning, t?.warningClear, t?.criticalClear], [80, 80, 90]);
    const l = rules.find((r) => r.id === 'loss-spike');
    assert.deepEqual([l?.warning, l?.critical, l?.criticalForMs, l?.criticalClear], [null, 2, 30_000, 2]);
    assert.deepEqual(parseAlertsConfig(false).rules, []);
  });

  it('accepts percentages for levels', () => {
    const { rules } = parseAlertsConfig({ rules: [{ id: 'host-memory', warning: '70%', critical: '92.5 %' }] });
    const r = rules.find((x) => x.id === 'host-memory');
    assert.deepEqual([r?.warning, r?.critical], [0.7, 0.925]);
    // The default's hysteresis width (0.85 → 0.8) moves with the overridden warning level.
    assert.ok(Math.abs((r?.warningClear ?? 0) - 0.65) < 1e-9, String(r?.warningClear));
  });

  it('rejects bad rules naming the file, the rule and the field', () => {
    rejects({ rules: [{ id: 'gpu-temperature', warning: 'hot' }] }, '/etc/rigwatch.json: alerts.rules[gpu-temperature].warning: expected a number, got "hot"');
    rejects(
      { rules: [{ id: 'x', comparison: 'above' }] },
      /alerts\.rules\[x\]\.selector: expected a series name or pattern \(required for a new rule\), got nothing/,
    );
    rejects(
      { rules: [{ id: 'x', selector: 'a.b_count', comparison: 'over', warning: 1 }] },
      /alerts\.rules\[x\]\.comparison: expected "above" or "below", got "over"/,
    );
    rejects(
      { rules: [{ id: 'gpu-temperature-fixed', critical: 60 }] },
      /alerts\.rules\[gpu-temperature-fixed\]\.critical: expected a number at or above warning \(85\)/,
    );
    rejects(
      { rules: [{ id: 'gpu-temperature-fixed', clear: 88 }] },
      /alerts\.rules\[gpu-temperature-fixed\]\.clear: expected a number at or below warning \(85\)/,
    );
    rejects({ rules: [{ id: 'gpu-memory', growingOver: 'soon' }] }, /alerts\.rules\[gpu-memory\]\.growingOver: expected a duration/);
    rejects(
      { rules: [{ id: 'redis-memory', relativeTo: 'redis.$1.x_bytes' }] },
      /alerts\.rules\[redis-memory\]\.relativeTo: expected nothing when ratioTo is set/,
    );
    rejects({ rules: [{ id: 'gpu-temperature', for: 'a while' }] }, /alerts\.rules\[gpu-temperature\]\.for: expected a duration/);
    rejects(
      { rules: [{ id: 'redis-memory', ratioTo: 'redis.$2.maxmemory_bytes' }] },
      /alerts\.rules\[redis-memory\]\.ratioTo: expected a template using only \$1…\$1/,
    );
    rejects(
      { rules: [{ id: 'redis-memory-unbounded', whenMissing: 'redis.*.maxmemory_bytes' }] },
      /alerts\.rules\[redis-memory-unbounded\]\.whenMissing: expected one series name/,
    );
    rejects(
      { rules: [{ id: 'gpu-temperature', warning: null, critical: null }] },
      /alerts\.rules\[gpu-temperature\]\.warning: expected a number \(a rule needs a warning or a critical level\)/,
    );
    rejects({ rules: [{ id: 'gpu-temperature', wraning: 3 }] }, /alerts\.rules\[gpu-temperature\]\.wraning: expected no such field/);
    rejects(
      { rules: [{ id: 'model-latency', baseline: { window: '1h', minSamples: 0 } }] },
      /alerts\.rules\[model-latency\]\.baseline\.minSamples: expected an integer from 1 to 1000, got 0/,
    );
    rejects({ rules: [{ id: 'gpu-memory' }, { selector: 'x' }] }, /alerts\.rules\[1\]\.id: expected a rule id/);
    rejects({ rules: [{ id: 'gpu-memory' }, { id: 'gpu-memory' }] }, /alerts\.rules\[gpu-memory\]\.id: expected a rule id used only once/);
    rejects({ disable: ['gpu-temp'] }, /alerts\.disable\[0\]: expected the id of a rule \(gpu-temperature, gpu-temperature-fixed,/);
    rejects({ rules: {} }, /alerts\.rules: expected an array of rules, got \{\}/);
    rejects({ historySize: 0 }, /alerts\.historySize: expected an integer from 1 to 100000, got 0/);
    rejects({ rulez: [] }, /alerts\.rulez: expected no such key/);
    rejects('yes', /alerts: expected an object or false, got "yes"/);
  });

  it('parses durations', () => {
    assert.deepEqual(['500ms', '30s', '2m', '1.5h', '1d', 90, 0].map(parseDuration), [500, 30_000, 120_000, 5_400_000, 86_400_000, 90_000, 0]);
    assert.deepEqual(['', '5 minutes', -1, '1w'].map(parseDuration), [null, null, null, null]);
  });
});

describe('alert selectors', () => {
  const names = [
    'gpu.0.temperature_celsius',
    'gpu.12.temperature_celsius',
    'gpu.0.power_watts',
    'host.mount.root.used_ratio',
    'host.mount.data_x.used_ratio',
    'collector.postgres.main.down_state',
    'collector.host.down_state',
    'gpu.0.x.temperature_celsius',
  ];
  const selectors = ['gpu.*.temperature_celsius', 'host.mount.*.used_ratio', 'gpu.0.*', 'gpu.0.temperature_celsius', 'collector.*.down_state'];

  it('agrees with matchesSelector for single-segment wildcards, exact names and prefixes', () => {
    for (const sel of selectors) {
      const c = compileSelector(sel);
      for (const n of names) assert.equal(c.match(n) !== null, matchesSelector(n, sel), `${sel} vs ${n}`);
    }
  });

  it('captures wildcards for ratio templates; ** spans dotted source ids', () => {
    assert.deepEqual(compileSelector('gpu.*.power_watts').match('gpu.3.power_watts'), ['3']);
    assert.equal(expandCaptures('gpu.$1.power_limit_watts', ['3']), 'gpu.3.power_limit_watts');
    const c = compileSelector('collector.**.down_state');
    assert.deepEqual(c.match('collector.postgres.main.down_state'), ['postgres.main']);
    assert.deepEqual(c.match('collector.host.down_state'), ['host']);
    assert.equal(c.match('collector.down_state'), null);
  });
});
