// What the DRM scanner remembers between scans, on a captured amdgpu tree (RX 7900 XTX, kernel 6.8): a
// cache that is wrong in any of these ways fails here — an fd number reused for a non-DRM file still
// counted, a reused number not followed again, a new GPU fd missed beyond the stated bound when the fd
// count alone answers a check, and a parse record reused across scans keeping a line the file dropped.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../../../../collector/log';
import { DrmBackend } from '../../../../../collector/sources/gpu/drm/drm-backend';
import { realDrmIo, type DrmIo } from '../../../../../collector/sources/gpu/drm/drm-io';
import { DRM_FULL_WALK_MS, FdinfoScanner, MAX_COUNT_ONLY_CHECKS, QUIET_READS_TO_SKIP, QUIET_SKIP_SCANS } from '../../../../../collector/sources/gpu/drm/fdinfo';
import type { GpuReading } from '../../../../../collector/sources/gpu/reading';

const FIX = path.resolve(__dirname, '../../../../fixtures/gpu/drm/amdgpu-6.8-rx7900xtx');
const GIB = 1024 ** 3;

interface Calls {
  /** Listings (readdir) and fd-count stats (dirSize) per directory. */
  lists: string[];
  stats: string[];
  /** Held files re-read, by path. */
  rereads: string[];
}

/**
 * realDrmIo with procfs's behaviour where the captured tree on disk differs: a held fdinfo of a removed
 * file fails (the fd was closed), and the size of a .../fd directory is its number of entries (Linux ≥ 6.2
 * gives the open fds as st_size of /proc/<pid>/fd; ext4 says 4096). Counts listings and stats.
 */
function procfsIo(calls: Calls): DrmIo {
  const paths = new Map<number, string>();
  return {
    ...realDrmIo,
    readdir: (p) => {
      calls.lists.push(p);
      return realDrmIo.readdir(p);
    },
    dirSize: (p) => {
      calls.stats.push(p);
      return fs.readdirSync(p).length;
    },
    open: (p) => {
      const fd = realDrmIo.open(p);
      paths.set(fd, p);
      return fd;
    },
    reread: (fd) => {
      const p = paths.get(fd);
      if (p !== undefined) calls.rereads.push(p);
      if (p !== undefined && !fs.existsSync(p)) throw Object.assign(new Error(`EBADF: ${p}`), { code: 'EBADF' });
      return realDrmIo.reread(fd);
    },
    close: (fd) => {
      paths.delete(fd);
      realDrmIo.close(fd);
    },
  };
}

describe('drm scanner cache', () => {
  const dirs: string[] = [];
  const backends: DrmBackend[] = [];
  after(() => {
    for (const b of backends.splice(0)) b.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  /** The tree with `extra` more processes of 4 socket fds each (so the fd count is trusted after the first scan). */
  function rig(extra = 12): { root: string; b: DrmBackend; calls: Calls; clock: { t: number } } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-drm-cache-'));
    dirs.push(root);
    fs.cpSync(FIX, root, { recursive: true, verbatimSymlinks: true });
    for (let p = 0; p < extra; p++) {
      const dir = path.join(root, 'proc', String(5000 + p));
      fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'fdinfo'));
      fs.writeFileSync(path.join(dir, 'stat'), `${5000 + p} (sleep) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${500 + p} 1000 100 0\n`);
      for (let fd = 0; fd < 4; fd++) fs.symlinkSync(`socket:[${p * 10 + fd}]`, path.join(dir, 'fd', String(fd)));
    }
    const calls: Calls = { lists: [], stats: [], rereads: [] };
    const clock = { t: 0 };
    const b = DrmBackend.open({
      sysRoot: path.join(root, 'sys'),
      procRoot: path.join(root, 'proc'),
      log: createLogger('error', () => {}),
      io: procfsIo(calls),
      now: () => clock.t,
      discoveryIntervalMs: 5000,
      // Re-links (every link re-read) an hour apart: what these tests see is the checks' doing.
      relinkIntervalMs: 3_600_000,
      processIntervalMs: 0,
    });
    assert.ok(b);
    backends.push(b);
    return { root, b, calls, clock };
  }

  /** A DRM fdinfo for client `id` (the captured 2411's, with another id and VRAM). */
  const clientInfo = (id: number, vramKib = 8388608): string =>
    fs
      .readFileSync(path.join(FIX, 'proc/2411/fdinfo/8'), 'utf8')
      .replace('drm-client-id:\t7', `drm-client-id:\t${id}`)
      .replace(/drm-(resident|total|memory)-vram:\s*\d+ KiB/g, `drm-$1-vram:\t${vramKib} KiB`);

  const has = (r: GpuReading, pid: number, bytes?: number): boolean =>
    r.processes.some((p) => p.pid === pid && (bytes === undefined || p.usedMemoryBytes === bytes));

  it('an old process whose fd count did not change is checked with one stat, not a listing; a GPU fd that raises the count is found at the next check', () => {
    const { root, b, calls, clock } = rig();
    assert.equal(b.read().processes.length, 2);
    const fdDir = path.join(root, 'proc/5001/fd');
    assert.equal(calls.lists.filter((l) => l === fdDir).length, 1, 'walked once at the start');
    calls.lists.length = 0;
    calls.stats.length = 0;
    // Three checks (30 s apart) with nothing opened: the count answers each; the fourth lists.
    const end = 3 * DRM_FULL_WALK_MS;
    for (clock.t = 1000; clock.t <= end; clock.t += 1000) b.read();
    const stats = calls.stats.filter((l) => l === fdDir).length;
    assert.ok(stats >= 3, `fd-count checks of an unchanged process: ${stats}`);
    assert.equal(calls.lists.filter((l) => l === fdDir).length, 0, 'no listing while the count is unchanged');
    // It opens the GPU on a new number (the count grows): found at its next check, within 30 s.
    fs.symlinkSync('/dev/dri/renderD128', path.join(fdDir, '4'));
    fs.writeFileSync(path.join(root, 'proc/5001/fdinfo/4'), clientInfo(41));
    const opened = clock.t;
    while (clock.t <= opened + DRM_FULL_WALK_MS && !has(b.read(), 5001)) clock.t += 1000;
    assert.ok(clock.t <= opened + DRM_FULL_WALK_MS, `found ${clock.t - opened} ms after it opened the GPU`);
  });

  it('a process that closes one fd and opens the GPU (same fd count) is found by the listing every 4th check', () => {
    const { root, b, clock } = rig();
    b.read();
    for (clock.t = 1000; clock.t <= 40_000; clock.t += 1000) b.read();
    const fdDir = path.join(root, 'proc/5007/fd');
    fs.rmSync(path.join(fdDir, '2'));
    fs.symlinkSync('/dev/dri/renderD128', path.join(fdDir, '9'));
    fs.writeFileSync(path.join(root, 'proc/5007/fdinfo/9'), clientInfo(77));
    const opened = clock.t;
    const bound = (MAX_COUNT_ONLY_CHECKS + 1) * DRM_FULL_WALK_MS;
    while (clock.t <= opened + bound && !has(b.read(), 5007)) clock.t += 1000;
    assert.ok(clock.t <= opened + bound, `found ${clock.t - opened} ms after it opened the GPU (bound ${bound} ms)`);
  });

  it('a DRM fd closed and its number reused for a non-DRM file is no longer counted; the GPU opened on it again is found at the next check', () => {
    const { root, b, clock } = rig();
    // 2411 holds two clients: fd 8 (id 7) and fd 9 (id 70, 1 GiB).
    fs.symlinkSync('/dev/dri/renderD128', path.join(root, 'proc/2411/fd/9'));
    fs.writeFileSync(path.join(root, 'proc/2411/fdinfo/9'), clientInfo(70, 1024 * 1024));
    let r = b.read();
    assert.equal(r.processes.find((p) => p.pid === 2411)?.usedMemoryBytes, 9 * GIB);
    for (clock.t = 1000; clock.t <= 40_000; clock.t += 1000) b.read();
    // fd 8 closes and the number now holds a socket: the held fdinfo shows the socket's.
    const fd8 = path.join(root, 'proc/2411/fd/8');
    const info8 = path.join(root, 'proc/2411/fdinfo/8');
    fs.rmSync(fd8);
    fs.symlinkSync('socket:[999]', fd8);
    fs.writeFileSync(info8, 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t999\n');
    // Its 8 GiB are freed (else the VRAM no known client holds would ask for a re-link of every fd).
    const used = path.join(root, 'sys/class/drm/card0/device/mem_info_vram_used');
    const usedBefore = Number(fs.readFileSync(used, 'utf8'));
    fs.writeFileSync(used, String(usedBefore - 8 * GIB));
    clock.t += 1000;
    r = b.read();
    assert.equal(r.processes.find((p) => p.pid === 2411)?.usedMemoryBytes, 1 * GIB, 'only the client on fd 9 is left');
    // The socket closes and the GPU is opened on 8 again (a new client, same fd count): the dropped number
    // is listed at the next check, not left to the count (which did not change).
    fs.rmSync(fd8);
    fs.symlinkSync('/dev/dri/renderD128', fd8);
    // A small client (256 MiB: below what makes the backend re-read every link).
    fs.writeFileSync(info8, clientInfo(71, 256 * 1024));
    fs.writeFileSync(used, String(usedBefore - 8 * GIB + 256 * 1024 ** 2));
    const opened = clock.t;
    while (clock.t <= opened + DRM_FULL_WALK_MS && !has(b.read(), 2411, GIB + 256 * 1024 ** 2)) clock.t += 1000;
    assert.ok(clock.t <= opened + DRM_FULL_WALK_MS, `found ${clock.t - opened} ms after the GPU was reopened on fd 8`);
    assert.equal(b.relinkTriggers, 0, 'found by the check, not by a VRAM-triggered re-link');
  });

  it('a client whose fdinfo drops a line: the reused parse records do not keep it (memory falls back to total-vram, then to GTT)', () => {
    const { root, b, clock } = rig(0);
    const info = path.join(root, 'proc/2411/fdinfo/8');
    // resident 2 GiB, total 3 GiB: resident wins.
    fs.writeFileSync(
      info,
      fs
        .readFileSync(info, 'utf8')
        .replace(/drm-resident-vram:\s*\d+ KiB/, `drm-resident-vram:\t${2 * 1024 * 1024} KiB`)
        .replace(/drm-total-vram:\s*\d+ KiB/, `drm-total-vram:\t${3 * 1024 * 1024} KiB`)
        .replace(/drm-memory-vram:\s*\d+ KiB/, `drm-memory-vram:\t${1 * 1024 * 1024} KiB`),
    );
    // Busy at every scan (engine time grows), so it is read at every scan, not at the quiet cadence.
    const busy = (): void => {
      const text = fs.readFileSync(info, 'utf8');
      fs.writeFileSync(
        info,
        text.replace(/drm-engine-compute:\s*(\d+)/, (_a, n: string) => `drm-engine-compute:\t${Number(n) + 100_000_000}`),
      );
    };
    for (let i = 0; i < 3; i++) {
      busy();
      assert.equal(b.read().processes.find((p) => p.pid === 2411)?.usedMemoryBytes, 2 * GIB);
      clock.t += 1000;
    }
    // The driver stops printing resident-vram (both parse records of the client, used in turn, saw it).
    fs.writeFileSync(info, fs.readFileSync(info, 'utf8').replace(/drm-resident-vram:.*\n/, ''));
    for (let i = 0; i < 3; i++) {
      busy();
      const p = b.read().processes.find((x) => x.pid === 2411);
      assert.equal(p?.usedMemoryBytes, 3 * GIB, `scan ${i}: total-vram once resident-vram is gone`);
      clock.t += 1000;
    }
    // Then every vram line: no region left from the earlier parses, the client's memory is its GTT.
    fs.writeFileSync(info, fs.readFileSync(info, 'utf8').replace(/drm-[a-z]+-vram:.*\n/g, ''));
    for (let i = 0; i < 3; i++) {
      busy();
      const p = b.read().processes.find((x) => x.pid === 2411);
      assert.equal(p?.usedMemoryBytes, 40960 * 1024, `scan ${i}: no vram region left, the GTT`);
      clock.t += 1000;
    }
  });

  it('a quiet amdgpu client is read at every 3rd scan; busy again, it shows within 3 scans and is read at every scan; its exit shows at the next listing', () => {
    const { root, b, calls, clock } = rig(0);
    const info = path.join(root, 'proc/2411/fdinfo/8');
    const tick = (): GpuReading => {
      clock.t += 1000;
      return b.read();
    };
    b.read();
    // Idle (the captured file does not change): after QUIET_READS_TO_SKIP quiet reads, one read in QUIET_SKIP_SCANS + 1.
    for (let i = 0; i < QUIET_READS_TO_SKIP + 1; i++) tick();
    calls.rereads.length = 0;
    for (let i = 0; i < 12; i++) {
      const r = tick();
      assert.equal(r.processes.find((p) => p.pid === 2411)?.usedMemoryBytes, 8388608 * 1024, 'a quiet client keeps its row');
    }
    const quietReads = calls.rereads.filter((p) => p === info).length;
    assert.equal(quietReads, 12 / (QUIET_SKIP_SCANS + 1), `reads of a quiet client in 12 scans: ${quietReads}`);
    // It turns busy (0.5 s of compute per 1 s scan): shown within QUIET_SKIP_SCANS + 1 scans.
    const bump = (): void => {
      const text = fs.readFileSync(info, 'utf8');
      fs.writeFileSync(
        info,
        text.replace(/drm-engine-compute:\s*(\d+)/, (_a, n: string) => `drm-engine-compute:\t${Number(n) + 500_000_000}`),
      );
    };
    let scans = 0;
    let util: number | null | undefined = 0;
    while (scans <= QUIET_SKIP_SCANS && !util) {
      bump();
      util = tick().processes.find((p) => p.pid === 2411)?.smUtilRatio;
      scans++;
    }
    assert.ok(util !== null && util !== undefined && util > 0, `busy after ${scans} scans: ${util}`);
    calls.rereads.length = 0;
    for (let i = 0; i < 6; i++) {
      bump();
      assert.equal(tick().processes.find((p) => p.pid === 2411)?.smUtilRatio, 0.5);
    }
    assert.equal(calls.rereads.filter((p) => p === info).length, 6, 'a busy client is read at every scan');
    // Quiet again, then it exits: gone at the next listing (5 s) at the latest.
    for (let i = 0; i < 4; i++) tick();
    fs.rmSync(path.join(root, 'proc/2411'), { recursive: true });
    let after = 0;
    while (after < 5 && tick().processes.some((p) => p.pid === 2411)) after++;
    assert.ok(after < 5, 'an exited quiet client leaves within the 5 s listing');
  });

  it('Intel clients are read at every scan, quiet or not (the GPU busy is their sum)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-drm-cache-'));
    dirs.push(root);
    fs.cpSync(path.resolve(FIX, '../i915-6.8-tgl-iris-xe'), root, { recursive: true, verbatimSymlinks: true });
    const clock = { t: 0 };
    const b = DrmBackend.open({
      sysRoot: path.join(root, 'sys'),
      procRoot: path.join(root, 'proc'),
      log: createLogger('error', () => {}),
      now: () => clock.t,
    });
    assert.ok(b);
    backends.push(b);
    const n = b.read().processes.length;
    assert.ok(n > 0);
    for (let i = 0; i < 8; i++) {
      clock.t += 1000;
      b.read();
      assert.equal(b.scannerStats?.filesRead, n, `scan ${i + 2}: every Intel client read`);
    }
  });

  it('the fd count is trusted on this kernel’s /proc where it gives one (Linux ≥ 6.2), never on a captured tree on disk', () => {
    const real = new FdinfoScanner({ procRoot: '/proc', io: realDrmIo, drivers: new Set(['amdgpu']), pdevs: new Set(), discoveryIntervalMs: 5000 });
    real.scan(0);
    real.close();
    const [major, minor] = os.release().split('.').map(Number);
    assert.equal(real.countsTrusted, major > 6 || (major === 6 && minor >= 2), `kernel ${os.release()}`);
    // The captured tree (20 processes): a directory's size on disk is not its number of entries.
    const { root } = rig(20);
    const tree = new FdinfoScanner({
      procRoot: path.join(root, 'proc'),
      io: realDrmIo,
      drivers: new Set(['amdgpu']),
      pdevs: new Set(),
      discoveryIntervalMs: 5000,
    });
    tree.scan(0);
    tree.close();
    assert.equal(tree.countsTrusted, false);
  });
});
