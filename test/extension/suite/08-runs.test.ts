// Training runs in the workbench: a real Python process on a fake-NVML GPU becomes a run row in the
// Services tree, and "Open Run" on that row (its context menu and inline button) opens the dashboard panel on
// the run's page.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import type { TreeNode } from '../../../extension/views/tree-node';
import { rigwatch, ui, uiAvailable, waitFor, EXTENSION_ID } from '../helpers';
import { GIB, setFakeGpu } from './fake-gpu';

const PYTHON = '/usr/bin/python3';
/** Logs one JSON line a step, like a training loop's logger. */
const TRAIN_PY = `
import json, time
print("ready", flush=True)
with open("metrics.jsonl", "a") as f:
    for step in range(100000):
        f.write(json.dumps({"step": step, "loss": 1.0 / (1 + step)}) + "\\n")
        f.flush()
        time.sleep(0.2)
`;

function find(nodes: readonly TreeNode[], pred: (n: TreeNode) => boolean): TreeNode | undefined {
  for (const n of nodes) {
    if (pred(n)) return n;
    const c = find(n.children ?? [], pred);
    if (c) return c;
  }
  return undefined;
}

describe('training runs in the workbench', () => {
  let api: RigwatchApi;
  let child: ChildProcess | undefined;
  let dir: string;

  before(async function () {
    this.timeout(60_000);
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} not found: apt-get install python3`);
    api = await rigwatch();
    await waitFor('local live', () => api.manager.get('local')?.state === 'live', 30_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-run-'));
    fs.writeFileSync(path.join(dir, 'train_ws.py'), TRAIN_PY);
    const c = spawn(PYTHON, ['train_ws.py'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    child = c;
    await new Promise<void>((resolve, reject) => {
      c.stdout!.once('data', () => resolve());
      c.once('exit', (code) => reject(new Error(`train_ws.py exited with ${code}`)));
    });
    // The process is on GPU 1 as the fake NVML reports it: the runs source finds it with no configuration.
    setFakeGpu({ 'gpu.1.compute': `${c.pid}:${4 * GIB}` });
  });

  after(() => {
    api?.panel.webviewPanel?.dispose();
    child?.kill('SIGKILL');
    setFakeGpu();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("Open Run on the run's tree row opens the panel on the run's page", async function () {
    this.timeout(90_000);
    const node = await waitFor(
      'the run in the Services tree with its loss',
      () => find(api.servicesTree(), (n) => n.label === 'train_ws.py' && /^rigwatch\.run\./.test(n.contextValue ?? '') && /loss/.test(n.description ?? '')),
      60_000,
    );
    assert.ok(node.ref?.runId, 'the row names its run for commands');
    // The menus offer the command on run rows (what VS Code evaluates against the row's contextValue).
    const menus = (
      vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } }
    ).contributes.menus['view/item/context'];
    const entries = menus.filter((m) => m.command === 'rigwatch.openRun');
    assert.ok(entries.length >= 1, 'Open Run is in the row menu');
    for (const m of entries) {
      const re = /viewItem =~ \/(.+)\/$/.exec(m.when ?? '');
      assert.ok(re && new RegExp(re[1]).test(node.contextValue ?? ''), `"${m.when}" matches ${node.contextValue}`);
    }

    await vscode.commands.executeCommand('rigwatch.openRun', node);
    await waitFor('the panel', () => api.panel.webviewPanel, 15_000);
    await waitFor('the webview told to show the run', () => api.panel.shownRun === node.ref?.runId, 30_000);
    if (uiAvailable()) {
      const r = await ui({ op: 'webviewText', waitFor: 'Compare runs', timeoutMs: 30_000 });
      assert.ok(r.ok, r.error);
      assert.match(r.texts![0], /train_ws\.py/);
      assert.match(r.texts![0], /GPU 1/);
    }
  });
});
