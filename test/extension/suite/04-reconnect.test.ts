// A configured collector that dies: the UI says reconnecting; restarting it reconnects and backfills.
// The local collector that dies is restarted by the extension.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import type { ServerMessage } from '../../../protocol';
import { startCollector, stopAllCollectors, type RunningCollector } from '../../helpers/collector-process';
import { rigwatch, waitFor } from '../helpers';

describe('reconnecting', () => {
  let api: RigwatchApi;
  let col: RunningCollector | undefined;
  before(async () => {
    api = await rigwatch();
  });
  after(async () => {
    await vscode.workspace.getConfiguration('rigwatch').update('statusBar.connection', undefined, vscode.ConfigurationTarget.Global);
    if (api.manager.get('collector:e2e')) await vscode.commands.executeCommand('rigwatch.disconnect', { connectionId: 'collector:e2e' });
    await stopAllCollectors();
  });

  it('shows reconnecting when a collector dies, then reconnects and backfills after it restarts', async () => {
    col = await startCollector({
      config: { gpu: { nvmlPath: process.env.RIGWATCH_FAKE_NVML_PATH! }, docker: false },
      env: { FAKE_NVML_STATE: process.env.FAKE_NVML_STATE! },
      interval: 0.5,
    });
    const id = await vscode.commands.executeCommand<string>('rigwatch.connectCollector', { name: 'e2e', url: `${col.url}/#token=${col.token}` });
    await vscode.workspace.getConfiguration('rigwatch').update('statusBar.connection', 'e2e', vscode.ConfigurationTarget.Global);
    const conn = await waitFor('e2e live', () => api.manager.get(id)?.state === 'live' && api.manager.get(id), 20_000);
    await waitFor(
      'the status bar on e2e',
      () => /GPU\d+ \d+ %/.test(api.statusBar()?.text ?? '') && api.statusBar()!.tooltip.includes('e2e'),
      15_000,
      () => api.statusBar()?.text ?? '',
    );
    const messages: ServerMessage[] = [];
    const sub = api.manager.onDidChangeConnection((e) => e.connection.id === id && e.message && messages.push(e.message));
    try {
      await col.kill9();
      await waitFor(
        'reconnecting in the status bar',
        () => /reconnecting/.test(api.statusBar()?.text ?? ''),
        15_000,
        () => api.statusBar()?.text ?? '',
      );
      const node = api.servicesTree().find((n) => n.ref?.connectionId === id)!;
      assert.equal(node.description, 'reconnecting');
      assert.ok(
        node.children!.some((c) => c.contextValue === 'rigwatch.error' && /lost|refused/.test(c.description ?? '')),
        JSON.stringify(node.children),
      );
      const lastBefore = conn.model.lastSampleTime!;
      await col.restart();
      await waitFor(
        'live again',
        () => conn.state === 'live',
        30_000,
        () => `${conn.state} ${conn.reason}`,
      );
      const backfill = await waitFor(
        'the backfill reply',
        () => messages.find((m): m is Extract<ServerMessage, { type: 'history' }> => m.type === 'history' && m.id.startsWith('backfill')),
        10_000,
      );
      assert.equal(backfill.from, lastBefore);
      for (const s of backfill.series) for (const p of s.points) assert.ok(p[0] > lastBefore);
      await waitFor(
        'numbers back in the status bar',
        () => /GPU\d+ \d+ %/.test(api.statusBar()?.text ?? ''),
        10_000,
        () => api.statusBar()?.text ?? '',
      );
    } finally {
      sub.dispose();
    }
  });

  it('restarts the local collector when it is killed', async () => {
    const local = await waitFor('local live', () => api.manager.get('local')?.state === 'live' && api.manager.get('local'), 30_000);
    const pid = api.manager.localCollector!.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'a new local collector',
      () => api.manager.localCollector && api.manager.localCollector.pid !== pid && api.manager.get('local')?.state === 'live',
      30_000,
      () => `${local.state} ${local.reason}`,
    );
    const st = JSON.parse(fs.readFileSync(path.join(process.env.XDG_STATE_HOME!, 'rigwatch', 'collector.json'), 'utf8')) as { pid: number };
    assert.equal(st.pid, api.manager.localCollector!.pid);
  });
});
