// Activation, the local collector (started by the extension, fed by the fake NVML), status bar, Services tree.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import { report, rigwatch, ui, uiAvailable, waitFor } from '../helpers';
import { setFakeGpu } from './fake-gpu';

describe('activation and the local collector', () => {
  let api: RigwatchApi;

  before(async () => {
    setFakeGpu();
    api = await rigwatch();
  });

  it('starts the bundled collector, writes its 0600 state file and goes live', async () => {
    const local = await waitFor(
      'the local connection to be live',
      () => api.manager.get('local')?.state === 'live' && api.manager.get('local'),
      30_000,
      () => `${api.manager.get('local')?.state} ${api.manager.get('local')?.reason ?? ''}`,
    );
    assert.equal(local.kind, 'local');
    const ep = api.manager.localCollector!;
    assert.equal(ep.owned, true, 'no collector was running, so this window started one');
    const stateFile = path.join(process.env.XDG_STATE_HOME!, 'rigwatch', 'collector.json');
    const st = fs.statSync(stateFile);
    assert.equal(st.mode & 0o777, 0o600);
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { pid: number; url: string };
    assert.equal(state.pid, ep.pid);
    assert.equal(state.url, ep.url);
    await waitFor('the first status-bar readout', () => api.times.firstDataAt, 30_000);
    report('activation_to_first_status_ms', api.times.firstDataAt! - api.times.activatedAt);
  });

  it('shows the fake GPU in the status bar and follows a change', async () => {
    await waitFor(
      'status text for GPU 0',
      () => api.statusBar()?.text === '$(pulse) GPU0 37 % · 12/80 GiB',
      20_000,
      () => api.statusBar()?.text ?? 'none',
    );
    assert.match(api.statusBar()!.tooltip, /\| 0 .* \| 37 % \| 12\/80 GiB \| 50 °C \|/);
    assert.match(api.statusBar()!.tooltip, /\| 1 .* \| 5 % \| 1\/80 GiB \| 45 °C \|/);
    setFakeGpu({ 'gpu.0.util': 64, 'gpu.0.mem_used': 20.5 * 1024 ** 3 });
    await waitFor(
      'the status bar to follow the change',
      () => api.statusBar()?.text === '$(pulse) GPU0 64 % · 21/80 GiB',
      20_000,
      () => api.statusBar()?.text ?? 'none',
    );
    if (uiAvailable()) {
      // What the user sees: the rendered status bar item in the workbench.
      let texts: string[] = [];
      for (let i = 0; i < 40; i++) {
        texts = (await ui({ op: 'statusbar' })).texts ?? [];
        if (texts.some((t) => t.includes('GPU0 64 % · 21/80 GiB'))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(
        texts.some((t) => t.includes('GPU0 64 % · 21/80 GiB')),
        `status bar items: ${JSON.stringify(texts)}`,
      );
    }
    setFakeGpu();
  });

  it('selects "all" GPUs for the status bar, then back to the busiest', async () => {
    await vscode.commands.executeCommand('rigwatch.selectStatusBarGpu', { gpu: 'all' });
    await waitFor(
      'a per-GPU list',
      () => /^\$\(pulse\) 0: 37 % 12\/80 GiB · 1: 5 % 1\/80 GiB$/.test(api.statusBar()?.text ?? ''),
      10_000,
      () => api.statusBar()?.text ?? '',
    );
    await vscode.commands.executeCommand('rigwatch.selectStatusBarGpu', { gpu: 'busiest' });
    await waitFor(
      'the busiest GPU again',
      () => api.statusBar()?.text === '$(pulse) GPU0 37 % · 12/80 GiB',
      10_000,
      () => api.statusBar()?.text ?? '',
    );
  });

  it('lists GPUs, host and sources in the Services tree', async () => {
    const tree = await waitFor('a connection node with children', () => {
      const t = api.servicesTree();
      return t[0]?.children?.some((c) => c.label === 'GPUs') && t;
    });
    const conn = tree[0];
    assert.equal(conn.ref?.connectionId, 'local');
    const labels = conn.children!.map((c) => c.label);
    assert.ok(labels.includes('GPUs') && labels.some((l) => l.startsWith('Host: ')), `children: ${labels}`);
    const gpus = conn.children!.find((c) => c.label === 'GPUs')!;
    assert.equal(gpus.children!.length, 2);
    assert.match(gpus.children![0].label, /^GPU 0 · 37% · 12\/80 GiB · 50°C$/);
    if (uiAvailable()) {
      // The Services tree's own rows ("GPU 0 · …", "Host: …"): the Alerts tree can show "GPU 0: …" first
      // (the fake GPU's 12 GiB without a process turns into a pending alert after 2 min on a slow machine).
      const r = await ui({ op: 'treeRows', container: 'Rigwatch', waitFor: ['GPU 0 ·', 'Host: '] });
      assert.ok(r.ok, `${r.error}; rows: ${JSON.stringify(r.texts)}`);
    }
  });
});
