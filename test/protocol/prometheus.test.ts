// protocol/prometheus.ts: the one series ⇄ metric mapping and label escaping used by /metrics, the
// ALERTS lines and the extension's PromQL selectors.

import { strict as assert } from 'node:assert';
import { escapeLabelValue, formatLabels, mapSeries } from '../../protocol/prometheus';

describe('protocol: Prometheus names and escaping', () => {
  it('maps series to metric names and labels', () => {
    assert.deepEqual(mapSeries('gpu.0.temperature_celsius'), { name: 'rigwatch_gpu_temperature_celsius', labels: { gpu: '0' } });
    assert.deepEqual(mapSeries('host.cpu_busy_ratio'), { name: 'rigwatch_host_cpu_busy_ratio', labels: {} });
    assert.deepEqual(mapSeries('host.mount.data_x.used_ratio'), { name: 'rigwatch_host_mount_used_ratio', labels: { mount: 'data_x' } });
    assert.deepEqual(mapSeries('collector.postgres.main.up_state'), { name: 'rigwatch_collector_up_state', labels: { source: 'postgres.main' } });
    assert.deepEqual(mapSeries('models.vllm.a.latency_seconds'), { name: 'rigwatch_models_latency_seconds', labels: { models: 'vllm', sub: 'a' } });
  });

  it('escapes backslash, quote and newline in label values, and sanitises label names', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(formatLabels({ 'my-label': 'x"y', instance: '10.0.0.1:9123' }), '{my_label="x\\"y",instance="10.0.0.1:9123"}');
    assert.equal(formatLabels({}), '');
  });
});
