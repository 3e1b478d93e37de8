// The extension's SSH connection (plain mocha, no VS Code) against a real sshd: deploy → live with
// samples over the compact stream, a killed ssh master → "reconnecting" with the ssh reason → live again
// with the gap backfilled from the remote history, dispose leaves the remote collector running, the stop
// command stops it, GPUs use the nvidia-smi fallback until koffi sits next to the remote bundle (then NVML),
// and a remote without node fails with the install hint.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SshRemote } from '../../remote/ssh';
import type { ConnectionState } from '../../protocol/bridge';
import type { HistoryReplyMessage, ServerMessage } from '../../protocol/messages';
import type { ConnectionStateChange } from '../../extension/connection/connection';
import { SshConnection } from '../../extension/connection/ssh-connection';
import { buildFakeNvidiaSmi, buildFakeNvml, makeFakeStateDir, writeFakeState } from '../fakes/nvml/build';
import { COLLECTOR_JS } from '../helpers/collector-process';
import { startSshd, type TestSshd } from '../helpers/sshd';

function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = (): void => {
      const v = fn();
      if (v) return resolve(v);
      if (Date.now() - start > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('extension SSH connection (real sshd)', function () {
  this.timeout(120_000);
  let sshd: TestSshd;
  const conns: SshConnection[] = [];
  const remotes: SshRemote[] = [];

  function connect(): SshConnection {
    const c = new SshConnection({
      target: { destination: sshd.alias },
      bundlePath: COLLECTOR_JS,
      sshArgs: ['-F', sshd.sshConfig],
      interval: 0.5,
      restartAfterMs: 2000,
      // The real SshRemote; kept here so the test can kill its master.
      remoteFactory: (o) => {
        const r = new SshRemote(o);
        remotes.push(r);
        return r;
      },
    });
    conns.push(c);
    return c;
  }

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    for (const c of conns) await c.close();
    await sshd?.stop();
  });

  it('deploys, goes live through the tunnel and receives samples (compact stream)', async () => {
    const c = connect();
    const states: ConnectionStateChange[] = [];
    c.onDidChangeState((s) => states.push(s));
    assert.equal(c.state, 'connecting');
    assert.equal(c.reason, 'deploying to rwtest…');
    await waitFor('live', () => c.state === 'live');
    const t0 = c.model.lastSampleTime ?? 0;
    await waitFor('two more samples', () => (c.model.lastSampleTime ?? 0) > t0 + 500);
    assert.equal(typeof c.model.latest!.series['host.memory_total_bytes'], 'number');
    assert.equal(c.model.hello?.host.pid, c.remoteInfo?.remotePid);
    assert.equal(c.remoteInfo?.copied, true);
    assert.ok(
      states.some((s) => s.state === 'connecting' && /copying the collector bundle to rwtest/.test(s.reason ?? '')),
      JSON.stringify(states),
    );
    // Requests go through the tunnel too.
    const reply = await c.request({ type: 'history', series: ['host.memory_total_bytes'], since: t0 - 2000 });
    assert.equal(reply.type, 'history');
  });

  it('a killed ssh master shows "reconnecting" with the ssh reason, then live again with the gap backfilled', async () => {
    const c = conns[0];
    const remote = remotes[remotes.length - 1];
    const seenStates: { state: ConnectionState; reason?: string }[] = [];
    const backfills: HistoryReplyMessage[] = [];
    c.onDidChangeState((s) => seenStates.push(s));
    c.onDidReceive((m: ServerMessage) => m.type === 'history' && m.id.startsWith('backfill') && backfills.push(m));
    const before = c.model.lastSampleTime!;
    const pid = c.remoteInfo!.remotePid;
    process.kill(remote.masterPid!, 'SIGKILL');
    // The client may notice the dead forward a moment before ssh reports the link; the ssh reason follows.
    const down = await waitFor('reconnecting with the ssh reason', () =>
      seenStates.find((s) => s.state === 'reconnecting' && /^SSH connection to rwtest closed/.test(s.reason ?? '')),
    );
    assert.equal(down.reason, 'SSH connection to rwtest closed');
    await waitFor('the retry delay in the reason', () =>
      seenStates.find((s) => s.state === 'reconnecting' && /^SSH connection to rwtest closed; retrying in \d+ s$/.test(s.reason ?? '')),
    );
    await waitFor('live again', () => c.state === 'live' && seenStates.some((s) => s.state === 'reconnecting'));
    const reply = await waitFor('the backfill reply', () => backfills[0]);
    const mem = reply.series.find((s) => s.name === 'host.memory_total_bytes');
    assert.ok(
      mem,
      `backfill names ${reply.series
        .map((s) => s.name)
        .slice(0, 5)
        .join(', ')}…`,
    );
    assert.ok(mem.points.length >= 2, `samples taken while the tunnel was down came back (${mem.points.length})`);
    assert.ok(
      mem.points.every((p) => p[0] > before),
      'only the gap',
    );
    assert.equal(c.remoteInfo!.remotePid, pid, 'the same remote collector was reused');
    assert.equal(c.remoteInfo!.reused, true);
  });

  it('a remote collector killed behind a working tunnel is restarted, and the new one is asked for the gap', async () => {
    const c = conns[0];
    const old = c.remoteInfo!;
    const seen: { state: ConnectionState; reason?: string }[] = [];
    const backfills: HistoryReplyMessage[] = [];
    c.onDidChangeState((s) => seen.push(s));
    c.onDidReceive((m: ServerMessage) => m.type === 'history' && m.id.startsWith('backfill') && backfills.push(m));
    const lastBefore = c.model.lastSampleTime!;
    process.kill(old.remotePid, 'SIGKILL');
    await waitFor('the check of the remote side', () =>
      seen.find((s) => s.state === 'reconnecting' && /does not answer through the tunnel.*checking it and restarting it if needed…$/.test(s.reason ?? '')),
    );
    await waitFor('live on a new collector', () => c.state === 'live' && c.remoteInfo!.remotePid !== old.remotePid);
    assert.equal(c.remoteInfo!.reused, false);
    assert.equal(c.remoteInfo!.localPort, old.localPort, 'same local port');
    // Nothing is sampled between the kill and the restart, so the answer may be empty; it never repeats what we had.
    const reply = await waitFor('the backfill reply from the new collector', () => backfills[0]);
    assert.ok(
      reply.series.every((s) => s.points.every((p) => p[0] > lastBefore)),
      'only samples after our last one',
    );
    const t0 = c.model.lastSampleTime!;
    await waitFor('samples from the new collector', () => (c.model.lastSampleTime ?? 0) > t0);
  });

  it('dispose closes the tunnel and leaves the remote collector running; a new connection reuses it; stop ends it', async () => {
    const first = conns[0];
    const pid = first.remoteInfo!.remotePid;
    const port = first.remoteInfo!.localPort;
    await first.close();
    assert.equal(first.state, 'disconnected');
    assert.equal(pidAlive(pid), true, 'the remote collector keeps running (history accumulates)');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the local forward is gone');
    const again = connect();
    await waitFor('live', () => again.state === 'live');
    assert.equal(again.remoteInfo!.reused, true);
    assert.equal(again.remoteInfo!.copied, false);
    assert.equal(again.remoteInfo!.remotePid, pid);
    assert.equal(await again.stopRemoteCollector(), true);
    assert.equal(again.state, 'disconnected');
    assert.equal(again.reason, 'the collector on rwtest was stopped');
    await waitFor('the remote collector to exit', () => !pidAlive(pid), 10_000);
  });

  it('GPUs on the remote: the deploy carries koffi, so a fresh box reads NVML (docs/remote.md)', async () => {
    const state = makeFakeStateDir();
    fs.chmodSync(state.dir, 0o755);
    writeFakeState(state.stateFile, { count: 2, 'gpu.*.util': 30, 'gpu.*.mem_total': 85899345920, 'gpu.*.mem_used': 1073741824 });
    fs.chmodSync(state.stateFile, 0o644);
    sshd.setUserEnvironment([`RIGWATCH_NVML_PATH=${buildFakeNvml()}`, `RIGWATCH_NVIDIA_SMI=${buildFakeNvidiaSmi()}`, `FAKE_NVML_STATE=${state.stateFile}`]);
    const gpuDescription = async (): Promise<string> => {
      const c = connect();
      await waitFor('live with a ready GPU source', () => c.state === 'live' && c.model.sources.find((x) => x.id === 'gpu' && x.state === 'ready'));
      const d = c.model.sources.find((x) => x.id === 'gpu')!.description!;
      assert.equal(await c.stopRemoteCollector(), true);
      return d;
    };
    try {
      assert.match(await gpuDescription(), /^2 × .+ via NVML$/);
    } finally {
      sshd.setUserEnvironment([]);
      state.dispose();
    }
  });

  it('several hosts at once: each its own connection with its own tunnel; closing one leaves the other live', async () => {
    const a = connect();
    // b starts after a is up: two first connects at the same instant can each start a collector (a known
    // limitation of the remote start script, reported for remote/ssh.ts).
    await waitFor('a live with a sample', () => a.state === 'live' && a.model.latest, 60_000);
    // The same sshd reached as user@127.0.0.1:port — another target, so another connection and tunnel.
    const dir = path.dirname(sshd.sshConfig);
    const b = new SshConnection({
      target: { destination: `${sshd.user}@127.0.0.1`, port: sshd.port },
      bundlePath: COLLECTOR_JS,
      sshArgs: [
        '-i',
        path.join(dir, 'client_key'),
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`,
        '-o',
        'StrictHostKeyChecking=yes',
      ],
      interval: 0.5,
    });
    conns.push(b);
    await waitFor('both live with samples', () => a.state === 'live' && b.state === 'live' && b.model.latest, 60_000);
    assert.equal(b.remoteInfo!.remotePid, a.remoteInfo!.remotePid, 'the second host name reaches the same collector (reused)');
    assert.equal(b.remoteInfo!.reused, true);
    assert.notEqual(a.id, b.id);
    assert.equal(b.id, `ssh:${sshd.user}@127.0.0.1:${sshd.port}`);
    assert.notEqual(a.remoteInfo!.localPort, b.remoteInfo!.localPort, 'separate tunnels');
    await a.close();
    const t0 = b.model.lastSampleTime!;
    await waitFor('samples still arriving on the other', () => (b.model.lastSampleTime ?? 0) > t0);
    assert.equal(b.state, 'live');
    await b.stopRemoteCollector();
  });

  it('a remote without node is "failed" with the install hint and is not retried', async () => {
    sshd.setUserEnvironment(['PATH=/nonexistent']);
    try {
      const c = connect();
      await waitFor('failed', () => c.state === 'failed');
      assert.match(c.reason!, /^Node\.js is not installed on rwtest .*Install Node 18 or newer there/);
      const n = remotes.length;
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(remotes.length, n, 'no retry for a permanent failure');
      assert.equal(c.state, 'failed');
      await c.close();
    } finally {
      sshd.setUserEnvironment([]);
    }
  });
});
