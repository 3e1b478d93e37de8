// Remote NVML and a safe remote cache, through a real sshd: a fresh remote home gets the bundle and
// koffi's native module for its platform, and the deployed collector reads the fake NVML with nothing
// installed by hand; a second connect copies nothing; a changed koffi is copied again. The cache is
// refused when it is a symlink, someone else's or too open, and a stale pid in the state file is never
// signalled.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SshRemote, type RemoteCollector } from '../../remote/ssh';
import { COLLECTOR_JS } from '../helpers/collector-process';
import { startSshd, type TestSshd } from '../helpers/sshd';
import { buildFakeNvml, writeFakeState } from '../fakes/nvml/build';
import type { GpuDetails } from '../../protocol/details/gpu';

const TRIPLET = `${process.platform}_${process.arch}`;

describe('remote NVML and the remote cache (real sshd)', function () {
  this.timeout(120_000);
  let sshd: TestSshd;
  let shared: string;
  const remotes: SshRemote[] = [];
  const children: ChildProcess[] = [];
  const cache = (): string => path.join(sshd.home, '.cache', 'rigwatch');

  function remote(extra: Partial<ConstructorParameters<typeof SshRemote>[0]> = {}): SshRemote {
    const r = new SshRemote({ target: { destination: sshd.alias }, bundlePath: COLLECTOR_JS, sshArgs: ['-F', sshd.sshConfig], interval: 0.5, ...extra });
    remotes.push(r);
    return r;
  }

  async function current(r: RemoteCollector): Promise<{ latest?: { details: Record<string, unknown> } }> {
    const res = await fetch(`${r.url}api/current`, { headers: { authorization: `Bearer ${r.token}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as { latest?: { details: Record<string, unknown> } };
  }

  async function gpuDetails(r: RemoteCollector): Promise<GpuDetails> {
    for (let i = 0; i < 100; i++) {
      const d = (await current(r)).latest?.details.gpu as GpuDetails | undefined;
      if (d) return d;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('no GPU details from the remote collector');
  }

  before(async () => {
    sshd = await startSshd();
    // The fake NVML and its state where the remote user can read them; its sessions see them through
    // ~/.ssh/environment (PermitUserEnvironment), as a real box's loader path would.
    shared = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-nvml-remote-'));
    fs.chmodSync(shared, 0o755);
    const lib = path.join(shared, 'libnvidia-ml.so.1');
    fs.copyFileSync(buildFakeNvml(), lib);
    fs.chmodSync(lib, 0o755);
    writeFakeState(path.join(shared, 'state'), { count: 2, 'gpu.1.util': 66 });
    fs.chmodSync(path.join(shared, 'state'), 0o644);
    sshd.setUserEnvironment([`RIGWATCH_NVML_PATH=${lib}`, `FAKE_NVML_STATE=${path.join(shared, 'state')}`]);
  });
  after(async () => {
    for (const r of remotes) await r.close();
    for (const c of children) c.kill('SIGKILL');
    await sshd?.stop();
    fs.rmSync(shared, { recursive: true, force: true });
  });

  it('a fresh remote home: bundle + koffi native module deployed, the collector reads NVML, cache 0700, log 0600', async () => {
    assert.equal(fs.existsSync(cache()), false, 'fresh home');
    const r = await remote().connect();
    assert.equal(r.platform, `${process.platform}-${process.arch}`);
    assert.deepEqual(r.copiedFiles.sort(), ['collector.js', `koffi-${process.platform}-${process.arch}.node`]);
    assert.equal(r.nvmlNative, true);
    const d = await gpuDetails(r);
    assert.equal(d.backend, 'nvml', `NVML through the deployed koffi (${d.backendReason ?? ''})`);
    assert.equal(d.devices.length, 2);
    assert.equal((fs.statSync(cache()).mode & 0o777).toString(8), '700');
    assert.equal((fs.statSync(path.join(cache(), 'collector.log')).mode & 0o777).toString(8), '600', 'the log (it holds the URL with the token) is private');
    assert.deepEqual(
      fs.readdirSync(cache()).filter((f) => f.startsWith('.upload')),
      [],
      'no temp files left',
    );
  });

  it('a second connect copies nothing and reuses the collector', async () => {
    const first = remotes[0].remote!;
    const r = await remote().connect();
    assert.deepEqual(r.copiedFiles, []);
    assert.equal(r.reused, true);
    assert.equal(r.remotePid, first.remotePid);
  });

  it('a changed koffi is copied again (only it) and the collector restarts on it, still on NVML', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-koffi-'));
    try {
      fs.mkdirSync(path.join(dir, TRIPLET));
      const built = path.join(path.dirname(COLLECTOR_JS), 'koffi', TRIPLET, 'koffi.node');
      // Trailing bytes after the ELF image: a different file that still loads.
      fs.writeFileSync(path.join(dir, TRIPLET, 'koffi.node'), Buffer.concat([fs.readFileSync(built), Buffer.from('rigwatch-test')]));
      const before = remotes[0].remote!;
      const r = await remote({ koffiSearchDirs: [dir] }).connect();
      assert.deepEqual(r.copiedFiles, [`koffi-${process.platform}-${process.arch}.node`]);
      assert.notEqual(r.remotePid, before.remotePid, 'restarted on the new native module');
      assert.equal((await gpuDetails(r)).backend, 'nvml');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never signals a pid from the state file that is not a Rigwatch collector of this user', async () => {
    assert.equal(await remote().stopRemote(), true, 'the real collector is stopped');
    await new Promise((r) => setTimeout(r, 500));
    const victim = spawn('runuser', ['-u', sshd.user, '--', 'sleep', '1000'], { stdio: 'ignore' });
    children.push(victim);
    await new Promise((r) => setTimeout(r, 300));
    const pid = Number(execFileSync('pgrep', ['-u', sshd.user, '-x', 'sleep'], { encoding: 'utf8' }).trim().split('\n')[0]);
    assert.ok(pid > 0);
    const stateFile = path.join(cache(), 'state', 'collector.json');
    fs.writeFileSync(
      stateFile,
      JSON.stringify({ pid, port: 1, host: '127.0.0.1', url: 'http://127.0.0.1:1/', token: 'aa', version: '0', startedAt: Date.now() }),
    );
    execFileSync('chown', [`${sshd.user}:${sshd.user}`, stateFile]);
    assert.equal(await remote().stopRemote(), false, 'nothing stopped');
    const r = await remote().connect();
    assert.notEqual(r.remotePid, pid, 'a new collector was started instead of trusting the stale state');
    process.kill(pid, 0); // throws if the stale pid was killed
  });

  it('refuses a symlinked cache, a cache owned by another uid, and a group-readable one, saying what is wrong', async () => {
    const real = cache();
    const moved = `${real}.real`;
    fs.renameSync(real, moved);
    try {
      fs.symlinkSync(moved, real);
      await assert.rejects(remote().connect(), /refusing the remote cache on rwtest: .*rigwatch is a symbolic link/);
      fs.unlinkSync(real);
      fs.mkdirSync(real, { mode: 0o700 });
      execFileSync('chown', ['12345:12345', real]);
      await assert.rejects(remote().connect(), /rigwatch is owned by uid 12345, not by you \(uid \d+\)/);
      execFileSync('chown', [`${sshd.user}:${sshd.user}`, real]);
      fs.chmodSync(real, 0o755);
      await assert.rejects(remote().connect(), /rigwatch has mode 755, expected 700; run chmod 700/);
      assert.deepEqual(fs.readdirSync(real), [], 'nothing was written into a refused cache');
    } finally {
      fs.rmSync(real, { recursive: true, force: true });
      fs.renameSync(moved, real);
    }
  });
});
