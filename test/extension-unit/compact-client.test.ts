// The collector client in compact mode (used through SSH tunnels) against the real collector with 8 fake
// NVML GPUs: every sample it rebuilds equals what a full-mode client receives for the same tick, and the
// socket carries far fewer bytes.

import { strict as assert } from 'node:assert';
import type { SampleMessage } from '../../protocol';
import { CollectorClient } from '../../extension/connection/collector-client';
import { CompactStream, withCompact } from '../../client/compact-stream';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';
import { startCollector, stopAllCollectors } from '../helpers/collector-process';

describe('collector client in compact mode (real collector, 8 fake GPUs)', function () {
  this.timeout(60_000);
  const state = makeFakeStateDir();
  const clients: CollectorClient[] = [];
  after(async () => {
    for (const c of clients) c.dispose();
    await stopAllCollectors();
    state.dispose();
  });

  it('rebuilds exactly the samples a full client gets, tick by tick', async () => {
    writeFakeState(state.stateFile, { count: 8, 'gpu.*.util': 40, 'gpu.*.mem_total': 85899345920, 'gpu.*.mem_used': 10737418240 });
    const col = await startCollector({
      interval: 0.25,
      config: { docker: false },
      env: { RIGWATCH_NVML_PATH: buildFakeNvml(), FAKE_NVML_STATE: state.stateFile },
    });
    // Count the frames the compact socket really carried (deltas, not samples).
    const frames = new Map<string, { n: number; bytes: number }>();
    const decode = CompactStream.prototype.decode;
    CompactStream.prototype.decode = function (this: CompactStream, text: string) {
      const type = (JSON.parse(text) as { type: string }).type;
      const f = frames.get(type) ?? { n: 0, bytes: 0 };
      f.n++;
      f.bytes += Buffer.byteLength(text);
      frames.set(type, f);
      return decode.call(this, text);
    };
    const full = new CollectorClient({ id: 'full', name: 'full', kind: 'collector', url: col.url, token: col.token! });
    const compact = new CollectorClient({ id: 'compact', name: 'compact', kind: 'ssh', url: col.url, token: col.token!, compact: true });
    clients.push(full, compact);
    const got = { full: new Map<number, SampleMessage>(), compact: new Map<number, SampleMessage>() };
    full.onDidReceive((m) => m.type === 'sample' && got.full.set(m.t, m));
    compact.onDidReceive((m) => m.type === 'sample' && got.compact.set(m.t, m));
    // Change values while both listen, so deltas carry changes (not only unchanged ticks).
    let step = 0;
    const heat = setInterval(
      () =>
        writeFakeState(state.stateFile, {
          count: 8,
          'gpu.*.util': 40 + (++step % 5) * 10,
          'gpu.3.util': step % 2 ? 99 : 1,
          'gpu.*.mem_total': 85899345920,
          'gpu.*.mem_used': 10737418240 + step,
        }),
      300,
    );
    try {
      for (let i = 0; i < 200; i++) {
        const both = [...got.compact.keys()].filter((t) => got.full.has(t));
        if (both.length >= 8) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      clearInterval(heat);
      CompactStream.prototype.decode = decode;
    }
    const both = [...got.compact.keys()].filter((t) => got.full.has(t));
    assert.ok(both.length >= 8, `ticks seen by both clients: ${both.length}`);
    assert.equal(compact.state, 'live');
    let changed = 0;
    for (const t of both) {
      assert.deepEqual(got.compact.get(t)!.series, got.full.get(t)!.series, `series at ${t}`);
      assert.deepEqual(got.compact.get(t)!.details, got.full.get(t)!.details, `details at ${t}`);
    }
    const utils = both.map((t) => got.compact.get(t)!.series['gpu.3.utilization_ratio']);
    for (let i = 1; i < utils.length; i++) if (utils[i] !== utils[i - 1]) changed++;
    assert.ok(changed > 0, 'values changed during the comparison');
    assert.equal(frames.get('keys')?.n, 1, 'one key dictionary after hello');
    assert.ok((frames.get('delta')?.n ?? 0) >= both.length, `deltas on the wire: ${JSON.stringify([...frames])}`);
    assert.equal(frames.get('sample'), undefined, 'no full samples on the compact socket');
    const fullBytes = both.reduce((n, t) => n + Buffer.byteLength(JSON.stringify(got.full.get(t))), 0) / both.length;
    const deltaBytes = frames.get('delta')!.bytes / frames.get('delta')!.n;
    assert.ok(deltaBytes * 3 < fullBytes, `a delta (${Math.round(deltaBytes)} B) is far smaller than a sample (${Math.round(fullBytes)} B)`);
    assert.equal(Object.keys(compact.model.latest!.series).filter((k) => /^gpu\.\d\.utilization_ratio$/.test(k)).length, 8);
  });

  it('the stream decoder rejects garbage and a delta naming a key it never got', () => {
    const s = new CompactStream();
    assert.throws(() => s.decode('{not json'), /invalid message: message is not valid JSON/);
    assert.equal(s.decode(JSON.stringify({ type: 'keys', keys: { 0: 'gpu.0.utilization_ratio' } })), undefined);
    const m = s.decode(JSON.stringify({ type: 'delta', t: 5, v: [0, 0.5] }));
    assert.deepEqual(m, { type: 'sample', t: 5, series: { 'gpu.0.utilization_ratio': 0.5 }, details: {} });
    assert.throws(() => s.decode(JSON.stringify({ type: 'delta', t: 6, v: [9, 1] })), /unknown series key 9/);
    assert.equal(withCompact(new URL('ws://127.0.0.1:1/ws')).toString(), 'ws://127.0.0.1:1/ws?compact=1');
  });
});
