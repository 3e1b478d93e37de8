import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostSource, parseHostConfig, hostFactory, hostInventory, type FsUsage } from '../../../../collector/sources/host';
import { createLogger, silentLogger } from '../../../../collector/log';
import { ConfigError } from '../../../../collector/config-error';
import type { HostDetails } from '../../../../protocol';

const FIX = path.join(__dirname, '../../../fixtures/host');
const signal = new AbortController().signal;

function write(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

/** A /proc + /sys tree built from the Linux 6.18 fixtures, so tick-to-tick deltas are under test control. */
function fakeTree(dir: string): { proc: string; sys: string; passwd: string } {
  const proc = path.join(dir, 'proc');
  const sys = path.join(dir, 'sys');
  const copy = (fixture: string, rel: string): void => write(proc, rel, fs.readFileSync(path.join(FIX, fixture), 'latin1'));
  copy('linux-6.18-proc-stat.txt', 'stat');
  copy('linux-6.18-proc-loadavg.txt', 'loadavg');
  copy('linux-6.18-proc-meminfo.txt', 'meminfo');
  copy('linux-6.18-proc-uptime.txt', 'uptime');
  copy('linux-6.18-proc-diskstats.txt', 'diskstats');
  copy('linux-6.18-proc-net-dev.txt', 'net/dev');
  copy('linux-6.18-proc-self-mountinfo.txt', 'self/mountinfo');
  write(proc, 'self/statm', '1000 25 10 1 0 20 0\n');
  write(proc, 'self/status', 'Name:\tnode\nVmRSS:\t     100 kB\n');
  copy('linux-6.18-proc-pid-stat.txt', '1/stat');
  write(proc, '1/status', 'Name:\tprocess_api\nUid:\t0\t0\t0\t0\n');
  write(proc, '1/cmdline', '/process_api\0--addr\0x\0');
  write(proc, '42/stat', '42 (train py) R 1 42 42 0 -1 0 0 0 0 0 500 100 0 0 20 0 1 0 100 1000 2000 0\n');
  write(proc, '42/status', 'Name:\ttrain py\nUid:\t1000\t1000\t1000\t1000\n');
  write(proc, '42/cmdline', 'python\0train.py\0--token=s3cret\0');
  for (const d of ['vda', 'loop0', 'zram0']) fs.mkdirSync(path.join(sys, 'block', d), { recursive: true });
  fs.mkdirSync(path.join(sys, 'class/net/eth0/device'), { recursive: true });
  for (const i of ['lo', 'ifb0', 'ifb1']) fs.mkdirSync(path.join(sys, 'class/net', i), { recursive: true });
  const passwd = path.join(dir, 'passwd');
  fs.writeFileSync(passwd, 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  return { proc, sys, passwd };
}

function replaceLine(file: string, startsWith: string, line: string): void {
  const text = fs.readFileSync(file, 'latin1').split('\n');
  const i = text.findIndex((l) => l.trimStart().startsWith(startsWith));
  assert.ok(i >= 0, `${startsWith} in ${file}`);
  text[i] = line;
  fs.writeFileSync(file, text.join('\n'));
}

describe('host source on a fixture /proc tree', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-host-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives null rates on the first tick and exact rates from deltas on the second', async () => {
    const t = fakeTree(dir);
    let now = 1000;
    const statfsCalls: string[] = [];
    const statfs = (m: string): Promise<FsUsage> => {
      statfsCalls.push(m);
      if (m === '/') return Promise.resolve({ totalBytes: 1000, availBytes: 300, freeBytes: 400 });
      return new Promise<FsUsage>(() => {}); // /dev/shm "hangs" like a dead NFS mount
    };
    const lines: string[] = [];
    const src = new HostSource({
      procRoot: t.proc,
      sysRoot: t.sys,
      passwdFile: t.passwd,
      now: () => now,
      statfs,
      log: createLogger('warn', (l) => lines.push(l)),
    });
    assert.equal((await src.probe(signal)).status, 'ready');

    const a = await src.sample(signal);
    for (const k of [
      'host.cpu_busy_ratio',
      'host.cpu.0.busy_ratio',
      'host.disk.vda.read_bytes_per_second',
      'host.disk_read_bytes_per_second',
      'host.net.eth0.rx_bytes_per_second',
      'host.net_rx_bytes_per_second',
    ]) {
      assert.ok(k in a.series, k);
      assert.equal(a.series[k], null, `${k} on the first tick`);
    }
    assert.equal(a.series['host.memory_total_bytes'], 24683656 * 1024);
    assert.equal(a.series['host.memory_used_bytes'], (24683656 - 23481512) * 1024);
    assert.equal(a.series['host.memory_used_ratio'], (24683656 - 23481512) / 24683656);
    assert.equal(a.series['host.load5_count'], 0.43);
    assert.equal(a.series['host.uptime_seconds'], 433.71);
    assert.equal(a.series['host.mount.root.used_bytes'], 600);
    assert.equal(a.series['host.mount.root.used_ratio'], 600 / 900, 'used / (used + avail), like df');
    assert.equal(a.series['host.mount.dev_shm.total_bytes'], null, 'a hung statfs reports null instead of holding up the tick');
    assert.ok(!Object.keys(a.series).some((k) => k.includes('loop0') || k.includes('zram0')), 'loop and zram devices are not disks');
    const da = a.details as HostDetails;
    assert.equal(da.cores, 2);
    assert.deepEqual(da.disks, ['vda']);
    assert.deepEqual(
      da.mounts.map((m) => m.mount),
      ['/'],
    );
    assert.deepEqual(da.topCpu, [], 'no CPU baseline on the first refresh');
    assert.equal(da.topMem?.[0]?.pid, 1);
    assert.equal(da.topMem?.[0]?.rssBytes, 3539 * 4096);

    now = 3000; // two seconds later
    replaceLine(path.join(t.proc, 'stat'), 'cpu ', 'cpu  10534 0 4243 71016 385 0 106 17 0 0');
    replaceLine(path.join(t.proc, 'stat'), 'cpu0 ', 'cpu0 4379 0 1845 36800 61 0 16 6 0 0');
    replaceLine(path.join(t.proc, 'stat'), 'cpu1 ', 'cpu1 6155 0 2397 34215 324 0 90 11 0 0');
    replaceLine(
      path.join(t.proc, 'diskstats'),
      '254       0 vda',
      ' 254       0 vda 38058 9333 2640490 14135 38928 34904 4121832 16967 0 7316 32197 10303 21 334664 738 6121 355',
    );
    replaceLine(
      path.join(t.proc, 'net/dev'),
      'eth0:',
      '  eth0: 580845875   14068    0    0    0     0          0         0  1350900   10123    0    0    0     0       0          0',
    );
    replaceLine(
      path.join(t.proc, 'net/dev'),
      'lo:',
      '    lo:    3693      29    0    0    0     0          0         0     3693      29    0    0    0     0       0          0',
    );
    replaceLine(
      path.join(t.proc, 'net/dev'),
      'ifb0:',
      '  ifb0:     100       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    );
    write(t.proc, '42/stat', '42 (train py) R 1 42 42 0 -1 0 0 0 0 0 580 120 0 0 20 0 1 0 100 1000 2000 0\n');

    const b = await src.sample(signal);
    assert.equal(b.series['host.cpu_busy_ratio'], 100 / 300);
    assert.equal(b.series['host.cpu.0.busy_ratio'], 0.5);
    assert.equal(b.series['host.cpu.1.busy_ratio'], 0.25);
    assert.equal(b.series['host.disk.vda.read_bytes_per_second'], (4000 * 512) / 2);
    assert.equal(b.series['host.disk.vda.write_bytes_per_second'], (2000 * 512) / 2);
    assert.equal(b.series['host.disk_read_bytes_per_second'], 1024000);
    assert.equal(b.series['host.net.eth0.rx_bytes_per_second'], 500000);
    assert.equal(b.series['host.net.eth0.tx_bytes_per_second'], 1000);
    assert.equal(b.series['host.net.lo.rx_bytes_per_second'], 250);
    assert.equal(b.series['host.net.ifb0.rx_bytes_per_second'], 50);
    assert.equal(b.series['host.net_rx_bytes_per_second'], 500000, 'totals count the physical NIC only (not lo, not ifb)');
    assert.equal(statfsCalls.filter((m) => m === '/dev/shm').length, 1, 'a still-hung statfs is not issued again');
    assert.ok(
      lines.some((l) => l.includes('/dev/shm') && l.includes('did not answer')),
      lines.join('\n'),
    );

    const db = b.details as HostDetails;
    assert.equal(db.topCpu?.[0]?.pid, 42);
    assert.equal(db.topCpu?.[0]?.cpuRatio, 100 / 100 / 2, '100 ticks at USER_HZ 100 over 2 s = half a core');
    assert.equal(db.topCpu?.[0]?.user, 'alice');
    assert.equal(db.topCpu?.[0]?.name, 'train py');
    assert.equal(db.topCpu?.[0]?.command, 'python train.py --token=***');
    assert.equal(db.topCpu?.[1]?.cpuRatio, 0, 'pid 1 did not run');

    now = 4000;
    write(t.proc, '42/stat', '42 (train py) R 1 42 42 0 -1 0 0 0 0 0 780 120 0 0 20 0 1 0 100 1000 2000 0\n');
    const c = await src.sample(signal);
    assert.deepEqual((c.details as HostDetails).topCpu, db.topCpu, 'between refreshes (every 5 s) the latest lists are carried unchanged');
    now = 8000;
    const d = await src.sample(signal);
    assert.equal((d.details as HostDetails).topCpu?.[0]?.cpuRatio, 200 / 100 / 5, 'refreshed 5 s after the last refresh, rate over those 5 s');
  });

  it('is unavailable (with the reason) when /proc/stat cannot be read', async () => {
    const src = new HostSource({ procRoot: path.join(dir, 'nope'), sysRoot: dir, log: silentLogger });
    const r = await src.probe(signal);
    assert.equal(r.status, 'unavailable');
    assert.match(r.status === 'unavailable' ? r.reason : '', /cannot read .*nope\/stat/);
  });

  it('validates its config section with messages naming the key', () => {
    assert.deepEqual(parseHostConfig(undefined), {});
    assert.deepEqual(parseHostConfig({ excludeMounts: ['/boot/'], includeFsTypes: ['tmpfs'], processes: false }), {
      excludeMounts: ['/boot/'],
      includeFsTypes: ['tmpfs'],
      processes: false,
    });
    assert.throws(
      () => parseHostConfig({ excludeMounts: '/boot' }),
      (e: unknown) => e instanceof ConfigError && e.key === 'host.excludeMounts' && /array of non-empty strings/.test(e.message),
    );
    assert.throws(
      () => parseHostConfig({ mounts: [] }),
      (e: unknown) => e instanceof ConfigError && e.key === 'host.mounts',
    );
    assert.throws(
      () => parseHostConfig(5),
      (e: unknown) => e instanceof ConfigError && e.key === 'host',
    );
    const made = hostFactory.create({ config: undefined, env: {}, intervalMs: 1000, dataDir: dir, log: silentLogger, latest: () => undefined });
    assert.deepEqual(
      made.map((s) => [s.id, s.kind]),
      [['host', 'host']],
    );
  });
});

describe('host source on this machine, checked against an independent reading', function () {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('matches /proc/meminfo, core count, df, uptime, and finds a busy process', async () => {
    // A process that burns CPU and holds 100 MB, so the top lists have something known in them.
    child = spawn(process.execPath, ['-e', 'const b = Buffer.alloc(100e6, 1); const end = Date.now() + 30000; while (Date.now() < end) { b[0]++; }'], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 300));
    const src = new HostSource({ log: silentLogger });
    assert.equal((await src.probe(signal)).status, 'ready');
    await src.sample(signal);
    await new Promise((r) => setTimeout(r, 1000));
    const s = await src.sample(signal);

    const memTotalKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]);
    assert.equal(s.series['host.memory_total_bytes'], memTotalKb * 1024);
    assert.equal(s.series['host.memory_total_bytes'], os.totalmem());
    const coreSeries = Object.keys(s.series).filter((k) => /^host\.cpu\.\d+\.busy_ratio$/.test(k));
    assert.equal(coreSeries.length, os.cpus().length);
    for (const k of ['host.cpu_busy_ratio', ...coreSeries]) {
      const v = s.series[k];
      assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `${k} = ${v}`);
    }
    assert.ok(Math.abs((s.series['host.uptime_seconds'] as number) - os.uptime()) < 5);
    assert.ok(typeof s.series['host.net_rx_bytes_per_second'] === 'number');
    assert.ok(typeof s.series['host.disk_write_bytes_per_second'] === 'number');

    const df = execFileSync('df', ['-B1', '--output=size,avail', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    assert.equal(s.series['host.mount.root.total_bytes'], df[0]);
    assert.ok(Math.abs((s.series['host.mount.root.avail_bytes'] as number) - df[1]!) < 0.01 * df[0]!, 'avail within 1 % of df');

    const d = s.details as HostDetails;
    const mine = d.topCpu?.find((p) => p.pid === child!.pid);
    assert.ok(mine, `the busy child ${child.pid} is in topCpu: ${JSON.stringify(d.topCpu?.map((p) => [p.pid, p.name, p.cpuRatio]))}`);
    assert.ok((mine.cpuRatio ?? 0) > 0);
    for (const p of d.topMem ?? []) {
      let kb: number;
      try {
        kb = Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? NaN);
      } catch {
        continue; // exited since
      }
      if (!Number.isFinite(kb)) continue;
      assert.ok(Math.abs((p.rssBytes ?? 0) - kb * 1024) <= 0.1 * kb * 1024 + 1e6, `rss of ${p.pid} ${p.name}: ${p.rssBytes} vs VmRSS ${kb} kB`);
    }
    const rss = (d.topMem ?? []).map((p) => p.rssBytes ?? 0);
    assert.deepEqual(
      rss,
      [...rss].sort((x, y) => y - x),
      'topMem sorted by RSS',
    );
    await src.close();
  });

  it('reads the static inventory once, agreeing with the os module', async () => {
    const inv = await hostInventory();
    assert.equal(inv.hostname, os.hostname());
    assert.equal(inv.platform, process.platform);
    assert.equal(inv.cpuCores, os.cpus().length);
    assert.equal(inv.memTotalBytes, os.totalmem());
    assert.ok(inv.cpuModel && inv.cpuModel.length > 0);
    const osRelease = fs.readFileSync('/etc/os-release', 'utf8');
    const name = /^NAME="?([^"\n]+)/m.exec(osRelease)?.[1];
    assert.ok(name && inv.os?.includes(name.split(' ')[0]!), `${inv.os} vs ${name}`);
    assert.equal(await hostInventory(), inv, 'cached: the same object, no second read');
  });
});
