// The reader's per-process cache: a long-lived process is read once (its cmdline, status and cgroup are
// not read again), re-checks go through a descriptor held on its stat file, and a pid reused by a new
// process never keeps the old process's owner or container name. Real /proc for the descriptor's ESRCH.

import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerNames, ProcOwnerReader } from '../../../../collector/sources/proc-owner';

const CID_A = 'a'.repeat(64);
const CID_B = 'b'.repeat(64);

describe('proc-owner: reader cache and held stat descriptors', () => {
  let root: string;
  const stat = (pid: number, start: number): string =>
    `${pid} (python3) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 10 18446744073709551615`;
  const mk = (pid: number, start: number, cgroup: string): void => {
    const d = path.join(root, String(pid));
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'stat'), stat(pid, start));
    fs.writeFileSync(path.join(d, 'cmdline'), ['/usr/bin/python3', 'train.py'].join('\0') + '\0');
    fs.writeFileSync(path.join(d, 'status'), `Name:\tpython3\nUid:\t0\t0\t0\t0\nNSpid:\t${pid}\n`);
    fs.writeFileSync(path.join(d, 'cgroup'), cgroup);
  };
  const docker = (id: string): string => `0::/system.slice/docker-${id}.scope\n`;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-proc-cache-'));
    fs.writeFileSync(path.join(root, 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
    mk(1, 1, '0::/init.scope\n');
    fs.symlinkSync('1', path.join(root, 'self'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a long-lived process is read once: only its stat is re-checked, through one held descriptor', () => {
    mk(100, 4200, docker(CID_A));
    const r = new ProcOwnerReader({ procRoot: root, passwdFile: '/etc/passwd' });
    const first = r.lookup(100);
    // Unreadable from now on: a re-read of any of them would lose the owner or the name.
    for (const f of ['cmdline', 'status', 'cgroup']) fs.rmSync(path.join(root, '100', f));
    for (let t = 0; t < 20; t++) {
      r.endTick();
      assert.equal(r.lookup(100), first, `tick ${t}: the cached identity`);
    }
    assert.equal(r.heldDescriptors, 1, 'one descriptor for the re-checks, not one per tick');
    r.endTick();
    r.endTick(); // not looked up during a tick: forgotten, its descriptor closed
    assert.equal(r.size, 0);
    assert.equal(r.heldDescriptors, 0);
  });

  it('a pid reused by a new process (new start time, replaced files) does not inherit the old owner or container name', () => {
    const list = [
      { id: CID_A, name: 'trainer-a', image: 'img-a' },
      { id: CID_B, name: 'trainer-b', image: 'img-b' },
    ];
    const names = new ContainerNames(() => list);
    mk(100, 4200, docker(CID_A));
    const r = new ProcOwnerReader({ procRoot: root, passwdFile: '/etc/passwd', names });
    assert.equal(r.lookup(100).owner?.containerName, 'trainer-a');
    r.endTick();
    assert.equal(r.lookup(100).owner?.containerName, 'trainer-a', 're-checked through the held descriptor: same process');
    assert.equal(r.heldDescriptors, 1);
    r.endTick();
    // The old process's directory goes away and a new one takes its pid: the held descriptor still reads
    // the old (removed) stat file, which must not pass for the new process.
    fs.rmSync(path.join(root, '100'), { recursive: true });
    mk(100, 9900, docker(CID_B));
    const b = r.lookup(100);
    assert.equal(b.startTime, 1700000000_000 + 99_000);
    assert.equal(b.owner?.containerId, CID_B);
    assert.equal(b.owner?.containerName, 'trainer-b');
    assert.equal(b.owner?.image, 'img-b');
    r.endTick();
    mk(100, 12000, '0::/system.slice/llama.service\n'); // rewritten in place: read through the descriptor
    const c = r.lookup(100);
    assert.deepEqual(c.owner, { kind: 'unit', unit: 'llama.service' });
    assert.equal(c.alive, true);
    r.close();
    assert.equal(r.heldDescriptors, 0);
    r.close();
  });

  it('no proc tree at all (Windows, macOS): a pid is "cannot tell", never "exited"', () => {
    const r = new ProcOwnerReader({ procRoot: path.join(root, 'absent') });
    const a = r.lookup(4242);
    assert.equal(a.alive, null);
    assert.equal(a.name, null);
  });

  it('real /proc: a pid that no process has is "exited" (kill 0 answers ESRCH), a visible one alive', () => {
    // The other branch (a pid hidden by hidepid answers EPERM: "cannot tell") needs a second user and a
    // hidepid mount; it is not exercised here.
    const r = new ProcOwnerReader({ procRoot: '/proc' });
    assert.equal(r.lookup(4194301).alive, false);
    assert.equal(r.lookup(process.pid).alive, true);
  });

  it('real /proc: a process that exits is reported not alive (its held descriptor answers ESRCH)', async function () {
    this.timeout(20_000);
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    const pid = child.pid!;
    const r = new ProcOwnerReader({ procRoot: '/proc' });
    try {
      const a = r.lookup(pid);
      assert.equal(a.alive, true);
      assert.equal(a.name, 'sleep');
      assert.equal(a.command, 'sleep 60');
      r.endTick();
      assert.equal(r.lookup(pid), a);
      assert.equal(r.heldDescriptors, 1);
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      r.endTick();
      const b = r.lookup(pid);
      assert.equal(b.alive, false);
      assert.equal(b.command, 'sleep 60', 'what was known is kept for the orphan message');
      assert.equal(r.heldDescriptors, 0);
    } finally {
      child.kill('SIGKILL');
      r.close();
    }
  });
});
