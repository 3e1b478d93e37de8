// Heating the fake GPU past the warning level raises a notification and an Alerts entry; cooling resolves it.

import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import { rigwatch, ui, uiAvailable, waitFor } from '../helpers';
import { setFakeGpu } from './fake-gpu';

describe('alerts and notifications', () => {
  let api: RigwatchApi;
  before(async () => {
    api = await rigwatch();
    await waitFor('local live', () => api.manager.get('local')?.state === 'live', 30_000);
  });
  after(() => setFakeGpu());

  it('notifies once and lists the alert when GPU 0 heats near its slowdown temperature, and resolves it when it cools', async () => {
    const before = api.notifications().length;
    setFakeGpu({ 'gpu.0.temp': 84 });
    const n = await waitFor(
      'a temperature notification',
      () =>
        api
          .notifications()
          .slice(before)
          .find((x) => /GPU 0 temperature/.test(x.message)),
      30_000,
      () => JSON.stringify(api.notifications()),
    );
    assert.equal(n.severity, 'warning');
    const row = await waitFor(
      'a firing alert row',
      () => api.alertsTree().find((r) => /GPU 0 temperature/.test(r.label) && r.icon.id === 'warning'),
      10_000,
      () => JSON.stringify(api.alertsTree().map((r) => [r.label, r.icon.id])),
    );
    assert.equal(row.contextValue, 'rigwatch.alert.active');
    assert.match(row.description!, /^warning · since \d\d:\d\d:\d\d/);
    await waitFor('the status bar to turn warning', () => api.statusBar()?.severity === 'warning', 10_000);
    if (uiAvailable()) {
      // Toasts may be suppressed in a headless page; the notification centre shows what the user can see.
      await vscode.commands.executeCommand('notifications.showList');
      let texts: string[] = [];
      for (let i = 0; i < 40 && !texts.some((t) => t.includes('GPU 0 temperature')); i++) {
        texts = (await ui({ op: 'notifications' })).texts ?? [];
        if (!texts.some((t) => t.includes('GPU 0 temperature'))) await new Promise((r) => setTimeout(r, 250));
      }
      if (!texts.some((t) => t.includes('GPU 0 temperature')))
        console.log(JSON.stringify((await ui({ op: 'query', selector: '[class*="notification"]' })).texts, null, 1));
      await vscode.commands.executeCommand('notifications.hideList');
      assert.ok(
        texts.some((t) => t.includes('GPU 0 temperature') && t.includes('Open Monitor')),
        `notifications: ${JSON.stringify(texts)}`,
      );
    }
    // Acknowledge and mute from the commands the tree's inline actions run.
    const local = api.manager.get('local')!;
    const alertId = row.ref!.alertId!;
    assert.equal(await vscode.commands.executeCommand('rigwatch.ackAlert', { connectionId: 'local', alertId }), true);
    await waitFor('the acknowledgement', () => local.model.alerts.get(alertId)?.acknowledged === true, 10_000);
    await waitFor('the acked row', () => api.alertsTree().find((r) => r.ref?.alertId === alertId)?.contextValue === 'rigwatch.alert.active.acked', 10_000);
    assert.equal(await vscode.commands.executeCommand('rigwatch.muteAlert', { connectionId: 'local', alertId, durationMs: 60_000 }), true);
    await waitFor(
      'the mute',
      () => (local.model.alerts.get(alertId)?.mutedUntil ?? 0) > Date.now(),
      10_000,
      () => JSON.stringify(local.model.alerts.get(alertId)),
    );
    await waitFor('"muted until" in the row', () => /muted until/.test(api.alertsTree().find((r) => r.ref?.alertId === alertId)?.description ?? ''), 10_000);
    // Still hot for a while: no second notification for the same instance.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(
      api
        .notifications()
        .slice(before)
        .filter((x) => /GPU 0 temperature/.test(x.message)).length,
      1,
    );

    setFakeGpu({ 'gpu.0.temp': 40 });
    const resolved = await waitFor(
      'the alert to resolve',
      () => api.alertsTree().find((r) => /GPU 0 temperature/.test(r.label) && r.icon.id === 'pass'),
      30_000,
      () => JSON.stringify(api.alertsTree().map((r) => [r.label, r.icon.id])),
    );
    assert.equal(resolved.contextValue, 'rigwatch.alert.resolved');
    await waitFor('the status bar colour to clear', () => api.statusBar()?.severity === undefined, 10_000);
    assert.equal(api.notifications().slice(before).length, 1, 'resolving is quiet');
  });
});
