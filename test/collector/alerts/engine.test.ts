// Alert lifecycle driven by a controllable clock: every evaluate() call gets its own epoch ms.

import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertEvent, SeriesMap, SourceStatus } from '../../../protocol';
import { createAlertEngine, type RuleAlertEngine } from '../../../collector/alerts';
import { silentLogger } from '../../../collector/log';

const T0 = Date.UTC(2026, 10, 22, 6, 0, 0);
const SEC = 1000;
const TEMP = 'gpu.0.temperature_celsius';
const TEMP_ID = `gpu-temperature:${TEMP}`;

/**
 * The engine's mechanics are tested on the classic threshold rules (the ones docs/alerts.md shows as
 * examples, and the pre-0.2 defaults) with no minimum durations; the quiet defaults themselves are
 * tested in default-rules.test.ts.
 */
const CLASSIC = {
  disable: ['gpu-temperature-fixed'],
  rules: [
    {
      id: 'gpu-temperature',
      relativeTo: null,
      warning: 75,
      critical: 85,
      clear: 70,
      criticalClear: null,
      for: 0,
      criticalFor: 0,
      message: 'GPU $1 temperature {value} (above {threshold})',
    },
    {
      id: 'gpu-utilization',
      selector: 'gpu.*.utilization_ratio',
      comparison: 'above',
      warning: 0.9,
      critical: 0.98,
      for: '2m',
      criticalFor: '5m',
      clear: 0.85,
      message: 'GPU $1 utilisation {value} (above {threshold} for {for})',
    },
    { id: 'gpu-memory', warning: 0.9, critical: 0.95, clear: 0.85, growingOver: 0, for: 0, message: 'GPU $1 VRAM {value} used (above {threshold})' },
    {
      id: 'gpu-power',
      selector: 'gpu.*.power_watts',
      ratioTo: 'gpu.$1.power_limit_watts',
      comparison: 'above',
      warning: 0.9,
      critical: 0.98,
      clear: 0.85,
      message: 'GPU $1 power draw {value} of its limit (above {threshold})',
    },
    ...[
      'model-latency',
      'postgres-connections',
      'postgres-cache-hit',
      'redis-memory',
      'redis-memory-unbounded',
      'redis-hit-ratio',
      'host-memory',
      'host-disk',
      'containers-unhealthy',
      'containers-restarting',
    ].map((id) => ({ id, for: id === 'postgres-cache-hit' ? '1m' : 0 })),
  ],
};

/** A compact view of an event for event-by-event comparisons. */
function brief(e: AlertEvent): string {
  return `${e.transition} ${e.alert.severity} ${e.alert.state} v=${e.alert.value} notify=${e.notify}`;
}

describe('alert engine', () => {
  let dir: string;
  let file: string;
  const engines: RuleAlertEngine[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rw-alerts-'));
    file = join(dir, 'alerts.json');
  });
  afterEach(async () => {
    engines.length = 0;
    await rm(dir, { recursive: true, force: true });
  });

  /** An engine on CLASSIC, with `config`'s rules merged over it field by field (and its other keys). */
  async function engine(config: Record<string, unknown> = {}): Promise<RuleAlertEngine> {
    const rules = new Map<string, Record<string, unknown>>(CLASSIC.rules.map((r) => [r.id, { ...r }]));
    for (const r of (config.rules ?? []) as Record<string, unknown>[]) rules.set(r.id as string, { ...(rules.get(r.id as string) ?? {}), ...r });
    const merged = { ...CLASSIC, ...config, rules: [...rules.values()] };
    const e = await createAlertEngine({ config: merged, file, log: silentLogger });
    engines.push(e);
    return e;
  }

  /** Drives one series through values at 1 s ticks from `start`; returns the events per tick. */
  function drive(e: RuleAlertEngine, name: string, values: (number | null)[], start: number, extra: SeriesMap = {}): AlertEvent[][] {
    return values.map((v, i) => e.evaluate(start + i * SEC, { ...extra, [name]: v }, []));
  }

  it('GPU temperature: rises through warning and critical, stays, falls below clear — event by event', async () => {
    const e = await engine();
    const temps = [60, 74, 76, 80, 86, 90, 88, 82, 79, 72, 69, 65];
    const ticks = drive(e, TEMP, temps, T0);
    const got = ticks.map((evs) => evs.map(brief));
    assert.deepEqual(got, [
      [],
      [],
      ['firing warning firing v=76 notify=true'],
      [],
      ['escalated critical firing v=86 notify=true'],
      [],
      [],
      [], // 82: still above the critical clear level (85 − (75 − 70) = 80)
      ['deescalated warning firing v=79 notify=false'],
      [], // 72: still above clear (70)
      ['resolved warning resolved v=69 notify=false'],
      [],
    ]);
    const all = ticks.flat();
    assert.deepEqual(
      all.map((x) => x.seq),
      [1, 2, 3, 4],
    );
    assert.ok(all.every((x) => x.alert.id === TEMP_ID && x.alert.ruleId === 'gpu-temperature' && x.alert.series === TEMP));
    assert.equal(all[0]?.alert.message, 'GPU 0 temperature 76 °C (above 75 °C)');
    assert.equal(all[0]?.alert.threshold, 75);
    assert.equal(all[1]?.alert.threshold, 85);
    assert.equal(all[1]?.alert.firingSince, T0 + 2 * SEC);
    assert.equal(all[3]?.alert.resolvedAt, T0 + 10 * SEC);
    assert.equal(all[3]?.alert.activeSince, T0 + 2 * SEC);
    assert.deepEqual(e.active(), []);
  });

  it('a temperature dancing around the warning level fires once and does not flap', async () => {
    const e = await engine();
    const dance = [74, 76, 74, 76, 73, 75.5, 74.9, 76, 71, 76, 74, 69, 74, 76];
    const got = drive(e, TEMP, dance, T0).map((evs) => evs.map((x) => x.transition));
    assert.deepEqual(got, [[], ['firing'], [], [], [], [], [], [], [], [], [], ['resolved'], [], ['firing']]);
  });

  it('each series matching a pattern is its own instance', async () => {
    const e = await engine();
    const evs = e.evaluate(T0, { 'gpu.0.temperature_celsius': 90, 'gpu.1.temperature_celsius': 50, 'gpu.2.temperature_celsius': 77 }, []);
    assert.deepEqual(evs.map((x) => `${x.alert.id} ${x.alert.severity}`).sort(), [
      'gpu-temperature:gpu.0.temperature_celsius critical',
      'gpu-temperature:gpu.2.temperature_celsius warning',
    ]);
    assert.equal(e.active().length, 2);
  });

  it('picks up a series that appears later: at the next discovery scan, or at once when the source list changes', async () => {
    const e = await engine();
    const ready: SourceStatus[] = [{ id: 'gpu', kind: 'gpu', state: 'ready' }];
    e.evaluate(T0, { 'host.cpu_busy_ratio': 0.1 }, ready);
    // gpu.1 appears with the same source list: found by the periodic scan (30 s of tick time).
    const at: number[] = [];
    for (let s = 1; s <= 40; s++) if (e.evaluate(T0 + s * SEC, { 'host.cpu_busy_ratio': 0.1, 'gpu.1.temperature_celsius': 90 }, ready).length) at.push(s);
    assert.deepEqual(at, [30]);
    // A source changing state triggers a scan on that tick.
    const probing: SourceStatus[] = [{ id: 'gpu', kind: 'gpu', state: 'probing' }];
    e.evaluate(T0 + 41 * SEC, { 'gpu.1.temperature_celsius': 90 }, probing);
    const ev = e.evaluate(T0 + 42 * SEC, { 'gpu.1.temperature_celsius': 90, 'gpu.2.temperature_celsius': 90 }, ready);
    assert.deepEqual(
      ev.map((x) => x.alert.id),
      ['gpu-temperature:gpu.2.temperature_celsius'],
    );
  });

  it('honours `for` to the tick: pending, then firing exactly when the duration has elapsed', async () => {
    const e = await engine({ rules: [{ id: 'gpu-temperature', for: '5s' }] });
    const got = drive(e, TEMP, [80, 80, 80, 80, 80, 80, 80], T0).map((evs) => evs.map(brief));
    assert.deepEqual(got, [
      ['pending warning pending v=80 notify=false'],
      [],
      [],
      [],
      [],
      ['firing warning firing v=80 notify=true'], // t0 + 5 s: held for exactly 5 s
      [],
    ]);
    assert.equal(e.active()[0]?.activeSince, T0);
    assert.equal(e.active()[0]?.firingSince, T0 + 5 * SEC);
  });

  it('a dip before `for` elapses drops the pending alert and restarts the clock', async () => {
    const e = await engine({ rules: [{ id: 'gpu-temperature', for: '5s' }] });
    const vals = [80, 80, 80, 80, 60, 80, 80, 80, 80, 80, 80];
    const got = drive(e, TEMP, vals, T0).map((evs) => evs.map((x) => `${x.transition}${x.alert.firingSince === undefined ? '' : '+fired'}`));
    assert.deepEqual(got, [['pending'], [], [], [], ['resolved'], ['pending'], [], [], [], [], ['firing+fired']]);
  });

  it('default GPU utilisation rule: warning after 2 min, critical after 5 min', async () => {
    const e = await engine();
    const name = 'gpu.0.utilization_ratio';
    const at: Record<number, string[]> = {};
    for (let s = 0; s <= 301; s++) {
      const evs = e.evaluate(T0 + s * SEC, { [name]: 0.99 }, []);
      if (evs.length) at[s] = evs.map((x) => `${x.transition} ${x.alert.severity}`);
    }
    assert.deepEqual(at, { 0: ['pending critical'], 120: ['firing warning'], 300: ['escalated critical'] });
    assert.match(e.active()[0]?.message ?? '', /^GPU 0 utilisation 99 % \(above 98 % for 5 min\)$/);
  });

  it('keepFiringFor holds a firing alert through a short dip, then resolves on the tick it expires', async () => {
    const e = await engine({
      rules: [{ id: 'hot', selector: 'gpu.*.temperature_celsius', comparison: 'above', warning: 80, keepFiringFor: '3s' }],
      disable: ['gpu-temperature'],
    });
    const vals = [85, 70, 70, 85, 70, 70, 70, 70];
    const got = drive(e, TEMP, vals, T0).map((evs) => evs.map((x) => x.transition));
    // Dip at t1 is covered; re-breach at t3 resets; dip from t4 resolves at t4 + 3 s.
    assert.deepEqual(got, [['firing'], [], [], [], [], [], [], ['resolved']]);
  });

  it('mute suppresses notification but not state; expiry unmutes with a reminder', async () => {
    const e = await engine();
    assert.deepEqual(e.mute('gpu-temperature', 10 * SEC, T0), []); // nothing active yet: no events
    const fired = e.evaluate(T0 + SEC, { [TEMP]: 78 }, []);
    assert.deepEqual(fired.map(brief), ['firing warning firing v=78 notify=false']);
    assert.equal(fired[0]?.alert.mutedUntil, T0 + 10 * SEC);
    const esc = e.evaluate(T0 + 2 * SEC, { [TEMP]: 90 }, []);
    assert.deepEqual(esc.map(brief), ['escalated critical firing v=90 notify=false']);
    assert.equal(e.active()[0]?.state, 'firing');
    assert.equal(e.active()[0]?.severity, 'critical');
    assert.deepEqual(e.evaluate(T0 + 9 * SEC, { [TEMP]: 90 }, []), []);
    const unm = e.evaluate(T0 + 10 * SEC, { [TEMP]: 90 }, []);
    assert.deepEqual(unm.map(brief), ['unmuted critical firing v=90 notify=true']);
    assert.equal(unm[0]?.alert.mutedUntil, undefined);
  });

  it('mutes one instance, rejects unknown targets, and unmutes with 0', async () => {
    const e = await engine();
    e.evaluate(T0, { 'gpu.0.temperature_celsius': 80, 'gpu.1.temperature_celsius': 80 }, []);
    const m = e.mute('gpu-temperature:gpu.1.temperature_celsius', 60 * SEC, T0 + SEC);
    assert.deepEqual(
      m.map((x) => `${x.transition} ${x.alert.id} ${x.notify}`),
      ['muted gpu-temperature:gpu.1.temperature_celsius false'],
    );
    const esc = e.evaluate(T0 + 2 * SEC, { 'gpu.0.temperature_celsius': 90, 'gpu.1.temperature_celsius': 90 }, []);
    assert.deepEqual(
      esc.map((x) => `${x.alert.series} ${x.notify}`),
      ['gpu.0.temperature_celsius true', 'gpu.1.temperature_celsius false'],
    );
    assert.throws(() => e.mute('no-such-rule', 1000, T0), /cannot mute "no-such-rule": not a rule id/);
    assert.throws(() => e.mute('gpu-temperature:host.cpu_busy_ratio', 1000, T0), /series matches the rule/);
    const un = e.mute('gpu-temperature:gpu.1.temperature_celsius', 0, T0 + 3 * SEC);
    assert.deepEqual(
      un.map((x) => `${x.transition} ${x.notify} ${x.alert.mutedUntil}`),
      ['unmuted false undefined'],
    );
  });

  it('acknowledge marks the instance, is reset by escalation, and rejects unknown ids', async () => {
    const e = await engine();
    e.evaluate(T0, { [TEMP]: 80 }, []);
    const ack = e.acknowledge(TEMP_ID, T0 + SEC);
    assert.deepEqual(
      ack.map((x) => `${x.transition} ${x.alert.acknowledged} ${x.notify}`),
      ['acknowledged true false'],
    );
    assert.deepEqual(e.acknowledge(TEMP_ID, T0 + SEC), []);
    assert.equal(e.active()[0]?.acknowledged, true);
    const esc = e.evaluate(T0 + 2 * SEC, { [TEMP]: 90 }, []);
    assert.equal(esc[0]?.alert.acknowledged, false);
    assert.throws(
      () => e.acknowledge('gpu-temperature:gpu.7.temperature_celsius', T0),
      /no pending or firing alert "gpu-temperature:gpu.7.temperature_celsius" \(active: gpu-temperature:gpu.0.temperature_celsius\)/,
    );
  });

  it('restart: a new engine from the same file keeps firing alerts, history, mutes and seq', async () => {
    const a = await engine({ rules: [{ id: 'gpu-temperature', for: '2s', criticalFor: 0 }] });
    drive(a, TEMP, [80, 80, 80, 90], T0);
    a.mute('gpu-temperature', 3_600_000, T0 + 4 * SEC);
    await a.flush();
    const stateText = await readFile(file, 'utf8');
    assert.ok(stateText.includes(TEMP_ID));

    const b = await engine({ rules: [{ id: 'gpu-temperature', for: '2s', criticalFor: 0 }] });
    const act = b.active();
    assert.equal(act.length, 1);
    assert.equal(act[0]?.state, 'firing');
    assert.equal(act[0]?.severity, 'critical');
    assert.equal(act[0]?.firingSince, T0 + 2 * SEC);
    assert.equal(act[0]?.mutedUntil, T0 + 4 * SEC + 3_600_000);
    // The pending that led to firing is not history (pending alone is not news).
    assert.deepEqual(
      b.alertHistory().map((x) => x.transition),
      ['firing', 'escalated', 'muted'],
    );
    // Same condition after the restart: no duplicate `firing`; falling values resolve it.
    assert.deepEqual(b.evaluate(T0 + 5 * SEC, { [TEMP]: 90 }, []), []);
    const res = b.evaluate(T0 + 6 * SEC, { [TEMP]: 60 }, []);
    assert.deepEqual(
      res.map((x) => `${x.seq} ${x.transition}`),
      ['5 resolved'],
    );
    assert.equal(b.alertHistory(2).length, 2);
  });

  it('an unreadable state file is ignored with a fresh start', async () => {
    await writeFile(file, '{"version": 1, "instances": ');
    const e = await engine();
    assert.deepEqual(e.active(), []);
    assert.equal(e.evaluate(T0, { [TEMP]: 80 }, [])[0]?.seq, 1);
  });

  it('history is bounded by alerts.historySize', async () => {
    const e = await engine({ historySize: 3 });
    drive(e, TEMP, [80, 60, 80, 60, 80], T0);
    assert.deepEqual(
      e.alertHistory().map((x) => x.seq),
      [3, 4, 5],
    );
  });

  it('ratio rule: power draw over the matching power limit; no limit → no evaluation', async () => {
    const e = await engine();
    const ev = e.evaluate(T0, { 'gpu.0.power_watts': 380, 'gpu.0.power_limit_watts': 400, 'gpu.1.power_watts': 390, 'gpu.1.power_limit_watts': null }, []);
    assert.deepEqual(
      ev.map((x) => `${x.alert.id} ${x.alert.severity} ${x.alert.value}`),
      ['gpu-power:gpu.0.power_watts warning 0.95'],
    );
    assert.equal(ev[0]?.alert.message, 'GPU 0 power draw 95 % of its limit (above 90 %)');
  });

  it('baseline rule: model p95 latency against its rolling median', async () => {
    const e = await engine();
    const name = 'models.llama.request_latency_p95_seconds';
    const evs: string[] = [];
    // 1 h window thinned to 15 s spacing; 20 samples are needed before the rule evaluates.
    for (let i = 0; i < 25; i++) {
      for (const x of e.evaluate(T0 + i * 15 * SEC, { [name]: i < 10 ? 3 : 0.2 }, [])) evs.push(x.transition);
    }
    assert.deepEqual(evs, []); // a slow start does not alert before enough baseline exists
    let t = T0 + 25 * 15 * SEC;
    const step = (v: number): string[] => e.evaluate((t += 15 * SEC), { [name]: v }, []).map((x) => `${x.transition} ${x.alert.severity} ${x.alert.message}`);
    assert.deepEqual(step(0.3), []); // median is 0.2 → 1.5×
    assert.deepEqual(step(0.5), ['firing warning Model server llama p95 latency vs its 1 h median 2.5× (above 2×)']);
    assert.deepEqual(step(1.2), ['escalated critical Model server llama p95 latency vs its 1 h median 6× (above 5×)']);
    assert.deepEqual(
      step(0.2).map((s) => s.split(' ')[0]),
      ['resolved'],
    );
  });

  it('baseline samples survive a restart', async () => {
    const name = 'models.llama.request_latency_p95_seconds';
    const a = await engine();
    for (let i = 0; i < 25; i++) a.evaluate(T0 + i * 15 * SEC, { [name]: 0.2 }, []);
    await a.flush();
    const b = await engine();
    const ev = b.evaluate(T0 + 26 * 15 * SEC, { [name]: 0.5 }, []);
    assert.deepEqual(
      ev.map((x) => `${x.transition} ${x.alert.value}`),
      ['firing 2.5'],
    );
  });

  it('Redis hit ratio: null (no traffic) is not evaluated; low ratio with traffic alerts', async () => {
    const e = await engine();
    assert.deepEqual(e.evaluate(T0, { 'redis.cache.hit_ratio': null }, []), []);
    const ev = e.evaluate(T0 + SEC, { 'redis.cache.hit_ratio': 0.05 }, []);
    assert.deepEqual(
      ev.map((x) => `${x.transition} ${x.alert.severity}`),
      ['firing critical'],
    );
  });

  it('a firing alert whose value turns null holds until staleAfter, then resolves', async () => {
    const e = await engine({ rules: [{ id: 'gpu-temperature', staleAfter: '10s' }] });
    e.evaluate(T0, { [TEMP]: 80 }, []);
    assert.deepEqual(e.evaluate(T0 + SEC, { [TEMP]: null }, []), []);
    assert.deepEqual(e.evaluate(T0 + 5 * SEC, {}, []), []); // series gone entirely counts the same
    assert.equal(e.active()[0]?.state, 'firing');
    assert.deepEqual(
      e.evaluate(T0 + 11 * SEC, {}, []).map((x) => x.transition),
      ['resolved'],
    );
  });

  it('source down for 30 s fires from the source list; a collector part failing fires at once', async () => {
    const e = await engine();
    const up: SourceStatus[] = [{ id: 'postgres.main', kind: 'postgres', state: 'ready' }];
    const down: SourceStatus[] = [
      { id: 'postgres.main', kind: 'postgres', state: 'down', reason: 'cannot connect to PostgreSQL at 127.0.0.1:5432: connection refused' },
    ];
    const at: Record<number, string[]> = {};
    for (let s = 0; s <= 40; s++) {
      const st = s < 5 ? up : s < 38 ? down : up;
      const evs = e.evaluate(T0 + s * SEC, {}, st);
      if (evs.length) at[s] = evs.map((x) => `${x.transition} ${x.alert.id}`);
    }
    assert.deepEqual(at, {
      5: ['pending source-down:collector.postgres.main.down_state'],
      35: ['firing source-down:collector.postgres.main.down_state'],
      38: ['resolved source-down:collector.postgres.main.down_state'],
    });
    assert.equal(e.alertHistory()[0]?.alert.message, 'Source postgres.main is down: cannot connect to PostgreSQL at 127.0.0.1:5432: connection refused');
    assert.equal(
      e.alertHistory()[1]?.alert.message,
      'Source postgres.main is down: cannot connect to PostgreSQL at 127.0.0.1:5432: connection refused — resolved',
    );

    const csvDown: SourceStatus[] = [{ id: 'csv', kind: 'collector', state: 'down', reason: 'CSV logging failed: ENOSPC no space left on device' }];
    const f = e.evaluate(T0 + 50 * SEC, {}, csvDown);
    assert.deepEqual(
      f.map((x) => `${x.transition} ${x.alert.id} ${x.alert.message}`),
      ['firing collector-write-error:collector.csv.error_state Collector csv: CSV logging failed: ENOSPC no space left on device'],
    );
    // The collector drops the pseudo-status once writes work again: the alert resolves.
    assert.deepEqual(
      e.evaluate(T0 + 51 * SEC, {}, []).map((x) => x.transition),
      ['resolved'],
    );
  });

  it('containers: one unhealthy or restarting warns, two unhealthy is critical', async () => {
    const e = await engine();
    const ev1 = e.evaluate(T0, { 'docker.containers_unhealthy_count': 1, 'docker.containers_restarting_count': 0 }, []);
    assert.deepEqual(
      ev1.map((x) => `${x.alert.ruleId} ${x.alert.severity} ${x.alert.message}`),
      ['containers-unhealthy warning Unhealthy containers: 1'],
    );
    const ev2 = e.evaluate(T0 + SEC, { 'docker.containers_unhealthy_count': 2, 'docker.containers_restarting_count': 1 }, []);
    assert.deepEqual(
      ev2.map((x) => `${x.transition} ${x.alert.ruleId} ${x.alert.severity}`),
      ['escalated containers-unhealthy critical', 'firing containers-restarting warning'],
    );
  });

  it('host disk per mount, RAM, PostgreSQL and Redis defaults use the documented series', async () => {
    const e = await engine();
    const ev = e.evaluate(
      T0,
      {
        'host.mount.root.used_ratio': 0.85,
        'host.mount.data.used_ratio': 0.5,
        'host.memory_used_ratio': 0.96,
        'postgres.main.connections_used_ratio': 0.82,
        'postgres.main.cache_hit_ratio': 0.7,
        'redis.cache.memory_used_bytes': 970,
        'redis.cache.maxmemory_bytes': 1000,
      },
      [],
    );
    assert.deepEqual(ev.map((x) => `${x.alert.id} ${x.alert.severity}`).sort(), [
      'host-disk:host.mount.root.used_ratio warning',
      'host-memory:host.memory_used_ratio critical',
      'postgres-cache-hit:postgres.main.cache_hit_ratio critical',
      'postgres-connections:postgres.main.connections_used_ratio warning',
      'redis-memory:redis.cache.memory_used_bytes critical',
    ]);
    assert.equal(ev.find((x) => x.alert.ruleId === 'host-disk')?.alert.message, 'Disk root used 85 % (above 80 %)');
  });

  it('Redis memory: of maxmemory when set; past 1 GiB only while maxmemory is unset', async () => {
    const e = await engine();
    const GiB = 1024 ** 3;
    const brief2 = (evs: AlertEvent[]): string[] => evs.map((x) => `${x.transition} ${x.alert.ruleId} ${x.alert.severity}`);
    assert.deepEqual(brief2(e.evaluate(T0, { 'redis.a.memory_used_bytes': 0.9 * GiB, 'redis.a.maxmemory_bytes': null }, [])), []);
    const unb = e.evaluate(T0 + SEC, { 'redis.a.memory_used_bytes': 1.2 * GiB, 'redis.a.maxmemory_bytes': null }, []);
    assert.deepEqual(brief2(unb), ['firing redis-memory-unbounded warning']);
    assert.equal(unb[0]?.alert.message, 'Redis a memory used 1.2 GiB, no maxmemory set (above 1 GiB)');
    // Someone sets maxmemory = 4 GiB: the unbounded rule no longer applies; 30 % of the limit is fine.
    assert.deepEqual(brief2(e.evaluate(T0 + 2 * SEC, { 'redis.a.memory_used_bytes': 1.2 * GiB, 'redis.a.maxmemory_bytes': 4 * GiB }, [])), [
      'resolved redis-memory-unbounded warning',
    ]);
    assert.deepEqual(brief2(e.evaluate(T0 + 3 * SEC, { 'redis.a.memory_used_bytes': 3.5 * GiB, 'redis.a.maxmemory_bytes': 4 * GiB }, [])), [
      'firing redis-memory warning',
    ]);
  });

  it('prometheusLines exposes rigwatch_alerts (ALERTS-style) in the text format', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const parse = require('parse-prometheus-text-format') as (
      text: string,
    ) => { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] }[];
    const e = await engine({ rules: [{ id: 'host-cpu', for: '1m' }] });
    e.evaluate(T0, { [TEMP]: 90, 'host.cpu_busy_ratio': 0.9 }, []);
    const text = e.prometheusLines().join('\n') + '\n';
    const fams = parse(text);
    const alerts = fams.find((f) => f.name === 'rigwatch_alerts');
    assert.equal(alerts?.type, 'GAUGE');
    const rows = (alerts?.metrics ?? [])
      .map((m) => `${m.labels?.alertname} ${m.labels?.alertstate} ${m.labels?.severity} ${m.labels?.series} ${m.value}`)
      .sort();
    assert.deepEqual(rows, ['gpu-temperature firing critical gpu.0.temperature_celsius 1', 'host-cpu pending warning host.cpu_busy_ratio 1']);
    const forState = fams.find((f) => f.name === 'rigwatch_alerts_for_state');
    assert.equal(forState?.metrics.length, 2);
    assert.equal(Number(forState?.metrics[0]?.value), T0 / 1000);
  });
});
