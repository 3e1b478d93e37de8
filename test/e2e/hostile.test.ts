// A hostile local user against the real collector process: clients that never read, pipelined
// all-series history requests, oversized and malformed HTTP requests, forged log lines, idle sockets,
// and a seeded fuzzer. Memory and sample cadence are observed from outside the process.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import WebSocket from 'ws';
import { CLOSE_SLOW_CLIENT, CLOSE_TOO_MANY_REQUESTS, type SampleMessage } from '../../protocol';
import { TieredHistory } from '../../collector/history';
import { silentLogger } from '../../collector/log';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import * as os from 'node:os';

const INTERVAL_MS = 1000;
/** Series and raw points written into the history before the collector starts (a full 5000-point answer each). */
const SERIES = 150;
const POINTS = 5000;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A data dir whose history holds SERIES series of POINTS raw samples each, ending now. */
async function bigHistoryDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-hostile-'));
  const h = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: INTERVAL_MS, log: silentLogger });
  const now = Date.now();
  for (let i = 0; i < POINTS; i++) {
    const series: Record<string, number> = {};
    for (let k = 0; k < SERIES; k++) series[`gpu.${k % 8}.fake_metric_${k}_ratio`] = Math.sin(i / 50 + k) * 1000.123456789;
    h.record(now - (POINTS - i) * INTERVAL_MS, series);
  }
  await h.flush();
  return dir;
}

/** Watches a reading client's samples and the collector's RSS until stopped. */
function watch(c: RunningCollector, reader: { ws: WebSocket }): { stop(): { peakRss: number; maxGapMs: number; samples: number } } {
  let peakRss = 0;
  const times: number[] = [];
  reader.ws.on('message', (d) => {
    const text = d.toString();
    if (text.startsWith('{"type":"sample"')) times.push((JSON.parse(text) as SampleMessage).t);
  });
  const timer = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssBytes(c.proc.pid!));
    } catch {
      // The process is gone: the assertions below say so.
    }
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      let maxGapMs = 0;
      for (let i = 1; i < times.length; i++) maxGapMs = Math.max(maxGapMs, times[i]! - times[i - 1]!);
      return { peakRss, maxGapMs, samples: times.length };
    },
  };
}

/** A WebSocket that reads nothing after the handshake (its socket is paused). */
async function nonReader(c: RunningCollector): Promise<{ ws: WebSocket; closed: Promise<[number, string]> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${c.port}/ws?token=${c.token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const closed = new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
  ws.on('error', () => {});
  (ws as unknown as { _socket: net.Socket })._socket.pause();
  return { ws, closed };
}

/** Raw HTTP GETs on one connection, never read. */
function nonReadingHttp(c: RunningCollector, paths: string[]): net.Socket {
  const s = net.connect(c.port, '127.0.0.1');
  s.on('error', () => {});
  s.on('connect', () => {
    for (const p of paths) s.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${c.token}\r\n\r\n`);
    s.pause();
  });
  return s;
}

describe('hostile clients against the collector process (e2e)', function () {
  this.timeout(90_000);
  let c: RunningCollector;
  let dataDir: string;
  before(async () => {
    dataDir = await bigHistoryDir();
    c = await startCollector({ interval: INTERVAL_MS / 1000, dataDir, config: { limits: { headersTimeoutMs: 1000, replyStallMs: 3000 } } });
  });
  after(async () => {
    await c?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('non-reading WebSocket and HTTP clients pipelining all-series history: RSS stays bounded, samples keep their cadence, the bad clients are dropped with a reason', async () => {
    const reader = await c.ws();
    await reader.next('hello');
    await reader.next('sample');
    const baseline = rssBytes(c.proc.pid!);
    const w = watch(c, reader);
    const bad = await Promise.all(Array.from({ length: 6 }, () => nonReader(c)));
    for (const b of bad) {
      for (let i = 0; i < 20; i++) b.ws.send(JSON.stringify({ type: 'history', id: `h${i}`, series: ['*'], points: 5000, from: 0 }));
    }
    const q = `series=*&points=5000&from=0`;
    const http = Array.from({ length: 4 }, (_, i) =>
      nonReadingHttp(
        c,
        Array.from({ length: 5 }, () => (i % 2 ? `/api/export.csv?${q}` : `/api/history?${q}`)),
      ),
    );
    await new Promise((r) => setTimeout(r, 8000));
    // The reading client still gets answers while the others sit on theirs.
    const reply = await reader.request({ type: 'history', id: 'ok', series: ['gpu.0.fake_metric_0_ratio'], points: 10 });
    assert.equal(reply.type, 'history');
    const { peakRss, maxGapMs, samples } = w.stop();
    for (const b of bad) (b.ws as unknown as { _socket: net.Socket })._socket.resume();
    const closes = await Promise.all(
      bad.map((b) => Promise.race([b.closed, new Promise<[number, string]>((r) => setTimeout(() => r([0, 'still open']), 5000))])),
    );
    for (const s of http) s.destroy();
    assert.equal(c.proc.exitCode, null, `the collector died: ${c.stderr().slice(-2000)}`);
    assert.ok(peakRss < baseline + 150 * 1024 * 1024, `RSS went from ${(baseline / 1048576).toFixed(0)} MB to ${(peakRss / 1048576).toFixed(0)} MB`);
    assert.ok(samples >= 6, `only ${samples} samples in 8 s`);
    assert.ok(maxGapMs <= 1.5 * INTERVAL_MS, `longest gap between samples ${maxGapMs} ms at a ${INTERVAL_MS} ms interval`);
    // Each bad client was closed, with the reason in its close frame when that frame got past the data
    // it had not read (else the socket is cut after a grace period), and always in the log.
    for (const [code, reason] of closes) {
      assert.notEqual(reason, 'still open');
      if (code !== 1006) {
        assert.ok([CLOSE_TOO_MANY_REQUESTS, CLOSE_SLOW_CLIENT].includes(code), `close ${code} ${reason}`);
        assert.match(reason, /requests waiting for an answer|not reading/);
      }
    }
    const logged = c.stderr().match(/closing a WebSocket client \((4000|4001)\): (more than 16 requests waiting|.*not reading)/g) ?? [];
    assert.ok(logged.length >= bad.length, `the log names why each bad client went:\n${c.stderr().slice(-2000)}`);
    await reader.close();
  });

  it('answers hostile HTTP with the right status: unknown actions 404, bad escapes 400, big bodies 413, infinite mutes 400', async () => {
    for (const name of ['constructor', '__proto__', 'hasOwnProperty', 'toString']) {
      const r = await c.get(`/api/sources/host/actions/${name}`);
      assert.equal(r.status, 404, `actions/${name}: ${r.status} ${await r.text()}`);
    }
    const bad = await c.get('/api/sources/host/actions/%E0%A4%A');
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /malformed %-escape/);
    assert.equal((await c.get('/api/sources/%ZZ/actions/x')).status, 400);
    const big = await c.get('/api/alerts/mute', {
      method: 'POST',
      body: JSON.stringify({ target: 'x', pad: 'y'.repeat(200 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).error, /over 65536 bytes/);
    const inf = await c.get('/api/alerts/mute', {
      method: 'POST',
      body: '{"target":"gpu-hot","durationMs":1e999}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(inf.status, 400);
    assert.match((await inf.json()).error, /finite number/);
    assert.equal(c.proc.exitCode, null);
  });

  it('keeps client strings on one log line: newlines and escape codes cannot forge entries', async () => {
    const forged = '2026-01-01T00:00:00.000Z error [server] FORGED ENTRY';
    const ws = await c.ws();
    await ws.next('hello');
    ws.send({ type: `x\n${forged}\u001b[2J\u2028` } as Record<string, unknown>);
    await ws.closed;
    await c.get(`/api/sources/host/actions/%0A${encodeURIComponent(forged)}`);
    await new Promise((r) => setTimeout(r, 300));
    const lines = c.stderr().split('\n');
    assert.ok(!lines.some((l) => l.startsWith('2026-01-01T00:00:00.000Z error')), 'a forged line was written');
    assert.ok(!c.stderr().includes('\u001b'), 'an escape code reached the log');
    assert.ok(
      lines.some((l) => l.includes('"x\\n2026-01-01T00:00:00.000Z error')),
      `the client text is logged escaped:\n${c.stderr().slice(-1500)}`,
    );
  });

  it('closes connections that send nothing once the header timeout passes', async () => {
    const sockets = Array.from({ length: 50 }, () => net.connect(c.port, '127.0.0.1'));
    const closedAt = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<number>((resolve) => {
            s.on('error', () => {});
            s.on('close', () => resolve(Date.now()));
            setTimeout(() => resolve(-1), 6000);
          }),
      ),
    );
    for (const s of sockets) s.destroy();
    assert.ok(
      closedAt.every((t) => t > 0),
      `${closedAt.filter((t) => t < 0).length} of 50 idle connections still open after 6 s (header timeout 1 s)`,
    );
  });
});
