// "Open System Monitor" from the command palette opens the dashboard panel, which receives live data.

import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import { rigwatch, ui, uiAvailable, waitFor } from '../helpers';

describe('System Monitor panel', () => {
  let api: RigwatchApi;
  before(async () => {
    api = await rigwatch();
    await waitFor('local live', () => api.manager.get('local')?.state === 'live', 30_000);
  });
  after(async () => {
    api.panel.webviewPanel?.dispose();
  });

  it('opens from the command palette and shows the dashboard with live data', async function () {
    if (!uiAvailable()) {
      // Under @vscode/test-electron there is no Playwright page: open through the API instead.
      console.log('  (no UI runner: opening the panel through executeCommand)');
      await vscode.commands.executeCommand('rigwatch.openMonitor');
    } else {
      const r = await ui({ op: 'palette', command: 'Open System Monitor' });
      assert.ok(r.ok, r.error);
    }
    const panel = await waitFor('the panel', () => api.panel.webviewPanel, 15_000);
    assert.equal(panel.viewType, 'rigwatch.monitor');
    assert.match(api.panel.html, /Content-Security-Policy/);
    assert.match(api.panel.html, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
    await waitFor('messages relayed to the webview', () => api.panel.posted > 2, 20_000);
    if (uiAvailable()) {
      const r = await ui({ op: 'webviewText', waitFor: os.hostname(), timeoutMs: 30_000 });
      assert.ok(r.ok, r.error);
      assert.match(r.texts![0], /GPU/);
    }
    // Only one panel: opening again reveals the same one.
    await vscode.commands.executeCommand('rigwatch.openMonitor');
    assert.equal(api.panel.webviewPanel, panel);
  });
});
