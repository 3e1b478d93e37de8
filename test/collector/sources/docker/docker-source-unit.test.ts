// DockerSource logic (series, totals, inspect reuse, restart window, stats cache) on captured engine
// answers served by an in-memory DockerApi, with a clock the test moves.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '../../../../collector/log';
import {
  DockerSource,
  HEALTH_OUTPUT_REFRESH_MS,
  INSPECT_REFRESH_MS,
  LIST_INTERVAL_MS,
  RESTART_RECENT_MS,
} from '../../../../collector/sources/docker/docker-source';
import { DockerApiError, type DockerApi, type StreamHandlers } from '../../../../collector/sources/docker/engine-client';
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
  // The event stream: opens at once and stays open until the test ends it.
  const events = {
    handlers: undefined as StreamHandlers | undefined,
    opened: 0,
    emit(id: string, action: string): void {
      events.handlers?.onMessage({ status: action, id, Type: 'container', Action: action, Actor: { ID: id } });
    },
    end(): void {
      const h = events.handlers;
      events.handlers = undefined;
      h?.onClose(new DockerApiError('the Docker engine closed the event stream', 'network'));
    },
  };
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
    stream: (p, h) => {
      calls.push(p.replace(/\?.*/, ''));
      events.handlers = h;
      events.opened++;
      queueMicrotask(() => h.onOpen());
      return { close: () => (events.handlers = undefined) };
    },
    close: () => {},
  };
  const byName = (name: string): { listed: Record<string, unknown>; inspect: Record<string, unknown> } => {
    const listed = list.find((c) => (c.Names as string[])[0] === `/${name}`) as Record<string, unknown>;
    return { listed, inspect: inspects.get(listed.Id as string) as Record<string, unknown> };
  };
  return { api, calls, list, byName, events };
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
      assert.deepEqual(
        d.containers.map((c) => c.name),
        ['c1', 'done', 'hc', 'ok', 'rs'],
      );
      assert.equal(d.containers.find((c) => c.name === 'hc')?.lastHealthOutput, 'failing-output');
    } finally {
      src.close();
    }
  });

  it('with the event stream: lists every LIST_INTERVAL_MS, inspects only what events or the list say changed', async () => {
    const { api, calls, byName, events } = fixtureEngine();
    const src = make(api);
    const inspects = (): string[] => calls.filter((c) => /^\/containers\/[0-9a-f]+\/json$/.test(c));
    const lists = (): number => calls.filter((c) => c === '/containers/json?all=1').length;
    const idOf = (n: string): string => byName(n).listed.Id as string;
    try {
      await src.sample(signal());
      assert.equal(inspects().length, 5);
      assert.equal(events.opened, 1);
      await flush();
      calls.length = 0;
      now += 1000;
      await src.sample(signal());
      assert.deepEqual(calls, [], 'a quiet engine costs no request on this tick');
      now += LIST_INTERVAL_MS - 1000;
      await src.sample(signal());
      assert.equal(lists(), 1);
      assert.equal(inspects().length, 0);
      // An event for c1: listed and inspected on the next tick, nothing else.
      calls.length = 0;
      now += 100;
      events.emit(idOf('c1'), 'die');
      await src.sample(signal());
      assert.equal(lists(), 1);
      assert.deepEqual(inspects(), [`/containers/${idOf('c1')}/json`]);
      // A health change visible in the list is inspected at once even without an event.
      calls.length = 0;
      byName('ok').listed.Status = 'Up 30 seconds (unhealthy)';
      now += LIST_INTERVAL_MS;
      await src.sample(signal());
      assert.deepEqual(inspects(), [`/containers/${idOf('ok')}/json`]);
      // Health-check output changes without events: containers with a health check are refreshed slowly.
      calls.length = 0;
      now += HEALTH_OUTPUT_REFRESH_MS;
      await src.sample(signal());
      assert.deepEqual(inspects().sort(), [`/containers/${idOf('hc')}/json`, `/containers/${idOf('ok')}/json`].sort());
      // The stream ends (engine stopping): the very next tick lists, and reopens the stream.
      calls.length = 0;
      now += 100;
      events.end();
      await src.sample(signal());
      assert.equal(lists(), 1);
      assert.equal(events.opened, 2);
    } finally {
      src.close();
    }
  });

  it('without the event stream: lists every tick and refreshes live containers every INSPECT_REFRESH_MS', async () => {
    const { api, calls, byName } = fixtureEngine();
    const refused: DockerApi = {
      ...api,
      stream: (p, h) => {
        queueMicrotask(() => h.onClose(new DockerApiError(`Docker API GET ${p}: HTTP 400`, 'http', 400)));
        return { close: () => {} };
      },
    };
    const src = make(refused);
    const inspects = (): string[] => calls.filter((c) => /^\/containers\/[0-9a-f]+\/json$/.test(c));
    try {
      await src.sample(signal());
      await flush();
      calls.length = 0;
      now += 1000;
      await src.sample(signal());
      assert.deepEqual(calls, ['/containers/json?all=1'], 'listed, nothing inspected, stream not retried at once');
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
    const { api, byName, events } = fixtureEngine();
    const src = make(api);
    try {
      await src.sample(signal());
      const rs = byName('rs');
      // It came back up: running in the list, one more restart in inspect.
      rs.listed.State = 'running';
      rs.listed.Status = 'Up Less than a second';
      rs.inspect.RestartCount = 8;
      (rs.inspect.State as Record<string, unknown>).Status = 'running';
      events.emit(rs.listed.Id as string, 'start');
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
    const { api, calls, byName, events } = fixtureEngine();
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
      events.emit(c1.listed.Id as string, 'start');
      now += 100;
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
      now += LIST_INTERVAL_MS;
      await assert.rejects(src.sample(signal()));
      mode = 'ok';
      assert.equal((await src.sample(signal())).series['docker.c1.cpu_ratio'], 0, 'the reading survived the aborted tick');
      mode = 'gone';
      now += LIST_INTERVAL_MS;
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
