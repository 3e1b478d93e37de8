// Remote hosts inside the real extension host: "Connect to Remote Host…" (with a host argument, as a
// keybinding would) against a real sshd started here, the host's own node in the Services tree, the
// status bar switched to it, and "Stop Remote Collector" removing it. ssh runs through a wrapper set as
// rigwatch.remote.sshPath that adds `-F <test config>` (the user's ~/.ssh/config is never touched).

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../../extension/api';
import type { TreeNode } from '../../../extension/views/tree-node';
import { startSshd, type TestSshd } from '../../helpers/sshd';
import { rigwatch, waitFor } from '../helpers';

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
    await waitFor('the remote host live', () => conn.state === 'live' && conn.model.latest, 60_000, () => `${conn.state}: ${conn.reason}`);
    assert.deepEqual(cfg().get('remoteHosts'), ['rwtest'], 'remembered for the next start');
    const node = await waitFor('its Services node', () => api.servicesTree().find((n: TreeNode) => n.id === 'conn/ssh:rwtest'));
    assert.equal(node.label, 'rwtest');
    assert.equal(node.contextValue, 'rigwatch.connection.ssh.live');
    assert.ok(node.children?.some((c) => c.id === 'conn/ssh:rwtest/host'), `host group under the remote node: ${node.children?.map((c) => c.id).join(', ')}`);
    assert.ok(api.manager.list().some((c) => c.id === 'local'), 'the local collector is still there beside it');

    await vscode.commands.executeCommand('rigwatch.selectStatusBarConnection', { connectionId: id });
    await waitFor('the status bar on the remote host', () => api.manager.primary()?.id === id);

    const pid = conn.model.hello!.host.pid;
    const stopped = await vscode.commands.executeCommand<boolean>('rigwatch.stopRemoteCollector', { connectionId: id });
    assert.equal(stopped, true);
    assert.equal(api.manager.get(id), undefined);
    assert.deepEqual(cfg().get('remoteHosts'), []);
    await waitFor('the remote collector to exit', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 10_000);
  });
});
