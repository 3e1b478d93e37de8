import { strict as assert } from 'node:assert';
import type { ModelsDetails } from '../../../../protocol';
import { SourceError } from '../../../../collector/source';
import type { FakeModelServer } from '../../../fakes/model-servers/fake-server';
import { bump, fixture, observe, setSample, startFakeModelServer } from '../../../fakes/model-servers/fake-server';
import { harness, near, signal } from './helpers';

const M = { model_name: 'meta-llama/Llama-3.1-8B-Instruct' };

describe('model servers against fake HTTP servers', () => {
  const fakes: FakeModelServer[] = [];
  const start = async (...args: Parameters<typeof startFakeModelServer>): Promise<FakeModelServer> => {
    const f = await startFakeModelServer(...args);
    fakes.push(f);
    return f;
  };
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  it('vLLM 0.6: rates from counter deltas, p50/p95/p99 from histogram deltas over the window', async () => {
    let page = fixture('vllm-0.6-metrics.txt');
    const fake = await start({ '/metrics': { body: page }, '/version': { body: '{"version":"0.6.3.post1"}' } });
    const h = harness([{ name: 'llm', url: fake.url }]);
    const [src] = h.sources();
    const probe = await src.probe(signal());
    assert.deepEqual(probe, { status: 'ready', description: `vLLM 0.6.3.post1 at ${fake.url}/` });
    const first = await src.sample(signal());
    assert.equal(first.series['models.llm.up_state'], 1);
    assert.equal(first.series['models.llm.requests_running_count'], 3);
    assert.equal(first.series['models.llm.kv_cache_usage_ratio'], 0.4213);
    // One reading: no rate and no window yet — null, never 0.
    assert.equal(first.series['models.llm.prompt_tokens_per_second'], null);
    assert.equal(first.series['models.llm.request_latency_p95_seconds'], null);

    // 2 s later: +1000 prompt tokens, +300 generated; 10 requests finished (4×0.7 s, 4×0.9 s, 2×1.8 s); 4 first tokens.
    page = bump(page, 'vllm:prompt_tokens_total', M, 1000);
    page = bump(page, 'vllm:generation_tokens_total', M, 300);
    page = observe(page, 'vllm:e2e_request_latency_seconds', M, 0.7, 4);
    page = observe(page, 'vllm:e2e_request_latency_seconds', M, 0.9, 4);
    page = observe(page, 'vllm:e2e_request_latency_seconds', M, 1.8, 2);
    page = observe(page, 'vllm:time_to_first_token_seconds', M, 0.03, 3);
    page = observe(page, 'vllm:time_to_first_token_seconds', M, 0.07, 1);
    page = setSample(page, 'vllm:num_requests_running', M, 5);
    page = setSample(page, 'vllm:num_requests_waiting', M, 2);
    page = setSample(page, 'vllm:gpu_cache_usage_perc', M, 0.5);
    fake.routes.set('/metrics', { body: page });
    h.clock.t += 2000;
    const s = (await src.sample(signal())).series;
    near(s['models.llm.prompt_tokens_per_second'], 500, 'prompt tok/s = 1000/2');
    near(s['models.llm.generation_tokens_per_second'], 150, 'gen tok/s = 300/2');
    // Deltas: le 0.8 → 4, le 1.0 → 8, le 1.5 → 8, le 2.0 → 10, +Inf → 10.
    near(s['models.llm.request_latency_p50_seconds'], 0.8 + 0.2 * (1 / 4), 'p50: rank 5 in (0.8,1.0]');
    near(s['models.llm.request_latency_p95_seconds'], 1.5 + 0.5 * (1.5 / 2), 'p95: rank 9.5 in (1.5,2.0]');
    near(s['models.llm.request_latency_p99_seconds'], 1.5 + 0.5 * (1.9 / 2), 'p99: rank 9.9 in (1.5,2.0]');
    near(s['models.llm.request_latency_avg_seconds'], 1.0, 'avg = (4·0.7+4·0.9+2·1.8)/10');
    near(s['models.llm.ttft_p50_seconds'], 0.02 + 0.02 * (2 / 3), 'ttft p50: rank 2 in (0.02,0.04]');
    near(s['models.llm.ttft_p99_seconds'], 0.06 + 0.02 * 0.96, 'ttft p99: rank 3.96 in (0.06,0.08]');
    assert.equal(s['models.llm.requests_running_count'], 5);
    assert.equal(s['models.llm.requests_waiting_count'], 2);
    assert.equal(s['models.llm.requests_swapped_count'], 0);
    assert.equal(s['models.llm.kv_cache_usage_ratio'], 0.5);
    // Per served model too.
    near(s['models.llm.meta-llama_Llama-3_1-8B-Instruct.request_latency_p95_seconds'], 1.875, 'per-model p95');

    // 68 s later, nothing new: the window (60 s) now starts at the second reading → idle, null.
    h.clock.t += 68_000;
    const idle = await src.sample(signal());
    assert.equal(idle.series['models.llm.request_latency_p95_seconds'], null);
    assert.equal(idle.series['models.llm.prompt_tokens_per_second'], 0);
    const d = idle.details as ModelsDetails;
    assert.equal(d.servers[0].kind, 'vllm');
    assert.equal(d.servers[0].version, '0.6.3.post1');
    assert.deepEqual(
      d.servers[0].models.map((m) => m.name),
      ['meta-llama/Llama-3.1-8B-Instruct'],
    );
  });

  it('vLLM restart: counters and histograms go down → no negative rates, the window restarts', async () => {
    const before = fixture('vllm-0.6-metrics.txt');
    const fake = await start({ '/metrics': { body: before } });
    const h = harness([{ name: 'r', url: fake.url, kind: 'vllm' }]);
    const [src] = h.sources();
    await src.sample(signal());
    // The restarted server starts from zero: 200 prompt tokens and one 0.9 s request since.
    let fresh = setSample(before, 'vllm:prompt_tokens_total', M, 200);
    for (const line of before.split('\n').filter((l) => l.startsWith('vllm:e2e_request_latency_seconds_bucket'))) {
      const le = /le="([^"]+)"/.exec(line)?.[1] as string;
      fresh = setSample(fresh, 'vllm:e2e_request_latency_seconds_bucket', { ...M, le }, le === '+Inf' || Number(le) >= 0.9 ? 1 : 0);
    }
    fresh = setSample(fresh, 'vllm:e2e_request_latency_seconds_count', M, 1);
    fresh = setSample(fresh, 'vllm:e2e_request_latency_seconds_sum', M, 0.9);
    fake.routes.set('/metrics', { body: fresh });
    h.clock.t += 4000;
    const s = (await src.sample(signal())).series;
    near(s['models.r.prompt_tokens_per_second'], 50, 'reset: the new value (200) is the increase over 4 s');
    assert.equal(s['models.r.request_latency_p95_seconds'], null, 'window restarted: one reading since the reset');
    fake.routes.set('/metrics', { body: observe(fresh, 'vllm:e2e_request_latency_seconds', M, 2.2, 1) });
    h.clock.t += 1000;
    const after = (await src.sample(signal())).series;
    // One observation in (2.0, 2.5]: p50 rank 0.5 → 2.0 + 0.5·0.5 = 2.25.
    near(after['models.r.request_latency_p50_seconds'], 2.25, 'p50 after the restart');
  });

  it('vLLM 0.10 (V1 engine): kv_cache_usage_perc, no swapped gauge', async () => {
    const fake = await start({ '/metrics': { body: fixture('vllm-0.10-metrics.txt') } });
    const [src] = harness([{ name: 'v1', url: fake.url, kind: 'vllm' }]).sources();
    assert.equal((await src.probe(signal())).status, 'ready');
    const s = (await src.sample(signal())).series;
    assert.equal(s['models.v1.kv_cache_usage_ratio'], 0.2871);
    assert.equal(s['models.v1.requests_swapped_count'], null);
    assert.equal(s['models.v1.requests_waiting_count'], 1);
  });

  it('llama.cpp b4500: /health, /slots busy/total and context, /metrics throughput', async () => {
    let metrics = fixture('llamacpp-b3600-metrics.txt');
    const fake = await start({
      '/health': { body: fixture('llamacpp-b4500-health.json') },
      '/slots': { body: fixture('llamacpp-b4500-slots.json') },
      '/props': { body: fixture('llamacpp-b4500-props.json') },
      '/metrics': { body: metrics },
    });
    const h = harness([{ name: 'llama', url: fake.url }]);
    const [src] = h.sources();
    assert.equal((await src.probe(signal())).status, 'ready');
    assert.equal(src.modelKind, 'llamacpp');
    const first = await src.sample(signal());
    assert.equal(first.series['models.llama.slots_busy_count'], 2);
    assert.equal(first.series['models.llama.slots_total_count'], 4);
    assert.equal(first.series['models.llama.context_tokens_count'], 4096);
    assert.equal(first.series['models.llama.requests_running_count'], 1);
    assert.equal(first.series['models.llama.kv_cache_usage_ratio'], 0.318359);
    metrics = setSample(metrics, 'llamacpp:prompt_tokens_total', {}, 33065 + 400);
    metrics = setSample(metrics, 'llamacpp:tokens_predicted_total', {}, 7801 + 100);
    fake.routes.set('/metrics', { body: metrics });
    h.clock.t += 2000;
    const r = await src.sample(signal());
    near(r.series['models.llama.prompt_tokens_per_second'], 200, 'llama prompt tok/s = 400/2');
    near(r.series['models.llama.generation_tokens_per_second'], 50, 'llama gen tok/s = 100/2');
    const server = (r.details as ModelsDetails).servers[0];
    assert.deepEqual(
      server.slots?.map((x) => [x.id, x.busy, x.decodedTokens]),
      [
        [0, true, 212],
        [1, true, 38],
        [2, false, 0],
        [3, false, 0],
      ],
    );
    assert.equal(server.models[0].name, 'Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf');
    assert.equal(server.version, 'b4500-a1b2c3d4');
  });

  it('llama.cpp b2700: old slot format (state, task_id); /metrics disabled answers 501', async () => {
    const fake = await start({
      '/health': { body: fixture('llamacpp-b2700-health.json') },
      '/slots': { body: fixture('llamacpp-b2700-slots.json') },
      '/metrics': { status: 501, body: '{"error":{"code":501,"message":"This server does not support metrics endpoint.","type":"not_supported_error"}}' },
    });
    const [src] = harness([{ name: 'old', url: fake.url }]).sources();
    assert.equal((await src.probe(signal())).status, 'ready');
    const s = (await src.sample(signal())).series;
    assert.equal(s['models.old.slots_busy_count'], 1);
    assert.equal(s['models.old.slots_total_count'], 2);
    assert.equal(s['models.old.prompt_tokens_per_second'], null);
  });

  it("llama.cpp loading the model is down with the server's words", async () => {
    const fake = await start({ '/health': { status: 503, body: fixture('llamacpp-b4500-health-loading.json') }, '/slots': { body: '[]' } });
    const [src] = harness([{ name: 'l', url: fake.url, kind: 'llamacpp' }]).sources();
    await assert.rejects(src.probe(signal()), (e: Error) => e instanceof SourceError && /not ready: loading model \(HTTP 503\)/.test(e.message));
  });

  it('Ollama 0.5: loaded models with size, VRAM and expiry; version', async () => {
    const fake = await start({ '/api/ps': { body: fixture('ollama-0.5-ps.json') }, '/api/version': { body: fixture('ollama-0.5-version.json') } });
    const [src] = harness([{ name: 'ollama', url: fake.url }]).sources();
    const p = await src.probe(signal());
    assert.deepEqual(p, { status: 'ready', description: `Ollama 0.5.4 at ${fake.url}/` });
    const r = await src.sample(signal());
    assert.equal(r.series['models.ollama.models_loaded_count'], 2);
    assert.equal(r.series['models.ollama.models_vram_bytes'], 6654289920 + 424706048);
    assert.equal(r.series['models.ollama.llama3_1:8b.vram_bytes'], 6654289920);
    const server = (r.details as ModelsDetails).servers[0];
    assert.equal(server.version, '0.5.4');
    assert.deepEqual(server.models[0], {
      name: 'llama3.1:8b',
      sizeBytes: 6654289920,
      vramBytes: 6654289920,
      expiresAt: Date.parse('2024-12-18T14:12:45.123456789-08:00'),
      parameterSize: '8.0B',
      quantization: 'Q4_K_M',
      family: 'llama',
    });
    fake.routes.set('/api/ps', { body: fixture('ollama-0.5-ps-empty.json') });
    const empty = await src.sample(signal());
    assert.equal(empty.series['models.ollama.models_loaded_count'], 0);
    assert.equal(empty.series['models.ollama.models_vram_bytes'], 0);
  });

  it('Triton 2.41: readiness, inferences/s and mean queue/compute time per request from counter deltas', async () => {
    let page = fixture('triton-2.41-metrics.txt');
    const metrics = await start({ '/metrics': { body: page } });
    const http = await start({ '/v2/health/ready': { body: '' }, '/v2': { body: fixture('triton-2.41-server-metadata.json') } });
    const h = harness([{ name: 'triton', url: http.url, metricsUrl: `${metrics.url}/metrics` }]);
    const [src] = h.sources();
    assert.deepEqual(await src.probe(signal()), { status: 'ready', description: `Triton 2.41.0 at ${http.url}/` });
    const first = await src.sample(signal());
    assert.equal(first.series['models.triton.requests_waiting_count'], 2);
    assert.equal(first.series['models.triton.inferences_per_second'], null);
    const D = { model: 'densenet_onnx', version: '1' };
    // 2 s later: 20 densenet requests, each 1500 µs queued, 100+4000+200 µs compute, 6000 µs end to end.
    page = bump(page, 'nv_inference_request_success', D, 20);
    page = bump(page, 'nv_inference_count', D, 20);
    page = bump(page, 'nv_inference_exec_count', D, 20);
    page = bump(page, 'nv_inference_queue_duration_us', D, 20 * 1500);
    page = bump(page, 'nv_inference_compute_input_duration_us', D, 20 * 100);
    page = bump(page, 'nv_inference_compute_infer_duration_us', D, 20 * 4000);
    page = bump(page, 'nv_inference_compute_output_duration_us', D, 20 * 200);
    page = bump(page, 'nv_inference_request_duration_us', D, 20 * 6000);
    metrics.routes.set('/metrics', { body: page });
    h.clock.t += 2000;
    const s = (await src.sample(signal())).series;
    near(s['models.triton.inferences_per_second'], 10, 'inferences/s = 20/2');
    near(s['models.triton.queue_latency_avg_seconds'], 0.0015, 'queue = 30000 µs / 20');
    near(s['models.triton.compute_latency_avg_seconds'], 0.0043, 'compute = 86000 µs / 20');
    near(s['models.triton.request_latency_avg_seconds'], 0.006, 'request = 120000 µs / 20');
    near(s['models.triton.densenet_onnx.inferences_per_second'], 10, 'per model');
    assert.equal(s['models.triton.simple.queue_latency_avg_seconds'], null, 'no requests for simple: null, not 0');
    assert.equal(s['models.triton.simple.inferences_per_second'], 0);
  });

  it('Triton not ready (HTTP 400) is down', async () => {
    const http = await start({ '/v2/health/ready': { status: 400, body: '' }, '/v2': { body: fixture('triton-2.41-server-metadata.json') } });
    const [src] = harness([{ name: 't', url: http.url, kind: 'triton', metricsUrl: `${http.url}/metrics` }]).sources();
    await assert.rejects(src.probe(signal()), /Triton at .* is not ready \(HTTP 400\)/);
  });

  it('plain health: status code and latency; optional JSON status field', async () => {
    const fake = await start({ '/healthz': { body: '{"data":{"state":"serving"}}' } });
    const [src] = harness([{ name: 'svc', url: `${fake.url}/healthz`, kind: 'health', statusField: 'data.state' }]).sources();
    assert.equal((await src.probe(signal())).status, 'ready');
    const r = await src.sample(signal());
    assert.equal(r.series['models.svc.up_state'], 1);
    assert.ok((r.series['models.svc.latency_seconds'] ?? -1) >= 0);
    assert.equal((r.details as ModelsDetails).servers[0].status, 'serving');
    fake.routes.set('/healthz', { body: '{"data":{"state":"degraded"}}' });
    await assert.rejects(src.sample(signal()), (e: Error) => e instanceof SourceError && /reports data\.state = degraded/.test(e.message));
  });

  describe('misbehaving servers are marked down with a clear message, never crash', () => {
    it('a server that hangs times out', async () => {
      const fake = await start({ '/api/ps': { behaviour: 'hang' } });
      const [src] = harness([{ name: 'h', url: fake.url, kind: 'ollama', timeoutMs: 150 }]).sources();
      await assert.rejects(src.probe(signal()), (e: Error) => e instanceof SourceError && e.message === `no answer from ${fake.url}/api/ps within 150 ms`);
    });

    it('HTTP 500', async () => {
      const fake = await start({ '/metrics': { status: 500, body: 'Internal Server Error' } });
      const [src] = harness([{ name: 'e', url: fake.url, kind: 'vllm' }]).sources();
      await assert.rejects(
        src.sample(signal()),
        (e: Error) => e instanceof SourceError && e.message === `HTTP 500 from ${fake.url}/metrics: Internal Server Error`,
      );
    });

    it('HTML instead of metrics', async () => {
      const html =
        '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1><p>If you see this page, the nginx web server is successfully installed.</p></body></html>';
      const fake = await start({ '/metrics': { body: html } });
      const [src] = harness([{ name: 'x', url: fake.url, kind: 'vllm' }]).sources();
      await assert.rejects(src.sample(signal()), (e: Error) => {
        assert.ok(e instanceof SourceError);
        const quoted = html.replace(/\s+/g, ' ').slice(0, 80);
        assert.equal(e.message, `unexpected response from ${fake.url}/metrics: ${quoted}`);
        return true;
      });
    });

    it('JSON of the wrong shape from Ollama', async () => {
      const fake = await start({ '/api/ps': { body: '{"detail":"Not Found"}' } });
      const [src] = harness([{ name: 'o', url: fake.url, kind: 'ollama' }]).sources();
      await assert.rejects(src.sample(signal()), /unexpected response from .*\/api\/ps: \{"detail":"Not Found"\}/);
    });

    it('a server that closes the connection', async () => {
      const fake = await start({ '/api/ps': { behaviour: 'close' } });
      const [src] = harness([{ name: 'c', url: fake.url, kind: 'ollama' }]).sources();
      await assert.rejects(
        src.sample(signal()),
        (e: Error) => e instanceof SourceError && e.message === `cannot reach ${fake.url}/api/ps: connection closed by the server`,
      );
    });

    it("the tick loop's abort cancels a hanging request at once", async () => {
      const fake = await start({ '/api/ps': { behaviour: 'hang' } });
      const [src] = harness([{ name: 'a', url: fake.url, kind: 'ollama', timeoutMs: 10_000 }]).sources();
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 50);
      const t0 = Date.now();
      await assert.rejects(src.sample(ctl.signal), /cancelled/);
      assert.ok(Date.now() - t0 < 5000);
    });

    it('credentials in the URL and header values never appear in messages', async () => {
      const fake = await start({ '/metrics': { status: 500, body: 'boom' } });
      const url = fake.url.replace('http://', 'http://user:s3cret@') + '?token=abc';
      const [src] = harness([{ name: 's', url, kind: 'vllm', headers: { Authorization: 'Bearer TOPSECRET' } }]).sources();
      await assert.rejects(src.sample(signal()), (e: Error) => !/s3cret|abc|TOPSECRET/.test(e.message));
    });
  });

  describe('detection and discovery', () => {
    it('detects each kind from its answers, not its port', async () => {
      const vllm = await start({ '/metrics': { body: fixture('vllm-0.5-metrics.txt') }, '/health': { body: '' } });
      const llama = await start({ '/health': { body: fixture('llamacpp-b4500-health.json') }, '/props': { body: fixture('llamacpp-b4500-props.json') } });
      const triton = await start({ '/v2': { body: fixture('triton-2.41-server-metadata.json') }, '/v2/health/ready': { body: '' } });
      const tritonMetrics = await start({ '/metrics': { body: fixture('triton-2.41-metrics.txt') } });
      const other = await start({ '/health': { body: '{"ok":true}' }, '/metrics': { body: '# TYPE up gauge\nup 1\n' } });
      const h = harness([
        { name: 'a', url: vllm.url },
        { name: 'b', url: llama.url },
        { name: 'c', url: triton.url },
        { name: 'd', url: tritonMetrics.url },
        { name: 'e', url: other.url },
      ]);
      const srcs = h.sources();
      const probes = await Promise.all(srcs.slice(0, 4).map((s) => s.probe(signal())));
      assert.deepEqual(
        srcs.map((s) => s.modelKind),
        ['vllm', 'llamacpp', 'triton', 'triton', null],
      );
      assert.match(probes[3].status === 'ready' ? (probes[3].description ?? '') : '', /metrics port/);
      // Configured but unrecognised: down (retried with backoff), with the reason.
      await assert.rejects(
        srcs[4].probe(signal()),
        (e: Error) => e instanceof SourceError && e.message === `${other.url}/ answers HTTP but not like llama.cpp, vLLM, Ollama or Triton`,
      );
    });

    it('auto-discovery finds a fake Ollama on an ephemeral port given as a candidate', async () => {
      const ollama = await start({ '/api/version': { body: fixture('ollama-0.5-version.json') }, '/api/ps': { body: fixture('ollama-0.5-ps.json') } });
      const closed = await start();
      const closedPort = closed.port;
      await closed.close();
      const h = harness(undefined, { RIGWATCH_MODELS_DISCOVERY: `127.0.0.1:${ollama.port},127.0.0.1:${closedPort}` });
      const srcs = h.sources();
      assert.deepEqual(
        srcs.map((s) => s.id),
        [`models.localhost_${ollama.port}`, `models.localhost_${closedPort}`],
      );
      const [found, nothing] = await Promise.all(srcs.map((s) => s.probe(signal())));
      assert.deepEqual(found, { status: 'ready', description: `Ollama 0.5.4 at ${ollama.url}/, discovered` });
      assert.equal(nothing.status, 'unavailable');
      assert.match(nothing.status === 'unavailable' ? nothing.reason : '', /^nothing listening: cannot reach .*: connection refused$/);
      const r = await srcs[0].sample(signal());
      assert.equal(r.series[`models.localhost_${ollama.port}.models_loaded_count`], 2);
      assert.equal((r.details as ModelsDetails).servers[0].discovered, true);
    });

    it('a bare Triton metrics port defers to the Triton HTTP port discovered beside it', async () => {
      const triton = await start({ '/v2': { body: fixture('triton-2.41-server-metadata.json') }, '/v2/health/ready': { body: '' } });
      const tritonMetrics = await start({ '/metrics': { body: fixture('triton-2.41-metrics.txt') } });
      const h = harness({ discovery: { ports: [triton.port, tritonMetrics.port] } });
      const [, metricsSrc] = h.sources();
      const p = await metricsSrc.probe(signal());
      assert.deepEqual(p, { status: 'unavailable', reason: `Triton metrics port of ${triton.url}/; reported by that endpoint`, retry: true });
    });
  });
});
