import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  classifyDisk,
  cpuBusyRatio,
  mountId,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseNetDev,
  parsePasswd,
  parsePidStat,
  parseProcStat,
  parseStatusUid,
  parseUptime,
  selectRealMounts,
} from '../../../../collector/sources/host/parsers';
import { redactCommand } from '../../../../collector/sources/host/top-processes';

const FIX = path.join(__dirname, '../../../fixtures/host');
const fixture = (name: string): string => fs.readFileSync(path.join(FIX, name), 'latin1');

describe('host parsers (Linux 6.18 fixtures)', () => {
  it('parses /proc/stat aggregate and per-core jiffies', () => {
    const s = parseProcStat(fixture('linux-6.18-proc-stat.txt'));
    // cpu  10434 0 4243 70816 385 0 106 17 0 0: total = sum of the first 8, busy = total - idle - iowait
    assert.deepEqual(s.all, { total: 10434 + 4243 + 70816 + 385 + 106 + 17, busy: 10434 + 4243 + 106 + 17 });
    assert.deepEqual([...s.cores.keys()], [0, 1]);
    assert.deepEqual(s.cores.get(1), { total: 6105 + 2397 + 34065 + 324 + 90 + 11, busy: 6105 + 2397 + 90 + 11 });
  });

  it('computes busy ratios from deltas, null without a previous reading or elapsed time', () => {
    assert.equal(cpuBusyRatio(undefined, { busy: 10, total: 20 }), null);
    assert.equal(cpuBusyRatio({ busy: 10, total: 20 }, { busy: 10, total: 20 }), null);
    assert.equal(cpuBusyRatio({ busy: 10, total: 20 }, { busy: 40, total: 120 }), 0.3);
    assert.throws(() => parseProcStat('intr 1 2 3\n'), /no aggregate "cpu" line/);
  });

  it('parses /proc/meminfo in bytes', () => {
    const m = parseMeminfo(fixture('linux-6.18-proc-meminfo.txt'));
    assert.deepEqual(m, { totalBytes: 24683656 * 1024, availableBytes: 23481512 * 1024, swapTotalBytes: 0, swapFreeBytes: 0 });
  });

  it('approximates MemAvailable on kernels without it', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\n');
    assert.equal(m.availableBytes, 310 * 1024);
    assert.equal(m.swapTotalBytes, null);
  });

  it('parses loadavg and uptime, rejecting garbage with the file named', () => {
    assert.deepEqual(parseLoadavg(fixture('linux-6.18-proc-loadavg.txt')), [0.83, 0.43, 0.23]);
    assert.equal(parseUptime(fixture('linux-6.18-proc-uptime.txt')), 433.71);
    assert.throws(() => parseLoadavg('x y'), /\/proc\/loadavg/);
    assert.throws(() => parseUptime(''), /\/proc\/uptime/);
  });

  it('parses diskstats sectors into bytes and classifies devices', () => {
    const d = parseDiskstats(fixture('linux-6.18-proc-diskstats.txt'));
    assert.equal(d.size, 10);
    assert.deepEqual(d.get('vda'), { readBytes: 2636490 * 512, writeBytes: 4119832 * 512 });
    const whole = new Set(['vda', 'loop0', 'zram0', 'dm-0']);
    assert.equal(classifyDisk('vda', whole), 'total');
    assert.equal(classifyDisk('loop0', whole), 'skip');
    assert.equal(classifyDisk('zram0', whole), 'skip');
    assert.equal(classifyDisk('dm-0', whole), 'device');
    assert.equal(classifyDisk('vda1', whole), 'skip', 'partitions are not in /sys/block');
    // Without /sys the names decide.
    assert.equal(classifyDisk('nvme0n1', null), 'total');
    assert.equal(classifyDisk('nvme0n1p2', null), 'skip');
    assert.equal(classifyDisk('sda3', null), 'skip');
  });

  it('parses /proc/net/dev', () => {
    const n = parseNetDev(fixture('linux-6.18-proc-net-dev.txt'));
    assert.deepEqual([...n.keys()], ['lo', 'ifb0', 'ifb1', 'eth0']);
    assert.deepEqual(n.get('eth0'), { rxBytes: 579845875, txBytes: 1348900 });
    assert.deepEqual(n.get('lo'), { rxBytes: 3193, txBytes: 3193 });
  });

  it('selects real mounts on a VM: ext4 root and /dev/shm, no cgroup/tmpfs/proc, shadowed mounts once', () => {
    const all = parseMountinfo(fixture('linux-6.18-proc-self-mountinfo.txt'));
    assert.equal(all.length, 20);
    assert.deepEqual(all[5], { devId: '254:0', root: '/', mount: '/', fsType: 'ext4', device: '/dev/vda' });
    const real = selectRealMounts(all);
    assert.deepEqual(
      real.map((m) => [m.mount, m.fsType, m.devId]),
      [
        ['/', 'ext4', '254:0'],
        ['/dev/shm', 'tmpfs', '0:27'],
      ],
    );
    assert.deepEqual(
      selectRealMounts(all, { excludeMounts: ['/dev/shm'] }).map((m) => m.mount),
      ['/'],
    );
    assert.ok(selectRealMounts(all, { includeFsTypes: ['tmpfs'] }).some((m) => m.mount === '/mnt/sandboxing/model_tools_env/v1/python'));
  });

  it('selects real mounts inside a Docker container: overlay root, the volume once, no runtime file binds', () => {
    const all = parseMountinfo(fixture('docker-20.10-container-proc-self-mountinfo.txt'));
    const real = selectRealMounts(all);
    assert.deepEqual(
      real.map((m) => m.mount),
      ['/', '/data', '/dev/shm'],
    );
    assert.equal(real[0]!.fsType, 'overlay');
  });

  it('unescapes octal escapes in mount paths and builds mount ids', () => {
    const [e] = parseMountinfo('30 27 8:1 / /mnt/my\\040disk rw - ext4 /dev/sdb1 rw\n');
    assert.equal(e!.mount, '/mnt/my disk');
    assert.equal(mountId('/'), 'root');
    assert.equal(mountId('/data/x'), 'data_x');
    assert.equal(mountId('/mnt/my disk'), 'mnt_my_disk');
  });

  it('parses /proc/<pid>/stat including names with spaces and parentheses', () => {
    assert.deepEqual(parsePidStat(fixture('linux-6.18-proc-pid-stat.txt')), { pid: 1, name: 'process_api', cpuTicks: 54 + 152, rssPages: 3539 });
    assert.deepEqual(parsePidStat(fixture('linux-6.18-proc-pid-stat-paren-name.txt')), { pid: 13724, name: 'we) ird (name', cpuTicks: 0, rssPages: 410 });
    assert.equal(parsePidStat('garbage'), null);
    assert.equal(parseStatusUid(fixture('linux-6.18-proc-pid-status.txt')), 0);
    assert.deepEqual(
      [...parsePasswd('root:x:0:0:root:/root:/bin/bash\nbad line\nalice:x:1000:1000::/home/a:/bin/sh\n')],
      [
        [0, 'root'],
        [1000, 'alice'],
      ],
    );
  });

  it('redacts credentials from command lines', () => {
    assert.equal(redactCommand('psql postgres://bob:hunter2@db:5432/x'), 'psql postgres://bob:***@db:5432/x');
    assert.equal(redactCommand('srv --password=hunter2 --port 1'), 'srv --password=*** --port 1');
    assert.equal(redactCommand('srv --token abc123 -v'), 'srv --token *** -v');
    assert.equal(redactCommand('python train.py --lr 3e-4'), 'python train.py --lr 3e-4');
  });
});
