// The extension's collector client against the real collector (dist/collector.js), plus a small HTTP
// server that refuses WebSockets to exercise the polling fallback.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ServerMessage } from '../../protocol';
import { CollectorClient, parseCollectorUrl } from '../../extension/connection/collector-client';
import type { ConnectionStateChange } from '../../extension/connection/connection';
import { discoverCollector, LocalCollectorProcess } from '../../extension/connection/local-collector';
import { COLLECTOR_ENV } from '../../protocol/collector-node-flags';
import { COLLECTOR_JS, startCollector, stopAllCollectors, type RunningCollector } from '../helpers/collector-process';
import { hello, twoGpuSample } from './fixtures';

const FAST = { initialMs: 100, maxMs: 400, factor: 2, jitter: 0.5 };

function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      const v = fn();
      if (v) return resolve(v);
      if (Date.now() - start > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

describe('extension collector client (real collector)', function () {
  this.timeout(60_000);
  let col: RunningCollector | undefined;
  const clients: CollectorClient[] = [];
  const client = (url: string, token?: string): CollectorClient => {
    const c = new CollectorClient({ id: 'test', name: 'test', kind: 'collector', url, token, backoff: FAST });
    clients.push(c);
    return c;
  };

  afterEach(async () => {
    for (const c of clients.splice(0)) c.dispose();
    await stopAllCollectors();
    col = undefined;
  });

  it('goes live, receives samples and answers requests over the socket', async () => {
    col = await startCollector({ config: { gpu: false, docker: false } });
    const c = client(col.url, col.token!);
    const states: string[] = [];
    c.onDidChangeState((s) => states.push(s.state));
    await waitFor('live', () => c.state === 'live');
    const t0 = c.model.lastSampleTime ?? 0;
    await waitFor('a new sample', () => (c.model.lastSampleTime ?? 0) > t0);
    assert.equal(typeof c.model.latest!.series['host.memory_used_bytes'], 'number');
    assert.equal(c.model.hello?.host.hostname, os.hostname());
    const reply = await c.request({ type: 'history', series: ['host.memory_used_bytes'], since: 0 });
    assert.equal(reply.type, 'history');
    assert.ok(reply.type === 'history' && reply.series[0].points.length > 0);
    assert.deepEqual(states, ['live']);
  });

  it('reports reconnecting when the collector dies, then reconnects and backfills the gap', async () => {
    col = await startCollector({ config: { gpu: false, docker: false } });
    const c = client(col.url, col.token!);
    const received: ServerMessage[] = [];
    const states: ConnectionStateChange[] = [];
    c.onDidReceive((m) => received.push(m));
    c.onDidChangeState((s) => states.push(s));
    await waitFor('live', () => c.state === 'live');
    await waitFor('two samples', () => received.filter((m) => m.type === 'sample').length >= 2);
    await col.kill9();
    await waitFor('reconnecting', () => c.state === 'reconnecting');
    assert.match(c.reason!, /connection (lost|refused|closed)|lost/);
    const lastBefore = c.model.lastSampleTime!;
    await col.restart();
    await waitFor('live again', () => c.state === 'live', 15_000);
    const backfill = await waitFor('the backfill reply', () =>
      received.find((m): m is Extract<ServerMessage, { type: 'history' }> => m.type === 'history' && m.id.startsWith('backfill')),
    );
    // The restarted collector only has what it persisted plus samples since its start; all of it is after the gap start.
    for (const s of backfill.series)
      for (const p of s.points) assert.ok(p[0] > lastBefore, `backfilled ${s.name} point ${p[0]} is after the last sample ${lastBefore}`);
    assert.equal(backfill.from, lastBefore);
    // The reason (retry delay) may change while reconnecting; the states themselves go live → reconnecting → live.
    // A slow restart (a loaded machine) can outlast three socket attempts: the client core then polls HTTP
    // until the socket opens again, which is a stage of reconnecting, not another outcome.
    assert.deepEqual(
      states
        .map((s) => s.state)
        .filter((s) => s !== 'polling')
        .filter((s, i, a) => s !== a[i - 1]),
      ['live', 'reconnecting', 'live'],
    );
  });

  it('backfills the samples it missed while the network path was down', async () => {
    col = await startCollector({ config: { gpu: false, docker: false } });
    // A TCP proxy we can cut, standing in for a flaky tunnel; the collector keeps sampling meanwhile.
    let open = true;
    const socks = new Set<net.Socket>();
    const proxy = net.createServer((inbound) => {
      if (!open) return void inbound.destroy();
      const out = net.connect(col!.port, '127.0.0.1');
      socks.add(inbound).add(out);
      inbound.pipe(out).pipe(inbound);
      const drop = (): void => void (inbound.destroy(), out.destroy());
      inbound.on('error', drop).on('close', drop);
      out.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const c = client(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, col.token!);
      const received: ServerMessage[] = [];
      c.onDidReceive((m) => received.push(m));
      await waitFor('live', () => c.state === 'live');
      await waitFor('two samples', () => received.filter((m) => m.type === 'sample').length >= 2);
      open = false;
      for (const s of socks) s.destroy();
      await waitFor('reconnecting', () => c.state === 'reconnecting');
      const lastBefore = c.model.lastSampleTime!;
      await new Promise((r) => setTimeout(r, 1500)); // ≈6 samples at 0.25 s happen while we are away
      open = true;
      await waitFor('live again', () => c.state === 'live', 15_000);
      const backfill = await waitFor('the backfill reply', () =>
        received.find((m): m is Extract<ServerMessage, { type: 'history' }> => m.type === 'history' && m.id.startsWith('backfill')),
      );
      const mem = backfill.series.find((s) => s.name === 'host.memory_used_bytes');
      assert.ok(
        mem,
        `backfill has host.memory_used_bytes (got ${backfill.series
          .map((s) => s.name)
          .slice(0, 5)
          .join(', ')})`,
      );
      assert.ok(mem.points.length >= 4, `expected the ≈6 missed samples, got ${mem.points.length}`);
      for (const p of mem.points) assert.ok(p[0] > lastBefore);
    } finally {
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('fails with a clear reason for a wrong token, and does not retry', async () => {
    col = await startCollector({ config: { gpu: false, docker: false } });
    const c = client(col.url, 'not-the-right-token-0123456789');
    await waitFor('failed', () => c.state === 'failed');
    assert.match(c.reason!, /rejected the token \(HTTP 401\)/);
    assert.doesNotMatch(c.reason!, /not-the-right-token/);
  });

  it('fails with "connection refused" for a port where nothing listens, and keeps retrying', async () => {
    const srv = http.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const c = client(`http://127.0.0.1:${port}`);
    await waitFor('failed', () => c.state === 'failed');
    assert.match(c.reason!, new RegExp(`connection refused at 127\\.0\\.0\\.1:${port}.*retrying in \\d+ s`));
  });

  it('rejects URLs it cannot use with a readable message', () => {
    assert.throws(() => parseCollectorUrl('not a url'), /"not a url" is not a URL/);
    assert.throws(() => parseCollectorUrl('ftp://x:1'), /"ftp:" is not supported/);
    assert.deepEqual(parseCollectorUrl('http://127.0.0.1:9123/#token=abc').token, 'abc');
    assert.equal(parseCollectorUrl('ws://h:1/ws').base.origin, 'http://h:1');
  });

  it('falls back to HTTP polling when the WebSocket keeps failing but HTTP answers', async () => {
    let polls = 0;
    const srv = http.createServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      if (req.url === '/api/current') {
        polls++;
        res.setHeader('content-type', 'application/json');
        return void res.end(JSON.stringify(hello(twoGpuSample(Date.now()))));
      }
      res.statusCode = 404;
      res.end();
    });
    // A proxy that strips upgrades: the socket upgrade gets a 502.
    srv.on('upgrade', (_req, sock) => sock.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const c = client(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
      await waitFor('polling', () => c.state === 'polling');
      assert.match(c.reason!, /WebSocket unavailable .*HTTP 502.*polling over HTTP/);
      await waitFor('two polls', () => polls >= 2, 5_000);
      assert.equal(c.model.latest?.series['gpu.1.utilization_ratio'], 0.42);
      c.dispose();
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe('extension local collector', function () {
  this.timeout(60_000);
  it('starts the bundled collector, writes a 0600 state file, is rediscovered, and stops', async () => {
    assert.ok(fs.existsSync(COLLECTOR_JS), `${COLLECTOR_JS} missing: run node build.mjs`);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-ext-local-'));
    const lines: string[] = [];
    const proc = new LocalCollectorProcess();
    try {
      const ep = await proc.start({
        collectorJs: COLLECTOR_JS,
        dataDir,
        interval: 0.5,
        onLine: (l) => lines.push(l),
        env: { ...process.env, RIGWATCH_PORT: '1' },
      });
      assert.equal(ep.owned, true);
      assert.match(ep.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.ok(
        lines.some((l) => l.includes('listening on') && l.includes('#token=…')),
        'the log line is forwarded with the token hidden',
      );
      assert.ok(!lines.join('\n').includes(ep.token!), 'the token never reaches the log');
      // Another user can read any command line (`ps`); the token must not be on it.
      const cmdline = fs.readFileSync(`/proc/${ep.pid}/cmdline`, 'utf8');
      assert.ok(cmdline.includes('--data-dir'), 'this is the collector we started');
      assert.ok(!cmdline.includes(ep.token!), 'the token is not on the command line');
      assert.ok(!cmdline.includes('--token'), 'no --token flag at all');
      // The malloc settings every launcher gives the collector (protocol/collector-node-flags.ts).
      const environ = fs.readFileSync(`/proc/${ep.pid}/environ`, 'utf8').split('\0');
      for (const [k, v] of Object.entries(COLLECTOR_ENV)) assert.ok(environ.includes(`${k}=${v}`), `the collector runs with ${k}=${v}`);
      const res = await fetch(new URL('/healthz', ep.url), { headers: { authorization: `Bearer ${ep.token}` } });
      assert.equal(res.status, 200, 'the collector took the token from its environment');
      const wrong = await fetch(new URL('/healthz', ep.url), { headers: { authorization: `Bearer ${'y'.repeat(32)}` } });
      assert.equal(wrong.status, 401, 'and requires it');
      const st = fs.statSync(path.join(dataDir, 'collector.json'));
      assert.equal(st.mode & 0o777, 0o600);
      const found = await discoverCollector(dataDir);
      assert.deepEqual(found, { url: ep.url, token: ep.token, pid: ep.pid, owned: false });
    } finally {
      await proc.stop();
    }
    assert.equal(proc.running, false);
    assert.equal(await discoverCollector(dataDir), undefined, 'a stopped collector is not reused');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('does not reuse a state file whose token the collector rejects', async () => {
    const col = await startCollector({ config: { gpu: false, docker: false } });
    try {
      const f = path.join(col.dataDir, 'collector.json');
      const st = JSON.parse(fs.readFileSync(f, 'utf8')) as { token: string };
      assert.ok(await discoverCollector(col.dataDir));
      fs.writeFileSync(f, JSON.stringify({ ...st, token: 'x'.repeat(32) }));
      assert.equal(await discoverCollector(col.dataDir), undefined);
    } finally {
      await col.stop();
    }
  });
});
