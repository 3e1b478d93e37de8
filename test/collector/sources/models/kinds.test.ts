import { strict as assert } from 'node:assert';
import { parsePrometheusText } from '../../../../collector/prometheus-text';
import { parseLlamaHealth, parseLlamaSlots } from '../../../../collector/sources/models/kinds/llamacpp';
import { parseOllamaPs, parseOllamaVersion } from '../../../../collector/sources/models/kinds/ollama';
import { defaultTritonMetricsUrl, readTritonPage } from '../../../../collector/sources/models/kinds/triton';
import { readVllmPage } from '../../../../collector/sources/models/kinds/vllm';
import { isHealthyStatus } from '../../../../collector/sources/models/kinds/health';
import { fixture } from '../../../fakes/model-servers/fake-server';

describe('model-server parsers on fixtures', () => {
  it('vLLM 0.5 / 0.6 / 0.10 pages per model_name', () => {
    const v05 = readVllmPage(parsePrometheusText(fixture('vllm-0.5-metrics.txt')));
    assert.deepEqual([...v05.keys()], ['meta-llama/Meta-Llama-3-8B-Instruct']);
    const r05 = v05.get('meta-llama/Meta-Llama-3-8B-Instruct');
    assert.equal(r05?.kvCache, 0.4213);
    assert.equal(r05?.e2e?.buckets.length, 11, '0.5 has 10 e2e bounds + Inf');
    assert.equal(r05?.swapped, 0);
    const r06 = readVllmPage(parsePrometheusText(fixture('vllm-0.6-metrics.txt'))).get('meta-llama/Llama-3.1-8B-Instruct');
    assert.equal(r06?.e2e?.buckets.length, 16, '0.6 has 15 e2e bounds + Inf');
    assert.equal(r06?.promptTokensTotal, 182736);
    assert.equal(r06?.ttft?.count, 318);
    const r10 = readVllmPage(parsePrometheusText(fixture('vllm-0.10-metrics.txt'))).get('Qwen/Qwen2.5-7B-Instruct');
    assert.equal(r10?.kvCache, 0.2871);
    assert.equal(r10?.swapped, null);
    assert.equal(r10?.running, 3);
  });

  it('vLLM with two served models keeps them apart', () => {
    const one = fixture('vllm-0.6-metrics.txt');
    const two =
      one +
      '\n' +
      one
        .split('\n')
        .filter((l) => l.startsWith('vllm:'))
        .map((l) => l.replace('meta-llama/Llama-3.1-8B-Instruct', 'mistral-7b'))
        .join('\n');
    const r = readVllmPage(parsePrometheusText(two));
    assert.deepEqual([...r.keys()].sort(), ['meta-llama/Llama-3.1-8B-Instruct', 'mistral-7b']);
    assert.equal(r.get('mistral-7b')?.e2e?.count, 318);
  });

  it('llama.cpp /slots old and new formats, /health variants', () => {
    const old = parseLlamaSlots(JSON.parse(fixture('llamacpp-b2700-slots.json')));
    assert.deepEqual(old, [
      { id: 0, busy: true, contextTokens: 2048, decodedTokens: 37 },
      { id: 1, busy: false, contextTokens: 2048, decodedTokens: 0 },
    ]);
    const fresh = parseLlamaSlots(JSON.parse(fixture('llamacpp-b4500-slots.json')));
    assert.equal(fresh?.filter((s) => s.busy).length, 2);
    assert.equal(parseLlamaSlots({ slots: [] }), null);
    assert.deepEqual(parseLlamaHealth(200, JSON.parse(fixture('llamacpp-b2700-health.json'))), { status: 'ok', ok: true, idle: 1, processing: 1 });
    assert.deepEqual(parseLlamaHealth(503, JSON.parse(fixture('llamacpp-b4500-health-loading.json'))), {
      status: 'loading model',
      ok: false,
      idle: null,
      processing: null,
    });
    assert.equal(parseLlamaHealth(200, { healthy: true }), null);
  });

  it('Ollama /api/ps and /api/version', () => {
    const models = parseOllamaPs(JSON.parse(fixture('ollama-0.5-ps.json')));
    assert.equal(models?.length, 2);
    assert.equal(models?.[1].vramBytes, 424706048);
    assert.equal(models?.[1].sizeBytes, 849412096);
    assert.deepEqual(parseOllamaPs(JSON.parse(fixture('ollama-0.5-ps-empty.json'))), []);
    assert.equal(parseOllamaPs({ models: [{}] }), null);
    assert.equal(parseOllamaVersion(JSON.parse(fixture('ollama-0.5-version.json'))), '0.5.4');
  });

  it('Triton per-model counters; default metrics URL on port 8002', () => {
    const r = readTritonPage(parsePrometheusText(fixture('triton-2.41-metrics.txt')));
    assert.deepEqual([...r.keys()], ['densenet_onnx', 'simple']);
    assert.deepEqual(r.get('simple'), {
      success: 120,
      failure: 0,
      inferences: 960,
      pending: 0,
      requestUs: 60211,
      queueUs: 4022,
      computeUs: 2011 + 40993 + 1801,
    });
    assert.equal(defaultTritonMetricsUrl('http://10.1.2.3:8000'), 'http://10.1.2.3:8002/metrics');
  });

  it('health status words', () => {
    for (const v of ['ok', 'UP', 'healthy', 'Serving', true, 1]) assert.ok(isHealthyStatus(v), String(v));
    for (const v of ['degraded', 'down', false, 0, null]) assert.ok(!isHealthyStatus(v), String(v));
  });
});
