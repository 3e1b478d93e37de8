// SshConnection's state mapping with a scripted SshRemote and client: which layer's state and reason
// the user sees, when a fresh remote/client is made, and that disposing never stops the remote collector.

import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { RemoteError, type RemoteCollector, type SshOptions } from '../../remote/ssh';
import type { ConnectionState } from '../../protocol/bridge';
import type { ClientMessage, HelloMessage, SampleMessage, ServerMessage } from '../../protocol/messages';
import { CollectorModel } from '../../extension/connection/collector-model';
import type { Connection, ConnectionStateChange } from '../../extension/connection/connection';
import { Emitter } from '../../extension/connection/events';
import { SshConnection, sshConnectionId, type SshRemoteLike } from '../../extension/connection/ssh-connection';

class FakeRemote extends EventEmitter {
  closed = 0;
  stopped = 0;
  connectCalls = 0;
  nextConnect: () => Promise<RemoteCollector> = () => new Promise(() => {});
  constructor(readonly opts: SshOptions) {
    super();
  }
  connect(): Promise<RemoteCollector> {
    this.connectCalls++;
    return this.nextConnect();
  }
  async stopRemote(): Promise<boolean> {
    this.stopped++;
    return true;
  }
  async close(): Promise<void> {
    this.closed++;
  }
  /** What SshRemote does on a successful (re)connect. */
  up(rc: RemoteCollector): void {
    this.emit('up', rc);
  }
}

class FakeClient implements Connection {
  readonly model = new CollectorModel();
  state: ConnectionState = 'connecting';
  reason: string | undefined;
  reconnects = 0;
  disposed = false;
  sent: ClientMessage[] = [];
  private readonly se = new Emitter<ConnectionStateChange>();
  private readonly re = new Emitter<ServerMessage>();
  readonly onDidChangeState = this.se.event;
  readonly onDidReceive = this.re.event;
  constructor(
    readonly id: string,
    readonly name: string,
    readonly kind: string,
    readonly url: string,
    readonly token: string,
  ) {}
  set(state: ConnectionState, reason?: string): void {
    this.state = state;
    this.reason = reason;
    this.se.fire({ state, reason });
  }
  receive(m: ServerMessage): void {
    this.model.apply(m);
    this.re.fire(m);
  }
  request(): Promise<never> {
    return Promise.reject(new Error('not used'));
  }
  send(m: ClientMessage): void {
    this.sent.push(m);
  }
  reconnect(): void {
    this.reconnects++;
  }
  dispose(): void {
    this.disposed = true;
  }
}

const rc = (over: Partial<RemoteCollector> = {}): RemoteCollector => ({
  nodeVersion: 'v20.1.0',
  platform: 'linux-x64',
  copied: false,
  copiedFiles: [],
  nvmlNative: true,
  reused: true,
  remotePid: 4242,
  remotePort: 40000,
  token: 'abc123',
  localPort: 51000,
  url: 'http://127.0.0.1:51000/',
  ...over,
});

const hello = (t: number): HelloMessage => ({
  type: 'hello',
  protocol: 1,
  intervalMs: 1000,
  serverTime: t,
  sources: [],
  alerts: [],
  logging: { enabled: false },
  host: { hostname: 'gpu01', platform: 'linux', arch: 'x64', collectorVersion: '0.1.0', pid: 4242, startedAt: t },
});
const sample = (t: number): SampleMessage => ({ type: 'sample', t, series: { 'gpu.0.utilization_ratio': 0.5 }, details: {} });

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  for (const start = Date.now(); !cond();) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `connect` of the i-th SshRemote made (default: never settles, like a slow deploy). */
function setup(connect: (i: number) => Promise<RemoteCollector> = () => new Promise(() => {})) {
  const remotes: FakeRemote[] = [];
  const clients: FakeClient[] = [];
  const states: ConnectionStateChange[] = [];
  const conn = new SshConnection({
    target: { destination: 'alice@gpu01', port: 2222 },
    bundlePath: '/nonexistent/collector.js',
    firstConnectBackoff: { initialMs: 20, maxMs: 20, factor: 1, jitter: 0 },
    restartAfterMs: 30,
    remoteFactory: (o) => {
      const r = new FakeRemote(o);
      const i = remotes.length;
      r.nextConnect = () => connect(i);
      remotes.push(r);
      return r as unknown as SshRemoteLike;
    },
    clientFactory: (o) => {
      const c = new FakeClient(o.id, o.name, o.kind, o.url, o.token);
      clients.push(c);
      return c;
    },
  });
  conn.onDidChangeState((s) => states.push(s));
  return { conn, remotes, clients, states };
}

describe('SshConnection state mapping', () => {
  it('is "connecting: deploying to host…" at first, then follows the client once the tunnel is up', async () => {
    const { conn, remotes, clients } = setup();
    assert.equal(conn.id, sshConnectionId({ destination: 'alice@gpu01', port: 2222 }));
    assert.equal(conn.id, 'ssh:alice@gpu01:2222');
    assert.equal(conn.kind, 'ssh');
    assert.equal(conn.state, 'connecting');
    assert.equal(conn.reason, 'deploying to alice@gpu01:2222…');
    assert.equal(remotes.length, 1);
    assert.equal(remotes[0].connectCalls, 1);
    remotes[0].emit('log', 'copying the collector bundle to alice@gpu01 (absent)');
    assert.equal(conn.reason, 'copying the collector bundle to alice@gpu01 (absent)…');
    remotes[0].up(rc());
    assert.equal(clients.length, 1);
    assert.equal(clients[0].url, 'http://127.0.0.1:51000/');
    assert.equal(clients[0].token, 'abc123');
    assert.equal(conn.state, 'connecting');
    assert.match(conn.reason!, /through the tunnel/);
    clients[0].set('live');
    assert.equal(conn.state, 'live');
    assert.equal(conn.reason, undefined);
    assert.equal(conn.remoteInfo?.remotePid, 4242);
    assert.equal((conn.remoteInfo as Record<string, unknown>).token, undefined, 'the token is not exposed');
    await conn.close();
  });

  it('a RemoteError that cannot pass (missing node) is "failed" with its message, and no retry happens by itself', async () => {
    const msg = 'Node.js is not installed on gpu01 (or not on its PATH for non-interactive ssh). Install Node 18 or newer there';
    const { conn, remotes } = setup(() => Promise.reject(new RemoteError(msg, false)));
    await tick();
    assert.equal(conn.state, 'failed');
    assert.equal(conn.reason, msg);
    assert.equal(remotes[0].closed, 1, 'the failed remote (and its ssh master) is closed');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(remotes.length, 1, 'no automatic retry after a permanent failure');
    conn.reconnect();
    await tick();
    assert.equal(remotes.length, 2, "the user's retry starts over with a fresh SshRemote");
    assert.equal(conn.state, 'failed');
    await conn.close();
  });

  it('a passing failure on the first connect says so and retries with a fresh SshRemote', async () => {
    const { conn, remotes } = setup((i) =>
      i < 2 ? Promise.reject(new RemoteError(`ssh gpu01 failed (exit 255): Connection timed out (${i + 1})`, true)) : new Promise(() => {}),
    );
    await tick();
    assert.equal(conn.state, 'failed');
    assert.match(conn.reason!, /Connection timed out \(1\); retrying in 1 s$/);
    for (let i = 0; i < 50 && remotes.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(remotes.length, 3, 'retried after the backoff delay');
    remotes[2].up(rc());
    assert.equal(conn.state, 'connecting');
    await conn.close();
  });

  it('a dropped link is "reconnecting" with the ssh reason and retry delay; back up reuses the client, which backfills itself', async () => {
    const { conn, remotes, clients, states } = setup();
    remotes[0].up(rc());
    clients[0].set('live');
    clients[0].receive(hello(1000));
    clients[0].receive(sample(2000));
    assert.equal(conn.model.lastSampleTime, 2000, 'messages reach the connection model');
    remotes[0].emit('log', 'SSH connection to gpu01 closed: Connection reset');
    remotes[0].emit('down', 'SSH connection to gpu01 closed: Connection reset');
    remotes[0].emit('log', 'reconnecting to gpu01 in 1.1 s');
    // The client notices the dead forward too; the ssh layer's reason wins while it is down.
    clients[0].set('reconnecting', 'connection to 127.0.0.1:51000 lost; retrying in 1 s');
    await tick();
    assert.equal(conn.state, 'reconnecting');
    assert.equal(conn.reason, 'SSH connection to gpu01 closed: Connection reset; retrying in 1 s');
    remotes[0].up(rc());
    assert.equal(clients.length, 1, 'same collector, same port: the client is kept');
    assert.equal(clients[0].reconnects, 1, 'and reconnected at once');
    assert.equal(conn.state, 'reconnecting', 'until the client is live again');
    clients[0].set('live');
    assert.equal(conn.state, 'live');
    assert.deepEqual(
      states.map((s) => s.state).filter((s, i, a) => s !== a[i - 1]),
      ['connecting', 'live', 'reconnecting', 'live'],
    );
    await conn.close();
  });

  it('a link that SshRemote gives up on (no retry line after down) is "failed"', async () => {
    const { conn, remotes, clients } = setup();
    remotes[0].up(rc());
    clients[0].set('live');
    remotes[0].emit('down', 'Node.js is not installed on gpu01');
    await tick();
    assert.equal(conn.state, 'failed');
    assert.equal(conn.reason, 'Node.js is not installed on gpu01');
    assert.equal(remotes[0].closed, 1);
    await conn.close();
  });

  it('a restarted remote collector (new token) gets a new client, which is asked for the gap after its hello', async () => {
    const { conn, remotes, clients } = setup();
    remotes[0].up(rc());
    clients[0].set('live');
    clients[0].receive(hello(1000));
    clients[0].receive(sample(5000));
    remotes[0].emit('down', 'SSH connection to gpu01 closed');
    remotes[0].emit('log', 'reconnecting to gpu01 in 1 s');
    await tick();
    remotes[0].up(rc({ token: 'fresh', remotePid: 777, reused: false }));
    assert.equal(clients.length, 2);
    assert.equal(clients[0].disposed, true);
    assert.equal(clients[1].token, 'fresh');
    assert.equal(clients[1].sent.length, 0);
    clients[1].receive(hello(9000));
    assert.equal(clients[1].sent.length, 1);
    const req = clients[1].sent[0];
    assert.equal(req.type, 'history');
    assert.equal(req.type === 'history' && req.since, 5000);
    assert.match(req.id, /^backfill/);
    await conn.close();
  });

  it('a collector that stops answering through a working tunnel is checked on a fresh ssh connection and replaced', async () => {
    const { conn, remotes, clients } = setup();
    remotes[0].up(rc());
    clients[0].set('live');
    clients[0].receive(hello(1000));
    clients[0].receive(sample(4000));
    // The forward is up but nothing answers behind it (the remote collector was OOM-killed).
    clients[0].set('reconnecting', 'connection to 127.0.0.1:51000 lost; retrying in 1 s');
    assert.equal(conn.state, 'reconnecting');
    assert.equal(remotes.length, 1, 'not at once: a short blip is the client’s to handle');
    clients[0].set('live');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(remotes.length, 1, 'back live in time: nothing restarted');
    clients[0].set('reconnecting', 'connection reset by 127.0.0.1:51000; retrying in 2 s');
    await waitFor(() => remotes.length === 2);
    assert.equal(remotes[0].closed, 1);
    assert.equal(remotes[0].stopped, 0);
    assert.equal(conn.state, 'reconnecting');
    assert.match(
      conn.reason!,
      /^the collector on alice@gpu01:2222 does not answer through the tunnel \(connection reset by 127\.0\.0\.1:51000; retrying in 2 s\); checking it and restarting it if needed…$/,
    );
    remotes[1].up(rc({ token: 'new', remotePid: 999, reused: false }));
    assert.equal(clients.length, 2);
    clients[1].receive(hello(9000));
    const req = clients[1].sent[0];
    assert.equal(req?.type === 'history' && req.since, 4000, 'the new collector is asked for everything after our last sample');
    clients[1].set('live');
    assert.equal(conn.state, 'live');
    await conn.close();
  });

  it('dispose closes the tunnel but never stops the remote collector; stopRemoteCollector does', async () => {
    const a = setup();
    a.remotes[0].up(rc());
    a.conn.dispose();
    await tick();
    assert.equal(a.remotes[0].closed, 1);
    assert.equal(a.remotes[0].stopped, 0);
    assert.equal(a.clients[0].disposed, true);
    assert.equal(a.conn.state, 'disconnected');

    const b = setup();
    b.remotes[0].up(rc());
    assert.equal(await b.conn.stopRemoteCollector(), true);
    assert.equal(b.remotes[0].stopped, 1);
    assert.equal(b.remotes[0].closed, 1);
    assert.equal(b.conn.state, 'disconnected');
    assert.equal(b.conn.reason, 'the collector on alice@gpu01:2222 was stopped');
    await b.conn.close();
  });

  it('answers requests with the state while there is no tunnel yet', async () => {
    const { conn } = setup();
    await assert.rejects(conn.request({ type: 'history', series: ['*'] }), /alice@gpu01:2222 is connecting: deploying to alice@gpu01:2222…/);
    const got: ServerMessage[] = [];
    conn.onDidReceive((m) => got.push(m));
    conn.send({ type: 'history', id: 'h1', series: ['*'] });
    assert.deepEqual(got, [{ type: 'result', id: 'h1', ok: false, error: 'alice@gpu01:2222 is connecting: deploying to alice@gpu01:2222…' }]);
    await conn.close();
  });
});
