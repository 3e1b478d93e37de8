// End to end: the real collector process (dist/collector.js) watching a fake vLLM served from this
// test process; histograms move between ticks and the percentiles arrive over the WebSocket.

import { strict as assert } from 'node:assert';
import type { ModelsDetails, SampleMessage, ServerMessage, StatusMessage } from '../../../../protocol';
import { startCollector, type RunningCollector, type WsClient } from '../../../helpers/collector-process';
import { fixture, observe, startFakeModelServer, type FakeModelServer } from '../../../fakes/model-servers/fake-server';

const isSample = (m: ServerMessage): m is SampleMessage => m.type === 'sample';
const M = { model_name: 'meta-llama/Llama-3.1-8B-Instruct' };

describe('models source in the running collector', function () {
  this.timeout(60_000);
  let fake: FakeModelServer | undefined;
  let collector: RunningCollector | undefined;
  let ws: WsClient | undefined;

  before(async () => {
    fake = await startFakeModelServer({ '/metrics': { body: fixture('vllm-0.6-metrics.txt') } });
    collector = await startCollector({
      config: { models: [{ name: 'llm', url: fake.url, timeoutMs: 500 }], gpu: false, docker: false },
      interval: 0.25,
    });
    ws = await collector.ws();
  });

  after(async () => {
    await ws?.close();
    await collector?.stop();
    await fake?.close();
  });

  it('detects vLLM, streams its series and p95 from the histogram moving between ticks', async () => {
    const c = ws as WsClient;
    const f = fake as FakeModelServer;
    const first = await c.waitFor<SampleMessage>((m) => isSample(m) && m.series['models.llm.up_state'] === 1, 15_000, 'a sample with models.llm up');
    assert.equal(first.series['models.llm.requests_running_count'], 3);
    assert.equal(first.series['collector.models_llm.up_state'], 1, 'the tick loop writes the id with _ for .');
    const d = first.details['models.llm'] as ModelsDetails;
    assert.equal(d.servers[0].kind, 'vllm');
    // This machine has no GPU source here: the join says so instead of guessing (on the very first
    // tick there is no earlier snapshot at all, which it also says).
    assert.match(d.servers[0].vramNote ?? '', /^no (GPU source|sample from the GPU source yet)/);
    const later = await c.waitFor<SampleMessage>(
      (m) => isSample(m) && (m.details['models.llm'] as ModelsDetails | undefined)?.servers[0]?.vramNote?.startsWith('no GPU source') === true,
      15_000,
      'a later sample saying there is no GPU source',
    );
    assert.ok(later.t > first.t);

    let page = fixture('vllm-0.6-metrics.txt');
    page = observe(page, 'vllm:e2e_request_latency_seconds', M, 0.7, 4);
    page = observe(page, 'vllm:e2e_request_latency_seconds', M, 0.9, 4);
    page = observe(page, 'vllm:e2e_request_latency_seconds', M, 1.8, 2);
    f.routes.set('/metrics', { body: page });
    const moved = await c.waitFor<SampleMessage>((m) => isSample(m) && m.series['models.llm.request_latency_p95_seconds'] != null, 10_000, 'a sample with p95');
    // Same hand computation as the unit test: rank 9.5 of 10 in (1.5, 2.0] → 1.875; p50 0.85.
    assert.ok(Math.abs((moved.series['models.llm.request_latency_p95_seconds'] as number) - 1.875) < 1e-9);
    assert.ok(Math.abs((moved.series['models.llm.request_latency_p50_seconds'] as number) - 0.85) < 1e-9);
  });

  it('marks the endpoint down on garbage with the quoted answer, and recovers', async () => {
    const c = ws as WsClient;
    const f = fake as FakeModelServer;
    const good = f.routes.get('/metrics');
    f.routes.set('/metrics', { body: '<html><body>502 Bad Gateway</body></html>' });
    const st = await c.waitFor<StatusMessage>(
      (m) => m.type === 'status' && m.sources.some((s) => s.id === 'models.llm' && s.state === 'down'),
      10_000,
      'models.llm down',
    );
    const s = st.sources.find((x) => x.id === 'models.llm');
    assert.equal(s?.reason, `unexpected response from ${f.url}/metrics: <html><body>502 Bad Gateway</body></html>`);
    if (good) f.routes.set('/metrics', good);
    await c.waitFor((m) => isSample(m) && m.series['models.llm.up_state'] === 1 && m.t > Date.now() - 1000, 15_000, 'models.llm back up');
  });
});
