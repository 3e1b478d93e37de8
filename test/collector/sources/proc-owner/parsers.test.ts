// Attribution parsers on captured (and documented-layout) /proc/<pid>/cgroup files, and the cached
// per-pid reader on a fake proc tree: NSpid mapping, start-time invalidation, pids that vanished.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ContainerNames,
  ownerLabel,
  parseCgroupOwner,
  parseCmdline,
  parseNsPid,
  parsePodList,
  parseStartTicks,
  ProcOwnerReader,
} from '../../../../collector/sources/proc-owner';

const FIX = path.join(__dirname, '..', '..', '..', 'fixtures', 'proc-owner');
const fx = (name: string): string => fs.readFileSync(path.join(FIX, name), 'utf8');

describe('proc-owner: cgroup paths → owner', () => {
  it('Docker: v1 cgroupfs (captured from the private dockerd) and v2 systemd driver', () => {
    assert.deepEqual(parseCgroupOwner(fx('docker-20.10-cgroupv1-cgroupfs-cgroup.txt')), {
      kind: 'container',
      runtime: 'docker',
      containerId: 'fcf49672602f5b2dee7099dda58cc18a4b9b767f0ce19c9c69ec8f06c8e0a07d',
    });
    assert.deepEqual(parseCgroupOwner(fx('docker-24-cgroupv2-systemd-cgroup.txt')), {
      kind: 'container',
      runtime: 'docker',
      containerId: '3f1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809',
    });
  });

  it('Kubernetes: pod UID, QoS and container id with the systemd and cgroupfs drivers, v1 and v2', () => {
    assert.deepEqual(parseCgroupOwner(fx('kubernetes-1.28-containerd-cgroupv2-systemd-cgroup.txt')), {
      kind: 'pod',
      qos: 'burstable',
      podUid: '0c4a7d2e-9b1f-4e3a-8c6d-2f5e7a9b1c3d',
      runtime: 'containerd',
      containerId: '8e2f1a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7',
    });
    assert.deepEqual(parseCgroupOwner(fx('kubernetes-1.28-containerd-cgroupv2-cgroupfs-cgroup.txt')), {
      kind: 'pod',
      qos: 'besteffort',
      podUid: '5d3c1b2a-7e6f-4a8b-9c0d-1e2f3a4b5c6d',
      containerId: '4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b',
    });
    assert.deepEqual(parseCgroupOwner(fx('kubernetes-1.23-docker-cgroupv1-cgroupfs-cgroup.txt')), {
      kind: 'pod',
      qos: 'guaranteed',
      podUid: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
      containerId: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809',
    });
    const crio = parseCgroupOwner(fx('kubernetes-1.29-crio-cgroupv2-systemd-cgroup.txt'));
    assert.equal(crio.kind, 'pod');
    assert.equal(crio.runtime, 'cri-o');
    assert.equal(crio.qos, 'guaranteed');
    assert.equal(crio.podUid, '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d');
  });

  it('systemd units, user services, sessions, Podman rootless; init and the root are the host', () => {
    assert.deepEqual(parseCgroupOwner(fx('systemd-252-cgroupv2-system-service-cgroup.txt')), { kind: 'unit', unit: 'ollama.service' });
    assert.deepEqual(parseCgroupOwner(fx('systemd-252-cgroupv2-user-service-cgroup.txt')), { kind: 'unit', unit: 'jupyter.service' });
    assert.deepEqual(parseCgroupOwner(fx('systemd-252-cgroupv2-user-session-cgroup.txt')), { kind: 'session', session: '3' });
    const podman = parseCgroupOwner(fx('podman-4.3-cgroupv2-rootless-cgroup.txt'));
    assert.equal(podman.kind, 'container');
    assert.equal(podman.runtime, 'podman');
    assert.deepEqual(parseCgroupOwner(fx('systemd-252-cgroupv2-init-cgroup.txt')), { kind: 'host' });
    assert.deepEqual(parseCgroupOwner('0::/\n'), { kind: 'host' });
    assert.deepEqual(parseCgroupOwner(''), { kind: 'host' });
    assert.deepEqual(parseCgroupOwner('garbage\n::\n1:cpu:relative\n'), { kind: 'host' });
  });

  it('labels owners for messages', () => {
    assert.equal(
      ownerLabel({ kind: 'container', containerId: 'a'.repeat(64), containerName: 'trainer', image: 'pytorch:2.3' }),
      'container trainer (pytorch:2.3)',
    );
    assert.equal(ownerLabel({ kind: 'container', containerId: 'b'.repeat(64) }), `container ${'b'.repeat(12)}`);
    assert.equal(ownerLabel({ kind: 'pod', podUid: 'u', podNamespace: 'ml', podName: 'web-0' }), 'pod ml/web-0');
    assert.equal(ownerLabel({ kind: 'unit', unit: 'ollama.service' }), 'unit ollama.service');
    assert.equal(ownerLabel({ kind: 'host' }), null);
  });
});

describe('proc-owner: /proc parsers', () => {
  it('start ticks (comm with spaces and parens), NSpid, command line with secrets masked', () => {
    assert.equal(parseStartTicks(fs.readFileSync(path.join(FIX, '..', 'host', 'linux-6.18-proc-pid-stat-paren-name.txt'), 'utf8')) !== null, true);
    assert.equal(parseStartTicks('123 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 99'), 4242);
    assert.equal(parseStartTicks('nonsense'), null);
    assert.deepEqual(parseNsPid(fx('docker-20.10-container-pid-status.txt')), [20640, 1]);
    assert.deepEqual(parseNsPid('Name:\tx\n'), []);
    assert.equal(
      parseCmdline(
        ['/usr/bin/python3', 'train.py', '--api-key=SECRET1', '--token', 'SECRET2', 'postgres://u:SECRET3@db/x', '--lr', '0.1', 'a\u001bb'].join('\0') + '\0',
      ),
      '/usr/bin/python3 train.py --api-key=*** --token *** postgres://u:***@db/x --lr 0.1 a b',
    );
    assert.equal(parseCmdline(''), null);
    assert.equal(parseCmdline('x'.repeat(5000))!.length, 1024);
  });

  it('kubelet /pods answers map pod UIDs to namespace/name', () => {
    const m = parsePodList(
      JSON.stringify({ kind: 'PodList', items: [{ metadata: { uid: 'u1', namespace: 'ml', name: 'trainer-0' } }, { metadata: {} }, null] }),
    );
    assert.deepEqual([...m], [['u1', { namespace: 'ml', name: 'trainer-0' }]]);
    assert.throws(() => parsePodList('{}'), /not a PodList/);
  });
});

describe('proc-owner: cached reader on a fake /proc', () => {
  let root: string;
  const stat = (pid: number, start: number): string =>
    `${pid} (python3) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 10 18446744073709551615`;
  const mk = (pid: number, start: number, opts: { argv?: string[]; nspid?: number[]; cgroup?: string; uid?: number } = {}): void => {
    const d = path.join(root, String(pid));
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'stat'), stat(pid, start));
    fs.writeFileSync(path.join(d, 'cmdline'), (opts.argv ?? ['/usr/bin/python3', 'train.py']).join('\0') + '\0');
    fs.writeFileSync(path.join(d, 'status'), `Name:\tpython3\nUid:\t${opts.uid ?? 0}\t0\t0\t0\nNSpid:\t${(opts.nspid ?? [pid]).join('\t')}\n`);
    fs.writeFileSync(path.join(d, 'cgroup'), opts.cgroup ?? '0::/system.slice/train.service\n');
  };
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-proc-owner-'));
    fs.writeFileSync(path.join(root, 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
    mk(1, 1);
    fs.symlinkSync('1', path.join(root, 'self'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads pid, name, user, full command, start time and owner once, then from cache', () => {
    mk(100, 4200, { argv: ['/usr/bin/python3', '-u', 'train.py', '--epochs', '3'] });
    const r = new ProcOwnerReader({ procRoot: root, passwdFile: '/etc/passwd' });
    const a = r.lookup(100);
    assert.deepEqual(a, {
      pid: 100,
      name: 'python3 train.py',
      user: 'root',
      command: '/usr/bin/python3 -u train.py --epochs 3',
      startTime: 1700000000_000 + 42_000,
      owner: { kind: 'unit', unit: 'train.service' },
      alive: true,
    });
    r.endTick();
    fs.writeFileSync(path.join(root, '100', 'cgroup'), '0::/system.slice/other.service\n');
    assert.equal(r.lookup(100), a, 'same object from the cache while the start time is unchanged');
  });

  it('a reused pid (start time changed) is read afresh; a vanished one is reported not alive', () => {
    mk(100, 4200);
    const r = new ProcOwnerReader({ procRoot: root, passwdFile: '/etc/passwd' });
    r.lookup(100);
    r.endTick();
    mk(100, 9900, { argv: ['/opt/llama-server'], cgroup: '0::/system.slice/llama.service\n' });
    const b = r.lookup(100);
    assert.equal(b.name, 'llama-server');
    assert.deepEqual(b.owner, { kind: 'unit', unit: 'llama.service' });
    r.endTick();
    fs.rmSync(path.join(root, '100'), { recursive: true });
    const c = r.lookup(100);
    assert.equal(c.alive, false);
    assert.equal(c.name, 'llama-server', 'what was known is kept for the orphan message');
  });

  it('a pid from another pid namespace is matched through NSpid', () => {
    mk(5321, 777, { nspid: [5321, 17], cgroup: fx('docker-20.10-cgroupv1-cgroupfs-cgroup.txt') });
    const r = new ProcOwnerReader({ procRoot: root, passwdFile: '/etc/passwd' });
    const a = r.lookup(17);
    assert.equal(a.pid, 5321);
    assert.equal(a.nvmlPid, 17);
    assert.equal(a.owner?.kind, 'container');
    assert.equal(r.lookup(424242).alive, false, 'unknown everywhere: not alive');
  });

  it('cannot tell when the collector itself runs in a nested pid namespace', () => {
    fs.writeFileSync(path.join(root, '1', 'status'), 'Name:\tnode\nUid:\t0\nNSpid:\t4000\t1\n');
    const r = new ProcOwnerReader({ procRoot: root, passwdFile: '/etc/passwd' });
    assert.equal(r.lookup(424242).alive, null);
  });

  it('container names and images are joined from the Docker list; missing sources are said', () => {
    let list: { id: string; name: string; image: string }[] | null = null;
    let now = 0;
    const names = new ContainerNames(
      () => list,
      null,
      () => now,
    );
    const raw = parseCgroupOwner(fx('docker-20.10-cgroupv1-cgroupfs-cgroup.txt'));
    assert.match(names.enrich(raw)!.note!, /Docker source is not running/);
    list = [{ id: raw.containerId!, name: 'trainer', image: 'rw-busybox:test' }];
    assert.match(names.enrich(raw)!.note!, /not running/, 're-read at most every 2 s');
    now += 2000;
    const e = names.enrich(raw)!;
    assert.equal(e.containerName, 'trainer');
    assert.equal(e.image, 'rw-busybox:test');
    assert.equal(names.enrich(raw), e, 'cached while the list is unchanged');
    assert.match(
      new ContainerNames(() => null).enrich(parseCgroupOwner(fx('kubernetes-1.28-containerd-cgroupv2-systemd-cgroup.txt')))!.note!,
      /kubelet lookup is off/,
    );
  });
});
