import { strict as assert } from 'node:assert';
import { alertsTree, sortAlerts } from '../../extension/views/alerts-model';
import { killCommand, servicesTree } from '../../extension/views/services-model';
import type { TreeNode } from '../../extension/views/tree-node';
import { clashingDocker } from '../helpers/clashing-containers';
import { alert, find, liveSnapshot, twoGpuSample } from './fixtures';
import type { GpuDetails } from '../../protocol/details/gpu';

describe('extension trees', () => {
  it('builds connection → GPUs, Host, Databases, Containers from a snapshot', () => {
    const [conn] = servicesTree([liveSnapshot(twoGpuSample())]);
    assert.equal(conn.label, 'trainbox (local)');
    assert.equal(conn.description, 'trainbox');
    assert.equal(conn.contextValue, 'rigwatch.connection.local.live');
    assert.deepEqual(
      conn.children!.map((c) => c.label),
      ['GPUs', 'Host: trainbox', 'Databases', 'Not found'],
    );
    const gpus = conn.children![0];
    // Rows lead with the numbers, so a narrow sidebar cuts the name, not the values.
    assert.deepEqual(
      gpus.children!.map((g) => g.label),
      ['GPU 0 · 12% · 2.5/80 GiB · 41°C', 'GPU 1 · 42% · 10/80 GiB · 67°C'],
    );
    assert.equal(gpus.children![1].description, 'A100-SXM4-80GB');
    assert.deepEqual(gpus.children![1].ref, { connectionId: 'local', gpuIndex: 1 });
    assert.equal(gpus.children![1].children![0].label, 'python (4242)');
    assert.match(gpus.children![1].tooltip!, /throttled: sw\\_power\\_cap/);
    assert.equal(conn.children![1].description, 'CPU 25 % · RAM 5.1/16 GiB');
  });

  it("a GPU's health verdict is its icon, the start of its description and the tooltip's first lines", () => {
    const sample = twoGpuSample();
    const det = sample.details.gpu as import('../../protocol/details/gpu').GpuDetails;
    det.devices[0].health = { verdict: 'healthy', reasons: [] };
    det.devices[1].health = { verdict: 'action-needed', reasons: ['row remapping pending: the GPU needs a reset'] };
    det.devices[1].events = { source: 'unavailable', reason: 'nvmlDeviceRegisterEvents: Insufficient Permissions (4)', recent: [] };
    const [conn] = servicesTree([liveSnapshot(sample)]);
    const [g0, g1] = conn.children![0].children!;
    assert.deepEqual(g0.icon, { id: 'circuit-board', color: 'testing.iconPassed' });
    assert.doesNotMatch(g0.label, /action needed|degraded/);
    assert.deepEqual(g1.icon, { id: 'error', color: 'list.errorForeground' });
    assert.match(g1.label, /^GPU 1 · action needed · 42% · /);
    const lines = g1.tooltip!.split('\n\n');
    assert.match(lines[1], /^Health: \*\*action needed\*\*\n- row remapping pending\\?: the GPU needs a reset$/);
    assert.match(lines[2], /^Xid events: unavailable \(nvmlDeviceRegisterEvents\\?: Insufficient Permissions \\\(4\\\)\)$/);
  });

  it('GPU process rows carry owner, SM %, command and start in plain text, and offer Copy Kill Command', () => {
    const s = twoGpuSample();
    const det = s.details.gpu as GpuDetails;
    det.processes = [
      {
        pid: 4242,
        name: 'python',
        user: 'ana',
        gpuIndex: 1,
        usedMemoryBytes: 9 * 1024 ** 3,
        smUtilRatio: 0,
        type: 'compute',
        command: 'python train.py [x](command:evil)',
        startTime: Date.UTC(2026, 0, 2, 3, 4, 5),
        owner: { kind: 'container', runtime: 'docker', containerId: 'a'.repeat(64), containerName: 'trainer', image: 'pytorch:2.3' },
      },
      { pid: 77, name: null, user: null, gpuIndex: 1, usedMemoryBytes: 1024 ** 3, smUtilRatio: null, type: 'compute', alive: false },
    ];
    const gpu1 = servicesTree([liveSnapshot(s)])[0].children![0].children![1];
    const [holder, gone] = gpu1.children!;
    assert.equal(holder.description, '9 GiB · SM 0 % · ana · container trainer (pytorch:2.3)');
    assert.equal(holder.contextValue, 'rigwatch.gpuProcess');
    assert.deepEqual(holder.ref, { connectionId: 'local', gpuIndex: 1, pid: 4242 });
    assert.equal(holder.icon.id, 'debug-pause', 'idle holder marked');
    assert.match(holder.tooltip!, /`python train\.py \[x\]\(command:evil\)`/, 'the command is code, not a link');
    assert.match(holder.tooltip!, /started 2026-01-02 03:04:05 UTC/);
    assert.equal(gone.contextValue, 'rigwatch.gpuProcess.gone');
    assert.match(gone.description!, /exited$/);
    assert.equal(killCommand(4242), 'kill 4242');
  });

  it('shows sources that are down or unavailable as items with their reason', () => {
    const tree = servicesTree([liveSnapshot(twoGpuSample())]);
    const redis = find(tree, (n) => n.label === 'Redis cache')!;
    assert.equal(redis.description, 'down: cannot connect to Redis at 127.0.0.1:6379: connection refused');
    assert.equal(redis.icon.id, 'error');
    // Docker is not on this machine (auto-detected): one grey "Not found" line, not a red source.
    assert.equal(
      find(tree, (n) => n.label === 'Containers'),
      undefined,
    );
    const absent = find(tree, (n) => n.label === 'Not found')!;
    assert.equal(absent.description, 'Containers');
    assert.deepEqual(absent.icon, { id: 'circle-slash', color: 'disabledForeground' });
    assert.match(absent.tooltip!, /no Docker engine socket/);
    assert.match(absent.tooltip!, /rigwatch\.localCollector\.config/);
    const pg = find(tree, (n) => n.label === 'PostgreSQL main')!;
    assert.equal(pg.description, '12/100 conn · hit 99 % · 40 tx/s');
  });

  it('shows a failed connection with an error item carrying the reason', () => {
    const [conn] = servicesTree([
      {
        id: 'collector:x',
        name: 'x',
        kind: 'collector',
        state: 'failed',
        reason: 'the collector at 127.0.0.1:9 rejected the token (HTTP 401)',
        sources: [],
        alerts: [],
      },
    ]);
    assert.equal(conn.icon.color, 'list.errorForeground');
    assert.equal(conn.children!.length, 1);
    assert.equal(conn.children![0].label, 'Cannot connect');
    assert.equal(conn.children![0].description, 'the collector at 127.0.0.1:9 rejected the token (HTTP 401)');
    assert.equal(conn.children![0].contextValue, 'rigwatch.error');
  });

  it('keeps node ids unique and stable across samples', () => {
    const ids = (nodes: TreeNode[]): string[] => nodes.flatMap((n) => [n.id, ...ids(n.children ?? [])]);
    const a = ids(servicesTree([liveSnapshot(twoGpuSample(1))]));
    const b = ids(servicesTree([liveSnapshot(twoGpuSample(2))]));
    assert.equal(new Set(a).size, a.length);
    assert.deepEqual(a, b);
  });

  it('orders alerts: firing critical, firing warning, pending, resolved', () => {
    const t = 1_700_000_000_000;
    const list = [
      alert('r:a', 'resolved', 'critical', t),
      alert('p:b', 'pending', 'warning', t),
      alert('w:c', 'firing', 'warning', t),
      alert('c:d', 'firing', 'critical', t),
    ].map((a) => ({ connectionId: 'local', connectionName: 'local', alert: a }));
    assert.deepEqual(
      sortAlerts(list).map((x) => x.alert.id),
      ['c:d', 'w:c', 'p:b', 'r:a'],
    );
    const nodes = alertsTree(list, t, false);
    assert.deepEqual(
      nodes.map((n) => n.icon.id),
      ['error', 'warning', 'clock', 'pass'],
    );
    assert.deepEqual(
      nodes.map((n) => n.contextValue),
      ['rigwatch.alert.active', 'rigwatch.alert.active', 'rigwatch.alert.active', 'rigwatch.alert.resolved'],
    );
    assert.match(nodes[0].description!, /^critical · since \d\d:\d\d:\d\d$/);
    assert.match(nodes[0].tooltip!, /Active since /);
    assert.match(nodes[3].description!, /^resolved · resolved \d\d:\d\d:\d\d$/);
  });

  it('marks acknowledged and muted alerts and names the connection when there are several', () => {
    const t = 1_700_000_000_000;
    const a = alert('w:c', 'firing', 'warning', t, { acknowledged: true, mutedUntil: t + 3600_000 });
    const [n] = alertsTree([{ connectionId: 'collector:gpu-box', connectionName: 'gpu-box', alert: a }], t, true);
    assert.match(n.description!, /acknowledged · muted until \d\d:\d\d:\d\d · gpu-box$/);
    assert.equal(n.contextValue, 'rigwatch.alert.active.acked');
    assert.deepEqual(n.ref, { connectionId: 'collector:gpu-box', alertId: 'w:c' });
  });
});

describe('extension trees: containers whose names clash', () => {
  it('shows my.app and my_app each with its own CPU and memory (read by the published seriesKey)', () => {
    const { details, series } = clashingDocker();
    const sample = twoGpuSample();
    Object.assign(sample.series, series);
    sample.details.docker = details;
    const snap = liveSnapshot(sample);
    snap.sources = snap.sources.map((s) => (s.kind === 'docker' ? { ...s, state: 'ready', reason: undefined } : s));
    const tree = servicesTree([snap]);
    const dotted = find(tree, (n) => n.label === 'my.app')!;
    const underscored = find(tree, (n) => n.label === 'my_app')!;
    assert.equal(dotted.description, 'running · CPU 11 % · 1 GiB');
    assert.equal(underscored.description, 'running · CPU 73 % · 3 GiB');
  });
});
