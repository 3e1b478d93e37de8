// Series keys shared by the collector and the clients (protocol/keys.ts).

import { strict as assert } from 'node:assert';
import { modelServerSeries } from '../../protocol/keys';
import { isValidSeriesName } from '../../protocol/series';

describe('protocol series keys: model servers', () => {
  it('names the server source and its series the way the models source publishes them', () => {
    assert.equal(modelServerSeries('vllm'), 'models.vllm');
    assert.equal(modelServerSeries('local-llama_2', 'latency_seconds'), 'models.local-llama_2.latency_seconds');
    assert.ok(isValidSeriesName(modelServerSeries('vllm', 'latency_seconds')));
  });

  it('sanitises per-model names from the server (someone else’s text) into one segment', () => {
    assert.equal(modelServerSeries('vllm', 'meta-llama/Llama-3.1-8B', 'requests_running_count'), 'models.vllm.meta-llama_Llama-3_1-8B.requests_running_count');
    // Server names come from the config (letters, digits, _ and -, unique), so server keys never clash.
    assert.ok(isValidSeriesName(modelServerSeries('vllm', 'a "quoted"\nname', 'x_count')));
  });
});
