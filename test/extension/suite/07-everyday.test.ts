// Issue 18 in the real workbench: "Connect to Collector…" writes the user settings (not Machine), Stop Local
// Collector leaves the dashboard on the local connection with a Start button that works, and screenshots
// in Light/Dark/High Contrast and the default themes at 420 and 1400 px with what can be measured: the
// 8-GPU status bar item is not clipped, tree rows carry the numbers, a changing row's tooltip appears.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import type { ElementBox } from '../../e2e/vscode/ui-protocol';
import { makeFakeStateDir, writeFakeState, type FakeGpuState } from '../../fakes/nvml/build';
import { startCollector, stopAllCollectors } from '../../helpers/collector-process';
import { report, rigwatch, ui, uiAvailable, waitFor } from '../helpers';

const GIB = 1024 ** 3;
/** Themes shot: VS Code's light, dark and high-contrast themes and the current defaults. */
const THEMES = ['Default Dark Modern', 'Default Light+', 'Default Dark+', 'Default High Contrast'];
/** Window widths, in px. */
const WIDTHS = [1400, 420];

function readJson(file: string): Record<string, unknown> {
  // Settings files may carry comments; these are written by code-server and the runner (plain JSON).
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8') || '{}') as Record<string, unknown>) : {};
}

function boxes(texts: string[] | undefined): ElementBox[] {
  return (texts ?? []).map((t) => JSON.parse(t) as ElementBox);
}

describe('issue 18 in the workbench', () => {
  let api: RigwatchApi;
  before(async () => {
    api = await rigwatch();
    await waitFor('local live', () => api.manager.get('local')?.state === 'live', 30_000);
  });
  after(async () => {
    api.panel.webviewPanel?.dispose();
    const cfg = vscode.workspace.getConfiguration();
    await cfg.update('workbench.colorTheme', undefined, vscode.ConfigurationTarget.Global);
    await cfg.update('rigwatch.statusBar.gpu', undefined, vscode.ConfigurationTarget.Global);
    await cfg.update('rigwatch.statusBar.connection', undefined, vscode.ConfigurationTarget.Global);
    if (api.manager.get('collector:eight')) await vscode.commands.executeCommand('rigwatch.disconnect', { connectionId: 'collector:eight' });
    await stopAllCollectors();
  });

  it('"Connect to Collector…" writes rigwatch.collectors to the User settings, not Machine; the local config still applies', async function () {
    const ud = process.env.RIGWATCH_TEST_USER_DATA;
    if (!ud) {
      console.log('  (no code-server runner: the settings files are not known; checking the inspected value only)');
      this.skip();
    }
    const localConfig = JSON.stringify(api.manager.currentSettings.localConfig);
    const id = await vscode.commands.executeCommand<string>('rigwatch.connectCollector', { name: 'where', url: 'http://127.0.0.1:9', token: 'w'.repeat(32) });
    const inUser = await waitFor(
      'the entry in User/settings.json',
      () => {
        const list = readJson(path.join(ud!, 'User', 'settings.json'))['rigwatch.collectors'];
        return Array.isArray(list) && list.some((c: { name?: string }) => c.name === 'where') && list;
      },
      10_000,
      () => fs.readFileSync(path.join(ud!, 'Machine', 'settings.json'), 'utf8'),
    );
    assert.ok(inUser);
    assert.equal(readJson(path.join(ud!, 'Machine', 'settings.json'))['rigwatch.collectors'], undefined, 'nothing written to Machine settings');
    assert.equal(JSON.stringify(api.manager.currentSettings.localConfig), localConfig, "the user's localCollector.config still applies");
    await vscode.commands.executeCommand('rigwatch.disconnect', { connectionId: id });
  });

  it('Stop Local Collector leaves the dashboard on the local connection with a Start button that starts it', async () => {
    await vscode.commands.executeCommand('rigwatch.openMonitor', { connectionId: 'local' });
    await waitFor('the panel', () => api.panel.webviewPanel, 15_000);
    if (uiAvailable()) assert.ok((await ui({ op: 'webviewText', waitFor: os.hostname(), timeoutMs: 30_000 })).ok);
    // Another connection exists: before, the panel switched to it.
    const other = await startCollector({ config: { gpu: false, docker: false } });
    const otherId = await vscode.commands.executeCommand<string>('rigwatch.connectCollector', { name: 'other', url: other.url, token: other.token! });
    await waitFor('other live', () => api.manager.get(otherId)?.state === 'live', 20_000);
    await vscode.commands.executeCommand('rigwatch.stopLocalCollector');
    assert.equal(api.manager.localStoppedByUser, true);
    if (uiAvailable()) {
      const r = await ui({ op: 'webviewText', waitFor: 'Local collector stopped', timeoutMs: 20_000 });
      assert.ok(r.ok, r.error);
      assert.match(r.texts![0], /Start/);
      assert.ok((await ui({ op: 'webviewClick', selector: '[data-control="start-local"]' })).ok);
    } else {
      await vscode.commands.executeCommand('rigwatch.startLocalCollector');
    }
    await waitFor('local live again', () => api.manager.get('local')?.state === 'live', 30_000);
    if (uiAvailable()) {
      let text = '';
      for (let i = 0; i < 60; i++) {
        text = (await ui({ op: 'webviewText', timeoutMs: 5000 })).texts?.[0] ?? '';
        if (!text.includes('Local collector stopped') && /\blive\b/.test(text)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(
        !text.includes('Local collector stopped') && /\blive\b/.test(text),
        `the dashboard is live on the local connection again: ${text.slice(0, 300)}`,
      );
    }
    assert.match(api.panel.webviewPanel!.title, /\(local\)/);
    await vscode.commands.executeCommand('rigwatch.disconnect', { connectionId: otherId });
  });

  it('screenshots in Light, Dark, High Contrast and the default themes at 420 and 1400 px: status bar fits, tree rows show numbers, a changing row has a tooltip', async function () {
    if (!uiAvailable()) this.skip(); // screenshots need the code-server runner's page
    this.timeout(420_000);
    const artifacts = process.env.RIGWATCH_TEST_ARTIFACTS ?? path.join(os.tmpdir(), 'rigwatch-artifacts');
    const nvmlPath = (vscode.workspace.getConfiguration('rigwatch').get<{ gpu?: { nvmlPath?: string } }>('localCollector.config') ?? {}).gpu?.nvmlPath;
    assert.ok(nvmlPath, 'the runner configures the fake NVML for the local collector');
    // A busy 8-GPU box on its own fake state.
    const dir = makeFakeStateDir();
    const state: FakeGpuState = { count: 8 };
    for (let i = 0; i < 8; i++) {
      state[`gpu.${i}.util`] = 90 + i;
      state[`gpu.${i}.mem_total`] = 80 * GIB;
      state[`gpu.${i}.mem_used`] = (60 + i * 2) * GIB;
      state[`gpu.${i}.temp`] = 60 + i;
      state[`gpu.${i}.name`] = 'NVIDIA H100 80GB HBM3';
    }
    writeFakeState(dir.stateFile, state);
    const col = await startCollector({
      // No alert may colour the item mid-test (the fake's VRAM has no process, the CI box's CPU is busy):
      // what is measured is the 8-GPU readout.
      config: { gpu: { nvmlPath, nvidiaSmiPath: '/nonexistent/nvidia-smi' }, docker: false, alerts: { disable: ['gpu-orphaned-memory', 'host-cpu'] } },
      env: { FAKE_NVML_STATE: dir.stateFile },
      interval: 0.5,
    });
    // GPU 0 changes every tick: its row updates while hovered.
    let tick = 0;
    const churn = setInterval(() => writeFakeState(dir.stateFile, { ...state, 'gpu.0.util': 50 + (tick++ % 40) }), 400);
    try {
      const id = await vscode.commands.executeCommand<string>('rigwatch.connectCollector', { name: 'eight', url: col.url, token: col.token! });
      const cfg = vscode.workspace.getConfiguration();
      await cfg.update('rigwatch.statusBar.connection', 'eight', vscode.ConfigurationTarget.Global);
      await cfg.update('rigwatch.statusBar.gpu', 'all', vscode.ConfigurationTarget.Global);
      await waitFor(
        '8 GPUs live',
        () => api.manager.get(id)?.state === 'live' && api.manager.get(id)?.model.latest?.series['gpu.7.utilization_ratio'] !== undefined,
        30_000,
      );
      // The compact 8-GPU form: one block glyph per GPU and the VRAM used on the fullest GPU.
      const compact = /^\$\(pulse\) [\u2581-\u2588]{8} \d+ GiB$/;
      const statusText = await waitFor('the 8-GPU status text', () => /[\u2581-\u2588]{8}/.test(api.statusBar()?.text ?? '') && api.statusBar()!.text, 20_000);
      // Only the 8-GPU box in the tree (its GPU 0 is the changing row), and the default layout without the Chat side bar.
      await vscode.commands.executeCommand('rigwatch.stopLocalCollector');
      await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
      await vscode.commands.executeCommand('rigwatch.openMonitor', { connectionId: id });
      assert.ok((await ui({ op: 'webviewText', waitFor: 'GPU 7', timeoutMs: 30_000 })).ok, 'the dashboard renders the 8 GPUs');
      // Measured and asserted at both widths (issue 18): the 8-GPU status item is not clipped (VS Code caps an
      // item at 40 % of the window: ≈162 px at 420 px), the GPU rows' numbers are not cut at the default
      // sidebar width, and the tooltip of GPU 0, whose numbers change every tick, opens on hover.
      const problems: string[] = [];
      if (!compact.test(statusText)) problems.push(`8-GPU status text is not the compact form: "${statusText}"`);
      const widths: Record<string, unknown> = {};
      const gpu0Labels = new Set<string>();
      const gpu0Id = `conn/${id}/gpu/0`;
      // Every theme at 1400 px first: once the window was 420 px wide, VS Code keeps the squeezed sidebar.
      for (const width of WIDTHS) {
        assert.ok((await ui({ op: 'viewport', width, height: 1100 })).ok);
        for (const theme of THEMES) {
          await cfg.update('workbench.colorTheme', theme, vscode.ConfigurationTarget.Global);
          await new Promise((r) => setTimeout(r, 1500));
          // Rows of other connections (left expanded by earlier suites) may push the 8-GPU box out of view.
          assert.ok(await api.revealServiceRow(`conn/${id}/gpu/7`), 'the GPU 7 row exists');
          const rows = await ui({ op: 'treeRows', container: 'Rigwatch', waitFor: 'GPU 3 ·', timeoutMs: 10_000 });
          const tag = `${theme.replace(/\W+/g, '-').toLowerCase()}-${width}`;
          // Status bar: the Rigwatch item shows its whole text.
          const sb = boxes((await ui({ op: 'measure', selector: '#workbench\\.parts\\.statusbar .statusbar-item-label[aria-label^="Rigwatch"]' })).texts);
          const item = sb.find((b) => b.visible);
          if (!item) problems.push(`${tag}: the Rigwatch status bar item is not visible (${JSON.stringify(sb)})`);
          else {
            widths[`${tag} status item`] = `${item.scrollWidth}/${item.clientWidth} px`;
            if (item.scrollWidth > item.clientWidth + 1)
              problems.push(`${tag}: status bar item clipped (${item.scrollWidth} > ${item.clientWidth}): ${item.text}`);
            if (item.right > item.clipRight + 1 || item.left < 0)
              problems.push(`${tag}: status bar item cut at ${item.clipRight} (${item.left}..${item.right}): ${item.text}`);
          }
          // Tree: GPU rows lead with the numbers (the name follows as the description), and at the default
          // sidebar width (1400 px window) the numbers are not cut.
          const names = boxes(
            (await ui({ op: 'measure', selector: '#workbench\\.parts\\.sidebar .monaco-list-row .monaco-icon-name-container', hasText: 'GPU 3 ·' })).texts,
          );
          const gpu3 = names.find((b) => b.visible);
          if (!gpu3) problems.push(`${tag}: no GPU 3 row in view (${rows.error ?? ''}; rows ${JSON.stringify(rows.texts)})`);
          else {
            widths[`${tag} GPU 3 numbers`] = `${Math.round(gpu3.right - gpu3.left)} px, ends at ${Math.round(gpu3.right)} of ${Math.round(gpu3.clipRight)}`;
            if (!/^GPU 3 · 93% · 66\/80 GiB · 63°C$/.test(gpu3.text.trim())) problems.push(`${tag}: GPU 3 row reads "${gpu3.text}"`);
            if (width === 1400 && gpu3.right > gpu3.clipRight + 1) problems.push(`${tag}: GPU 3 row numbers cut (end at ${gpu3.right} > ${gpu3.clipRight})`);
          }
          const row3 = (rows.texts ?? []).find((t) => t.includes('GPU 3 ·'));
          if (row3 && !/H100/.test(row3)) problems.push(`${tag}: the GPU 3 row has no name in its description: "${row3}"`);
          const row0 = (rows.texts ?? []).find((t) => t.includes('GPU 0 ·'));
          if (row0) gpu0Labels.add(row0);
          // The changing row's tooltip appears on hover, and the row then holds its text while it is read.
          // VS Code arms a hover when the mouse enters the row; a refresh within the hover delay (500 ms)
          // disarms it, and rows refresh every 3 s, so 1 entry in 6 misses: enter again, as a user does.
          let hover: Awaited<ReturnType<typeof ui>> = { ok: false, error: 'not tried' };
          let entries = 0;
          // A hover that opens just as an earlier hold ends shows VS Code's cached tooltip (no resolveTreeItem,
          // so no new hold) and closes at the row's next refresh: the next entry resolves it again.
          while ((!hover.ok || !api.serviceRowHeld(gpu0Id)) && entries < 6) {
            entries++;
            await ui({ op: 'unhover' });
            hover = await ui({ op: 'hover', selector: '#workbench\\.parts\\.sidebar .monaco-list-row', hasText: 'GPU 0 ·', timeoutMs: 4000 });
          }
          widths[`${tag} GPU 0 tooltip`] = hover.ok ? `opened on mouse entry ${entries}` : 'never opened';
          if (!hover.ok) problems.push(`${tag}: no tooltip on the updating GPU 0 row after ${entries} mouse entries (${hover.error})`);
          else {
            if (!/H100/.test(hover.texts![0])) problems.push(`${tag}: GPU 0 tooltip reads "${hover.texts![0].slice(0, 200)}"`);
            if (!api.serviceRowHeld(gpu0Id)) problems.push(`${tag}: the hovered GPU 0 row is not held`);
          }
          assert.ok((await ui({ op: 'screenshot', file: path.join(artifacts, `vscode-${tag}.png`) })).ok);
          await ui({ op: 'unhover' });
        }
      }
      // The row really changed while it was hovered across the runs (the churn moves its utilisation every tick).
      if (gpu0Labels.size < 2) problems.push(`GPU 0 row did not change during the test: ${[...gpu0Labels].join(' | ')}`);
      const label = api.statusBar()?.accessibilityLabel ?? '';
      if (/[\u2580-\u259f]|\$\(|\*\*|\|/.test(label) || !/8 GPUs busy/.test(label))
        problems.push(`status bar accessibility label is not plain words: "${label}"`);
      report('issue18_vscode_widths', widths);
      await ui({ op: 'viewport', width: 1400, height: 900 });
      console.log(`    screenshots in ${artifacts}; status bar: ${statusText}`);
      assert.deepEqual(problems, []);
    } finally {
      await vscode.commands.executeCommand('rigwatch.startLocalCollector');
      clearInterval(churn);
      dir.dispose();
    }
  });
});
