// A busy box's other sources for dashboard layout tests: PostgreSQL, Redis, four model servers
// (vLLM, llama.cpp, Ollama, Triton) on long URLs, Docker containers and an empty runs source, with
// values chosen to be wide (`650 ms · 1.38 s · 12.4 s`, `19.6 ms`, six-digit rates).

import type { SourceDetails } from '../../protocol/details';
import type { ModelServer } from '../../protocol/details/models';
import type { DockerContainer } from '../../protocol/details/docker';
import type { SeriesMap, SourceStatus } from '../../protocol/messages';
import { seriesName } from '../../protocol/series';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** The model servers of the fixture: kind, name and a URL whose host:port must never break. */
export const BUSY_MODEL_SERVERS: readonly Pick<ModelServer, 'kind' | 'name' | 'url'>[] = [
  { kind: 'vllm', name: 'vllm-llama-3-70b-instruct', url: 'http://gpu-box-07.research.internal.example.com:8000/v1' },
  { kind: 'llamacpp', name: 'llamacpp', url: 'http://127.0.0.1:8080' },
  { kind: 'ollama', name: 'ollama', url: 'http://localhost:11434' },
  { kind: 'triton', name: 'triton', url: 'http://triton-inference-server.ml-serving.svc.cluster.local:8002/v2/metrics' },
];

/** Sources, fixed series values and details for SyntheticCollector's `extra`. */
export function busySources(): { sources: SourceStatus[]; series: SeriesMap; details: Record<string, SourceDetails> } {
  const sources: SourceStatus[] = [];
  const series: SeriesMap = {};
  const details: Record<string, SourceDetails> = {};
  const put = (prefix: string, values: Record<string, number>): void => {
    for (const [k, v] of Object.entries(values)) series[`${prefix}.${k}`] = v;
  };

  sources.push({ id: 'postgres.main', kind: 'postgres', state: 'ready', description: 'PostgreSQL 16.4' });
  put('postgres.main', {
    up_state: 1,
    connections_active_count: 87,
    connections_idle_count: 13,
    connections_total_count: 100,
    max_connections_count: 100,
    connections_used_ratio: 1,
    query_latency_seconds: 0.0196,
    cache_hit_ratio: 0.9987,
    xact_per_second: 12345.6,
    rows_returned_per_second: 456789,
    deadlocks_per_second: 0.02,
    database_size_bytes: 123.4 * GIB,
    longest_query_seconds: 1234.5,
    blocked_count: 12,
    replication_lag_seconds: 1.38,
  });
  details['postgres.main'] = {
    kind: 'postgres',
    instance: 'main',
    target: 'postgres-primary.db.internal.example.com:5432/training_metadata',
    serverVersion: '16.4',
    isReplica: false,
    longestQuery: 'SELECT run_id, step, loss FROM metrics WHERE run_id = $1 ORDER BY step DESC LIMIT 1000',
  };

  sources.push({ id: 'redis.cache', kind: 'redis', state: 'ready', description: 'Redis 7.2.5' });
  put('redis.cache', {
    up_state: 1,
    memory_used_bytes: 512 * MIB,
    maxmemory_bytes: 79.6 * GIB,
    memory_used_ratio: 512 / (79.6 * 1024),
    ping_latency_seconds: 0.00042,
    clients_connected_count: 1234,
    clients_blocked_count: 56,
    hit_ratio: 0.973,
    ops_per_second: 123456,
    evicted_keys_per_second: 1234.5,
    expired_keys_per_second: 23.4,
    db0_keys_count: 12345678,
  });
  details['redis.cache'] = {
    kind: 'redis',
    instance: 'cache',
    target: 'redis-feature-cache.internal.example.com:6379',
    version: '7.2.5',
    role: 'master',
    connection: 'ready',
  };

  for (const m of BUSY_MODEL_SERVERS) {
    const id = seriesName('models', m.name);
    sources.push({ id, kind: 'models', state: 'ready', description: m.url });
    put(id, {
      up_state: 1,
      latency_seconds: 0.0196,
      vram_bytes: 71.3 * GIB,
      requests_running_count: 128,
      requests_waiting_count: 1024,
      generation_tokens_per_second: 12345.6,
      request_latency_p50_seconds: 0.65,
      request_latency_p95_seconds: 1.38,
      request_latency_p99_seconds: 12.4,
      ttft_p50_seconds: 0.0196,
      ttft_p95_seconds: 0.231,
      ...(m.kind === 'llamacpp' ? { slots_busy_count: 3, slots_total_count: 16 } : {}),
      ...(m.kind === 'vllm' ? { kv_cache_usage_ratio: 0.913 } : {}),
    });
    const server: ModelServer = {
      ...m,
      up: true,
      error: null,
      models: [{ name: 'meta-llama/Meta-Llama-3-70B-Instruct', sizeBytes: 141 * GIB, vramBytes: 71.3 * GIB, expiresAt: null }],
      vram: [{ gpuIndex: 0, bytes: 71.3 * GIB, pid: 4242 }],
      vramNote: null,
    };
    details[id] = { kind: 'models', servers: [server] };
  }

  sources.push({ id: 'docker', kind: 'docker', state: 'ready', description: 'Docker 27.3.1' });
  const containers: DockerContainer[] = ['vllm-llama-3-70b-instruct-server', 'postgres', 'redis'].map((name, i) => ({
    id: `${i}`.repeat(12),
    name,
    seriesKey: seriesName('docker', name).slice('docker.'.length),
    image: `registry.example.com/${name}:latest`,
    state: 'running',
    status: 'Up 3 days',
    health: 'healthy',
    lastHealthOutput: null,
    lastHealthExitCode: 0,
    lastHealthAt: null,
    healthFailingStreak: 0,
    restartCount: 12,
    startedAt: null,
    exitCode: null,
    cpuRatio: 1.234,
    memoryUsedBytes: 12.3 * GIB,
    memoryLimitBytes: null,
    statsAt: null,
  }));
  series['docker.containers_running_count'] = containers.length;
  for (const c of containers)
    put(`docker.${c.seriesKey}`, { running_state: 1, health_state: 0, cpu_ratio: 1.234, memory_used_bytes: 12.3 * GIB, uptime_seconds: 273_600 });
  details.docker = { kind: 'docker', endpoint: '/var/run/docker.sock', engineVersion: '27.3.1', statsIntervalMs: 2000, containers };

  // No runs: the card shows its empty text, which must not be cut.
  sources.push({ id: 'runs', kind: 'runs', state: 'ready', description: 'no runs' });
  details.runs = { kind: 'runs', runs: [], notes: [] };
  return { sources, series, details };
}
