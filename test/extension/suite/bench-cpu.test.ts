// Benchmark (run by bench/extension/extension-host-cpu.ts, never by npm test): the extension host's CPU
// with Rigwatch idle (no connection) versus live at 1 Hz with the status bar and both trees visible.

import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import { report, rigwatch, ui, uiAvailable, waitFor } from '../helpers';

/** Length of each measurement window, in ms (RIGWATCH_BENCH_WINDOW_S overrides). */
const WINDOW_MS = Number(process.env.RIGWATCH_BENCH_WINDOW_S ?? 60) * 1000;

async function cpuOver(ms: number): Promise<{ cpuPercentOfCore: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const c = process.cpuUsage(c0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { cpuPercentOfCore: Math.round(((c.user + c.system) / 1000 / wallMs) * 10_000) / 100, wallMs: Math.round(wallMs) };
}

describe('benchmark: extension host CPU', function () {
  this.timeout(5 * WINDOW_MS + 120_000);
  let api: RigwatchApi;

  it('measures activation → first status text, idle and live CPU', async () => {
    api = await rigwatch();
    await waitFor('first status text', () => api.times.firstDataAt, 60_000);
    report('activation_to_first_status_ms', api.times.firstDataAt! - api.times.activatedAt);
    if (uiAvailable()) {
      const r = await ui({ op: 'treeRows', container: 'Rigwatch', waitFor: 'GPU 0 ·' });
      if (!r.ok) throw new Error(`could not show the Rigwatch trees: ${r.error}`);
    }
    // Baseline in the same run: Rigwatch disconnected (the extension host still runs everything else).
    await vscode.commands.executeCommand('rigwatch.stopLocalCollector');
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await cpuOver(WINDOW_MS);
    report('idle_ext_host_cpu_percent_of_core', idle.cpuPercentOfCore);

    await vscode.commands.executeCommand('rigwatch.startLocalCollector');
    await waitFor('live', () => api.manager.get('local')?.state === 'live', 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    const u0 = api.statusBarUpdates();
    const t0 = api.treeRefreshes();
    const samples0 = Date.now();
    const live = await cpuOver(WINDOW_MS);
    const secs = (Date.now() - samples0) / 1000;
    report('live_ext_host_cpu_percent_of_core', live.cpuPercentOfCore);
    report('rigwatch_added_cpu_percent_of_core', Math.round((live.cpuPercentOfCore - idle.cpuPercentOfCore) * 100) / 100);
    report('live_to_idle_ratio', Math.round((live.cpuPercentOfCore / Math.max(0.01, idle.cpuPercentOfCore)) * 100) / 100);
    report('status_bar_updates_per_second', Math.round(((api.statusBarUpdates() - u0) / secs) * 100) / 100);
    report('tree_refreshes_per_second', Math.round(((api.treeRefreshes() - t0) / secs) * 100) / 100);
    report('window_seconds', Math.round(secs));
  });
});
