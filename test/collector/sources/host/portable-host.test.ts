// The portable host backend (os + fs.statfs + systeminformation in a worker), run here on Linux next to
// the /proc backend on the same machine: same series, values within stated tolerances.

import * as assert from 'node:assert/strict';
import { createLogger } from '../../../../collector/log';
import { ConfigError } from '../../../../collector/config-error';
import { HostSource, PortableHostSource, hostFactory, parseHostConfig } from '../../../../collector/sources/host';
import type { HostDetails } from '../../../../protocol';
import { SOURCE_FACTORIES } from '../../../../collector/sources/index';
import { startCollector } from '../../../helpers/collector-process';

const NEVER = new AbortController().signal;
const log = createLogger('error', () => {});

// Tolerances: both backends read the same kernel counters (os.cpus() and os.loadavg() read /proc on
// Linux) but a few milliseconds apart on a busy shared machine.
const CPU_TOTAL_TOLERANCE = 0.1;
const MEMORY_TOLERANCE_RATIO = 0.02;
const LOAD_TOLERANCE = 0.3;
const UPTIME_TOLERANCE_S = 2;

describe('host: portable backend against the /proc backend on this machine', function () {
  // A systeminformation round takes seconds on a loaded machine: generous limits.
  this.timeout(150_000);
  let portable: PortableHostSource | undefined;
  after(() => portable?.close());

  it('host.backend is validated and chooses the backend', () => {
    assert.equal(parseHostConfig({ backend: 'portable' }).backend, 'portable');
    assert.throws(
      () => parseHostConfig({ backend: 'wmi' }),
      (e: unknown) => e instanceof ConfigError && /host\.backend/.test(e.message) && /"auto", "proc" or "portable"/.test(e.message),
    );
    const ctx = { env: {}, intervalMs: 1000, dataDir: '/tmp', log, latest: () => undefined };
    const [p] = hostFactory.create({ ...ctx, config: { backend: 'portable' } });
    assert.ok(p instanceof PortableHostSource);
    void p.close();
    const [q] = hostFactory.create({ ...ctx, config: { backend: 'proc' } });
    assert.ok(q instanceof HostSource);
    const [a] = hostFactory.create({ ...ctx, config: undefined });
    assert.ok(a instanceof HostSource, 'auto on Linux: /proc');
  });

  it('same series names, values within tolerance', async () => {
    const proc = new HostSource({ log, processes: false });
    portable = new PortableHostSource({ log, slowIntervalMs: 700 });
    assert.equal((await proc.probe(NEVER)).status, 'ready');
    const pr = await portable.probe(NEVER);
    assert.match((pr as { description: string }).description, /cores via os \+ systeminformation \(portable backend\)/);
    await portable.waitRounds(2, 120_000);
    await proc.sample(NEVER);
    await portable.sample(NEVER);
    // A 2 s window: the two backends' reads are a few ms apart, which matters less over a longer window.
    await new Promise((r) => setTimeout(r, 2000));
    const a = (await proc.sample(NEVER)).series;
    const pb = await portable.sample(NEVER);
    const b = pb.series;

    // Every headline series of the /proc backend exists in the portable one.
    for (const k of Object.keys(a)) if (!/^host\.(disk\.|mount\.|net\.)/.test(k)) assert.ok(k in b, `portable backend lacks ${k}`);
    const num = (x: unknown, what: string): number => {
      assert.equal(typeof x, 'number', `${what} is ${String(x)}`);
      return x as number;
    };
    assert.ok(
      Math.abs(num(a['host.cpu_busy_ratio'], 'proc cpu') - num(b['host.cpu_busy_ratio'], 'portable cpu')) <= CPU_TOTAL_TOLERANCE,
      `cpu ${a['host.cpu_busy_ratio']} vs ${b['host.cpu_busy_ratio']}`,
    );
    assert.equal(b['host.memory_total_bytes'], a['host.memory_total_bytes']);
    const total = num(a['host.memory_total_bytes'], 'total');
    assert.ok(Math.abs(num(a['host.memory_used_bytes'], 'used') - num(b['host.memory_used_bytes'], 'used')) <= total * MEMORY_TOLERANCE_RATIO);
    assert.equal(b['host.swap_total_bytes'], a['host.swap_total_bytes']);
    assert.ok(Math.abs(num(a['host.load1_count'], 'load') - num(b['host.load1_count'], 'load')) <= LOAD_TOLERANCE);
    assert.ok(Math.abs(num(a['host.uptime_seconds'], 'uptime') - num(b['host.uptime_seconds'], 'uptime')) <= UPTIME_TOLERANCE_S);
    // Per-core series for every core.
    const cores = Object.keys(a).filter((k) => /^host\.cpu\.\d+\.busy_ratio$/.test(k));
    assert.deepEqual(
      Object.keys(b)
        .filter((k) => /^host\.cpu\.\d+\.busy_ratio$/.test(k))
        .sort(),
      cores.sort(),
    );
    for (const k of cores) assert.equal(typeof b[k], 'number', k);
    // Mounts: each the portable backend reports has the /proc backend's size (statfs of the same path).
    const da = (await proc.sample(NEVER)).details as HostDetails;
    const db = pb.details as HostDetails;
    assert.ok(db.mounts.length > 0, 'no mounts from systeminformation');
    for (const m of db.mounts) {
      const twin = da.mounts.find((x) => x.mount === m.mount);
      if (twin) assert.equal(m.totalBytes, twin.totalBytes, m.mount);
    }
    assert.ok(
      db.mounts.some((m) => m.mount === '/'),
      'root is reported',
    );
    // Rates from the worker's counters: numbers, never negative.
    for (const k of ['host.net_rx_bytes_per_second', 'host.net_tx_bytes_per_second', 'host.disk_read_bytes_per_second', 'host.disk_write_bytes_per_second'])
      assert.ok(num(b[k], k) >= 0, k);
    assert.ok(db.interfaces.length > 0);
    // Top processes from systeminformation, bounded and redacted like the /proc lists.
    assert.ok(db.topMem && db.topMem.length > 0 && db.topMem.length <= 10);
    assert.ok(db.topMem.every((p) => p.pid > 0 && typeof p.name === 'string' && (p.rssBytes ?? 0) >= 0));
    assert.ok(portable.lastRoundCostMs !== null && portable.lastRoundCostMs > 0);
  });
});

describe('host: portable backend in the real collector process (bundled worker)', function () {
  this.timeout(150_000);
  it('host.backend "portable": /api/current carries CPU, memory, mounts and network from the worker', async () => {
    const config: Record<string, unknown> = { host: { backend: 'portable' } };
    for (const f of SOURCE_FACTORIES) if (f.kind !== 'host') config[f.kind] = false;
    const c = await startCollector({ config, interval: 0.5 });
    try {
      let latest: { series: Record<string, number | null>; details: Record<string, unknown> } | undefined;
      const end = Date.now() + 120_000;
      while (Date.now() < end) {
        const body = (await (await c.get('/api/current')).json()) as { latest?: typeof latest; sources: { id: string; description?: string }[] };
        latest = body.latest;
        if (
          latest &&
          ((latest.details.host as HostDetails | undefined)?.mounts.length ?? 0) > 0 &&
          typeof latest.series['host.net_rx_bytes_per_second'] === 'number'
        )
          break;
        await new Promise((r) => setTimeout(r, 300));
      }
      assert.ok(latest, `no sample; stderr: ${c.stderr()}`);
      assert.equal(typeof latest.series['host.cpu_busy_ratio'], 'number');
      assert.equal(typeof latest.series['host.memory_used_bytes'], 'number');
      assert.ok(
        (latest.details.host as HostDetails).mounts.some((m) => m.mount === '/'),
        JSON.stringify(latest.details.host),
      );
      assert.equal(typeof latest.series['host.net_rx_bytes_per_second'], 'number', c.stderr());
      assert.doesNotMatch(c.stderr(), /unknown worker kind/);
    } finally {
      await c.stop();
    }
  });
});
