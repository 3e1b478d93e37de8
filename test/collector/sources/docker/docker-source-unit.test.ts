// DockerSource logic (series, totals, inspect reuse, restart window, stats cache) on captured engine
// answers served by an in-memory DockerApi, with a clock the test moves.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '../../../../collector/log';
import { DockerSource, INSPECT_REFRESH_MS, RESTART_RECENT_MS } from '../../../../collector/sources/docker/docker-source';
import { DockerApiError, type DockerApi } from '../../../../collector/sources/docker/engine-client';
import type { DockerDetails } from '../../../../protocol/details/docker';

const FIX = path.join(__dirname, '../../../fixtures/docker');
const load = (name: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(FIX, name), 'utf8'));
const signal = (): AbortSignal => new AbortController().signal;
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Serves the 20.10 fixtures; `list` and `inspects` may be edited by a test between samples. */
function fixtureEngine() {
  const inspects = new Map<string, Record<string, unknown>>();
  for (const n of ['hc', 'ok', 'rs', 'done', 'c1']) {
    const j = load(`docker-20.10-inspect-${n}.json`);
    inspects.set(j.Id as string, j);
  }
  // `burn` has no captured inspect; leave it out of the list.
  const list = (load('docker-20.10-containers.json') as unknown as Record<string, unknown>[]).filter((c) => inspects.has(c.Id as string));
  const calls: string[] = [];
  const stats = load('docker-20.10-stats-idle.json');
  const api: DockerApi = {
    endpoint: { kind: 'unix', socketPath: '/fake.sock', display: 'unix:///fake.sock' },
    get: async (p) => {
      calls.push(p);
      if (p === '/version') return { Version: '20.10.24+dfsg1', ApiVersion: '1.41' };
      if (p === '/containers/json?all=1') return list;
      const m = /^\/containers\/([0-9a-f]+)\/json$/.exec(p);
      const found = m && inspects.get(m[1]);
      if (found) return found;
      throw new DockerApiError(`Docker API GET ${p}: HTTP 404 No such container`, 'http', 404);
    },
    getStats: async (p) => {
      calls.push(p);
      return stats;
    },
    close: () => {},
  };
  const byName = (name: string): { listed: Record<string, unknown>; inspect: Record<string, unknown> } => {
    const listed = list.find((c) => (c.Names as string[])[0] === `/${name}`) as Record<string, unknown>;
    return { listed, inspect: inspects.get(listed.Id as string) as Record<string, unknown> };
  };
  return { api, calls, list, byName };
}

describe('docker source logic (fixture engine)', () => {
  // Shortly after the fixtures were captured.
  let now = Date.parse('2026-11-22T06:21:10Z');
  const clock = (): number => now;
  const make = (api: DockerApi): DockerSource =>
    new DockerSource({ api, origin: 'config', statsIntervalMs: 5000, filter: () => true, log: silentLogger, now: clock });

  it('maps states, health and restarts to series and totals', async () => {
    const { api } = fixtureEngine();
    const src = make(api);
    try {
      const r = await src.sample(signal());
      const s = r.series;
      assert.equal(s['docker.hc.health_state'], 2);
      assert.equal(s['docker.ok.health_state'], 0);
      assert.equal(s['docker.c1.health_state'], null);
      assert.equal(s['docker.rs.running_state'], 0);
      assert.equal(s['docker.rs.restart_count'], 7);
      assert.equal(s['docker.rs.uptime_seconds'], null);
      assert.equal(s['docker.done.running_state'], 0);
      assert.equal(s['docker.c1.uptime_seconds'], (now - Date.parse('2026-11-22T06:20:43.227Z')) / 1000);
      assert.equal(s['docker.containers_count'], 5);
      assert.equal(s['docker.containers_running_count'], 3);
      assert.equal(s['docker.containers_unhealthy_count'], 1);
      assert.equal(s['docker.containers_restarting_count'], 1);
      // No stats yet: null, never 0.
      assert.equal(s['docker.c1.cpu_ratio'], null);
      const d = r.details as DockerDetails;
      assert.deepEqual(d.containers.map((c) => c.name), ['c1', 'done', 'hc', 'ok', 'rs']);
      assert.equal(d.containers.find((c) => c.name === 'hc')?.lastHealthOutput, 'failing-output');
    } finally {
      src.close();
    }
  });

  it('reuses inspect answers: stopped until their state changes, live ones for INSPECT_REFRESH_MS', async () => {
    const { api, calls, byName } = fixtureEngine();
    const src = make(api);
    const inspects = (): string[] => calls.filter((c) => /^\/containers\/[0-9a-f]+\/json$/.test(c));
    try {
      await src.sample(signal());
      assert.equal(inspects().length, 5);
      calls.length = 0;
      now += 1000;
      await src.sample(signal());
      assert.equal(inspects().length, 0, 'nothing changed within the refresh window');
      // A health change shows in the list's status line and is inspected at once.
      const c1 = byName('c1');
      c1.listed.Status = 'Up 30 seconds (unhealthy)';
      now += 100;
      await src.sample(signal());
      assert.deepEqual(inspects(), [`/containers/${c1.listed.Id}/json`]);
      calls.length = 0;
      now += INSPECT_REFRESH_MS;
      await src.sample(signal());
      assert.equal(inspects().length, 4, 'live containers refreshed; the exited one is not');
      assert.ok(!inspects().includes(`/containers/${byName('done').listed.Id}/json`));
    } finally {
      src.close();
    }
  });

  it('counts a container as restarting for RESTART_RECENT_MS after its restart count rises', async () => {
    const { api, byName } = fixtureEngine();
    const src = make(api);
    try {
      await src.sample(signal());
      const rs = byName('rs');
      // It came back up: running in the list, one more restart in inspect.
      rs.listed.State = 'running';
      rs.listed.Status = 'Up Less than a second';
      rs.inspect.RestartCount = 8;
      (rs.inspect.State as Record<string, unknown>).Status = 'running';
      now += 1000;
      let s = (await src.sample(signal())).series;
      assert.equal(s['docker.rs.running_state'], 1);
      assert.equal(s['docker.rs.restart_count'], 8);
      assert.equal(s['docker.containers_restarting_count'], 1);
      now += RESTART_RECENT_MS + 1;
      s = (await src.sample(signal())).series;
      assert.equal(s['docker.containers_restarting_count'], 0);
    } finally {
      src.close();
    }
  });

  it('fills CPU and memory from background stats, drops them when the container restarts', async () => {
    const { api, calls, byName } = fixtureEngine();
    const src = make(api);
    try {
      await src.sample(signal());
      const statsCalls = calls.filter((c) => c.includes('/stats?stream=false'));
      assert.equal(statsCalls.length, 3, 'one per running container: c1, hc, ok');
      await flush();
      now += 500;
      let s = (await src.sample(signal())).series;
      assert.equal(s['docker.c1.cpu_ratio'], 0);
      assert.equal(s['docker.c1.memory_used_bytes'], 323584);
      assert.equal(s['docker.c1.memory_limit_bytes'], 25276063744);
      // c1 restarted: a new StartedAt makes the old reading stale until a new one arrives.
      const c1 = byName('c1');
      (c1.inspect.State as Record<string, unknown>).StartedAt = '2026-11-22T06:21:10.000000000Z';
      c1.listed.Status = 'Up 1 second';
      now += INSPECT_REFRESH_MS;
      calls.length = 0;
      s = (await src.sample(signal())).series;
      assert.equal(s['docker.c1.cpu_ratio'], null);
      assert.ok(calls.includes(`/containers/${c1.listed.Id}/stats?stream=false`), 'a fresh reading is requested at once');
      // Readings older than three stats intervals are stale.
      await flush();
      now += 5000 * 3 + 1;
      s = (await src.sample(signal())).series;
      // That sample asked for nothing new (requests are per round), so the old readings are stale now.
      assert.equal(s['docker.ok.cpu_ratio'], null);
    } finally {
      src.close();
    }
  });

  it('keeps cached stats when a tick is cut short, drops them when the engine goes away', async () => {
    const { api } = fixtureEngine();
    let mode: 'ok' | 'abort' | 'gone' = 'ok';
    const flaky: DockerApi = {
      ...api,
      get: async (p, o) => {
        if (mode === 'abort') throw new DockerApiError(`request ${p} aborted`, 'aborted');
        if (mode === 'gone') throw new DockerApiError('no Docker engine socket at /fake.sock', 'absent');
        return api.get(p, o);
      },
    };
    const src = make(flaky);
    try {
      await src.sample(signal());
      await flush();
      mode = 'abort';
      await assert.rejects(src.sample(signal()));
      mode = 'ok';
      assert.equal((await src.sample(signal())).series['docker.c1.cpu_ratio'], 0, 'the reading survived the aborted tick');
      mode = 'gone';
      await assert.rejects(src.sample(signal()));
      mode = 'ok';
      // Back: the old reading is gone; a new request was issued and has not been awaited yet.
      assert.equal((await src.sample(signal())).series['docker.c1.cpu_ratio'], null);
    } finally {
      src.close();
    }
  });

  it('turns a vanished engine into a retryable SourceError and an unknown answer into a clear one', async () => {
    const { api } = fixtureEngine();
    const broken: DockerApi = { ...api, get: async () => ({ not: 'a list' }) };
    const src = make(broken);
    try {
      await assert.rejects(src.sample(signal()), /\/containers\/json: expected an array, got an object/);
    } finally {
      src.close();
    }
    const gone: DockerApi = {
      ...api,
      get: async () => {
        throw new DockerApiError('no Docker engine socket at /fake.sock', 'absent');
      },
    };
    const defaultSrc = new DockerSource({ api: gone, origin: 'default', statsIntervalMs: 5000, filter: () => true, log: silentLogger });
    try {
      assert.deepEqual(await defaultSrc.probe(signal()), { status: 'unavailable', reason: 'no Docker engine socket at /fake.sock', retry: true });
      await assert.rejects(defaultSrc.sample(signal()), (e: unknown) => e instanceof Error && e.name === 'SourceError');
    } finally {
      defaultSrc.close();
    }
    // Configured explicitly (or seen before): a missing socket is "down, retry soon", not "no Docker".
    const configured = make(gone);
    try {
      await assert.rejects(configured.probe(signal()), (e: unknown) => e instanceof Error && e.name === 'SourceError');
    } finally {
      configured.close();
    }
  });
});
