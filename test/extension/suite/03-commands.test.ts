// Commands run with arguments (as keybindings/other extensions would): export, CSV logging, GPU details,
// bad collector URL/token shown as error items, disconnect.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import type { TreeNode } from '../../../extension/views/tree-node';
import { startCollector, stopAllCollectors } from '../../helpers/collector-process';
import { rigwatch, ui, uiAvailable, waitFor } from '../helpers';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe('commands', () => {
  let api: RigwatchApi;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-cmd-'));
  before(async () => {
    api = await rigwatch();
    await waitFor('local live', () => api.manager.get('local')?.state === 'live', 30_000);
  });
  after(async () => {
    await stopAllCollectors();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('registers every command in the Rigwatch category', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const c of [
      'openMonitor',
      'connectCollector',
      'disconnect',
      'startLocalCollector',
      'stopLocalCollector',
      'toggleLogging',
      'exportMetrics',
      'showGpuDetails',
      'muteAlert',
      'selectStatusBarGpu',
      'showCollectorLog',
    ]) {
      assert.ok(all.includes(`rigwatch.${c}`), `rigwatch.${c} is registered`);
    }
  });

  it('shows the welcome view when nothing is connected, and reconnects the local collector', async () => {
    await vscode.commands.executeCommand('rigwatch.stopLocalCollector');
    assert.deepEqual(api.servicesTree(), []);
    await waitFor(
      '"Rigwatch: disconnected" in the status bar',
      () => api.statusBar()?.text === '$(pulse) Rigwatch',
      10_000,
      () => api.statusBar()?.text ?? '',
    );
    if (uiAvailable()) {
      const r = await ui({ op: 'treeRows', container: 'Rigwatch' });
      assert.ok(r.ok, r.error);
      let texts: string[] = [];
      for (let i = 0; i < 40 && !texts.some((t) => t.includes('No collector is connected')); i++) {
        texts = (await ui({ op: 'query', selector: '#workbench\\.parts\\.sidebar .welcome-view-content' })).texts ?? [];
        if (!texts.some((t) => t.includes('No collector is connected'))) await new Promise((res) => setTimeout(res, 250));
      }
      assert.ok(
        texts.some((t) => t.includes('No collector is connected') && t.includes('Start Local Collector')),
        `welcome: ${JSON.stringify(texts)}`,
      );
    }
    await vscode.commands.executeCommand('rigwatch.startLocalCollector');
    await waitFor('local live again', () => api.manager.get('local')?.state === 'live', 30_000);
    await waitFor(
      'GPU numbers in the status bar',
      () => /GPU\d+ \d+ %/.test(api.statusBar()?.text ?? ''),
      30_000,
      () =>
        `${api.statusBar()?.text}; settings: ${JSON.stringify(vscode.workspace.getConfiguration('rigwatch').inspect('localCollector.config'))} / ${JSON.stringify(api.manager.currentSettings.localConfig)}`,
    );
  });

  it('exports metrics as CSV and JSON files', async () => {
    const csv = path.join(tmp, 'out.csv');
    await vscode.commands.executeCommand('rigwatch.exportMetrics', {
      connectionId: 'local',
      format: 'csv',
      range: '5m',
      series: ['gpu.0.*'],
      uri: vscode.Uri.file(csv).toString(),
    });
    const text = fs.readFileSync(csv, 'utf8');
    const header = text.split('\n')[0];
    assert.match(header, /gpu\.0\.utilization_ratio/);
    assert.ok(text.trim().split('\n').length >= 2, 'at least one data row');
    const json = path.join(tmp, 'out.json');
    await vscode.commands.executeCommand('rigwatch.exportMetrics', {
      connectionId: 'local',
      format: 'json',
      range: '5m',
      series: ['gpu.0.temperature_celsius'],
      uri: vscode.Uri.file(json).toString(),
    });
    const parsed = JSON.parse(fs.readFileSync(json, 'utf8')) as unknown;
    assert.match(JSON.stringify(parsed), /gpu\.0\.temperature_celsius/);
  });

  it('toggles CSV logging on and off', async () => {
    const local = api.manager.get('local')!;
    assert.equal(await vscode.commands.executeCommand('rigwatch.toggleLogging', { connectionId: 'local', enabled: true }), true);
    await waitFor('logging on in the model', () => local.model.logging?.enabled === true, 10_000);
    assert.equal(await vscode.commands.executeCommand('rigwatch.toggleLogging', { connectionId: 'local' }), false);
    await waitFor('logging off in the model', () => local.model.logging?.enabled === false, 10_000);
  });

  it('shows the GPU report in a read-only virtual document', async () => {
    const uri = await vscode.commands.executeCommand<string>('rigwatch.showGpuDetails', { connectionId: 'local', gpuIndex: 0 });
    assert.ok(uri, 'the command returns the document URI');
    const doc = await waitFor(
      'the report editor',
      () => vscode.window.activeTextEditor?.document.uri.toString() === uri && vscode.window.activeTextEditor.document,
    );
    assert.equal(doc.uri.scheme, 'rigwatch-gpu');
    assert.match(doc.getText(), /Product Name|GPU 00000000|Driver Version/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  const errorItem = (id: string): TreeNode | undefined =>
    api
      .servicesTree()
      .find((n) => n.ref?.connectionId === id)
      ?.children?.find((c) => c.contextValue === 'rigwatch.error');

  it('shows a clear error item for a wrong token, and for a URL where nothing listens', async () => {
    const col = await startCollector({ config: { gpu: false, docker: false } });
    const id = await vscode.commands.executeCommand<string>('rigwatch.connectCollector', { name: 'wrong-token', url: col.url, token: 'x'.repeat(32) });
    assert.equal(id, 'collector:wrong-token');
    const item = await waitFor('an error item', () => errorItem(id), 15_000);
    assert.equal(item.label, 'Cannot connect');
    assert.match(item.description!, /rejected the token \(HTTP 401\)/);
    assert.doesNotMatch(JSON.stringify(api.servicesTree()), /xxxxxxxxxxxxxxxx/, 'the token is not shown anywhere');
    const settings = vscode.workspace.getConfiguration('rigwatch').get<{ name: string; url: string; token?: string }[]>('collectors')!;
    const entry = settings.find((c) => c.name === 'wrong-token');
    assert.deepEqual(entry, { name: 'wrong-token', url: col.url }, 'the token is kept out of settings');

    const port = await freePort();
    const id2 = await vscode.commands.executeCommand<string>('rigwatch.connectCollector', {
      name: 'nothing-there',
      url: `http://127.0.0.1:${port}`,
      token: 'y'.repeat(32),
    });
    const item2 = await waitFor('an error item', () => errorItem(id2), 15_000);
    assert.match(item2.description!, new RegExp(`connection refused at 127\\.0\\.0\\.1:${port}`));

    for (const x of [id, id2]) await vscode.commands.executeCommand('rigwatch.disconnect', { connectionId: x });
    assert.equal(api.manager.get(id), undefined);
    const after = vscode.workspace.getConfiguration('rigwatch').get<{ name: string }[]>('collectors')!;
    assert.ok(!after.some((c) => c.name === 'wrong-token' || c.name === 'nothing-there'), 'disconnect removes the entries');
  });
});
