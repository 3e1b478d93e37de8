// A series that appears between discovery scans (an Xid counter from the NVML event thread) is
// evaluated on the tick it first appears, not up to 30 s later at the next periodic scan.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AlertEvent, AlertMessage, SampleMessage, ServerMessage } from '../../../protocol';
import type { GpuDetails } from '../../../protocol/details/gpu';
import { createAlertEngine } from '../../../collector/alerts';
import { TieredHistory } from '../../../collector/history';
import { silentLogger } from '../../../collector/log';
import { startCollector, stopAllCollectors, type RunningCollector } from '../../helpers/collector-process';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../../fakes/nvml/build';

const T0 = Date.UTC(2026, 10, 22, 6, 0, 0);
const XID = 'gpu.0.xid_13_events_count'; // a warning Xid: fatal ones fire gpu-xid-fatal

describe('alert discovery of new series', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rw-new-series-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('fires gpu-xid on the tick the counter first appears when the names version changes', async () => {
    let version = 0;
    const e = await createAlertEngine({ config: undefined, file: path.join(dir, 'alerts.json'), log: silentLogger, namesVersion: () => version });
    assert.deepEqual(e.evaluate(T0, { 'gpu.0.temperature_celsius': 40 }, []), []);
    assert.deepEqual(e.evaluate(T0 + 1000, { 'gpu.0.temperature_celsius': 40 }, []), []);
    version++;
    const ev = e.evaluate(T0 + 2000, { 'gpu.0.temperature_celsius': 40, [XID]: 1 }, []);
    assert.deepEqual(
      ev.map((x) => `${x.transition} ${x.alert.id}`),
      [`firing gpu-xid:${XID}`],
    );
  });

  it('the history store’s names version changes when a name first gets a value, and only then', async () => {
    const h = await TieredHistory.open({ file: path.join(dir, 'history.bin'), intervalMs: 1000, log: silentLogger });
    h.record(T0, { a: 1, b: null });
    const v1 = h.namesVersion();
    h.record(T0 + 1000, { a: 2, b: null });
    assert.equal(h.namesVersion(), v1, 'known names and nulls are not new');
    h.record(T0 + 2000, { a: 3, b: 4 });
    assert.notEqual(h.namesVersion(), v1, 'b got its first value');
  });
});

describe('alert discovery of new series end to end (real collector, fake NVML events)', function () {
  this.timeout(90_000);
  let c: RunningCollector | undefined;
  let state: ReturnType<typeof makeFakeStateDir>;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
    state.dispose();
  });
  after(stopAllCollectors);

  it('an Xid fires gpu-xid on the tick its series first appears (or the next), not at the 30 s scan', async () => {
    const nvml = buildFakeNvml();
    state = makeFakeStateDir();
    const xidFile = path.join(state.dir, 'xid');
    fs.writeFileSync(xidFile, '');
    writeFakeState(state.stateFile, { count: 1, 'gpu.0.temp': 50, 'gpu.0.util': 10, xid_file: xidFile });
    c = await startCollector({
      config: {
        gpu: { nvmlPath: nvml, backend: 'nvml' },
        postgres: false,
        redis: false,
        docker: false,
        models: false,
        alerts: { disable: ['host-cpu', 'host-memory', 'host-disk'] },
      },
      env: { FAKE_NVML_STATE: state.stateFile },
    });
    const ws = await c.ws();
    // The event thread must be registered before the Xid is written (as in gpu-health.test.ts).
    await ws.waitFor(
      (m) =>
        m.type === 'sample' && m.series['gpu.0.temperature_celsius'] === 50 && (m.details.gpu as GpuDetails | undefined)?.devices[0]?.events?.source === 'nvml',
      15_000,
      'a sample from the fake GPU with NVML events registered',
    );
    // Let the startup scans pass (sources turning ready trigger one), so only the new name can trigger one.
    const settled = Date.now() + 2000;
    await ws.waitFor((m) => m.type === 'sample' && Date.now() > settled, 15_000, 'samples after startup');
    fs.appendFileSync(xidFile, '0 xid 13\n');
    const first = await ws.waitFor<SampleMessage>((m) => m.type === 'sample' && m.series[XID] === 1, 15_000, 'the Xid series');
    // Generous: before the fix this took until the next 30 s scan.
    const deadline = Date.now() + 45_000;
    let firing: AlertEvent | undefined;
    while (!firing && Date.now() < deadline) {
      firing = ws.messages
        .filter((m: ServerMessage): m is AlertMessage => m.type === 'alert')
        .flatMap((m) => m.events)
        .find((x) => x.transition === 'firing' && x.alert.id === `gpu-xid:${XID}`);
      if (!firing) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(firing, 'gpu-xid fired');
    // Counted in ticks (sample times), not in wall time: the tick that first carried the series, or the next.
    const ticks = ws.messages.filter((m): m is SampleMessage => m.type === 'sample' && m.t >= first.t && m.t <= (firing as AlertEvent).t).length;
    assert.ok(ticks <= 2, `gpu-xid fired ${ticks} ticks after its series appeared (at ${first.t}, fired at ${firing.t})`);
  });
});
