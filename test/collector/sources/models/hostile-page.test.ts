// Hostile model-server pages (issue 17): a page with thousands of `model_name` values on a port the
// collector discovers by itself. The real collector process must keep each sample bounded, warn
// once naming what it dropped, and stay responsive to SIGTERM while such a page is being read.

import { strict as assert } from 'node:assert';
import type { ModelsDetails, SampleMessage, ServerMessage } from '../../../../protocol';
import { startCollector, type RunningCollector } from '../../../helpers/collector-process';
import { startFakeModelServer, type FakeModelServer } from '../../../fakes/model-servers/fake-server';
import { manyModelsVllmPage } from '../../../fakes/model-servers/many-models';
const DEFAULT_MAX_SERIES_PER_SOURCE = 2000;

const isSample = (m: ServerMessage): m is SampleMessage => m.type === 'sample';
const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('hostile model-server pages (real collector, discovered port)', function () {
  this.timeout(240_000);
  let fake: FakeModelServer | undefined;
  let collector: RunningCollector | undefined;

  afterEach(async () => {
    await collector?.stop();
    await fake?.close();
    collector = fake = undefined;
  });

  it('bounds the series of an 8,000-model vLLM page and warns once about what it dropped', async () => {
    fake = await startFakeModelServer({ '/metrics': { body: manyModelsVllmPage(8000) }, '/version': { body: '{"version":"0.6.1"}' } });
    collector = await startCollector({
      config: { gpu: false, docker: false, postgres: false, redis: false },
      env: { RIGWATCH_MODELS_DISCOVERY: `127.0.0.1:${fake.port}` },
      interval: 0.5,
    });
    const ws = await collector.ws();
    const prefix = `models.localhost_${fake.port}.`;
    const up = prefix + 'up_state';
    const samples: SampleMessage[] = [];
    for (let i = 0; i < 3; i++) {
      // 90 s: on a heavily loaded machine the 1 s discovery timeout can miss the 4 MB page once, and a
      // discovered candidate is re-probed a minute later.
      samples.push(
        await ws.waitFor<SampleMessage>(
          (m) => isSample(m) && m.series[up] === 1 && typeof m.series[prefix + 'requests_running_count'] === 'number',
          90_000,
          `sample ${i + 1} with a reading of the discovered vLLM`,
        ),
      );
    }
    for (const s of samples) {
      const mine = Object.keys(s.series).filter((k) => k.startsWith(prefix));
      assert.ok(mine.length <= DEFAULT_MAX_SERIES_PER_SOURCE, `${mine.length} series from one endpoint (cap ${DEFAULT_MAX_SERIES_PER_SOURCE})`);
      assert.ok(mine.length > 100, 'the models within the cap are kept');
      const d = s.details[`models.localhost_${fake.port}`] as ModelsDetails;
      assert.ok(d.servers[0].models.length < 200, `${d.servers[0].models.length} models listed`);
      assert.ok(JSON.stringify(s).length < 1_000_000, 'one sample stays well under a megabyte');
    }
    assert.equal(s0(samples).series[prefix + 'requests_running_count'], 3 * 1000, 'server totals add up the models read (1,000 kept of 8,000, 3 running each)');
    const err = collector.stderr();
    assert.equal(count(err, 'raise models.maxSeriesPerSource'), 1, `one series-cap warning:\n${err.slice(0, 2000)}`);
    assert.equal(count(err, 'vllm:num_requests_running has more than 1000 label sets; 7000 dropped'), 1, 'one label-set warning per family');
    assert.match(err, /the series of \d+ were dropped \("org\/model-\d+"/);
    assert.equal(count(err, 'the page is over the cap of 1.0 MiB'), 1, 'one byte-cap warning');
    assert.equal(count(err, 'reading it every 30 s between ticks from now on'), 1, 'one cadence line');

    // The page is now read every 30 s between ticks: with the server hanging on it, the ticks go on
    // with the endpoint up and its latest reading, marked with its age (before, each tick waited for
    // the page and the endpoint went down).
    fake.routes.set('/metrics', { behaviour: 'hang' });
    const age = prefix + 'reading_age_seconds';
    let last = -1;
    for (let i = 0; i < 3; i++) {
      const s = await ws.waitFor<SampleMessage>(isSample, 30_000, `sample ${i + 1} with the page hanging`);
      assert.equal(s.series[up], 1, 'the endpoint stays up');
      assert.equal(s.series[prefix + 'requests_running_count'], 3000);
      const a = s.series[age];
      assert.ok(typeof a === 'number' && a >= last, `reading age ${a} after ${last}`);
      last = a;
      assert.equal(s.series['collector.host.up_state'], 1, 'the other sources go on');
    }
  });

  it('exits promptly on SIGTERM while reading a 30,000-label page', async () => {
    const body = manyModelsVllmPage(30_000, { families: ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:gpu_cache_usage_perc'] });
    fake = await startFakeModelServer({ '/metrics': { body }, '/version': { body: '{"version":"0.6.1"}' } });
    const f = fake;
    collector = await startCollector({
      config: { gpu: false, docker: false, postgres: false, redis: false },
      env: { RIGWATCH_MODELS_DISCOVERY: `127.0.0.1:${fake.port}` },
      interval: 0.5,
    });
    // Detection read the page once; wait for the sampler to fetch it again (the old code then spent
    // minutes in one synchronous read of it), give the read a moment to start, then ask it to stop.
    const deadline = Date.now() + 150_000; // see the 90 s note above
    while (f.requests.filter((p) => p === '/metrics').length < 2) {
      if (Date.now() > deadline) throw new Error(`the collector did not fetch /metrics twice: ${f.requests.join(' ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    const proc = collector.proc;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    // Before the fix one probe of this page held the event loop for minutes and SIGTERM waited.
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
    assert.notEqual(code, 'hung', 'the collector did not exit within 10 s of SIGTERM');
    assert.equal(code, 0);
  });
});

function s0(list: SampleMessage[]): SampleMessage {
  return list[list.length - 1];
}
