// A seeded WebSocket fuzzer against the real collector process: 10,000 messages, mixed valid, invalid,
// oversized and binary, over several connections. The collector must stay up, keep answering a healthy
// client, and never log a stack trace.

import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import { startCollector, type RunningCollector } from '../helpers/collector-process';

/** Messages sent in all. */
const MESSAGES = 10_000;
/** Fixed seed: a failure reproduces exactly. */
const SEED = 0x5eed17;

/** mulberry32: a small, fast, seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['history', 'logging', 'ack', 'mute', 'export', 'action', 'alerts', 'hello', 'sample', '__proto__', 'constructor', ''];
const NASTY = ['', '*', 'a'.repeat(300), '\u0000\n\u001b[31m', '%E0%A4%A', '__proto__', 'constructor', '../../etc/passwd', '\ud800', '1e999'];

function message(rand: () => number, i: number): string | Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const r = rand();
  if (r < 0.05) return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
  if (r < 0.07) return 'x'.repeat(70 * 1024); // over the 64 KiB message cap
  if (r < 0.15)
    return pick(['{', 'null', '[]', '"str"', '42', '{"type":', String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(rand() * 0xffff)))]);
  const value = (): unknown =>
    pick<() => unknown>([
      () => pick(NASTY),
      () => rand() * 1e6 - 5e5,
      () => null,
      () => [pick(NASTY)],
      () => ({ a: pick(NASTY) }),
      () => true,
      () => -1,
      () => 1e308 * 10,
    ])();
  const m: Record<string, unknown> = { type: pick(TYPES), id: rand() < 0.9 ? `f${i}` : value() };
  switch (m.type) {
    case 'history':
    case 'export':
      m.series = rand() < 0.7 ? [pick(['host.*', 'host.cpu_busy_ratio', '*', 'nope'])] : value();
      if (rand() < 0.5) m.points = rand() < 0.7 ? Math.floor(rand() * 6000) : value();
      if (rand() < 0.3) m.from = rand() < 0.7 ? Date.now() - rand() * 3600_000 : value();
      if (rand() < 0.2) m.since = value();
      if (m.type === 'export') m.format = pick(['csv', 'json', 'xml', value()]);
      break;
    case 'mute':
      m.target = rand() < 0.5 ? pick(NASTY) : value();
      m.durationMs = rand() < 0.5 ? Math.floor(rand() * 1000) : value();
      break;
    case 'action':
      m.source = pick(['host', 'gpu', ...NASTY]);
      m.action = pick(['report', 'constructor', 'toString', ...NASTY]);
      m.args = rand() < 0.7 ? { index: '0' } : value();
      break;
    default:
      if (rand() < 0.5) m[pick(NASTY) || 'k'] = value();
  }
  return JSON.stringify(m);
}

describe('WebSocket fuzzer against the collector process (e2e)', function () {
  this.timeout(120_000);
  let c: RunningCollector;
  before(async () => {
    c = await startCollector({ interval: 0.25 });
  });
  after(async () => c?.stop());

  it(`survives ${MESSAGES} seeded random messages and keeps serving a healthy client`, async () => {
    const rand = prng(SEED);
    const healthy = await c.ws();
    await healthy.next('hello');
    let sent = 0;
    let connections = 0;
    while (sent < MESSAGES) {
      // A connection lives until the collector closes it (bad input) or for a burst of messages.
      const ws = new WebSocket(`ws://127.0.0.1:${c.port}/ws?token=${c.token}`);
      connections++;
      ws.on('error', () => {});
      ws.on('message', () => {});
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      const opened = await new Promise<boolean>((resolve) => {
        ws.once('open', () => resolve(true));
        ws.once('close', () => resolve(false));
      });
      if (!opened) continue;
      const burst = 1 + Math.floor(rand() * 200);
      for (let k = 0; k < burst && sent < MESSAGES && ws.readyState === WebSocket.OPEN; k++) {
        const m = message(rand, sent++);
        ws.send(m, { binary: Buffer.isBuffer(m) });
        if (k % 50 === 49) await new Promise((r) => setImmediate(r));
      }
      ws.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      ws.terminate();
    }
    assert.equal(c.proc.exitCode, null, `the collector exited: ${c.stderr().slice(-2000)}`);
    const reply = await healthy.request({ type: 'history', id: 'after-fuzz', series: ['host.cpu_busy_ratio'], points: 10 });
    assert.equal(reply.type, 'history');
    await healthy.next('sample');
    const health = await (await c.get('/healthz')).json();
    assert.equal(health.ok, true);
    const log = c.stderr();
    assert.ok(!/\n\s+at .+:\d+:\d+\)?/.test(log), `a stack trace was logged:\n${log.slice(-3000)}`);
    assert.ok(!/TypeError|RangeError|ReferenceError|uncaught|unhandled/i.test(log), `an unexpected error was logged:\n${log.slice(-3000)}`);
    assert.ok(connections > 10, `only ${connections} connections were opened`);
  });
});
