import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startCollector, type RunningCollector } from '../../helpers/collector-process';
import type { HistoryReplyMessage } from '../../../protocol';

/** The collector's flush interval (collector/collector.ts FLUSH_INTERVAL_MS). */
const FLUSH_INTERVAL_MS = 10_000;

describe('history persistence through the real collector (kill -9)', function () {
  this.timeout(60_000);
  let c: RunningCollector | undefined;
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-hist-e2e-'));
  });
  after(async () => {
    await c?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses at most one flush interval, never corrupts the file, and backfills with `since`', async () => {
    c = await startCollector({ dataDir, interval: 0.25, config: { gpu: false, postgres: false, redis: false, docker: false, models: false } });
    const started = Date.now();
    // Past the first flush (a snapshot) plus a little, so some ticks are not yet on disk when we kill.
    await new Promise((r) => setTimeout(r, FLUSH_INTERVAL_MS + 2500));
    const killedAt = Date.now();
    await c.kill9();
    assert.ok(fs.existsSync(path.join(dataDir, 'history.bin')), 'the snapshot exists');
    await c.restart();

    const ws = await c.ws();
    ws.send({ type: 'history', id: 'h1', series: ['host.uptime_seconds', 'host.cpu_busy_ratio'], since: started - 1000 });
    const reply = await ws.waitFor<HistoryReplyMessage>((m) => m.type === 'history' && m.id === 'h1');
    const up = reply.series.find((s) => s.name === 'host.uptime_seconds');
    assert.ok(up, `uptime in ${JSON.stringify(reply.series.map((s) => s.name))}`);
    const before = up.points.filter((p) => p[0] < killedAt);
    assert.ok(before.length > 0, 'samples from before the kill survived');
    const lastBefore = before[before.length - 1]![0];
    assert.ok(lastBefore >= killedAt - FLUSH_INTERVAL_MS - 1000, `lost ${killedAt - lastBefore} ms, more than one flush interval`);
    assert.ok(before[0]![0] <= started + 2000, 'the earliest samples are there');
    for (let i = 1; i < up.points.length; i++) assert.ok(up.points[i]![0] > up.points[i - 1]![0], 'strictly increasing times');

    // Downsampled over HTTP: within budget, with the downtime a null gap rather than zeros.
    const res = await c.get(`/api/history?series=host.uptime_seconds&from=${started}&to=${Date.now()}&points=40`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { series: { points: [number, number | null, number | null, number | null][] }[] };
    const pts = body.series[0]!.points;
    assert.ok(pts.length > 0 && pts.length <= 40);
    assert.ok(!pts.some((p) => p[2] === 0), 'no zero where nothing was recorded');
    assert.deepEqual(
      fs.readdirSync(dataDir).filter((f) => f.includes('.corrupt-') || f.includes('.tmp-')),
      [],
    );
    await ws.close();
  });
});
