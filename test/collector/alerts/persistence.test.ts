// The alert state file on its own: what is written comes back, the file stays private, and a damaged
// or foreign file is a fresh start with a warning naming it, never a crash.

import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../collector/log';
import {
  ALERT_STATE_VERSION,
  readAlertState,
  restoredFields,
  writeAlertState,
  type PersistedInstance,
  type PersistedState,
} from '../../../collector/alerts/persistence';

const T0 = Date.UTC(2026, 10, 22, 6, 0, 0);

function state(): PersistedState {
  return {
    version: ALERT_STATE_VERSION,
    savedAt: T0,
    seq: 7,
    instances: [
      {
        id: 'gpu-temperature:gpu.0.temperature_celsius',
        ruleId: 'gpu-temperature',
        series: 'gpu.0.temperature_celsius',
        state: 'firing',
        severity: 'critical',
        value: 91,
        peak: 93,
        activeSince: T0 - 60_000,
        firingSince: T0 - 30_000,
        acknowledged: true,
        mutedReported: false,
      },
    ],
    ruleMutes: { 'gpu-memory': T0 + 3_600_000 },
    history: [],
    baselines: {},
  };
}

describe('alert state file', () => {
  let dir: string;
  let warnings: string[];
  const log = createLogger('warn', (line) => warnings.push(line));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rw-alert-state-'));
    warnings = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads back what it wrote, into a directory it creates, with mode 0600', async () => {
    const file = join(dir, 'data', 'alerts.json');
    await writeAlertState(file, state());
    assert.deepEqual(await readAlertState(file, log), JSON.parse(JSON.stringify(state())));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(warnings, []);
  });

  it('a missing file is a quiet fresh start', async () => {
    assert.equal(await readAlertState(join(dir, 'alerts.json'), log), null);
    assert.deepEqual(warnings, []);
  });

  it('a corrupt or foreign file is a fresh start with a warning naming the file and the fault', async () => {
    const file = join(dir, 'alerts.json');
    await writeFile(file, '{"version":1,"instances":[');
    assert.equal(await readAlertState(file, log), null);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, new RegExp(`alert state ${file} is unreadable \\(.*JSON.*\\); starting fresh`));

    await writeFile(file, JSON.stringify({ ...state(), version: 99 }));
    assert.equal(await readAlertState(file, log), null);
    assert.match(warnings[1] as string, /unsupported layout \(version 99\)/);
    // The damaged file is left for the next save to replace; nothing else is written meanwhile.
    assert.match(await readFile(file, 'utf8'), /"version":99/);
  });

  it('a failed save rejects naming the file (the engine keeps its state dirty and retries)', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    await assert.rejects(writeAlertState(join(blocker, 'alerts.json'), state()), new RegExp(`cannot save alert state to ${blocker}/alerts\\.json: `));
  });

  it('restores only fields of the right type from a hand-edited instance', () => {
    const edited = {
      ...state().instances[0],
      state: 'exploded',
      severity: 'fatal',
      value: '91',
      firingSince: 'yesterday',
      peak: 95,
    } as unknown as PersistedInstance;
    const got = restoredFields(edited);
    assert.equal(got.state, 'inactive');
    assert.equal(got.severity, 'warning');
    assert.equal(got.value, null);
    assert.equal(got.firingSince, undefined);
    assert.equal(got.peak, 95);
    assert.equal(got.acknowledged, true);
  });
});
