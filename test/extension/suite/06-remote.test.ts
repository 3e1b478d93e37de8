// Remote hosts inside the real extension host: "Connect to Remote Host…" (with a host argument, as a
// keybinding would) against a real sshd started here, the host's own node in the Services tree, the
// status bar switched to it, and "Stop Remote Collector" removing it. ssh runs through a wrapper set as
// rigwatch.remote.sshPath that adds `-F <test config>` (the user's ~/.ssh/config is never touched).
// Then "Connect to Prometheus…" against a real Prometheus scraping a collector with fake GPUs: the host's
// node with its GPU numbers, and the System Monitor opened on it, its charts asked from Prometheus.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import type { TreeNode } from '../../../extension/views/tree-node';
import type { ClientMessage, HistoryReplyMessage } from '../../../protocol/messages';
import { startCollector, stopAllCollectors } from '../../helpers/collector-process';
import { startPrometheus, type TestPrometheus } from '../../helpers/prometheus-server';
import { startSshd, type TestSshd } from '../../helpers/sshd';
import { rigwatch, ui, uiAvailable, waitFor } from '../helpers';

describe('remote hosts over SSH (real sshd)', function () {
  this.timeout(120_000);
  let api: RigwatchApi;
  let sshd: TestSshd | undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-remote-'));
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('rigwatch');

  before(async () => {
    api = await rigwatch();
    // The runner points TMPDIR at a private (0700, root) dir; the throwaway user's home must be reachable
    // by that user for sshd to read its authorized_keys, so the helper gets the system temp dir.
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = '/tmp';
    try {
      sshd = await startSshd();
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
    const wrapper = path.join(tmp, 'ssh');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ssh -F '${sshd.sshConfig}' "$@"\n`, { mode: 0o755 });
    await cfg().update('remote.sshPath', wrapper, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    for (const c of api.manager.list().filter((x) => x.kind === 'ssh')) await api.manager.disconnect(c.id);
    for (const k of ['remote.sshPath', 'remoteHosts', 'statusBar.connection']) await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
    await sshd?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('connects, shows the host as its own Services node, can drive the status bar, and stops the remote collector', async () => {
    const id = await vscode.commands.executeCommand<string>('rigwatch.connectRemoteHost', { host: 'rwtest' });
    assert.equal(id, 'ssh:rwtest');
    const conn = api.manager.get(id)!;
    await waitFor(
      'the remote host live',
      () => conn.state === 'live' && conn.model.latest,
      60_000,
      () => `${conn.state}: ${conn.reason}`,
    );
    assert.deepEqual(cfg().get('remoteHosts'), ['rwtest'], 'remembered for the next start');
    const node = await waitFor('its Services node', () => api.servicesTree().find((n: TreeNode) => n.id === 'conn/ssh:rwtest'));
    assert.equal(node.label, 'rwtest');
    assert.equal(node.contextValue, 'rigwatch.connection.ssh.live');
    assert.ok(
      node.children?.some((c) => c.id === 'conn/ssh:rwtest/host'),
      `host group under the remote node: ${node.children?.map((c) => c.id).join(', ')}`,
    );
    assert.ok(
      api.manager.list().some((c) => c.id === 'local'),
      'the local collector is still there beside it',
    );

    await vscode.commands.executeCommand('rigwatch.selectStatusBarConnection', { connectionId: id });
    await waitFor('the status bar on the remote host', () => api.manager.primary()?.id === id);

    const pid = conn.model.hello!.host.pid;
    const stopped = await vscode.commands.executeCommand<boolean>('rigwatch.stopRemoteCollector', { connectionId: id });
    assert.equal(stopped, true);
    assert.equal(api.manager.get(id), undefined);
    assert.deepEqual(cfg().get('remoteHosts'), []);
    await waitFor(
      'the remote collector to exit',
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
    );
  });
});

describe('fleet through Prometheus (real Prometheus)', function () {
  this.timeout(120_000);
  let api: RigwatchApi;
  let prom: TestPrometheus | undefined;
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('rigwatch');

  after(async () => {
    api.panel.webviewPanel?.dispose();
    for (const c of api.manager.list().filter((x) => x.kind === 'prometheus')) await api.manager.disconnect(c.id);
    await cfg().update('prometheus', undefined, vscode.ConfigurationTarget.Global);
    await prom?.stop();
    await stopAllCollectors();
  });

  it('lists the scraped collector with its GPUs and opens its charts from Prometheus', async () => {
    api = await rigwatch();
    const nvml = process.env.RIGWATCH_FAKE_NVML_PATH;
    if (!nvml || !process.env.FAKE_NVML_STATE)
      throw new Error('RIGWATCH_FAKE_NVML_PATH/FAKE_NVML_STATE are not set: run through test/e2e/vscode (fake-gpu-env)');
    const col = await startCollector({ interval: 0.5, config: { docker: false }, env: { RIGWATCH_NVML_PATH: nvml } });
    prom = await startPrometheus(
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: rigwatch\n    authorization:\n      credentials: ${col.token}\n    static_configs:\n      - targets: ['127.0.0.1:${col.port}']\n`,
    );
    const id = await vscode.commands.executeCommand<string>('rigwatch.connectPrometheus', { url: prom.url, token: '' });
    assert.equal(id, `prometheus:${prom.url}`);
    assert.deepEqual(cfg().get('prometheus'), { url: prom.url });
    const hostId = `${id}#127.0.0.1:${col.port}`;
    const host = await waitFor(
      'the scraped collector as a host with GPU numbers',
      () => {
        const h = api.manager.get(hostId);
        return h?.model.latest?.series['gpu.0.utilization_ratio'] !== undefined && h;
      },
      60_000,
      () =>
        api.manager
          .list()
          .map((c) => `${c.id}: ${c.state}`)
          .join(', '),
    );
    assert.equal(host.kind, 'prometheus-host');
    const node = await waitFor('its Services node', () => api.servicesTree().find((n: TreeNode) => n.id === `conn/${hostId}`));
    assert.ok(
      node.children?.some((c) => c.label === 'GPUs' && (c.children?.length ?? 0) === 2),
      JSON.stringify(node.children?.map((c) => [c.label, c.children?.length])),
    );

    // The dashboard asks this connection for history; count what it asks for.
    const asked: ClientMessage[] = [];
    const answered: HistoryReplyMessage[] = [];
    host.onDidReceive((m) => m.type === 'history' && answered.push(m));
    const send = host.send.bind(host);
    host.send = (m: ClientMessage): void => {
      asked.push(m);
      send(m);
    };
    await vscode.commands.executeCommand('rigwatch.openMonitor', { connectionId: hostId });
    const panel = await waitFor('the panel', () => api.panel.webviewPanel, 15_000);
    // The title names the connection once the webview is ready and the panel replays its state.
    await waitFor(
      'the panel on the Prometheus host',
      () => /^System Monitor — .+ · Prometheus$/.test(panel.title),
      30_000,
      () => panel.title,
    );
    if (uiAvailable()) {
      await waitFor(
        'a chart history request from the dashboard',
        () => asked.some((m) => m.type === 'history'),
        30_000,
        () => JSON.stringify(asked),
      );
      const reply = await waitFor(
        'its answer from Prometheus, with points',
        () => answered.find((r) => asked.some((m) => m.id === r.id) && r.series.some((x) => x.points.length > 0)),
        30_000,
        () => JSON.stringify(answered.map((r) => r.series.map((x) => [x.name, x.points.length]))),
      );
      assert.ok(
        reply.series.some((x) => x.name.startsWith('gpu.0.')),
        reply.series.map((x) => x.name).join(', '),
      );
      const r = await ui({ op: 'webviewText', waitFor: 'GPU', timeoutMs: 30_000 });
      assert.ok(r.ok, r.error);
    }
  });
});
