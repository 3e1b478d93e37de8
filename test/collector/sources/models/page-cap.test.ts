// Pages over the caps (issue 17, tick time): a /metrics page is read as it arrives under a byte cap
// (models.maxPageBytes), and an endpoint whose page went over a cap is read every 30 s between ticks
// while each tick uses its latest reading, marked with its age — the tick never waits for such a page.
// Normal pages are still read fresh on every tick.

import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelsDetails } from '../../../../protocol';
import { createLogger } from '../../../../collector/log';
import type { SourceContext } from '../../../../collector/source';
import { createModelSources } from '../../../../collector/sources/models';
import { parseModelsConfig } from '../../../../collector/sources/models/config';
import { HEAVY_READ_INTERVAL_MS } from '../../../../collector/sources/models/endpoint-source';
import { PageStream } from '../../../../collector/sources/models/page-stream';
import { parsePrometheusText } from '../../../../collector/prometheus-text';
import type { FakeModelServer } from '../../../fakes/model-servers/fake-server';
import { MODEL_FIXTURES, fixture, startFakeModelServer } from '../../../fakes/model-servers/fake-server';
import { manyModelsVllmPage } from '../../../fakes/model-servers/many-models';
import { signal } from './helpers';

/** A context whose log lines the test reads, a settable clock, and a short interval. */
function setup(config: unknown): { ctx: SourceContext; clock: { t: number }; logs: string[] } {
  const logs: string[] = [];
  const clock = { t: 5_000_000 };
  const ctx: SourceContext = {
    config,
    env: {},
    intervalMs: 100,
    dataDir: '/nonexistent',
    log: createLogger('info', (l) => logs.push(l)),
    latest: () => undefined,
  };
  return { ctx, clock, logs };
}

const count = (lines: string[], re: RegExp): number => lines.filter((l) => re.test(l)).length;
const reads = (f: FakeModelServer): number => f.requests.filter((p) => p === '/metrics').length;

async function pollUntil<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('model pages over the caps (issue 17: tick time)', function () {
  this.timeout(60_000);
  const fakes: FakeModelServer[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all([...fakes.splice(0).map((f) => f.close()), ...closers.splice(0).map((c) => c())]);
  });

  it('the streamed parse gives what one pass gives, whatever the slice boundaries', async () => {
    const pages = readdirSync(MODEL_FIXTURES)
      .filter((f) => f.endsWith('-metrics.txt'))
      .map((f) => [f, fixture(f)] as const);
    pages.push(
      ['many models', manyModelsVllmPage(300)],
      ['odd lines', 'a 1\nnot a sample\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 3\nh_count 3\nh_sum 1.5\nb{x="1"} NaN'],
    );
    for (const [name, text] of pages) {
      const whole = parsePrometheusText(text, { maxLabelSetsPerMetric: 100 });
      for (const slice of [97, 512, 4096]) {
        const s = new PageStream(100, slice);
        const bytes = Buffer.from(text);
        // Network-sized pieces that cut lines (and UTF-8 sequences) anywhere.
        for (let i = 0; i < bytes.length; i += 333) await s.push(bytes.subarray(i, i + 333));
        const streamed = s.end();
        assert.deepEqual([...streamed.families.keys()], [...whole.families.keys()], `${name}, slices of ${slice}: families`);
        assert.deepEqual(streamed.families, whole.families, `${name}, slices of ${slice}`);
        assert.equal(streamed.sampleCount, whole.sampleCount, `${name}: samples`);
        assert.deepEqual(streamed.truncated, whole.truncated, `${name}: label-set cap`);
        assert.deepEqual(streamed.issues, whole.issues, `${name}: issues and their line numbers`);
      }
    }
  });

  it('stops reading a page at the byte cap, keeps what was parsed, and warns once naming the endpoint and the size', async () => {
    const body = manyModelsVllmPage(8000);
    assert.ok(body.length > 3 * 1024 * 1024, 'the page is several times the default cap (1 MiB)');
    const fake = await startFakeModelServer({ '/metrics': { body }, '/version': { body: '{"version":"0.6.1"}' } });
    fakes.push(fake);
    const { ctx, clock, logs } = setup([{ name: 'big', url: fake.url, kind: 'vllm' }]);
    const [src] = createModelSources(ctx, { now: () => clock.t });
    assert.equal((await src.probe(signal())).status, 'ready');
    const s = await src.sample(signal());
    // The first family (num_requests_running, ~0.45 MB) is inside the cap: its first 1,000 models, 3 each.
    assert.equal(s.series['models.big.requests_running_count'], 3000);
    // The KV-cache family comes after 1 MiB of the page: never read, so unknown rather than made up.
    assert.equal(s.series['models.big.kv_cache_usage_ratio'], null);
    // The fake answers chunked (no Content-Length): the warning says "over" the cap.
    const capWarning = new RegExp(
      `${fake.url}/metrics: the page is over the cap of 1\\.0 MiB; read stopped there and the \\d+ samples parsed before it are kept`,
    );
    assert.equal(count(logs, capWarning), 1, logs.join('\n'));
    // A smaller cap from the config reads less; a server that declares its size has it named.
    const sized = createServer((_req, res) => res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body));
    await new Promise<void>((r) => sized.listen(0, '127.0.0.1', r));
    const sizedUrl = `http://127.0.0.1:${(sized.address() as AddressInfo).port}`;
    closers.push(() => {
      sized.closeAllConnections();
      return new Promise<void>((r) => sized.close(() => r()));
    });
    const small = setup({ endpoints: [{ name: 'big', url: sizedUrl, kind: 'vllm' }], maxPageBytes: 32 * 1024 });
    assert.equal(parseModelsConfig(small.ctx.config, {}).limits.maxPageBytes, 32 * 1024);
    const [s2] = createModelSources(small.ctx, { now: () => small.clock.t });
    await s2.probe(signal());
    const r2 = await s2.sample(signal());
    const running = r2.series['models.big.requests_running_count'];
    assert.ok(typeof running === 'number' && running > 0 && running < 3000, `${running}: part of the first family`);
    const size = (Buffer.byteLength(body) / (1024 * 1024)).toFixed(1);
    assert.equal(count(small.logs, new RegExp(`${sizedUrl}/metrics: the page is ${size} MiB, over the cap of 32 KiB`)), 1, small.logs.join('\n'));
    await src.close();
    await s2.close();
  });

  it('reads an endpoint over the caps every 30 s between ticks; a tick uses the latest reading, with its age, and never waits for the page', async () => {
    const body = manyModelsVllmPage(8000);
    const fake = await startFakeModelServer({ '/metrics': { body }, '/version': { body: '{"version":"0.6.1"}' } });
    fakes.push(fake);
    const { ctx, clock, logs } = setup([{ name: 'big', url: fake.url, kind: 'vllm' }]);
    const [src] = createModelSources(ctx, { now: () => clock.t });
    await src.probe(signal());
    const afterProbe = reads(fake);
    assert.equal(count(logs, /reading it every 30 s between ticks from now on/), 1, logs.join('\n'));

    // Ticks within 30 s of the reading: no request, the same values, the age counting up.
    for (let i = 1; i <= 3; i++) {
      clock.t += 1000;
      const s = await src.sample(signal());
      assert.equal(s.series['models.big.up_state'], 1);
      assert.equal(s.series['models.big.requests_running_count'], 3000);
      assert.equal(s.series['models.big.reading_age_seconds'], i);
      assert.match(s.notes?.['models.big.reading_age_seconds'] ?? '', new RegExp(`read every 30 s between ticks; this reading is ${i} s old`));
      assert.match((s.details as ModelsDetails).servers[0].status ?? '', /this reading is \d+ s old/);
    }
    assert.equal(reads(fake), afterProbe, 'no page read while the reading is younger than 30 s');

    // The server now hangs on its page: the tick still gets the latest reading at once.
    fake.routes.set('/metrics', { behaviour: 'hang' });
    clock.t += 1000;
    const held = await src.sample(signal());
    assert.equal(held.series['models.big.up_state'], 1);
    assert.equal(held.series['models.big.reading_age_seconds'], 4);

    // 30 s on, with a changed page: the tick that notices still answers from the old reading, and
    // the new one is read between ticks; later ticks carry it.
    fake.routes.set('/metrics', { body: body.replace(/^(vllm:num_requests_running\{[^}]*\}) 3\.0$/gm, '$1 5.0') });
    clock.t += HEAVY_READ_INTERVAL_MS;
    const stale = await src.sample(signal());
    assert.equal(stale.series['models.big.requests_running_count'], 3000);
    const fresh = await pollUntil('the 30 s reading', async () => {
      const s = await src.sample(signal());
      return s.series['models.big.requests_running_count'] === 5000 ? s : undefined;
    });
    assert.equal(fresh.series['models.big.reading_age_seconds'], 0);
    assert.equal(count(logs, /over the cap of 1\.0 MiB/), 1, 'the byte-cap warning stays once');
    await src.close();
  });

  it('a page back under the caps is read on every tick again; a normal page always is', async () => {
    const page = fixture('vllm-0.6-metrics.txt');
    const fake = await startFakeModelServer({ '/metrics': { body: manyModelsVllmPage(8000) }, '/version': { body: '{"version":"0.6.1"}' } });
    fakes.push(fake);
    const { ctx, clock, logs } = setup([{ name: 'llm', url: fake.url, kind: 'vllm' }]);
    const [src] = createModelSources(ctx, { now: () => clock.t });
    await src.probe(signal());
    fake.routes.set('/metrics', { body: page });
    clock.t += HEAVY_READ_INTERVAL_MS;
    await src.sample(signal());
    await pollUntil('the page back under the caps', async () => (logs.some((l) => /within the caps; reading it fresh every tick/.test(l)) ? true : undefined));
    for (let i = 0; i < 3; i++) {
      const before = reads(fake);
      clock.t += 1000;
      const s = await src.sample(signal());
      assert.equal(reads(fake), before + 1, 'one fresh read per tick');
      assert.equal(s.series['models.llm.requests_running_count'], 3);
      assert.equal('models.llm.reading_age_seconds' in s.series, false, 'a fresh reading has no age');
      assert.equal(s.notes, undefined);
    }
    await src.close();
  });

  it('a discovered endpoint over the caps is up at once and gets its first reading between ticks', async () => {
    const fake = await startFakeModelServer({ '/metrics': { body: manyModelsVllmPage(8000) }, '/version': { body: '{"version":"0.6.1"}' } });
    fakes.push(fake);
    const { ctx, clock } = setup(undefined);
    ctx.env = { RIGWATCH_MODELS_DISCOVERY: `127.0.0.1:${fake.port}` };
    const [src] = createModelSources(ctx, { now: () => clock.t });
    assert.equal((await src.probe(signal())).status, 'ready');
    const id = `models.localhost_${fake.port}`;
    const first = await src.sample(signal());
    assert.equal(first.series[`${id}.up_state`], 1);
    assert.equal(first.series[`${id}.reading_age_seconds`], null, 'no reading yet: null, never 0');
    assert.match((first.details as ModelsDetails).servers[0].status ?? '', /first reading in progress/);
    const later = await pollUntil('the first reading', async () => {
      const s = await src.sample(signal());
      return typeof s.series[`${id}.requests_running_count`] === 'number' ? s : undefined;
    });
    assert.equal(later.series[`${id}.requests_running_count`], 3000);
    await src.close();
  });
});
