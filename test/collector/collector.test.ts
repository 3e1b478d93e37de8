import { strict as assert } from 'node:assert';
import { Collector } from '../../collector/collector';
import { silentLogger } from '../../collector/log';
import type { SampleMessage, SourceStatus } from '../../protocol';
import { MemoryHistory, ScriptedSource } from '../fakes/test-sources';

/** Lets pending promise callbacks (probes) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('collector tick loop', () => {
  let c: Collector | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  function make(sources: ScriptedSource[], history = new MemoryHistory(), clock?: () => number): Collector {
    // A long interval so only the test drives ticks.
    c = new Collector(sources, 60_000, { history, log: silentLogger, now: clock });
    c.start();
    return c;
  }

  it('samples ready sources concurrently, records success and duration series, and feeds history', async () => {
    const a = new ScriptedSource('alpha');
    const b = new ScriptedSource('beta');
    const h = new MemoryHistory();
    const col = make([a, b], h);
    await settle();
    a.value = 7;
    const msg = await col.tick();
    assert.ok(msg);
    assert.equal(msg.series['alpha.value_count'], 7);
    assert.equal(msg.series['beta.value_count'], 1);
    assert.equal(msg.series['collector.alpha.up_state'], 1);
    assert.equal(typeof msg.series['collector.alpha.sample_duration_seconds'], 'number');
    assert.equal(h.rows.length, 1);
    assert.equal(h.rows[0].series['alpha.value_count'], 7);
  });

  it('an unavailable source is reported with its reason and never sampled', async () => {
    const gpu = new ScriptedSource('gpu');
    gpu.probeResult = { status: 'unavailable', reason: 'libnvidia-ml.so.1 not found', retry: true };
    const col = make([gpu]);
    await settle();
    const msg = await col.tick();
    assert.equal(gpu.samples, 0);
    assert.equal(msg!.series['collector.gpu.up_state'], 0);
    const st = col.statuses().find((s) => s.id === 'gpu')!;
    assert.equal(st.state, 'unavailable');
    assert.equal(st.reason, 'libnvidia-ml.so.1 not found');
  });

  it('a failing source goes down, the others keep sampling, and it recovers after a re-probe', async () => {
    let now = 1_000_000;
    const good = new ScriptedSource('good');
    const bad = new ScriptedSource('bad');
    const col = make([good, bad], new MemoryHistory(), () => now);
    const statuses: SourceStatus[][] = [];
    col.on('status', (s: SourceStatus[]) => statuses.push(s));
    await settle();
    bad.mode = 'fail';
    let msg = await col.tick();
    assert.equal(msg!.series['good.value_count'], 1);
    assert.equal(msg!.series['collector.bad.up_state'], 0);
    const down = col.statuses().find((s) => s.id === 'bad')!;
    assert.equal(down.state, 'down');
    assert.match(down.reason!, /bad refused/);
    assert.ok(
      statuses.some((l) => l.some((s) => s.id === 'bad' && s.state === 'down')),
      'a status event announced it',
    );
    // Before the backoff elapses there is no probe.
    const probesBefore = bad.probes;
    now += 500;
    await col.tick();
    await settle();
    assert.equal(bad.probes, probesBefore);
    bad.mode = 'ok';
    now += 1000;
    await col.tick();
    await settle();
    assert.equal(bad.probes, probesBefore + 1);
    msg = await col.tick();
    assert.equal(msg!.series['bad.value_count'], 1);
    assert.equal(col.statuses().find((s) => s.id === 'bad')!.state, 'ready');
  });

  it('a source that says "do not retry" is never probed again', async () => {
    let now = 0;
    const pg = new ScriptedSource('postgres.main');
    const col = make([pg], new MemoryHistory(), () => now);
    await settle();
    pg.mode = 'fatal';
    await col.tick();
    const st = col.statuses().find((s) => s.id === 'postgres.main')!;
    assert.equal(st.state, 'down');
    assert.match(st.reason!, /not retrying until the configuration changes/);
    const probes = pg.probes;
    now += 3600_000;
    await col.tick();
    await settle();
    assert.equal(pg.probes, probes);
  });

  it('a hung source misses its tick without delaying the others, then is marked down', async function () {
    const fast = new ScriptedSource('fast');
    const slow = new ScriptedSource('slow', 50);
    const col = new Collector([fast, slow], 100, { history: new MemoryHistory(), log: silentLogger });
    c = col;
    col.start();
    await settle();
    slow.mode = 'hang';
    const t0 = performance.now();
    const msg = await col.tick();
    const took = performance.now() - t0;
    assert.equal(msg!.series['fast.value_count'], 1);
    assert.equal(msg!.series['collector.slow.up_state'], 0);
    assert.ok(!('slow.value_count' in msg!.series));
    // Bounded by the source's own 50 ms timeout, not by the hang (which never ends on its own).
    assert.ok(took < 5000, `tick took ${took} ms`);
    const msg2 = await col.tick();
    assert.equal(msg2!.series['fast.value_count'], 1);
    assert.equal(col.statuses().find((s) => s.id === 'slow')!.state, 'down');
    assert.match(col.statuses().find((s) => s.id === 'slow')!.reason!, /hung/);
  });

  it('a source slower than the interval misses ticks, its answers arrive with later ones, and it stays ready', async () => {
    const fast = new ScriptedSource('fast');
    const slow = new ScriptedSource('slow');
    slow.mode = 'slow';
    slow.slowMs = 400; // over the tick's deadline (0.9 × 250 ms), far under the 5 s timeout
    slow.value = 42;
    const col = new Collector([fast, slow], 250, { history: new MemoryHistory(), log: silentLogger });
    c = col;
    const got: SampleMessage[] = [];
    col.on('sample', (m: SampleMessage) => got.push(m));
    col.start();
    await new Promise((r) => setTimeout(r, 2600));
    const withSlow = got.filter((m) => m.series['slow.value_count'] === 42);
    assert.ok(got.length >= 8, `ticks kept coming (${got.length})`);
    assert.ok(
      got.every((m) => m.series['fast.value_count'] === 1 || m.t === got[0].t),
      'the fast source is in every tick',
    );
    assert.ok(withSlow.length >= 2, `late answers were delivered (${withSlow.length})`);
    assert.ok(withSlow.length < got.length, 'and some ticks went without one');
    assert.equal(col.statuses().find((s) => s.id === 'slow')!.state, 'ready');
    assert.ok(slow.samples <= withSlow.length + 2, 'no pile-up of concurrent samples');
  });

  it('a history flush failure is reported as a status and memory is kept', async () => {
    const h = new MemoryHistory();
    const col = make([new ScriptedSource('a')], h);
    await settle();
    await col.tick();
    h.failFlush = new Error('ENOSPC: no space left on device');
    await col.flush();
    const st = col.statuses().find((s) => s.id === 'history')!;
    assert.equal(st.state, 'down');
    assert.match(st.reason!, /ENOSPC.*keeping history in memory/);
    await col.tick();
    assert.equal(h.rows.length, 2);
    h.failFlush = null;
    await col.flush();
    assert.equal(
      col.statuses().find((s) => s.id === 'history'),
      undefined,
    );
  });

  it('stop closes every source once, and is idempotent', async () => {
    const a = new ScriptedSource('a');
    const col = make([a]);
    await settle();
    await col.stop();
    await col.stop();
    assert.equal(a.closed, 1);
  });

  it('runs source actions and names missing ones', async () => {
    const col = make([new ScriptedSource('a')]);
    await assert.rejects(col.action('gpu', 'report', {}), /no source "gpu"/);
    await assert.rejects(col.action('a', 'report', {}), /has no action "report"/);
  });
});
