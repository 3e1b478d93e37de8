// Remote deploy over a real sshd: deploy, reuse, re-copy on change, dropped tunnel with backfill,
// missing node, and host names that must not reach a shell.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseTarget, SshRemote, type DownInfo, type RemoteCollector } from '../../remote/ssh';
import { COLLECTOR_JS, openWs } from '../helpers/collector-process';
import { COLLECTOR_ENV } from '../../protocol/collector-node-flags';
import { startSshd, type TestSshd } from '../helpers/sshd';
import type { HistoryReplyMessage } from '../../protocol';

describe('remote collector over ssh (real sshd)', function () {
  this.timeout(120_000);
  let sshd: TestSshd;
  const remotes: SshRemote[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-ssh-test-'));

  function remote(bundle = COLLECTOR_JS): SshRemote {
    const r = new SshRemote({ target: { destination: sshd.alias }, bundlePath: bundle, sshArgs: ['-F', sshd.sshConfig], interval: 0.5 });
    remotes.push(r);
    return r;
  }

  async function healthz(r: RemoteCollector): Promise<{ ok: boolean }> {
    const res = await fetch(`${r.url}healthz`, { headers: { authorization: `Bearer ${r.token}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as { ok: boolean };
  }

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    for (const r of remotes) await r.close();
    await sshd?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('first connect copies the bundle, starts the collector on the remote loopback, and tunnels to it', async () => {
    const r = await remote().connect();
    assert.equal(r.copied, true);
    assert.equal(r.reused, false);
    assert.match(r.nodeVersion, /^v\d+/);
    assert.equal((await healthz(r)).ok, true);
    const copied = path.join(sshd.home, '.cache', 'rigwatch', 'collector.js');
    assert.deepEqual(fs.readFileSync(copied), fs.readFileSync(COLLECTOR_JS));
    const ws = await openWs(`ws://127.0.0.1:${r.localPort}/ws?token=${r.token}`);
    const hello = await ws.next('hello');
    assert.equal(hello.host.pid, r.remotePid);
    await ws.close();
    // The token is passed through the environment, never on the remote command line.
    const cmdline = fs.readFileSync(`/proc/${r.remotePid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(r.token), 'token not visible in ps');
    assert.ok(cmdline.includes('--host\u0000127.0.0.1'), 'bound to the remote loopback');
    // The malloc settings every launcher gives the collector (protocol/collector-node-flags.ts).
    const environ = fs.readFileSync(`/proc/${r.remotePid}/environ`, 'utf8').split('\0');
    for (const [k, v] of Object.entries(COLLECTOR_ENV)) assert.ok(environ.includes(`${k}=${v}`), `the remote collector runs with ${k}=${v}`);
  });

  it('a second connect reuses the running collector without copying', async () => {
    const first = remotes[0].remote!;
    const r = await remote().connect();
    assert.equal(r.copied, false);
    assert.equal(r.reused, true);
    assert.equal(r.remotePid, first.remotePid);
    assert.equal(r.token, first.token);
    assert.equal((await healthz(r)).ok, true);
  });

  it('a changed bundle is copied again and replaces the running collector', async () => {
    const changed = path.join(tmp, 'collector.js');
    fs.writeFileSync(changed, fs.readFileSync(COLLECTOR_JS, 'utf8') + '\n// changed build\n');
    const before = remotes[0].remote!;
    const r = await remote(changed).connect();
    assert.equal(r.copied, true);
    assert.equal(r.reused, false);
    assert.notEqual(r.remotePid, before.remotePid);
    assert.equal((await healthz(r)).ok, true);
    assert.throws(() => process.kill(before.remotePid, 0), 'the outdated collector was stopped');
  });

  it('recovers a killed tunnel with backoff, and the client backfills the gap from remote history', async () => {
    const rem = remote();
    const r = await rem.connect();
    let ws = await openWs(`ws://127.0.0.1:${r.localPort}/ws?token=${r.token}`);
    await ws.next('hello');
    const seen = await ws.next('sample');
    const down = new Promise<[string, DownInfo]>((resolve) => rem.once('down', (reason: string, info: DownInfo) => resolve([reason, info])));
    const up = new Promise<RemoteCollector>((resolve) => rem.once('up', resolve));
    process.kill(rem.masterPid!, 'SIGKILL');
    const [reason, info] = await down;
    assert.match(reason, /closed/);
    assert.equal(info.retry, true, 'a dropped link is retried');
    assert.ok(info.delayMs !== null && info.delayMs >= 800 && info.delayMs <= 1200, `first retry after ~1 s (${info.delayMs})`);
    await ws.closed;
    const back = await up;
    assert.equal(back.localPort, r.localPort, 'the same local port comes back');
    ws = await openWs(`ws://127.0.0.1:${back.localPort}/ws?token=${back.token}`);
    await ws.next('hello');
    const reply = (await ws.request({ type: 'history', id: 'gap', series: ['host.memory_total_bytes'], since: seen.t })) as HistoryReplyMessage;
    const pts = reply.series[0].points;
    assert.ok(pts.length >= 2, `samples taken while the tunnel was down are backfilled (${pts.length})`);
    assert.ok(pts.every((p) => p[0] > seen.t));
    await ws.close();
  });

  it('two windows connecting at the same moment share one remote collector', async () => {
    await remote().stopRemote();
    await new Promise((r) => setTimeout(r, 500));
    const [x, y] = await Promise.all([remote().connect(), remote().connect()]);
    assert.equal(x.remotePid, y.remotePid, 'one collector, not two on one data dir');
    assert.equal(x.token, y.token);
    assert.equal((await healthz(y)).ok, true);
  });

  it('the CLI verb deploys and prints a working local dashboard URL', async () => {
    const p = spawn(process.execPath, [COLLECTOR_JS, 'ssh', sshd.alias, '--ssh-config', sshd.sshConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) => reject(new Error(`ssh verb exited ${code}: ${err}`)));
      });
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)#token=([0-9a-f]+)/.exec(line);
      assert.ok(m, line);
      const res = await fetch(`${m[1]}api/current`, { headers: { authorization: `Bearer ${m[2]}` } });
      assert.equal(res.status, 200);
      const page = await fetch(m[1]);
      assert.match(await page.text(), /<rw-app>/, 'the dashboard comes through the tunnel too');
    } finally {
      p.kill('SIGINT');
      await new Promise((r) => p.once('exit', r));
    }
  });

  it('says clearly when node is missing on the remote', async () => {
    sshd.setUserEnvironment(['PATH=/nonexistent']);
    try {
      await assert.rejects(remote().connect(), /Node\.js is not installed on rwtest .*Install Node 18 or newer/);
    } finally {
      sshd.setUserEnvironment([]);
    }
  });

  it('refuses host names that could be options or shell syntax, before running anything', () => {
    for (const bad of ['-oProxyCommand=touch /tmp/pwned', 'host;rm -rf ~', 'a b', '$(reboot)', 'host`id`', 'user@host|x']) {
      assert.throws(() => parseTarget(bad), /invalid SSH host/, bad);
    }
    assert.deepEqual(parseTarget('alice@gpu-box.lab:2222'), { destination: 'alice@gpu-box.lab', port: 2222 });
    assert.deepEqual(parseTarget('gpu01'), { destination: 'gpu01' });
    const r = spawnSync(process.execPath, [COLLECTOR_JS, 'ssh', 'x;touch /tmp/rw-pwned'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /invalid SSH host/);
    assert.equal(fs.existsSync('/tmp/rw-pwned'), false);
  });
});
