import { strict as assert } from 'node:assert';
import type { AlertEvent } from '../../protocol';
import { Backoff } from '../../client/backoff';
import { CollectorModel, RESOLVED_KEEP_MS } from '../../extension/connection/collector-model';
import { localCollectorConfig } from '../../extension/connection/local-config';
import { NotificationPolicy } from '../../extension/notification-policy';
import { alert, hello, twoGpuSample } from './fixtures';

const T = 1_700_000_000_000;
const ev = (seq: number, transition: AlertEvent['transition'], a: ReturnType<typeof alert>, notify = true): AlertEvent => ({
  seq,
  t: T,
  transition,
  alert: a,
  notify,
});

describe('extension backoff', () => {
  it('grows exponentially up to the cap, with jitter only shortening delays', () => {
    const max = new Backoff({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 }, () => 0);
    assert.deepEqual(
      Array.from({ length: 9 }, () => max.next()),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
    );
    const min = new Backoff({ initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 }, () => 1);
    assert.deepEqual(
      Array.from({ length: 4 }, () => min.next()),
      [250, 500, 1000, 2000],
    );
  });

  it('spreads delays at random and starts over after reset()', () => {
    const b = new Backoff();
    const seen = new Set(Array.from({ length: 20 }, () => (b.reset(), b.next())));
    assert.ok(seen.size > 5, `expected varied first delays, got ${[...seen]}`);
    for (const d of seen) assert.ok(d >= 250 && d <= 500, `delay ${d} out of [250, 500]`);
    b.next();
    assert.equal(b.attempts, 2);
    b.reset();
    assert.equal(b.attempts, 0);
  });
});

describe('extension notification policy', () => {
  const on = { enabled: true, minSeverity: 'warning' as const };

  it('notifies once per firing instance until it resolves', () => {
    const p = new NotificationPolicy();
    const a = alert('gpu-temperature:gpu.0.temperature_celsius', 'firing', 'warning', T);
    assert.equal(p.decide('local', '', [ev(1, 'firing', a)], on).length, 1);
    assert.equal(p.decide('local', '', [ev(2, 'firing', a)], on).length, 0, 'a repeat stays quiet');
    assert.equal(p.decide('local', '', [ev(3, 'resolved', { ...a, state: 'resolved' })], on).length, 0, 'resolved is quiet');
    assert.equal(p.decide('local', '', [ev(4, 'firing', a)], on).length, 1, 'fires again after resolving');
  });

  it('announces an escalation to critical but not a de-escalation', () => {
    const p = new NotificationPolicy();
    const w = alert('t:x', 'firing', 'warning', T);
    p.decide('local', '', [ev(1, 'firing', w)], on);
    const c = p.decide('local', '', [ev(2, 'escalated', { ...w, severity: 'critical' })], on);
    assert.deepEqual(
      c.map((r) => r.severity),
      ['critical'],
    );
    assert.equal(p.decide('local', '', [ev(3, 'deescalated', w)], on).length, 0);
  });

  it('respects the minimum severity, the off switch, mutes and notify=false', () => {
    const p = new NotificationPolicy();
    const w = alert('t:x', 'firing', 'warning', T);
    assert.equal(p.decide('local', '', [ev(1, 'firing', w)], { enabled: true, minSeverity: 'critical' }).length, 0);
    assert.equal(p.decide('local', '', [ev(1, 'firing', w)], { enabled: false, minSeverity: 'warning' }).length, 0);
    assert.equal(p.decide('local', '', [ev(1, 'firing', { ...w, mutedUntil: T + 1000 })], on).length, 0);
    assert.equal(p.decide('local', '', [ev(1, 'firing', w, false)], on).length, 0);
    assert.equal(p.decide('local', '', [ev(1, 'pending', { ...w, state: 'pending' })], on).length, 0);
    const r = p.decide('collector:b', 'box-b', [ev(1, 'firing', w)], on);
    assert.equal(r[0].message, 't:x is firing (box-b)');
  });
});

describe('extension collector model', () => {
  it('takes hello, samples, status and alert events, ignoring out-of-order samples', () => {
    const m = new CollectorModel();
    const s1 = twoGpuSample(T);
    m.apply(hello(s1, [alert('a:x', 'firing', 'warning', T)]), T);
    assert.equal(m.lastSampleTime, T);
    assert.equal(m.apply(twoGpuSample(T - 1000)), 'none');
    assert.equal(m.apply(twoGpuSample(T + 1000)), 'sample');
    assert.equal(m.lastSampleTime, T + 1000);
    m.apply({ type: 'status', sources: [{ id: 'gpu', kind: 'gpu', state: 'down', reason: 'NVML lost' }] });
    assert.equal(m.sources.find((s) => s.id === 'gpu')?.state, 'down');
    assert.equal(m.sources.length, 5);
    m.apply({ type: 'alert', events: [ev(1, 'resolved', alert('a:x', 'resolved', 'warning', T + 2000))] }, T + 2000);
    assert.equal(m.alerts.get('a:x')?.state, 'resolved');
  });

  it('marks alerts missing from a reconnect hello as resolved and prunes old resolved ones', () => {
    const m = new CollectorModel();
    m.apply(hello(twoGpuSample(T), [alert('a:x', 'firing', 'warning', T), alert('b:y', 'firing', 'critical', T)]), T);
    m.apply({ ...hello(twoGpuSample(T + 5000), [alert('b:y', 'firing', 'critical', T)]), serverTime: T + 5000 }, T + 5000);
    assert.equal(m.alerts.get('a:x')?.state, 'resolved');
    assert.equal(m.alerts.get('a:x')?.resolvedAt, T + 5000);
    assert.equal(
      m
        .currentHello()
        ?.alerts.map((a) => a.id)
        .join(),
      'b:y',
    );
    m.apply({ type: 'alert', events: [] }, T + 5000 + RESOLVED_KEEP_MS + 1);
    assert.equal(m.alerts.has('a:x'), false);
  });

  it('drops a pending alert that cleared without firing instead of listing it as resolved', () => {
    const m = new CollectorModel();
    m.apply(hello(twoGpuSample(T), []), T);
    const p = alert('t:gpu.0.temperature_celsius', 'pending', 'warning', T);
    m.apply({ type: 'alert', events: [ev(1, 'pending', p)] }, T);
    assert.equal(m.alerts.get(p.id)?.state, 'pending');
    m.apply({ type: 'alert', events: [ev(2, 'resolved', { ...p, state: 'resolved', resolvedAt: T + 1000 })] }, T + 1000);
    assert.equal(m.alerts.has(p.id), false, 'pending-then-cleared is not listed');
    // Also across a reconnect: a pending alert missing from hello is gone, not resolved.
    m.apply({ type: 'alert', events: [ev(3, 'pending', p)] }, T + 2000);
    m.apply({ ...hello(twoGpuSample(T + 3000), []), serverTime: T + 3000 }, T + 3000);
    assert.equal(m.alerts.has(p.id), false);
  });
});

describe('extension local collector config', () => {
  it('passes alert overrides under alerts.rules/disable and drops keys the extension controls', () => {
    const cfg = localCollectorConfig({
      localConfig: {
        port: 1,
        token: 'x',
        postgres: [{ name: 'main', url: 'postgres://localhost/db' }],
        alerts: { historySize: 100, rules: [{ id: 'host-cpu', warning: 0.5 }] },
      },
      alertRules: [{ id: 'gpu-temperature', warning: 80, critical: 90 }],
      alertDisable: ['host-disk'],
    });
    assert.deepEqual(cfg, {
      postgres: [{ name: 'main', url: 'postgres://localhost/db' }],
      alerts: {
        historySize: 100,
        rules: [
          { id: 'host-cpu', warning: 0.5 },
          { id: 'gpu-temperature', warning: 80, critical: 90 },
        ],
        disable: ['host-disk'],
      },
    });
    assert.deepEqual(localCollectorConfig({ localConfig: {}, alertRules: [], alertDisable: [] }), {});
  });
});
