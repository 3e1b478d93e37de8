import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  containerName,
  cpuRatioFromStats,
  healthFromStatus,
  memoryUsedFromStats,
  parseContainerList,
  parseEngineTime,
  parseInspect,
  parseStats,
  parseVersion,
  HEALTH_OUTPUT_MAX_CHARS,
  trimHealthOutput,
} from '../../../../collector/sources/docker/parse';

// Captured from docker.io 20.10.24 (API 1.41, cgroup v1) with six busybox containers:
// burn (busy loop, --memory 64m), c1 (idle), done (exited 0), hc (failing health check),
// ok (passing health check), rs (crash loop with --restart always).
const FIX = path.join(__dirname, '../../../fixtures/docker');
const load = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(FIX, name), 'utf8'));

describe('docker parsers (docker.io 20.10 fixtures)', () => {
  it('lists every container with name, image, state and status', () => {
    const list = parseContainerList(load('docker-20.10-containers.json'));
    const byName = new Map(list.map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()].sort(), ['burn', 'c1', 'done', 'hc', 'ok', 'rs']);
    assert.equal(byName.get('done')?.state, 'exited');
    assert.equal(byName.get('rs')?.state, 'restarting');
    assert.equal(byName.get('hc')?.state, 'running');
    assert.match(byName.get('hc')?.status ?? '', /\(unhealthy\)$/);
    for (const c of list) {
      assert.equal(c.image, 'rw-busybox:test');
      assert.match(c.id, /^[0-9a-f]{64}$/);
    }
  });

  it('reads the health shown in a list status line', () => {
    const list = parseContainerList(load('docker-20.10-containers.json'));
    const health = Object.fromEntries(list.map((c) => [c.name, healthFromStatus(c.status)]));
    assert.deepEqual(health, { burn: null, done: null, ok: 'healthy', rs: null, hc: 'unhealthy', c1: null });
    assert.equal(healthFromStatus('Up 1 second (health: starting)'), 'starting');
  });

  it('rejects a list that is not an array with a message naming the endpoint', () => {
    assert.throws(() => parseContainerList({ message: 'oops' }), /\/containers\/json: expected an array, got an object/);
  });

  it('reads an unhealthy container: health, last check output and exit code, failing streak', () => {
    const c = parseInspect(load('docker-20.10-inspect-hc.json'));
    assert.equal(c.name, 'hc');
    assert.equal(c.image, 'rw-busybox:test');
    assert.equal(c.state, 'running');
    assert.equal(c.health, 'unhealthy');
    assert.equal(c.lastHealthOutput, 'failing-output');
    assert.equal(c.lastHealthExitCode, 1);
    assert.equal(c.healthFailingStreak, 12);
    // The newest of the five kept log entries (the engine appends).
    assert.equal(c.lastHealthAt, Date.parse('2026-11-22T06:20:56.074Z'));
    assert.equal(c.startedAt, Date.parse('2026-11-22T06:20:43.468Z'));
    assert.equal(c.restartCount, 0);
  });

  it('keeps the newest check that said something when a probe was killed by a stop (empty output)', () => {
    const raw = load('docker-20.10-inspect-hc.json') as { State: { Health: { Log: object[] } } };
    raw.State.Health.Log.push({ Start: '2026-11-22T06:20:57.0Z', End: '2026-11-22T06:20:57.2Z', ExitCode: 137, Output: '' });
    const c = parseInspect(raw);
    assert.equal(c.lastHealthOutput, 'failing-output');
    assert.equal(c.lastHealthExitCode, 1);
    assert.equal(c.lastHealthAt, Date.parse('2026-11-22T06:20:56.074Z'));
  });

  it('reads a healthy container and one without a health check', () => {
    const ok = parseInspect(load('docker-20.10-inspect-ok.json'));
    assert.equal(ok.health, 'healthy');
    assert.equal(ok.lastHealthOutput, 'all good');
    assert.equal(ok.lastHealthExitCode, 0);
    const plain = parseInspect(load('docker-20.10-inspect-c1.json'));
    assert.equal(plain.health, null);
    assert.equal(plain.lastHealthOutput, null);
    assert.equal(plain.healthFailingStreak, null);
  });

  it('reads restart count and state of a crash-looping container, exit code of an exited one', () => {
    const rs = parseInspect(load('docker-20.10-inspect-rs.json'));
    assert.equal(rs.state, 'restarting');
    assert.equal(rs.restartCount, 7);
    assert.equal(rs.exitCode, 1);
    const done = parseInspect(load('docker-20.10-inspect-done.json'));
    assert.equal(done.state, 'exited');
    assert.equal(done.exitCode, 0);
  });

  it('computes CPU as the docker CLI does (Δcontainer / Δsystem × online CPUs), as a ratio of one core', () => {
    const s = parseStats(load('docker-20.10-stats-burn.json'));
    // From the fixture: (9095623511 − 8101070201) / (730650000000 − 728680000000) × 2.
    const expected = ((9095623511 - 8101070201) / (730650000000 - 728680000000)) * 2;
    assert.ok(s.cpuRatio !== null && Math.abs(s.cpuRatio - expected) < 1e-12);
    assert.ok(s.cpuRatio > 0.9 && s.cpuRatio < 1.1, 'a busy loop uses about one core');
    assert.equal(s.memoryLimitBytes, 64 * 1024 * 1024);
    assert.equal(s.memoryUsedBytes, 331776); // usage − total_inactive_file (0 here)
    assert.equal(s.readAt, Date.parse('2026-11-22T06:20:58.540Z'));
  });

  it('reports an idle container as 0 CPU (a measurement), with the host memory as its limit', () => {
    const s = parseStats(load('docker-20.10-stats-idle.json'));
    assert.equal(s.cpuRatio, 0);
    assert.equal(s.memoryUsedBytes, 323584);
    assert.equal(s.memoryLimitBytes, 25276063744);
  });

  it('reports null, not 0, for containers without stats (exited, restarting)', () => {
    for (const f of ['docker-20.10-stats-exited.json', 'docker-20.10-stats-restarting.json']) {
      const s = parseStats(load(f));
      assert.deepEqual(s, { readAt: null, cpuRatio: null, memoryUsedBytes: null, memoryLimitBytes: null }, f);
    }
  });

  it('subtracts the inactive file cache: total_inactive_file on cgroup v1, inactive_file on cgroup v2', () => {
    // Memory sections shaped like the v1 fixture's and like a cgroup v2 engine's (no total_* keys there).
    assert.equal(memoryUsedFromStats({ usage: 10_000, stats: { total_inactive_file: 4000, inactive_file: 1000 } }), 6000);
    assert.equal(memoryUsedFromStats({ usage: 10_000, stats: { inactive_file: 2500, anon: 7000 } }), 7500);
    // Inactive cache larger than usage (racy counters): the CLI falls back to plain usage.
    assert.equal(memoryUsedFromStats({ usage: 1000, stats: { total_inactive_file: 5000 } }), 1000);
    assert.equal(memoryUsedFromStats({}), null);
  });

  it('uses the per-CPU list when online_cpus is missing, and null for an empty or backwards window', () => {
    const cpu = { cpu_usage: { total_usage: 3_000, percpu_usage: [1, 2, 3, 4] }, system_cpu_usage: 20_000 };
    const pre = { cpu_usage: { total_usage: 1_000 }, system_cpu_usage: 10_000 };
    assert.equal(cpuRatioFromStats(cpu, pre), (2000 / 10_000) * 4);
    assert.equal(cpuRatioFromStats(cpu, { cpu_usage: { total_usage: 0 } }), null);
    assert.equal(cpuRatioFromStats({ ...cpu, online_cpus: 2 }, { cpu_usage: { total_usage: 5000 }, system_cpu_usage: 10_000 }), null);
  });

  it('parses engine times with nanoseconds and treats Go zero time as null', () => {
    assert.equal(parseEngineTime('2026-11-22T06:20:43.468996601Z'), Date.parse('2026-11-22T06:20:43.468Z'));
    assert.equal(parseEngineTime('0001-01-01T00:00:00Z'), null);
    assert.equal(parseEngineTime(42), null);
  });

  it('takes the own name over link aliases and caps long health output', () => {
    assert.equal(containerName(['/web/db', '/db'], 'x'), 'db');
    const long = trimHealthOutput('x'.repeat(5000) + '\n');
    assert.equal(long?.length, HEALTH_OUTPUT_MAX_CHARS);
    assert.ok(long?.endsWith('…'));
  });

  it('reads the engine version', () => {
    assert.deepEqual(parseVersion({ Version: '20.10.24+dfsg1', ApiVersion: '1.41' }), { version: '20.10.24+dfsg1', apiVersion: '1.41' });
    assert.throws(() => parseVersion('nope'), /\/version: expected an object/);
  });
});
