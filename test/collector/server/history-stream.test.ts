// History replies are written from columns in pieces (issue 17: a stalled all-series reply held each
// series as point tuples and as one long string — ~2 MB a client, 270–299 MB peak with 60 of them).
// What a client reads must be exactly `query()`'s answer: raw, grouped raw, tiers, gaps, since, over
// WebSocket and HTTP. (The memory effect is measured by bench/hostile/non-reading-clients.ts.)

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { Collector } from '../../../collector/collector';
import { TieredHistory } from '../../../collector/history';
import { silentLogger } from '../../../collector/log';
import { CollectorServer } from '../../../collector/server/server';
import type { HistoryQuery } from '../../../protocol';
import { MemoryHistory } from '../../fakes/test-sources';

describe('collector server: streamed history replies', function () {
  this.timeout(30_000);
  let dir: string;
  let server: CollectorServer;
  let port: number;
  let history: TieredHistory;
  const now = Date.now();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-hist-stream-'));
    history = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: 1000, log: silentLogger });
    // Three hours at 1 s: a gap every 97 s, odd values, a negative zero, large and tiny magnitudes.
    for (let k = 3 * 3600; k > 0; k--) {
      const t = now - k * 1000;
      history.record(t, {
        'gpu.0.util': k % 97 === 0 ? null : (k * 7919) % 101,
        'gpu.0.power_watts': k % 13 === 0 ? -0 : Math.sin(k / 300) * 1e-7 + 312.123456789,
        'host.net.rx_bytes_per_s': k % 211 === 0 ? null : 1.5e12 + k,
      });
    }
    const collector = new Collector([], 1000, { history: new MemoryHistory(), log: silentLogger });
    server = new CollectorServer({
      collector,
      history,
      hostInfo: { hostname: 'h', platform: 'linux', arch: 'x64', collectorVersion: '0', pid: 1, startedAt: 0 },
      policy: { token: undefined, loopbackOnly: true, allowedOrigins: [] },
      log: silentLogger,
      assets: { js: '', css: '' },
    });
    port = await server.listen(0, '127.0.0.1');
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const QUERIES: (Omit<HistoryQuery, 'series'> & { what: string })[] = [
    { what: 'raw, every sample', from: now - 600_000, to: now, points: 5000 },
    { what: 'raw, grouped', from: now - 3600_000 + 5000, to: now, points: 100 },
    { what: 'the 10 s tier', from: now - 3 * 3600_000, to: now, points: 5000 },
    { what: 'the 10 s tier, grouped', from: now - 3 * 3600_000, to: now, points: 37 },
    { what: 'since (reconnect backfill)', since: now - 120_000 },
  ];

  for (const q of QUERIES) {
    it(`WebSocket and HTTP replies equal query() exactly: ${q.what}`, async () => {
      const { what: _what, ...rest } = q;
      const query: HistoryQuery = { ...rest, series: ['*'] };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const reply = await new Promise<string>((resolve, reject) => {
        ws.on('message', (d: Buffer) => {
          const text = d.toString();
          if (text.startsWith('{"type":"history"')) resolve(text);
        });
        ws.on('error', reject);
        ws.once('open', () => ws.send(JSON.stringify({ type: 'history', id: 'q', ...query })));
      });
      ws.close();
      // Every range but `since` has an explicit `to`; `since` answers up to the server's now (the reply's `to`).
      const got = JSON.parse(reply) as { type: string; id: string; from: number; to: number; series: unknown };
      const want = history.query(query, q.since !== undefined ? got.to : now);
      assert.deepEqual({ from: got.from, to: got.to, series: got.series }, JSON.parse(JSON.stringify(want)));
      const params = new URLSearchParams({ series: '*' });
      for (const k of ['from', 'to', 'points', 'since'] as const) if (query[k] !== undefined) params.set(k, String(query[k]));
      const http = (await (await fetch(`http://127.0.0.1:${port}/api/history?${params}`)).json()) as { from: number; to: number; series: unknown };
      const wantHttp = history.query(query, q.since !== undefined ? http.to : now);
      assert.deepEqual(http, JSON.parse(JSON.stringify(wantHttp)));
    });
  }
});
