// GPU health end to end against the fake libnvidia-ml: Xid events through the event thread, memory
// health, slowdown, the verdict, and the default rules firing and resolving in the real alert engine.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GpuDetails, GpuDevice, GpuProcess } from '../../../../protocol/details/gpu';
import { ProcessEnergy } from '../../../../collector/sources/gpu/process-energy';
import type { SeriesMap } from '../../../../protocol';
import { createAlertEngine, type RuleAlertEngine } from '../../../../collector/alerts';
import { silentLogger } from '../../../../collector/log';
import { buildFakeNvml } from '../../../fakes/nvml/build';
import { gpuHarness, NEVER, waitFor, type GpuHarness } from './helpers';

describe('gpu health: events, memory health, slowdown, verdict, rules (fake libnvidia-ml)', function () {
  this.timeout(30000);
  let lib: string;
  let h: GpuHarness | undefined;
  let dir: string;
  let xidFile: string;
  const engines: RuleAlertEngine[] = [];

  before(() => {
    lib = buildFakeNvml();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-xid-'));
    xidFile = path.join(dir, 'xid');
    fs.writeFileSync(xidFile, '');
  });
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
    engines.length = 0;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function engine(): Promise<RuleAlertEngine> {
    const e = await createAlertEngine({ config: undefined, file: path.join(dir, 'alerts.json'), log: silentLogger });
    engines.push(e);
    return e;
  }
  async function sample(): Promise<{ series: SeriesMap; devices: GpuDevice[] }> {
    const r = await (h as GpuHarness).source.sample(NEVER);
    return { series: r.series, devices: (r.details as GpuDetails).devices };
  }
  /** Waits until the event thread has registered (the GPU's events info says nvml without a reason). */
  async function registered(): Promise<void> {
    await waitFor(
      async () => (await sample()).devices[0]?.events?.source === 'nvml' && h?.logs.every((l) => !l.includes('Xid events unavailable')),
      5000,
      'event registration',
    );
  }
  function inject(lines: string[]): void {
    fs.appendFileSync(xidFile, lines.map((l) => l + '\n').join(''));
  }

  it('an Xid 79 becomes a series, a critical reason in the verdict, and a critical gpu-xid-fatal alert with meaning and action', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 2, xid_file: xidFile });
    await h.source.probe(NEVER);
    await registered();
    let s = await sample();
    assert.equal(s.devices[0].health?.verdict, 'healthy');
    assert.equal(s.series['gpu.0.health_state'], 0);
    const e = await engine();
    const t0 = 1_000_000;
    e.evaluate(t0, s.series, []);
    inject(['0 xid 79']);
    s = await waitFor(
      async () => {
        const x = await sample();
        return x.series['gpu.0.xid_79_events_count'] === 1 ? x : null;
      },
      5000,
      'the Xid series',
    );
    assert.equal(s.devices[0].health?.verdict, 'action-needed');
    assert.equal(s.series['gpu.0.health_state'], 2);
    assert.match(s.devices[0].health?.reasons.join('\n') ?? '', /Xid 79 ×1: GPU has fallen off the bus\. drain the node/);
    assert.equal(s.devices[1].health?.verdict, 'healthy', 'the other GPU is not affected');
    assert.equal(s.devices[0].events?.recent[0].severity, 'critical');
    // The engine picks new series up at its next discovery scan (≤ 30 s).
    const ev = e.evaluate(t0 + 31_000, s.series, []);
    const firing = ev.find((x) => x.transition === 'firing');
    assert.ok(firing, 'gpu-xid-fatal fired');
    assert.equal(firing.alert.ruleId, 'gpu-xid-fatal');
    assert.equal(firing.alert.severity, 'critical', "Xid 79 is fatal (reboot in NVIDIA's catalogue)");
    assert.equal(ev.filter((x) => x.transition === 'firing').length, 1, 'one alert, not one per rule');
    assert.equal(firing.alert.series, 'gpu.0.xid_79_events_count');
    assert.match(
      firing.alert.message,
      /^GPU 0 Xid 79: GPU has fallen off the bus\. Action: drain the node and reboot.*\(seen 1×, last at \d\d:\d\d:\d\d UTC\)$/,
    );
    // Held while nothing new happens, then resolved once acknowledged.
    assert.deepEqual(e.evaluate(t0 + 60_000, s.series, []), []);
    assert.equal(e.active().filter((a) => a.ruleId === 'gpu-xid-fatal').length, 1);
    e.acknowledge(firing.alert.id, t0 + 61_000);
    const after = e.evaluate(t0 + 62_000, s.series, []);
    assert.equal(after.find((x) => x.alert.ruleId === 'gpu-xid-fatal')?.transition, 'resolved');
  });

  it("fatal Xids (reset, reboot or RMA in NVIDIA's catalogue) fire critical, informational and unknown ones warning: one alert per code", async () => {
    const informational = ['13', '31', '43', '45', '63', '68', '69', '92', '94', '777'];
    const fatal = ['46', '48', '61', '62', '64', '74', '79', '95', '109', '119', '120', '140', '154'];
    h = gpuHarness({ nvmlPath: lib }, { count: 1, xid_file: xidFile });
    await h.source.probe(NEVER);
    await registered();
    const e = await engine();
    const t0 = 3_000_000;
    e.evaluate(t0, (await sample()).series, []);
    inject([...informational, ...fatal].map((c) => `0 xid ${c}`).concat(['0 dbe', '0 unavailable', '0 recovery 2']));
    const s = await waitFor(
      async () => {
        const x = await sample();
        return x.series['gpu.0.xid_recovery_events_count'] === 1 && x.series['gpu.0.xid_154_events_count'] === 1 ? x : null;
      },
      5000,
      'every code folded',
    );
    for (const c of informational) assert.equal(s.series[`gpu.0.xid_${c}_fatal_threshold_count`], undefined, `Xid ${c} carries no fatal mark`);
    for (const c of [...fatal, 'dbe', 'unavailable', 'recovery']) assert.equal(s.series[`gpu.0.xid_${c}_fatal_threshold_count`], 0, `${c} is marked fatal`);
    const ev = e.evaluate(t0 + 31_000, s.series, []).filter((x) => x.transition === 'firing');
    const by = new Map(ev.map((x) => [x.alert.series, x.alert]));
    assert.equal(ev.length, informational.length + fatal.length + 3, 'one alert per code, never one from each rule');
    for (const c of informational) {
      const a = by.get(`gpu.0.xid_${c}_events_count`);
      assert.deepEqual([a?.ruleId, a?.severity], ['gpu-xid', 'warning'], `Xid ${c}`);
    }
    for (const c of [...fatal, 'dbe', 'unavailable', 'recovery']) {
      const a = by.get(`gpu.0.xid_${c}_events_count`);
      assert.deepEqual([a?.ruleId, a?.severity], ['gpu-xid-fatal', 'critical'], `${c}`);
    }
    assert.match(by.get('gpu.0.xid_48_events_count')?.message ?? '', /^GPU 0 Xid 48: double-bit .*\(seen 1×, last at/);
    assert.match(by.get('gpu.0.xid_777_events_count')?.message ?? '', /unknown Xid 777/);
    // The verdict agrees: fatal codes make it "action needed".
    assert.equal(s.devices[0].health?.verdict, 'action-needed');
  });

  it('without acknowledgement an Xid alert holds for 1 h after the last event, then resolves', async () => {
    const e = await engine();
    const t0 = 5_000_000;
    e.evaluate(t0, { 'gpu.0.temperature_celsius': 40 }, []);
    e.evaluate(t0 + 31_000, { 'gpu.0.xid_13_events_count': 1 }, []);
    assert.equal(e.active()[0]?.message.startsWith('GPU 0 Xid 13: graphics engine exception'), true);
    // A repeat 10 min later updates the same alert and restarts the hold.
    e.evaluate(t0 + 600_000, { 'gpu.0.xid_13_events_count': 2 }, []);
    e.evaluate(t0 + 601_000, { 'gpu.0.xid_13_events_count': 2 }, []);
    assert.equal(e.evaluate(t0 + 600_000 + 3_599_000, { 'gpu.0.xid_13_events_count': 2 }, []).length, 0);
    assert.match(e.active()[0].message, /seen 2×/);
    const r = e.evaluate(t0 + 600_000 + 3_601_000, { 'gpu.0.xid_13_events_count': 2 }, []);
    assert.equal(r[0]?.transition, 'resolved');
    // Unknown codes say so.
    e.evaluate(t0 + 5_000_000, { 'gpu.0.xid_13_events_count': 2, 'gpu.0.xid_777_events_count': 1 }, []);
    e.evaluate(t0 + 5_040_000, { 'gpu.0.xid_13_events_count': 2, 'gpu.0.xid_777_events_count': 1 }, []);
    assert.match(
      e
        .active()
        .map((a) => a.message)
        .join('\n'),
      /Xid 777: unknown Xid 777/,
    );
  });

  it('a storm of 1,000 Xid 45 is one series, one alert, one folded entry; a second storm adds nothing but the count', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 2, xid_file: xidFile });
    await h.source.probe(NEVER);
    await registered();
    const e = await engine();
    const t0 = 9_000_000;
    e.evaluate(t0, (await sample()).series, []);
    inject(Array.from({ length: 1000 }, () => '1 xid 45'));
    let s = await waitFor(
      async () => {
        const x = await sample();
        return x.series['gpu.1.xid_45_events_count'] === 1000 ? x : null;
      },
      10000,
      '1,000 events folded',
    );
    const xidSeries = (m: SeriesMap): string[] => Object.keys(m).filter((k) => k.includes('xid_'));
    assert.deepEqual(xidSeries(s.series), ['gpu.1.xid_45_events_count']);
    e.evaluate(t0 + 31_000, s.series, []);
    const xidAlerts = e.active().filter((a) => a.ruleId === 'gpu-xid');
    assert.equal(xidAlerts.length, 1);
    assert.match(xidAlerts[0].message, /seen 1000×/);
    assert.equal(s.devices[1].events?.recent.length, 1);
    assert.equal(s.devices[1].health?.verdict, 'degraded', 'Xid 45 alone is an application-side event');
    inject(Array.from({ length: 1000 }, () => '1 xid 45'));
    s = await waitFor(
      async () => {
        const x = await sample();
        return x.series['gpu.1.xid_45_events_count'] === 2000 ? x : null;
      },
      10000,
      '2,000 events folded',
    );
    e.evaluate(t0 + 32_000, s.series, []);
    assert.deepEqual(xidSeries(s.series), ['gpu.1.xid_45_events_count']);
    assert.equal(e.active().filter((a) => a.ruleId === 'gpu-xid').length, 1);
    assert.equal(s.devices[1].events?.recent.length, 1);
    assert.equal(e.alertHistory().filter((x) => x.alert.ruleId === 'gpu-xid').length, 1, 'one firing event in the history, not 2,000');
  });

  it('double-bit ECC, GPU-unavailable and recovery-action events fold under their own codes', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 1, xid_file: xidFile });
    await h.source.probe(NEVER);
    await registered();
    inject(['0 dbe', '0 unavailable', '0 recovery 1']);
    const s = await waitFor(
      async () => {
        const x = await sample();
        return x.series['gpu.0.xid_recovery_events_count'] === 1 ? x : null;
      },
      5000,
      'events',
    );
    assert.equal(s.series['gpu.0.xid_dbe_events_count'], 1);
    assert.equal(s.series['gpu.0.xid_unavailable_events_count'], 1);
    assert.deepEqual(s.devices[0].events?.recent.map((r) => r.code).sort(), ['dbe', 'recovery', 'unavailable']);
    assert.equal(s.devices[0].health?.verdict, 'action-needed');
  });

  it('events that cannot be registered (not supported, no permission, MIG) are said once in the notes and the events info', async () => {
    h = gpuHarness(
      { nvmlPath: lib, kernelLogPath: path.join(dir, 'no-such-kmsg'), journalctlPath: path.join(dir, 'no-journalctl') },
      { count: 3, xid_file: xidFile, 'gpu.0.unsupported': 'events', 'gpu.2.mig': 1, fail: 'nvmlDeviceRegisterEvents:4:1' },
    );
    await h.source.probe(NEVER);
    const s = await waitFor(
      async () => {
        const x = await sample();
        return x.devices.every((d) => d.events?.source === 'unavailable') ? x : null;
      },
      5000,
      'unavailable reasons',
    );
    assert.match(s.devices[0].events?.reason ?? '', /nvmlDeviceGetSupportedEventTypes: Not Supported \(3\)/);
    assert.match(s.devices[1].events?.reason ?? '', /nvmlDeviceRegisterEvents: Insufficient Permissions \(4\)/);
    assert.match(
      s.devices[2].events?.reason ?? '',
      /nvmlDeviceRegisterEvents: Not Supported \(3\); .*no-such-kmsg is not readable \(ENOENT\); .*no-journalctl not found/,
    );
    const again = await sample();
    for (const d of again.devices) assert.equal(d.notes.filter((n) => n.startsWith('Xid events unavailable')).length, 1, 'said once');
  });

  it('kernel-log fallback: NVRM Xid lines count for GPUs without NVML events, not for those with them', async () => {
    const kmsg = path.join(dir, 'kmsg');
    fs.writeFileSync(kmsg, '');
    h = gpuHarness({ nvmlPath: lib, kernelLogPath: kmsg }, { count: 2, xid_file: xidFile, 'gpu.0.unsupported': 'events' });
    await h.source.probe(NEVER);
    await waitFor(async () => (await sample()).devices[0].events?.source === 'kernel-log', 5000, 'kernel-log fallback');
    // GPU 0 is 0000:07:00, GPU 1 is 0000:0f:00 (fake defaults); GPU 1 has NVML events, so its line is ignored.
    fs.appendFileSync(
      kmsg,
      '[ 9021.345678] NVRM: Xid (PCI:0000:07:00): 48, pid=2, name=x, DBE (0x1,0x2)\n[ 9021.4] NVRM: Xid (PCI:0000:0f:00): 13, pid=3, name=y, Graphics Exception\n',
    );
    (h.source as unknown as { kernel: { poll(): void } }).kernel.poll();
    const s = await sample();
    assert.equal(s.series['gpu.0.xid_48_events_count'], 1);
    assert.equal(s.series['gpu.1.xid_13_events_count'], undefined);
    assert.match(s.devices[0].events?.reason ?? '', /NVML events: nvmlDeviceGetSupportedEventTypes: Not Supported \(3\); reading NVRM Xid lines from/);
    assert.equal(s.devices[0].health?.verdict, 'action-needed');
  });

  it('journal fallback: without a readable /dev/kmsg, NVRM Xid lines come from journalctl -k (followed, since start, no shell) for GPUs without NVML events', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const journal = path.join(dir, 'journal');
    const argsFile = path.join(dir, 'journal-args');
    const pidFile = path.join(dir, 'journal-pid');
    fs.writeFileSync(journal, '');
    fs.writeFileSync(
      path.join(bin, 'journalctl'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}.tmp'\necho $$ > '${pidFile}'\nmv '${argsFile}.tmp' '${argsFile}'\nexec tail -n +1 -f '${journal}'\n`,
      { mode: 0o755 },
    );
    h = gpuHarness(
      { nvmlPath: lib, kernelLogPath: path.join(dir, 'no-such-kmsg') },
      { count: 2, xid_file: xidFile, 'gpu.0.unsupported': 'events' },
      { PATH: `${bin}:${process.env.PATH ?? ''}` },
    );
    await h.source.probe(NEVER);
    let s = await waitFor(async () => ((await sample()).devices[0].events?.source === 'kernel-log' ? sample() : null), 5000, 'journal fallback');
    assert.match(s.devices[0].events?.reason ?? '', /no-such-kmsg is not readable \(ENOENT\); reading NVRM Xid lines from journalctl -k/);
    const args = await waitFor(
      (): string[] | null => (fs.existsSync(argsFile) ? fs.readFileSync(argsFile, 'utf8').trim().split('\n') : null),
      5000,
      'journalctl started',
    );
    assert.deepEqual(args.slice(0, 6), ['-k', '-f', '-o', 'cat', '--no-pager', '-q']);
    assert.match(args[6], /^--since=@\d{10}$/);
    assert.equal(args[7], '--grep=NVRM: Xid');
    // GPU 0 (0000:07:00) has no NVML events: its line counts; GPU 1 (0000:0f:00) has them: its line is ignored.
    fs.appendFileSync(
      journal,
      "NVRM: Xid (PCI:0000:07:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\nNVRM: Xid (PCI:0000:0f:00): 13, pid=3\n",
    );
    s = await waitFor(
      async () => {
        const x = await sample();
        return x.series['gpu.0.xid_79_events_count'] === 1 ? x : null;
      },
      5000,
      'the Xid from the journal',
    );
    assert.equal(s.series['gpu.1.xid_13_events_count'], undefined);
    assert.equal(s.devices[0].health?.verdict, 'action-needed');
    // Closing the source stops journalctl.
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await h.dispose();
    h = undefined;
    await waitFor(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5000,
      'journalctl stopped',
    );
  });

  it('journal fallback: a journalctl that exits says why in the events info', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'journalctl'), '#!/bin/sh\necho "No journal files were found." >&2\nexit 1\n', { mode: 0o755 });
    h = gpuHarness(
      { nvmlPath: lib, kernelLogPath: path.join(dir, 'no-such-kmsg') },
      { count: 1, xid_file: xidFile, 'gpu.0.unsupported': 'events' },
      { PATH: `${bin}:${process.env.PATH ?? ''}` },
    );
    await h.source.probe(NEVER);
    const s = await waitFor(async () => ((await sample()).devices[0].events?.source === 'unavailable' ? sample() : null), 5000, 'journal failure');
    assert.match(s.devices[0].events?.reason ?? '', /no-such-kmsg is not readable \(ENOENT\); journalctl -k exited \(code 1\): No journal files were found\./);
  });

  it('every new call answering NOT_SUPPORTED gives null (never 0) with one reason, and no crash', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 1, 'gpu.0.unsupported': 'remap,retired,energy,violation,ecc_corrected', 'gpu.0.reasons': 0 });
    await h.source.probe(NEVER);
    for (let i = 0; i < 3; i++) {
      const s = await sample();
      for (const m of [
        'ecc_volatile_corrected_count',
        'ecc_volatile_uncorrected_count',
        'ecc_aggregate_corrected_count',
        'ecc_aggregate_uncorrected_count',
        'remapped_rows_corrected_count',
        'remap_pending_state',
        'remap_failure_state',
        'remap_health_state',
        'retired_pages_count',
        'retired_pages_pending_state',
        'energy_joules',
        'power_violation_ratio',
        'thermal_violation_ratio',
      ]) {
        assert.equal(s.series[`gpu.0.${m}`], null, m);
      }
      assert.equal(s.series['gpu.0.hw_slowdown_ratio'], 0, 'falls back to the sampled reasons');
      const notes = s.devices[0].notes;
      assert.equal(notes.filter((n) => n.startsWith('row remapping and retired pages not reported')).length, 1);
      assert.equal(notes.filter((n) => n.startsWith('energy counter not reported')).length, 1);
      assert.equal(notes.filter((n) => n.startsWith('throttle time counters not supported')).length, 1);
      await new Promise((r) => setTimeout(r, 30));
    }
    for (const call of [
      'nvmlDeviceGetRemappedRows',
      'nvmlDeviceGetRetiredPages',
      'nvmlDeviceGetTotalEnergyConsumption',
      'nvmlDeviceGetViolationStatus',
      'nvmlDeviceGetTotalEccErrors',
    ]) {
      assert.equal(h.logs.filter((l) => l.includes(`${call} is not supported`)).length, 1, `${call} warned once`);
    }
  });

  it('GPU_IS_LOST from a health call: values null, the verdict says action needed', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 2, fail: 'nvmlDeviceGetRemappedRows:15:0' });
    await h.source.probe(NEVER);
    const s = await sample();
    const d = s.devices.find((x) => x.index === 0) as GpuDevice;
    assert.equal(d.health?.verdict, 'action-needed');
    assert.match(d.health?.reasons[0] ?? '', /GPU is lost/);
    assert.equal(s.series['gpu.0.energy_joules'], null);
    assert.equal(s.devices[1].health?.verdict, 'healthy');
  });

  it('memory health values, energy in joules growing with power, violation shares', async () => {
    h = gpuHarness(
      { nvmlPath: lib },
      {
        count: 1,
        'gpu.0.ecc_corrected': 5,
        'gpu.0.ecc_uncorrected': 0,
        'gpu.0.ecc_agg_corrected': 50,
        'gpu.0.ecc_agg_uncorrected': 2,
        'gpu.0.remap_corr': 3,
        'gpu.0.remap_unc': 1,
        'gpu.0.energy_mj': 5000000,
        'gpu.0.power_mw': 300000,
        'gpu.0.viol_thermal_pct': 100,
        'gpu.0.reasons': 0,
      },
    );
    await h.source.probe(NEVER);
    const a = await sample();
    assert.equal(a.series['gpu.0.ecc_volatile_corrected_count'], 5);
    assert.equal(a.series['gpu.0.ecc_aggregate_corrected_count'], 50);
    assert.equal(a.series['gpu.0.ecc_aggregate_uncorrected_count'], 2);
    assert.equal(a.series['gpu.0.remapped_rows_corrected_count'], 3);
    assert.equal(a.series['gpu.0.remapped_rows_uncorrected_count'], 1);
    assert.equal(a.series['gpu.0.remap_health_state'], 0);
    assert.ok((a.series['gpu.0.energy_joules'] as number) >= 5000);
    await new Promise((r) => setTimeout(r, 300));
    const b = await sample();
    const dj = (b.series['gpu.0.energy_joules'] as number) - (a.series['gpu.0.energy_joules'] as number);
    assert.ok(dj > 300 * 0.25 && dj < 300 * 1, `energy grew by ${dj} J in ~0.3 s at 300 W`);
    assert.ok((b.series['gpu.0.thermal_violation_ratio'] as number) > 0.9);
    assert.equal(b.series['gpu.0.power_violation_ratio'], 0);
    assert.ok((b.series['gpu.0.hw_slowdown_ratio'] as number) > 0.9);
    // The rolling per-reason shares start with the second sample: thermal from its violation counter.
    assert.equal(a.devices[0].throttle, undefined);
    const th = b.devices[0].throttle;
    assert.ok(th && th.reasons.length > 0, 'a summary (its window counts whole minutes: 0 so far)');
    const r = (k: string): number | undefined => th?.reasons.find((x) => x.reason === k)?.windowRatio;
    assert.ok((r('thermal') as number) > 0.9, `thermal ${r('thermal')}`);
    assert.equal(r('power_cap'), 0);
    assert.equal(r('idle'), 0, 'reasons 0: not idle');
  });

  it('rules gpu-row-remap, gpu-ecc-uncorrected and gpu-hw-slowdown fire and resolve end to end', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 1, 'gpu.0.reasons': 0 });
    await h.source.probe(NEVER);
    const e = await engine();
    let t = 20_000_000;
    const tick = async (state: Record<string, string | number>, dt = 1000): Promise<ReturnType<RuleAlertEngine['evaluate']>> => {
      h?.setState({ count: 1, 'gpu.0.reasons': 0, ...state });
      await new Promise((r) => setTimeout(r, 40));
      t += dt;
      return e.evaluate(t, (await sample()).series, []);
    };
    await tick({});
    // Row remapping pending: warning that says a reset is needed; failure: critical, RMA.
    let ev = await tick({ 'gpu.0.remap_pending': 1 });
    assert.equal(ev[0]?.alert.ruleId, 'gpu-row-remap');
    assert.equal(ev[0]?.alert.severity, 'warning');
    assert.match(ev[0]?.alert.message ?? '', /GPU 0 has a row remapping pending: the GPU needs a reset/);
    ev = await tick({ 'gpu.0.remap_pending': 1, 'gpu.0.remap_failure': 1 });
    assert.equal(ev[0]?.transition, 'escalated');
    assert.match(ev[0]?.alert.message ?? '', /row remapping failed: contact NVIDIA support \/ RMA/);
    ev = await tick({});
    assert.equal(ev[0]?.transition, 'resolved');
    // A new uncorrected ECC error: critical at once.
    ev = await tick({ 'gpu.0.ecc_uncorrected': 1 });
    assert.equal(ev[0]?.alert.ruleId, 'gpu-ecc-uncorrected');
    assert.equal(ev[0]?.alert.severity, 'critical');
    e.acknowledge(ev[0].alert.id, t);
    ev = await tick({ 'gpu.0.ecc_uncorrected': 1 });
    assert.equal(ev[0]?.transition, 'resolved', 'acknowledged and no new errors');
    // Sustained thermal slowdown for 2 min fires; idle or the app clock setting does not.
    ev = await tick({ 'gpu.0.reasons': 0x3, 'gpu.0.ecc_uncorrected': 1 }, 150_000);
    ev = await tick({ 'gpu.0.reasons': 0x3, 'gpu.0.ecc_uncorrected': 1 }, 150_000);
    assert.equal(ev.length, 0, 'idle + applications clocks are not slowdown');
    await tick({ 'gpu.0.viol_thermal_pct': 100, 'gpu.0.ecc_uncorrected': 1 });
    await tick({ 'gpu.0.viol_thermal_pct': 100, 'gpu.0.ecc_uncorrected': 1 });
    ev = await tick({ 'gpu.0.viol_thermal_pct': 100, 'gpu.0.ecc_uncorrected': 1 }, 121_000);
    assert.equal(ev[0]?.alert.ruleId, 'gpu-hw-slowdown');
    assert.equal(ev[0]?.transition, 'firing');
    ev = await tick({ 'gpu.0.ecc_uncorrected': 1 });
    assert.equal(ev[0]?.transition, 'resolved');
    assert.equal(ev[0]?.alert.ruleId, 'gpu-hw-slowdown');
  });

  it('per-process SM, memory, encoder and decoder utilisation from nvmlDeviceGetProcessUtilization', async () => {
    h = gpuHarness({ nvmlPath: lib }, { count: 1, 'gpu.0.compute': `${process.pid}:1048576`, 'gpu.0.putil': `${process.pid}:61:22:3:4` });
    await h.source.probe(NEVER);
    const r = await h.source.sample(NEVER);
    const p = (r.details as GpuDetails).processes.find((x) => x.pid === process.pid);
    assert.deepEqual([p?.smUtilRatio, p?.memUtilRatio, p?.encoderUtilRatio, p?.decoderUtilRatio], [0.61, 0.22, 0.03, 0.04]);
  });

  it("per-process energy: each tick's GPU energy split by SM share, summed per process; null without per-process samples", async () => {
    // The split, on the class itself (published at once here; the source publishes every 10 s).
    const pe = new ProcessEnergy(0);
    const proc = (pid: number, gpuIndex: number, sm: number | null): GpuProcess => ({
      pid,
      name: 'p',
      user: null,
      gpuIndex,
      usedMemoryBytes: 1,
      smUtilRatio: sm,
      type: 'compute',
    });
    const det = (): GpuDetails => ({
      kind: 'gpu',
      backend: 'nvml',
      driverVersion: null,
      cudaVersion: null,
      devices: [0, 1].map((index) => ({
        index,
        name: 'g',
        uuid: 'u',
        pciBusId: `b${index}`,
        computeCapability: null,
        migMode: false,
        throttleReasons: [],
        pstate: null,
        notes: [],
      })),
      processes: [proc(10, 0, 0.6), proc(11, 0, 0.2), proc(12, 1, null)],
    });
    pe.apply('gpu', det(), { 'gpu.0.energy_joules': 1000, 'gpu.1.energy_joules': 50 }, 0);
    const d = det();
    pe.apply('gpu', d, { 'gpu.0.energy_joules': 1400, 'gpu.1.energy_joules': 90 }, 1000);
    assert.deepEqual(
      d.processes.map((p) => p.energyJoules),
      [300, 100, null],
    );
    // A drop of the counter (driver reload) attributes nothing that tick.
    const r = det();
    pe.apply('gpu', r, { 'gpu.0.energy_joules': 10, 'gpu.1.energy_joules': 90 }, 2000);
    assert.deepEqual(
      r.processes.map((p) => p.energyJoules),
      [300, 100, null],
    );
    // Through the source and the fake: processes with per-process samples start at 0, others are null.
    h = gpuHarness(
      { nvmlPath: lib },
      {
        count: 2,
        'gpu.0.power_mw': 400000,
        'gpu.0.compute': `${process.pid}:1048576`,
        'gpu.0.putil': `${process.pid}:60`,
        'gpu.1.compute': `${process.pid}:1048576`,
      },
    );
    await h.source.probe(NEVER);
    const procs = ((await h.source.sample(NEVER)).details as GpuDetails).processes;
    assert.equal(procs.find((p) => p.gpuIndex === 0)?.energyJoules, 0);
    assert.equal(procs.find((p) => p.gpuIndex === 1)?.energyJoules, null, 'no per-process samples: null, not 0');
  });

  it('GPM on a supporting GPU: SM activity, occupancy, tensor, DRAM, NVLink over the interval; null with one note elsewhere', async () => {
    h = gpuHarness(
      { nvmlPath: lib },
      {
        count: 2,
        'gpu.0.gpm': 1,
        'gpu.0.gpm_sm': 37,
        'gpu.0.gpm_occ': 21,
        'gpu.0.gpm_tensor': 12,
        'gpu.0.gpm_dram': 55,
        'gpu.0.nvlink_rx_mibs': 100,
        'gpu.0.nvlink_tx_mibs': 200,
      },
    );
    await h.source.probe(NEVER);
    await new Promise((r) => setTimeout(r, 20));
    const s = await sample();
    assert.equal(s.series['gpu.0.sm_activity_ratio'], 0.37);
    assert.equal(s.series['gpu.0.sm_occupancy_ratio'], 0.21);
    assert.equal(s.series['gpu.0.tensor_activity_ratio'], 0.12);
    assert.equal(s.series['gpu.0.dram_bandwidth_ratio'], 0.55);
    assert.equal(s.series['gpu.0.nvlink_rx_bytes_per_second'], 100 * 1048576);
    assert.equal(s.series['gpu.0.nvlink_tx_bytes_per_second'], 200 * 1048576);
    assert.equal(s.series['gpu.1.sm_activity_ratio'], null);
    assert.equal(s.devices[0].notes.filter((n) => n.startsWith('GPM')).length, 0);
    assert.equal(s.devices[1].notes.filter((n) => n.startsWith('GPM not supported')).length, 1);
  });

  it('NVLink: per-link state and error counters on GPUs with active links, nothing on GPUs without; a link going down degrades the verdict', async () => {
    const state = { count: 3, 'gpu.0.nvlinks': 4, 'gpu.0.nvlink_crc': 2, 'gpu.0.nvlink_replay': 1, 'gpu.0.nvlink_recovery': 0, 'gpu.2.unsupported': 'nvlink' };
    h = gpuHarness({ nvmlPath: lib }, state);
    await h.source.probe(NEVER);
    let s = await sample();
    assert.equal(s.series['gpu.0.nvlink_links_count'], 4, 'the 4 links active at start (of 18)');
    assert.equal(s.series['gpu.0.nvlink_links_active_count'], 4);
    assert.equal(s.series['gpu.0.nvlink_crc_errors_count'], 8, 'CRC summed over links');
    assert.equal(s.series['gpu.0.nvlink_replay_errors_count'], 4);
    assert.equal(s.series['gpu.0.nvlink_recovery_errors_count'], 0);
    assert.deepEqual(s.devices[0].nvlink?.links[3], {
      link: 3,
      active: true,
      crcErrors: 2,
      replayErrors: 1,
      recoveryErrors: 0,
      rxBytesPerSecond: 0,
      txBytesPerSecond: 0,
    });
    assert.equal(s.devices[0].nvlink?.links.length, 4);
    for (const g of [1, 2]) {
      for (const m of ['nvlink_links_count', 'nvlink_links_active_count', 'nvlink_crc_errors_count'])
        assert.equal(s.series[`gpu.${g}.${m}`], null, `gpu ${g} ${m}`);
      assert.equal(s.devices[g].nvlink, undefined, `GPU ${g} shows no NVLink`);
    }
    assert.equal(s.devices[0].health?.verdict, 'healthy');
    h.setState({ ...state, 'gpu.0.nvlinks': 3 });
    s = await waitFor(
      async () => {
        const x = await sample();
        return x.series['gpu.0.nvlink_links_active_count'] === 3 ? x : null;
      },
      5000,
      'link 3 down',
    );
    assert.equal(s.series['gpu.0.nvlink_links_count'], 4);
    assert.equal(s.devices[0].nvlink?.links[3].active, false);
    assert.equal(s.devices[0].nvlink?.links[3].crcErrors, 2, 'an inactive link keeps its counters');
    assert.equal(s.devices[0].health?.verdict, 'degraded');
    assert.match(s.devices[0].health?.reasons.join('\n') ?? '', /1 of 4 NVLink link\(s\) down/);
    assert.equal(h.logs.filter((l) => l.includes('nvmlDeviceGetNvLink') && l.includes('not supported')).length, 0, 'no NVLink warning for GPUs without it');
  });

  it('the event thread stops cleanly while it is waiting, freeing the set and shutting NVML down', async () => {
    const log = path.join(dir, 'nvml.log');
    h = gpuHarness({ nvmlPath: lib }, { count: 1, xid_file: xidFile }, { FAKE_NVML_LOG: log });
    process.env.FAKE_NVML_LOG = log;
    try {
      await h.source.probe(NEVER);
      await registered();
      // The thread is now blocked in nvmlEventSetWait_v2.
      await h.source.close();
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
      assert.ok(lines.includes('event-set-create'));
      assert.ok(lines.includes('event-set-free'), 'the event set was freed');
    } finally {
      delete process.env.FAKE_NVML_LOG;
    }
  });
});
