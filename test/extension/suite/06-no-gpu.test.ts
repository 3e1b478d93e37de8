// A collector without a GPU: the status bar shows host CPU/RAM and the tree says why there is no GPU.

import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import { startCollector, stopAllCollectors } from '../../helpers/collector-process';
import { rigwatch, waitFor } from '../helpers';

describe('a collector without a GPU', () => {
  let api: RigwatchApi;
  before(async () => {
    api = await rigwatch();
  });
  after(async () => {
    await vscode.workspace.getConfiguration('rigwatch').update('statusBar.connection', undefined, vscode.ConfigurationTarget.Global);
    if (api.manager.get('collector:cpu-box')) await vscode.commands.executeCommand('rigwatch.disconnect', { connectionId: 'collector:cpu-box' });
    await stopAllCollectors();
  });

  it('shows host CPU/RAM in the status bar and the GPU source as unavailable with its reason', async () => {
    // A library path that does not exist: the GPU source probes, finds nothing, and says so.
    const col = await startCollector({
      config: { gpu: { nvmlPath: '/nonexistent/libnvidia-ml.so.1', nvidiaSmiPath: '/nonexistent/nvidia-smi' }, docker: false },
      interval: 0.5,
    });
    const id = await vscode.commands.executeCommand<string>('rigwatch.connectCollector', { name: 'cpu-box', url: col.url, token: col.token! });
    await vscode.workspace.getConfiguration('rigwatch').update('statusBar.connection', 'cpu-box', vscode.ConfigurationTarget.Global);
    await waitFor('live', () => api.manager.get(id)?.state === 'live', 20_000);
    const text = await waitFor(
      'a host readout',
      () => /^\$\(pulse\) CPU \d+(\.\d+)? % · RAM \d+(\.\d)?\/\d+(\.\d)? GiB$/.test(api.statusBar()?.text ?? '') && api.statusBar()!.text,
      20_000,
      () => api.statusBar()?.text ?? '',
    );
    assert.ok(text);
    assert.match(api.statusBar()!.tooltip, /No GPU/);
    const node = api.servicesTree().find((n) => n.ref?.connectionId === id)!;
    // An absent GPU is quiet: folded into the grey "Not found" line, its reason in the tooltip.
    const notFound = node.children!.find((c) => c.label === 'Not found');
    assert.ok(notFound, `a Not found item: ${JSON.stringify(node.children!.map((c) => c.label))}`);
    assert.match(notFound.description!, /\bGPU\b/);
    assert.match(String(notFound.tooltip), /GPU\b.*: /);
  });
});
