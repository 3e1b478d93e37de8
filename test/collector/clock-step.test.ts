// Scheduling on a monotonic clock (issue 17): the real collector process with Date.now stepped back by
// an hour mid-run keeps sampling at its interval and says once that the clock stepped.

import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { SampleMessage, ServerMessage } from '../../protocol';
import { Collector } from '../../collector/collector';
import type { Logger } from '../../collector/log';
import { silentLogger } from '../../collector/log';
import { startCollector, type RunningCollector } from '../helpers/collector-process';
import { MemoryHistory } from '../fakes/test-sources';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { AlertEvent, SourceStatus } from '../../protocol';
import { RuleAlertEngine } from '../../collector/alerts/engine';
import { parseAlertsConfig } from '../../collector/alerts/rules';

const isSample = (m: ServerMessage): m is SampleMessage => m.type === 'sample';
const PRELOAD = path.join(__dirname, '..', 'fakes', 'clock', 'step-date-now.js');
const HOUR_MS = 3600_000;

describe('collector clock steps', function () {
  this.timeout(60_000);
  let collector: RunningCollector | undefined;
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
  });

  it('keeps sampling at the interval when the wall clock steps back an hour (real process)', async () => {
    const stepFile = path.join(os.tmpdir(), `rigwatch-step-${process.pid}-${Date.now()}`);
    after(() => fs.rmSync(stepFile, { force: true }));
    collector = await startCollector({
      config: { gpu: false, docker: false, postgres: false, redis: false, models: false },
      interval: 0.25,
      env: { NODE_OPTIONS: `--require ${PRELOAD}`, RIGWATCH_TEST_CLOCK_STEP_FILE: stepFile, RIGWATCH_TEST_CLOCK_STEP_MS: String(-HOUR_MS) },
    });
    const ws = await collector.ws();
    await ws.waitFor<SampleMessage>(isSample, 10_000, 'a first sample');
    const first = await ws.waitFor<SampleMessage>(isSample, 10_000, 'a second sample');
    fs.writeFileSync(stepFile, '');
    // Samples stamped after the step carry times an hour earlier; before the fix the next tick was
    // scheduled an hour away and none came.
    const stepped: SampleMessage[] = [];
    while (stepped.length < 8) {
      stepped.push(await ws.waitFor<SampleMessage>((m) => isSample(m) && m.t < first.t - HOUR_MS / 2, 10_000, `sample ${stepped.length + 1} after the step`));
    }
    // At the interval: eight stepped samples span about 7 intervals of their own clock.
    const span = stepped[stepped.length - 1].t - stepped[0].t;
    // Generous for a loaded machine; before the fix the next sample came an hour later.
    assert.ok(span > 0 && span < 30_000, `8 samples after the step span ${span} ms`);
    const err = collector.stderr();
    assert.equal(err.split('the wall clock stepped back by').length - 1, 1, `one log line about the step:\n${err}`);
  });

  it('logs a forward step once and schedules on the monotonic clock (injected clocks)', async () => {
    let wall = 5_000_000;
    let mono = 0;
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m: string) => warnings.push(m), child: () => log };
    const col = new Collector([], 1000, { history: new MemoryHistory(), log, now: () => wall, monoNow: () => mono });
    const ts: number[] = [];
    for (let i = 0; i < 6; i++) {
      if (i === 3) wall += 2 * HOUR_MS;
      const msg = await col.tick();
      ts.push(msg!.t);
      wall += 1000;
      mono += 1000;
    }
    await col.stop();
    assert.equal(warnings.filter((w) => w.includes('stepped forward by 7200.0 s')).length, 1, warnings.join('\n'));
    assert.equal(ts[3] - ts[2], 1000 + 2 * HOUR_MS, 'sample times follow the wall clock');
  });

  it('an alert keeps the `for` time it counted when the wall clock steps back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-clock-'));
    const engine = new RuleAlertEngine(parseAlertsConfig(undefined).rules, 100, path.join(dir, 'alerts.json'), silentLogger);
    const down: SourceStatus[] = [{ id: 'redis.main', kind: 'redis', state: 'down', reason: 'connection refused' }];
    const events: AlertEvent[] = [];
    let t = 10_000_000;
    for (let i = 0; i < 20; i++, t += 1000) events.push(...engine.evaluate(t, {}, down));
    t -= HOUR_MS; // source-down needs 30 s: 20 counted before the step, 15 after
    for (let i = 0; i < 15; i++, t += 1000) events.push(...engine.evaluate(t, {}, down));
    fs.rmSync(dir, { recursive: true, force: true });
    assert.ok(
      events.some((e) => e.transition === 'firing' && e.alert.ruleId === 'source-down'),
      'fires 30 s after the source went down, step or not',
    );
  });
});
