// The client core once, with a scripted transport: live on hello, reconnect with backoff and backfill
// with `since`, no retry after a fatal failure, HTTP polling after sockets that never open (with
// alert changes as events), and a malformed frame skipped. The transports have their own thin tests:
// test/extension-unit/collector-client.test.ts (ws, real collector) and test/webview/polling.test.ts +
// dashboard.test.ts (the page's WebSocket, Chromium).

import { strict as assert } from 'node:assert';
import type { AlertInstance, ClientMessage, ServerMessage } from '../../protocol';
import type { ConnectionState } from '../../protocol/bridge';
import { ClientCore, type ClientTransport, type SocketEvents } from '../../client/connection-core';
import { hello, twoGpuSample } from '../extension-unit/fixtures';

const FAST = { initialMs: 5, maxMs: 20, factor: 2, jitter: 0 };

/** A transport the test drives: each socket attempt is recorded with its callbacks. */
class ScriptedTransport implements ClientTransport {
  sockets: { events: SocketEvents; sent: ClientMessage[]; closed: boolean }[] = [];
  http = false;
  current: unknown[] = [];
  openSocket(events: SocketEvents): { send(t: string): void; close(): void } {
    const s = { events, sent: [] as ClientMessage[], closed: false };
    this.sockets.push(s);
    return { send: (t) => s.sent.push(JSON.parse(t) as ClientMessage), close: () => void (s.closed = true) };
  }
  async httpAlive(): Promise<boolean> {
    return this.http;
  }
  async fetchCurrent(): Promise<unknown> {
    if (this.current.length === 0) throw new Error('HTTP 503');
    return this.current.length > 1 ? this.current.shift() : this.current[0];
  }
  last() {
    return this.sockets[this.sockets.length - 1];
  }
}

function until(what: string, fn: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (fn()) return resolve();
      if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 2);
    };
    tick();
  });
}

function make(t: ScriptedTransport) {
  const got: ServerMessage[] = [];
  const states: [ConnectionState, string | undefined][] = [];
  const lost: string[] = [];
  const core = new ClientCore(
    t,
    { message: (m) => got.push(m), state: (s, r) => states.push([s, r]), lost: (r) => lost.push(r) },
    { name: 'test', backoff: FAST, backfill: true },
  );
  core.start();
  return { core, got, states, lost };
}

const alert = (id: string, state: 'pending' | 'firing'): AlertInstance => ({
  id,
  ruleId: id,
  series: `gpu.0.${id}_ratio`,
  state,
  severity: 'warning',
  value: 1,
  threshold: 0.5,
  message: id,
  activeSince: 0,
  acknowledged: false,
});

describe('client core', () => {
  let core: ClientCore | undefined;
  afterEach(() => core?.dispose());

  it('goes live on hello, reconnects after a loss and backfills what it missed with `since`', async () => {
    const t = new ScriptedTransport();
    const c = make(t);
    core = c.core;
    t.last().events.opened();
    t.last().events.text(JSON.stringify(hello(twoGpuSample(1000))));
    assert.equal(c.core.state, 'live');
    t.last().events.text(JSON.stringify(twoGpuSample(2000)));
    t.last().events.text('{"type":"nonsense"}');
    assert.deepEqual(
      c.got.map((m) => m.type),
      ['hello', 'sample'],
      'the malformed frame is skipped',
    );
    t.last().events.failed('connection lost');
    assert.deepEqual(c.lost, ['connection lost']);
    assert.equal(c.core.state, 'reconnecting');
    assert.match(c.core.reason!, /^connection lost; retrying in 1 s$/);
    await until('a second socket', () => t.sockets.length === 2);
    t.last().events.opened();
    t.last().events.text(JSON.stringify(hello(twoGpuSample(5000))));
    assert.equal(c.core.state, 'live');
    assert.deepEqual(t.last().sent, [{ type: 'history', id: 'backfill1', series: ['*'], since: 2000 }]);
    assert.deepEqual(
      c.states.map(([s]) => s),
      ['live', 'reconnecting', 'live'],
    );
  });

  it('backfills from where the socket was lost even when polling delivered newer samples meanwhile', async () => {
    const t = new ScriptedTransport();
    t.http = true;
    t.current = [{ ...hello(twoGpuSample(9000)), intervalMs: 500 }];
    const c = make(t);
    core = c.core;
    t.last().events.opened();
    t.last().events.text(JSON.stringify(hello(twoGpuSample(1000))));
    t.last().events.text(JSON.stringify(twoGpuSample(2000)));
    t.last().events.opened();
    t.last().events.failed('connection lost');
    for (let i = 2; i <= 4; i++) {
      await until(`socket ${i}`, () => t.sockets.length === i);
      t.last().events.failed('connection refused');
    }
    await until('a polled hello', () => c.got.filter((m) => m.type === 'hello').length === 2);
    await until('socket 5', () => t.sockets.length === 5, 3000);
    t.last().events.opened();
    t.last().events.text(JSON.stringify(hello(twoGpuSample(10_000))));
    assert.deepEqual(t.last().sent, [{ type: 'history', id: 'backfill1', series: ['*'], since: 2000 }]);
  });

  it('does not retry after a fatal failure, until told to reconnect', async () => {
    const t = new ScriptedTransport();
    const c = make(t);
    core = c.core;
    t.last().events.failed('the collector rejected the token (HTTP 401)', true);
    assert.equal(c.core.state, 'failed');
    assert.equal(c.core.reason, 'the collector rejected the token (HTTP 401)');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.sockets.length, 1);
    c.core.reconnect();
    assert.equal(t.sockets.length, 2);
    assert.equal(c.core.state, 'connecting');
  });

  it('polls /api/current after sockets that never open, turning alert changes into events', async () => {
    const t = new ScriptedTransport();
    t.http = true;
    const first = { ...hello(twoGpuSample(1000)), alerts: [alert('a', 'pending')], intervalMs: 500 };
    const second = { ...hello(twoGpuSample(1500)), alerts: [alert('a', 'firing'), alert('b', 'pending')], intervalMs: 500 };
    t.current = [first, second];
    const c = make(t);
    core = c.core;
    for (let i = 1; i <= 3; i++) {
      await until(`socket ${i}`, () => t.sockets.length === i);
      t.last().events.failed('the collector refused the WebSocket (HTTP 502)');
    }
    await until('polling', () => c.core.state === 'polling');
    assert.match(c.core.reason!, /WebSocket unavailable \(.*HTTP 502\)\); polling over HTTP/);
    await until('a second poll', () => c.got.some((m) => m.type === 'alert'), 3000);
    assert.deepEqual(
      c.got.slice(0, 3).map((m) => m.type),
      ['hello', 'status', 'alert'],
    );
    const ev = c.got.find((m): m is Extract<ServerMessage, { type: 'alert' }> => m.type === 'alert')!;
    assert.deepEqual(
      ev.events.map((e) => [e.alert.id, e.transition]),
      [
        ['a', 'firing'],
        ['b', 'pending'],
      ],
    );
    assert.ok(
      c.got.some((m) => m.type === 'sample' && m.t === 1500),
      'the newer sample is delivered',
    );
    assert.equal(c.core.send({ type: 'alerts', id: 'x' }), false, 'nothing goes over a socket while polling');
  });

  it('a socket that opened and then closed does not count towards polling', async () => {
    const t = new ScriptedTransport();
    t.http = true;
    t.current = [hello(twoGpuSample(1000))];
    const c = make(t);
    core = c.core;
    for (let i = 1; i <= 4; i++) {
      await until(`socket ${i}`, () => t.sockets.length === i);
      t.last().events.opened();
      t.last().events.failed('connection lost');
    }
    await new Promise((r) => setTimeout(r, 30));
    assert.notEqual(c.core.state, 'polling');
  });
});
