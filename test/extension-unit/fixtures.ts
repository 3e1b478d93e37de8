// Snapshots shaped like real collector messages, shared by the extension unit tests.

import type { AlertInstance, HelloMessage, SampleMessage, SourceStatus } from '../../protocol';
import type { ConnectionSnapshot } from '../../extension/views/snapshot';
import type { TreeNode } from '../../extension/views/tree-node';

const GIB = 1024 ** 3;

/** A sample with two GPUs (GPU 1 busier), host numbers and details. */
export function twoGpuSample(t = 1_700_000_000_000): SampleMessage {
  return {
    type: 'sample',
    t,
    series: {
      'gpu.0.utilization_ratio': 0.12,
      'gpu.0.memory_used_bytes': 2.5 * GIB,
      'gpu.0.memory_total_bytes': 80 * GIB,
      'gpu.0.temperature_celsius': 41,
      'gpu.0.power_watts': 60,
      'gpu.0.power_limit_watts': 400,
      'gpu.1.utilization_ratio': 0.42,
      'gpu.1.memory_used_bytes': 10.2 * GIB,
      'gpu.1.memory_total_bytes': 80 * GIB,
      'gpu.1.temperature_celsius': 67,
      'gpu.1.power_watts': null,
      'gpu.1.power_limit_watts': 400,
      'host.cpu_busy_ratio': 0.25,
      'host.memory_used_bytes': 5.1 * GIB,
      'host.memory_total_bytes': 16 * GIB,
      'host.load1_count': 1.5,
      'postgres.main.connections_total_count': 12,
      'postgres.main.max_connections_count': 100,
      'postgres.main.cache_hit_ratio': 0.99,
      'postgres.main.xact_per_second': 40,
    },
    details: {
      gpu: {
        kind: 'gpu',
        backend: 'nvml',
        driverVersion: '550.54.15',
        cudaVersion: '12.4',
        devices: [
          {
            index: 0,
            name: 'NVIDIA A100-SXM4-80GB',
            uuid: 'GPU-0',
            pciBusId: '00000000:07:00.0',
            computeCapability: '8.0',
            migMode: false,
            throttleReasons: [],
            pstate: 'P0',
            notes: [],
          },
          {
            index: 1,
            name: 'NVIDIA A100-SXM4-80GB',
            uuid: 'GPU-1',
            pciBusId: '00000000:0F:00.0',
            computeCapability: '8.0',
            migMode: false,
            throttleReasons: ['sw_power_cap'],
            pstate: 'P0',
            notes: [],
          },
        ],
        processes: [{ pid: 4242, name: 'python', user: 'ana', gpuIndex: 1, usedMemoryBytes: 9 * GIB, smUtilRatio: null, type: 'compute' }],
      },
      host: {
        kind: 'host',
        cores: 8,
        mounts: [{ mount: '/', device: '/dev/sda1', fsType: 'ext4', totalBytes: 100 * GIB, usedBytes: 40 * GIB, availBytes: 60 * GIB }],
        interfaces: ['eth0'],
        disks: ['sda'],
      },
    },
  };
}

/** Host-only sample (no GPU series or details). */
export function hostOnlySample(t = 1_700_000_000_000): SampleMessage {
  return { type: 'sample', t, series: { 'host.cpu_busy_ratio': 0.071, 'host.memory_used_bytes': 3 * GIB, 'host.memory_total_bytes': 23.5 * GIB }, details: {} };
}

/** Source statuses: host and gpu ready, postgres ready, redis down, docker unavailable. */
export const SOURCES: SourceStatus[] = [
  { id: 'host', kind: 'host', state: 'ready', description: '8 cores via /proc' },
  { id: 'gpu', kind: 'gpu', state: 'ready', description: '2 × NVIDIA A100 via NVML' },
  { id: 'postgres.main', kind: 'postgres', state: 'ready' },
  { id: 'redis.cache', kind: 'redis', state: 'down', reason: 'cannot connect to Redis at 127.0.0.1:6379: connection refused' },
  { id: 'docker', kind: 'docker', state: 'unavailable', reason: 'no Docker engine socket at /var/run/docker.sock' },
];

/** A hello for the snapshots. */
export function hello(latest?: SampleMessage, alerts: AlertInstance[] = []): HelloMessage {
  return {
    type: 'hello',
    protocol: 1,
    host: { hostname: 'trainbox', platform: 'linux', arch: 'x64', collectorVersion: '0.1.0', pid: 1, startedAt: 0, cpuCores: 8 },
    intervalMs: 1000,
    serverTime: latest?.t ?? 0,
    sources: SOURCES,
    alerts,
    logging: { enabled: false },
    latest,
  };
}

/** An alert instance. */
export function alert(
  id: string,
  state: AlertInstance['state'],
  severity: AlertInstance['severity'],
  t: number,
  extra: Partial<AlertInstance> = {},
): AlertInstance {
  return {
    id,
    ruleId: id.split(':')[0],
    series: id.split(':')[1] ?? 'gpu.0.temperature_celsius',
    state,
    severity,
    value: 80,
    threshold: 75,
    message: `${id} is ${state}`,
    activeSince: t - 60_000,
    firingSince: state === 'pending' ? undefined : t - 30_000,
    resolvedAt: state === 'resolved' ? t : undefined,
    acknowledged: false,
    ...extra,
  };
}

/** A live snapshot built from a sample. */
export function liveSnapshot(latest: SampleMessage, alerts: AlertInstance[] = [], sources = SOURCES): ConnectionSnapshot {
  return { id: 'local', name: 'trainbox (local)', kind: 'local', state: 'live', hello: hello(latest), latest, sources, alerts };
}

/** The first tree node (depth first) that matches. */
export function find(nodes: TreeNode[], pred: (n: TreeNode) => boolean): TreeNode | undefined {
  for (const n of nodes) {
    if (pred(n)) return n;
    const c = find(n.children ?? [], pred);
    if (c) return c;
  }
  return undefined;
}
