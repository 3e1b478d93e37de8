// The real collector process driven over real HTTP and WebSocket.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { CompactDecoder, PROTOCOL_VERSION, isCompactMessage, type HelloMessage, type HistoryReplyMessage, type SampleMessage } from '../../protocol';
import { COLLECTOR_JS, openWs, startCollector, type RunningCollector } from '../helpers/collector-process';

function runCli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [COLLECTOR_JS, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('collector process (e2e)', function () {
  this.timeout(60_000);
  let c: RunningCollector;
  before(async () => {
    c = await startCollector({ interval: 0.25 });
  });
  after(async () => c?.stop());

  it('says hello with the protocol version, host, sources and interval, then streams samples at the interval', async () => {
    const ws = await c.ws();
    const hello = await ws.next('hello');
    assert.equal(hello.protocol, PROTOCOL_VERSION);
    assert.equal(hello.intervalMs, 250);
    assert.equal(hello.host.hostname, os.hostname());
    assert.equal(hello.host.cpuCores, os.cpus().length);
    assert.ok(
      hello.sources.some((s) => s.id === 'host' && s.kind === 'host'),
      JSON.stringify(hello.sources),
    );
    const samples: SampleMessage[] = [];
    for (let i = 0; i < 5; i++) samples.push(await ws.next('sample'));
    const deltas = samples
      .slice(1)
      .map((s, i) => s.t - samples[i].t)
      .sort((a, b) => a - b);
    const median = deltas[Math.floor(deltas.length / 2)];
    assert.ok(Math.abs(median - 250) <= 50, `sample spacing ${deltas.join(',')} should be the 250 ms interval`);
    const last = samples[samples.length - 1];
    assert.equal(last.series['collector.host.up_state'], 1);
    assert.equal(typeof last.series['collector.host.sample_duration_seconds'], 'number');
    assert.equal(typeof last.series['host.memory_total_bytes'], 'number');
    await ws.close();
  });

  it('backfills the gap with history since the last sample seen before a disconnect', async () => {
    let ws = await c.ws();
    await ws.next('hello');
    const seen = await ws.next('sample');
    await ws.close();
    await new Promise((r) => setTimeout(r, 1200));
    ws = await c.ws();
    const hello = await ws.next('hello');
    const reply = (await ws.request({ type: 'history', id: 'bf', series: ['host.memory_total_bytes'], since: seen.t })) as HistoryReplyMessage;
    assert.equal(reply.type, 'history');
    const pts = reply.series.find((s) => s.name === 'host.memory_total_bytes')!.points;
    assert.ok(pts.length >= 3, `expected the ~4 missed samples, got ${pts.length}`);
    assert.ok(
      pts.every((p) => p[0] > seen.t),
      'only samples strictly after since',
    );
    assert.ok(pts[pts.length - 1][0] <= hello.serverTime + 1000);
    await ws.close();
  });

  it('answers HTTP: healthz, current, history with a point budget, metrics with HELP/TYPE, the dashboard page', async () => {
    const health = await (await c.get('/healthz')).json();
    assert.equal(health.ok, true);
    const cur = (await (await c.get('/api/current')).json()) as HelloMessage;
    assert.equal(cur.type, 'hello');
    assert.ok(cur.latest && typeof cur.latest.series['host.cpu_busy_ratio'] !== 'undefined');
    const hist = await (await c.get(`/api/history?series=host.*&from=${Date.now() - 60_000}&points=3`)).json();
    assert.ok(hist.series.length > 5, 'a prefix selects many host series');
    assert.ok(
      hist.series.every((s: { points: unknown[] }) => s.points.length <= 3),
      'the point budget is respected',
    );
    const bad = await c.get('/api/history?series=host.cpu_busy_ratio&points=abc');
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /points must be a number/);
    const metrics = await (await c.get('/metrics')).text();
    assert.match(metrics, /# TYPE rigwatch_build_info gauge\nrigwatch_build_info\{version="[^"]+",hostname="[^"]+"\} 1/);
    assert.match(metrics, /# HELP rigwatch_host_memory_total_bytes .*\n# TYPE rigwatch_host_memory_total_bytes gauge\nrigwatch_host_memory_total_bytes \d+/);
    const page = await fetch(`${c.url}/`);
    assert.equal(page.status, 200, 'the dashboard shell holds no data and needs no token');
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
    assert.match(await page.text(), /<rw-app>/);
  });

  it('enforces the token on HTTP and WebSocket', async () => {
    assert.equal((await fetch(`${c.url}/api/current`)).status, 401);
    assert.equal((await fetch(`${c.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    assert.equal((await fetch(`${c.url}/api/current?token=${c.token}`)).status, 200);
    await assert.rejects(c.ws({ token: null }), /401/);
    await assert.rejects(c.ws({ token: 'x'.repeat(32) }), /401/);
  });

  it('refuses WebSocket upgrades from a foreign Origin or a rebinding Host, accepts its own and VS Code webviews', async () => {
    await assert.rejects(c.ws({ headers: { Origin: 'https://evil.example' } }), /403/);
    await assert.rejects(
      openWs(`ws://127.0.0.1:${c.port}/ws?token=${c.token}`, { Host: `evil.example:${c.port}`, Origin: `http://evil.example:${c.port}` }),
      /421/,
    );
    const own = await c.ws({ headers: { Origin: `http://127.0.0.1:${c.port}` } });
    await own.next('hello');
    await own.close();
    const webview = await c.ws({ headers: { Origin: 'vscode-webview://1abc2def' } });
    await webview.next('hello');
    await webview.close();
    const post = await c.get('/api/logging', {
      method: 'POST',
      headers: { Origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: '{"enabled":true}',
    });
    assert.equal(post.status, 403, 'a cross-site POST is refused');
  });

  it('closes a client that sends bad messages, with a reason naming the problem, and keeps serving others', async () => {
    const bystander = await c.ws();
    await bystander.next('hello');
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [{ type: 'explode', id: '1' }, /message\.type must be one of/],
      [{ type: 'history', id: '2', series: 'host.*' }, /message\.series must be an array of strings/],
      [{ type: 'mute', id: '3', target: 'x', durationMs: 'soon' }, /message\.durationMs must be a finite number/],
    ];
    for (const [msg, re] of cases) {
      const ws = await c.ws();
      await ws.next('hello');
      ws.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
      const err = await ws.next('error');
      assert.match(err.message, re);
      const [code, reason] = await ws.closed;
      assert.equal(code, 1008);
      assert.match(reason, re);
    }
    const big = await c.ws();
    await big.next('hello');
    big.ws.send(JSON.stringify({ type: 'history', id: 'x', series: ['a'.repeat(70 * 1024)] }));
    const [code] = await big.closed;
    assert.equal(code, 1009, 'over 64 KiB is closed as too big');
    const after = await bystander.next('sample');
    assert.ok(after.t > 0, 'the other client still gets samples');
    await bystander.close();
  });

  it('answers a request error with a result naming it (unknown source action)', async () => {
    const ws = await c.ws();
    await ws.next('hello');
    const r = await ws.request({ type: 'action', id: 'a1', source: 'nosuch', action: 'report', args: { index: '0' } });
    assert.equal(r.type, 'result');
    assert.equal((r as { ok: boolean }).ok, false);
    assert.match((r as { error: string }).error, /no source "nosuch"/);
    const h = (await ws.request({ type: 'alerts', id: 'a2', limit: 10 })) as { ok: boolean; data: unknown };
    assert.equal(h.ok, true);
    assert.ok(Array.isArray(h.data), 'recent alert events come back as a list');

    await ws.close();
  });

  it('streams the compact form on ?compact=1, which decodes to the same samples a full client gets', async () => {
    const full = await c.ws();
    await full.next('hello');
    const raw: unknown[] = [];
    const compactWs = new WebSocket(`ws://127.0.0.1:${c.port}/ws?compact=1&token=${c.token}`);
    compactWs.on('message', (d) => raw.push(JSON.parse(d.toString())));
    await new Promise((r) => compactWs.once('open', r));
    const fullSamples: SampleMessage[] = [];
    for (let i = 0; i < 6; i++) fullSamples.push(await full.next('sample'));
    compactWs.close();
    await full.close();
    const dec = new CompactDecoder();
    const hello = raw[0] as HelloMessage;
    assert.equal(hello.type, 'hello');
    dec.reset(hello.latest);
    assert.equal((raw[1] as { type: string }).type, 'keys');
    const decoded: SampleMessage[] = [];
    let bytesCompact = 0;
    for (const m of raw.slice(1)) {
      assert.notEqual((m as { type: string }).type, 'sample', 'compact clients never get full samples');
      if (!isCompactMessage(m)) continue;
      bytesCompact += JSON.stringify(m).length;
      const out = dec.apply(m);
      if (out) decoded.push(out);
    }
    let matched = 0;
    for (const d of decoded) {
      const f = fullSamples.find((x) => x.t === d.t);
      if (!f) continue;
      assert.deepEqual(d.series, f.series);
      assert.deepEqual(d.details, f.details);
      matched++;
    }
    assert.ok(matched >= 3, `decoded samples matched full ones (${matched})`);
    const bytesFull = fullSamples.reduce((n, x) => n + JSON.stringify(x).length, 0);
    assert.ok(bytesCompact < bytesFull, `compact ${bytesCompact} B should be smaller than full ${bytesFull} B`);
  });

  it('writes a 0600 state file with port, pid and token', () => {
    const file = path.join(c.dataDir, 'collector.json');
    const st = fs.statSync(file);
    assert.equal(st.mode & 0o777, 0o600);
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(s.port, c.port);
    assert.equal(s.pid, c.proc.pid);
    assert.equal(s.token, c.token);
  });
});

describe('collector CLI', function () {
  this.timeout(30_000);

  it('prints help and version', () => {
    const h = runCli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--interval SECONDS/);
    const v = runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
  });

  it('rejects bad flags and environment values naming the key, the value and what was expected', () => {
    let r = runCli(['--interval', '0.1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /command line --interval: interval: expected seconds from 0\.25 to 60, got "0\.1"/);
    r = runCli(['--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bogus/);
    r = runCli([], { RIGWATCH_PORT: 'eighty' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /environment variable RIGWATCH_PORT: port: expected a port number from 0 to 65535, got "eighty"/);
    r = runCli(['--host', '0.0.0.0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /token.*because host 0\.0\.0\.0 is not loopback/);
  });

  it('rejects a bad config file naming the file, key, value and expected type', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-cfg-'));
    try {
      const f = path.join(dir, 'bad.json');
      fs.writeFileSync(f, JSON.stringify({ interval: 'fast' }));
      let r = runCli(['--config', f, '--data-dir', dir]);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`${f}: interval: expected seconds from 0.25 to 60, got "fast"`), r.stderr);
      fs.writeFileSync(f, '{"port": 1,');
      r = runCli(['--config', f, '--data-dir', dir]);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`${f}: (file): expected valid JSON`), r.stderr);
      fs.writeFileSync(f, JSON.stringify({ colour: 'blue' }));
      r = runCli(['--config', f, '--data-dir', dir]);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`${f}: colour: expected a known key`), r.stderr);
      r = runCli(['--config', path.join(dir, 'missing.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /missing\.json.*ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('of two collectors started at the same moment on one data dir, exactly one runs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-race-'));
    try {
      const start = (): Promise<{ code: number | null; out: string; proc: ReturnType<typeof spawn> }> =>
        new Promise((resolve) => {
          const p = spawn(process.execPath, [COLLECTOR_JS, '--port', '0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          p.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('listening on')) resolve({ code: null, out, proc: p });
          });
          p.stderr.on('data', (d: Buffer) => (out += d.toString()));
          p.on('exit', (code) => resolve({ code, out, proc: p }));
        });
      const results = await Promise.all([start(), start()]);
      const running = results.filter((r) => r.code === null);
      const refused = results.filter((r) => r.code === 2);
      for (const r of running) r.proc.kill('SIGTERM');
      assert.equal(running.length, 1, results.map((r) => r.out).join('\n---\n'));
      assert.equal(refused.length, 1);
      assert.match(refused[0].out, /another collector \(pid \d+\) is already running/);
      await new Promise((r) => running[0].proc.once('exit', r));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start a second collector on the same data dir, naming the first', async () => {
    const first = await startCollector({ config: { host: {} } });
    try {
      const r = runCli(['--port', '0', '--data-dir', first.dataDir]);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`another collector (pid ${first.proc.pid})`), r.stderr);
    } finally {
      await first.stop();
    }
  });
});

describe('collector persistence', function () {
  this.timeout(60_000);

  it('keeps history across kill -9 (loses at most one flush interval) and never corrupts the file', async () => {
    const c = await startCollector({ interval: 0.25 });
    const dir = c.dataDir;
    try {
      const ws = await c.ws();
      await ws.next('hello');
      // Run past one flush interval (10 s) so something has been written.
      let s = await ws.next('sample');
      const first = s.t;
      while (s.t - first < 11_000) s = await ws.next('sample', 5000);
      await ws.close();
      await c.kill9();
      await c.restart();
      const h = await (await c.get(`/api/history?series=host.memory_total_bytes&from=${first - 1000}&points=5000`)).json();
      const pts = h.series[0].points.filter((p: [number, number | null]) => p[1] !== null);
      assert.ok(pts.length > 0, 'history from before the crash is back');
      assert.ok(pts[0][0] <= first + 1000, 'it starts at the first sample');
    } finally {
      await c.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
