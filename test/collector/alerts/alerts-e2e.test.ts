// End to end through the real collector (dist/collector.js) with the fake NVML library: heat a GPU,
// watch the alert lifecycle arrive over the WebSocket in order, ack/mute it, see it in /metrics,
// keep it across a restart; CSV logging switched at run time; an unwritable CSV dir raises an alert.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { AlertEvent, AlertMessage, HelloMessage, ServerMessage } from '../../../protocol';
import { startCollector, stopAllCollectors, type RunningCollector, type WsClient } from '../../helpers/collector-process';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../../fakes/nvml/build';

const TEMP = 'gpu.0.temperature_celsius';
const ID = `gpu-temperature:${TEMP}`;

function isAlert(m: ServerMessage): m is AlertMessage {
  return m.type === 'alert';
}

describe('alerts end to end (real collector, fake NVML)', function () {
  this.timeout(60_000);
  let state: ReturnType<typeof makeFakeStateDir>;
  let nvml: string;
  let c: RunningCollector | undefined;

  before(() => {
    nvml = buildFakeNvml();
  });
  beforeEach(() => {
    state = makeFakeStateDir();
    writeFakeState(state.stateFile, { count: 1, 'gpu.0.temp': 60, 'gpu.0.util': 10 });
  });
  afterEach(async () => {
    await c?.stop();
    c = undefined;
    state.dispose();
  });
  after(stopAllCollectors);

  const config = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    gpu: { nvmlPath: nvml, backend: 'nvml' },
    postgres: false,
    redis: false,
    docker: false,
    models: false,
    // 2 ticks of 250 ms: exercises `pending` without slowing the test.
    // Host rules off: this shared machine's real CPU/RAM/disk must not add alerts to what we check.
    // The fake GPU slows down at 87 °C (NVML threshold): warning above 81 °C, critical above 86 °C.
    alerts: { rules: [{ id: 'gpu-temperature', for: '0.5s', criticalFor: '0.5s' }], disable: ['host-cpu', 'host-memory', 'host-disk'] },
    ...extra,
  });

  /**
   * Waits for the next alert event with `transition` for `id` among everything the client received
   * (request() replies can move the client's read cursor past broadcasts, so this scans all messages).
   */
  const lastSeq = new Map<WsClient, number>();
  async function waitTransition(ws: WsClient, transition: AlertEvent['transition'], id = ID): Promise<AlertEvent> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const after = lastSeq.get(ws) ?? 0;
      const e = events(ws, id).find((x) => x.transition === transition && x.seq > after);
      if (e) {
        lastSeq.set(ws, e.seq);
        return e;
      }
      if (Date.now() > deadline)
        throw new Error(
          `no ${transition} event for ${id} within 15 s; got ${
            events(ws, id)
              .map((x) => x.transition)
              .join(', ') || 'none'
          }`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function events(ws: WsClient, id = ID): AlertEvent[] {
    return ws.messages
      .filter(isAlert)
      .flatMap((m) => m.events)
      .filter((e) => e.alert.id === id);
  }

  it('streams pending → firing → escalated → deescalated → resolved in order, with ack, mute, /metrics and restart', async () => {
    c = await startCollector({ config: config(), env: { FAKE_NVML_STATE: state.stateFile } });
    const ws = await c.ws();
    const hello = await ws.next('hello');
    assert.deepEqual(hello.alerts, []);
    await ws.waitFor((m) => m.type === 'sample' && m.series[TEMP] === 60, 10_000, 'a sample with the fake GPU at 60 °C');

    writeFakeState(state.stateFile, { count: 1, 'gpu.0.temp': 83, 'gpu.0.util': 10 });
    const pending = await waitTransition(ws, 'pending');
    const firing = await waitTransition(ws, 'firing');
    assert.equal(firing.alert.severity, 'warning');
    assert.equal(firing.notify, true);
    assert.ok(firing.t - pending.t >= 500, `fired ${firing.t - pending.t} ms after pending; for is 500 ms`);
    assert.equal(firing.alert.message, 'GPU 0 temperature 83 °C (above 81 °C; slowdown at 87 °C)');

    // A late client sees the firing alert in hello; Prometheus sees it in /metrics.
    const late = await c.ws();
    const lateHello = (await late.next('hello')) as HelloMessage;
    assert.deepEqual(
      lateHello.alerts.map((a) => `${a.id} ${a.state} ${a.severity}`),
      [`${ID} firing warning`],
    );
    const metrics = await (await c.get('/metrics')).text();
    assert.match(metrics, /^rigwatch_alerts\{alertname="gpu-temperature",alertstate="firing",severity="warning",series="gpu\.0\.temperature_celsius"\} 1$/m);

    // Acknowledge over HTTP, mute the rule over the WebSocket: escalation then arrives without notify.
    const ackRes = await c.get(`/api/alerts/${encodeURIComponent(ID)}/ack`, { method: 'POST' });
    assert.equal(ackRes.status, 200, await ackRes.clone().text());
    const acked = await waitTransition(ws, 'acknowledged');
    assert.equal(acked.alert.acknowledged, true);
    const muteReply = await ws.request({ type: 'mute', id: 'm1', target: 'gpu-temperature', durationMs: 3_600_000 });
    assert.deepEqual([muteReply.type, muteReply.type === 'result' && muteReply.ok], ['result', true]);
    const muted = await waitTransition(ws, 'muted');
    assert.ok((muted.alert.mutedUntil ?? 0) > Date.now());
    const badMute = await ws.request({ type: 'mute', id: 'm2', target: 'no-such-rule', durationMs: 1000 });
    assert.ok(badMute.type === 'result' && !badMute.ok && /cannot mute "no-such-rule"/.test(badMute.error ?? ''), JSON.stringify(badMute));

    writeFakeState(state.stateFile, { count: 1, 'gpu.0.temp': 90, 'gpu.0.util': 10 });
    const escalated = await waitTransition(ws, 'escalated');
    assert.deepEqual([escalated.alert.severity, escalated.notify, escalated.alert.acknowledged], ['critical', false, false]);

    writeFakeState(state.stateFile, { count: 1, 'gpu.0.temp': 82, 'gpu.0.util': 10 });
    const deesc = await waitTransition(ws, 'deescalated');
    assert.equal(deesc.alert.severity, 'warning');

    // Restart: the firing alert survives (hello lists it) and is not announced again.
    await c.restart();
    const ws2 = await c.ws();
    const hello2 = (await ws2.next('hello')) as HelloMessage;
    assert.deepEqual(
      hello2.alerts.map((a) => `${a.id} ${a.state} ${a.severity}`),
      [`${ID} firing warning`],
    );
    assert.ok((hello2.alerts[0]?.mutedUntil ?? 0) > Date.now(), 'the mute survives the restart');

    writeFakeState(state.stateFile, { count: 1, 'gpu.0.temp': 60, 'gpu.0.util': 10 });
    const resolved = await waitTransition(ws2, 'resolved');
    assert.equal(resolved.alert.state, 'resolved');

    // Every event the first client saw, in order, with increasing seq; the second continues the seq.
    const seen = events(ws);
    assert.deepEqual(
      seen.map((e) => e.transition),
      ['pending', 'firing', 'acknowledged', 'muted', 'escalated', 'deescalated'],
    );
    const seqs = seen.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.ok(
      events(ws2).every((e) => e.transition !== 'firing'),
      'no duplicate firing after restart',
    );
    assert.ok(resolved.seq > (seqs[seqs.length - 1] as number));
    const after = (await (await c.get('/api/alerts')).json()) as { active: unknown[] };
    assert.deepEqual(after.active, []);
  });

  it('a bad rule stops the collector at start with a message naming the file, rule and field', async () => {
    await assert.rejects(
      startCollector({ config: config({ alerts: { rules: [{ id: 'gpu-temperature', warning: 'hot' }] } }), env: { FAKE_NVML_STATE: state.stateFile } }),
      (e: Error) => {
        assert.match(e.message, /collector exited with [1-9]\d* before listening/);
        assert.match(e.message, /test-config\.json: alerts\.rules\[gpu-temperature\]\.warning: expected a number, got "hot"/);
        return true;
      },
    );
  });

  it('CSV logging switched at run time writes a file a CSV parser reads back', async () => {
    c = await startCollector({ config: config(), env: { FAKE_NVML_STATE: state.stateFile } });
    const ws = await c.ws();
    await ws.next('hello');
    // On through the WebSocket request, off through HTTP.
    const on = await ws.request({ type: 'logging', id: 'l1', enabled: true });
    assert.ok(on.type === 'result' && on.ok, JSON.stringify(on));
    const status = on.data as { enabled: boolean; error?: string };
    assert.deepEqual([status.enabled, status.error], [true, undefined]);
    assert.ok(
      ws.messages.some((m) => m.type === 'logging' && m.logging.enabled),
      'a logging broadcast',
    );
    // Ticks that started after logging was on (queued older samples may still be in the client).
    const enabledAt = Date.now();
    const samples: Extract<ServerMessage, { type: 'sample' }>[] = [];
    while (samples.length < 4) {
      const m = await ws.next('sample');
      if (m.t > enabledAt) samples.push(m);
    }
    const off = (await (
      await c.get('/api/logging', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) })
    ).json()) as { enabled: boolean };
    assert.equal(off.enabled, false);
    const dir = path.join(c.dataDir, 'csv');
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.csv'))
      .sort();
    assert.ok(files.length >= 1, 'a CSV file was written');
    // Each file has its own header (the GPU's series may appear after the first tick: a new file).
    const tables = files.map((f) => parse(fs.readFileSync(path.join(dir, f), 'utf8')) as string[][]);
    for (const t of tables) {
      assert.equal(t[0]?.[0], 'timestamp');
      for (const r of t) assert.equal(r.length, (t[0] as string[]).length, 'every row has as many cells as its header');
    }
    // The rows for the samples we saw hold exactly the values that were streamed.
    for (const s of samples) {
      const iso = new Date(s.t).toISOString();
      const t = tables.find((x) => x.some((r) => r[0] === iso));
      assert.ok(t, `a row for tick ${iso}`);
      const header = t[0] as string[];
      const row = t.find((r) => r[0] === iso) as string[];
      for (const name of [TEMP, 'host.cpu_busy_ratio']) {
        const col = header.findIndex((h) => h.replace(/ \[.*\]$/, '') === name);
        const v = s.series[name];
        if (v === undefined) assert.ok(col === -1 || row[col] === '', `${name} absent in the sample → empty cell`);
        else assert.equal(row[col] === '' ? null : Number(row[col]), v, `${name} at ${iso}`);
      }
    }
    assert.ok(
      tables.some((t) => (t[0] as string[]).includes(`${TEMP} [°C]`)),
      'the GPU series is logged',
    );

    // Export from history: CSV over the WebSocket, JSON over HTTP (the fake GPU sits at 60 °C).
    const from = (samples[0] as { t: number }).t - 2000;
    const exp = await ws.request({ type: 'export', id: 'e1', format: 'csv', series: [TEMP], from, to: Date.now() });
    assert.ok(exp.type === 'result' && exp.ok && typeof exp.data === 'string', JSON.stringify(exp).slice(0, 300));
    const rows = parse(exp.data as string) as string[][];
    assert.deepEqual(rows[0], ['timestamp', `${TEMP} [°C]`]);
    assert.ok(rows.length >= 2, `${rows.length - 1} exported rows`);
    for (const r of rows.slice(1)) {
      assert.ok(!Number.isNaN(Date.parse(r[0] as string)), r[0]);
      assert.ok(r[1] === '' || Number(r[1]) === 60, `exported ${r[1]}`);
    }
    const json = await c.get(`/api/export.json?series=${TEMP}&from=${from}`);
    assert.equal(json.status, 200);
    const doc = (await json.json()) as { series: { name: string; unit: string; points: { avg: number | null }[] }[] };
    assert.deepEqual(
      doc.series.map((x) => [x.name, x.unit]),
      [[TEMP, 'celsius']],
    );
    assert.ok(doc.series[0]?.points.some((p) => p.avg === 60));
  });

  it('an unwritable CSV directory is reported in the logging status and raises an alert; the collector keeps running', async () => {
    c = await startCollector({ config: config(), env: { FAKE_NVML_STATE: state.stateFile } });
    fs.writeFileSync(path.join(c.dataDir, 'csv'), 'a file where the CSV directory should be');
    const ws = await c.ws();
    await ws.next('hello');
    const res = await c.get('/api/logging', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
    const st = (await res.json()) as { enabled: boolean; error?: string };
    assert.equal(st.enabled, true);
    assert.match(st.error ?? '', /cannot write CSV files in .*csv: (EEXIST|ENOTDIR)/);
    const fired = await waitTransition(ws, 'firing', 'collector-write-error:collector.csv.error_state');
    assert.match(fired.alert.message, /^Collector csv: .*cannot write CSV/);
    await ws.waitFor((m) => m.type === 'sample', 5000, 'samples keep flowing');
    // Fixing the directory and switching logging off resolves the alert.
    fs.unlinkSync(path.join(c.dataDir, 'csv'));
    await c.get('/api/logging', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) });
    await waitTransition(ws, 'resolved', 'collector-write-error:collector.csv.error_state');
  });
});
