// The DRM backend on captured sysfs/procfs trees: every reader per driver, deltas, deduplication,
// a GPU that disappears, unreadable files and a hwmon without labels.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger, type Logger } from '../../../../../collector/log';
import { DrmBackend } from '../../../../../collector/sources/gpu/drm/drm-backend';
import { realDrmIo, type DrmIo } from '../../../../../collector/sources/gpu/drm/drm-io';
import { WALK_BUDGET_OPS } from '../../../../../collector/sources/gpu/drm/fdinfo';
import { metricOf, type DeviceReading, type GpuReading } from '../../../../../collector/sources/gpu/reading';

const FIX = path.resolve(__dirname, '../../../../fixtures/gpu/drm');
const GIB = 1024 ** 3;
const KIB = 1024;

/** A writable copy of a fixture tree (symlinks kept), removed after the test. */
function copyTree(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-drm-'));
  fs.cpSync(path.join(FIX, name), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

const enodev = (p: string): Error => Object.assign(new Error(`ENODEV: no such device, read '${p}'`), { code: 'ENODEV' });

/**
 * realDrmIo with the kernel's behaviour for files held open: a held sysfs attribute of a removed device
 * fails with ENODEV (kernfs), a held fdinfo of an exited process fails too. A captured tree on disk would
 * go on reading a renamed or deleted file through its open fd, so reread checks that the path still exists.
 */
function kernfsIo(base: DrmIo = realDrmIo): DrmIo & { opens: string[] } {
  const paths = new Map<number, string>();
  const opens: string[] = [];
  return {
    ...base,
    opens,
    open: (p) => {
      opens.push(p);
      const fd = base.open(p);
      paths.set(fd, p);
      return fd;
    },
    reread: (fd) => {
      const p = paths.get(fd);
      if (p !== undefined && !fs.existsSync(p)) throw enodev(p);
      return base.reread(fd);
    },
    close: (fd) => {
      paths.delete(fd);
      base.close(fd);
    },
  };
}

/** Every backend the tests opened: their held files are closed after the suite. */
const opened: DrmBackend[] = [];

interface Rig {
  backend: DrmBackend;
  root: string;
  logs: string[];
  clock: { t: number };
}

function open(root: string, io?: DrmIo, discoveryIntervalMs = 5000, processIntervalMs = 0): Rig {
  const logs: string[] = [];
  const log: Logger = createLogger('debug', (l) => logs.push(l));
  const clock = { t: 1000 };
  const backend = DrmBackend.open({
    sysRoot: path.join(root, 'sys'),
    procRoot: path.join(root, 'proc'),
    log,
    io: io ?? kernfsIo(),
    now: () => clock.t,
    discoveryIntervalMs,
    processIntervalMs,
  });
  assert.ok(backend, `no DRM GPU found under ${root}`);
  opened.push(backend);
  return { backend, root, logs, clock };
}

const m = (d: DeviceReading, k: Parameters<typeof metricOf>[1]): number | null => metricOf(d, k);

/** Rewrites `key:\t<n> ns` (or cycles) in an fdinfo file, adding `add`. */
function bump(file: string, key: string, add: number): void {
  const text = fs.readFileSync(file, 'utf8');
  const re = new RegExp(`^(${key}:\\s*)(\\d+)`, 'm');
  assert.match(text, re, `${key} in ${file}`);
  fs.writeFileSync(
    file,
    text.replace(re, (_all, pre: string, n: string) => `${pre}${Number(n) + add}`),
  );
}

describe('drm backend on captured trees', () => {
  const dirs: string[] = [];
  const tree = (name: string): string => {
    const d = copyTree(name);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const b of opened.splice(0)) b.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('amdgpu 6.8 MI300X: two GPUs (the BMC display is skipped), sysfs + gpu_metrics v1.4, nulls with reasons', () => {
    const { backend, logs } = open(tree('amdgpu-6.8-mi300x'));
    assert.equal(backend.describe(), '2 × AMD Instinct MI300X OAM via amdgpu sysfs');
    const r = backend.read();
    assert.equal(r.backend, 'drm');
    assert.deepEqual(
      r.devices.map((d) => d.pciBusId),
      ['00000000:11:00.0', '00000000:2F:00.0'],
    );
    const d = r.devices[0];
    assert.equal(d.vendor, 'amd');
    assert.equal(d.driver, 'amdgpu');
    assert.equal(d.uuid, 'AMD-7d1e40c17b1e5dd1');
    assert.equal(m(d, 'utilization_ratio'), 0.87);
    assert.equal(m(d, 'memory_utilization_ratio'), 0.35);
    assert.equal(m(d, 'memory_total_bytes'), 206141652992);
    assert.equal(m(d, 'memory_used_bytes'), 291782656 + 120 * GIB);
    assert.equal(m(d, 'memory_used_ratio'), (291782656 + 120 * GIB) / 206141652992);
    assert.equal(m(d, 'temperature_celsius'), 52, 'no edge sensor: the junction temperature stands in');
    assert.ok(d.notes.includes('no edge sensor: temperature_celsius is the junction (hotspot) temperature'), d.notes.join('; '));
    assert.ok(d.notes.includes('gpu_metrics v1.4'));
    assert.equal(d.extra?.temperature_junction_celsius, 52);
    assert.equal(d.extra?.temperature_memory_celsius, 44);
    assert.equal(m(d, 'power_watts'), 312, 'power1_input when there is no power1_average');
    assert.equal(m(d, 'power_limit_watts'), 750);
    assert.equal(m(d, 'sm_clock_hertz'), 1302e6);
    assert.equal(m(d, 'sm_clock_max_hertz'), 2100e6);
    assert.equal(m(d, 'memory_clock_hertz'), 1300e6);
    assert.equal(m(d, 'memory_clock_max_hertz'), 1300e6);
    assert.equal(m(d, 'ecc_volatile_errors_count'), 0);
    assert.equal(d.extra?.gtt_used_bytes, 21032960);
    assert.equal(d.extra?.pcie_link_width_count, 16);
    assert.equal(d.extra?.pcie_link_transfers_per_second, 32e9);
    // What the driver does not expose is null, never 0, with a reason.
    assert.equal(m(d, 'fan_ratio'), null);
    assert.match(d.unavailable?.fan_ratio ?? '', /no fan sensor/);
    assert.equal(m(d, 'pstate_count'), null);
    assert.match(d.unavailable?.pstate_count ?? '', /no P-states/);
    assert.equal(m(d, 'pcie_rx_bytes_per_second'), null);
    assert.match(d.unavailable?.pcie_rx_bytes_per_second ?? '', /1 s blocking read/);
    assert.equal(d.unavailable?.utilization_ratio, undefined);
    // Once-only: the first read lists the absences in one line per GPU; a second read adds nothing.
    const lines = logs.filter((l) => l.includes('null:'));
    assert.equal(lines.length, 2, lines.join('\n'));
    backend.read();
    assert.equal(logs.filter((l) => l.includes('null:')).length, 2);
  });

  it('amdgpu: processes from fdinfo, deduplicated by client id (dup and inherited fds), utilisation from engine deltas', () => {
    const root = tree('amdgpu-6.8-mi300x');
    const { backend, clock } = open(root);
    const first = backend.read();
    const p0 = first.processes.find((p) => p.pid === 4242);
    assert.ok(p0, JSON.stringify(first.processes));
    assert.equal(p0.pciBusId, '00000000:11:00.0');
    assert.equal(p0.usedMemoryBytes, 125829120 * KIB, 'client 12 counted once although fds 5, 6 and pid 4243 all hold it');
    assert.equal(p0.smUtilRatio, null, 'no utilisation before a second look');
    assert.equal(
      first.processes.find((p) => p.pid === 4243),
      undefined,
      'the inherited fd is the same client',
    );
    assert.equal(first.processes.find((p) => p.pid === 5151)?.pciBusId, '00000000:2F:00.0');
    assert.equal(first.processes.length, 2);
    // 0.75 s of compute in 1 s.
    for (const f of ['4242/fdinfo/5', '4242/fdinfo/6', '4243/fdinfo/5']) bump(path.join(root, 'proc', f), 'drm-engine-compute', 750_000_000);
    clock.t += 1000;
    const second = backend.read();
    const p1 = second.processes.find((p) => p.pid === 4242);
    assert.equal(p1?.smUtilRatio, 0.75);
    assert.equal(p1?.type, 'compute');
  });

  it('amdgpu 6.8 RX 7900 XTX: labelled hwmon, power1_average, fan from pwm1, decode engine from fdinfo', () => {
    const root = tree('amdgpu-6.8-rx7900xtx');
    const { backend, clock } = open(root);
    const d = backend.read().devices[0];
    assert.equal(d.name, 'AMD Radeon RX 7900 XTX / XT', 'named from its PCI id (no product_name on Radeons)');
    assert.equal(d.uuid, 'PCI-00000000:03:00.0');
    assert.equal(m(d, 'temperature_celsius'), 48);
    assert.equal(d.extra?.temperature_junction_celsius, 61);
    assert.equal(d.extra?.temperature_memory_celsius, 58);
    assert.equal(m(d, 'power_watts'), 212);
    assert.equal(m(d, 'power_limit_watts'), 327);
    assert.equal(m(d, 'fan_ratio'), 97 / 255);
    assert.equal(m(d, 'sm_clock_hertz'), 2410e6);
    assert.equal(m(d, 'ecc_volatile_errors_count'), null);
    assert.match(d.unavailable?.ecc_volatile_errors_count ?? '', /RAS/);
    assert.ok(d.notes.includes('gpu_metrics v1.3'));
    bump(path.join(root, 'proc/2411/fdinfo/8'), 'drm-engine-dec', 250_000_000);
    bump(path.join(root, 'proc/2300/fdinfo/14'), 'drm-engine-gfx', 500_000_000);
    clock.t += 1000;
    const r = backend.read();
    assert.equal(m(r.devices[0], 'decoder_utilization_ratio'), 0.25);
    assert.equal(m(r.devices[0], 'encoder_utilization_ratio'), 0);
    assert.equal(r.processes.find((p) => p.pid === 2300)?.type, 'graphics');
    assert.equal(r.processes.find((p) => p.pid === 2300)?.smUtilRatio, 0.5);
  });

  it('amdgpu 5.4 RX 580: a hwmon without labels gives temp1 as the GPU temperature, with a note; no gpu_metrics', () => {
    const { backend, logs } = open(tree('amdgpu-5.4-rx580'));
    const d = backend.read().devices[0];
    assert.equal(m(d, 'temperature_celsius'), 37);
    assert.ok(
      d.notes.some((n) => /no temperature labels: temp1/.test(n)),
      d.notes.join('; '),
    );
    assert.equal(d.extra?.temperature_junction_celsius, null);
    assert.equal(m(d, 'memory_utilization_ratio'), null);
    assert.match(d.unavailable?.memory_utilization_ratio ?? '', /mem_busy_percent is missing/);
    assert.equal(m(d, 'power_watts'), 33.173);
    assert.ok(!logs.some((l) => /gpu_metrics/.test(l)), 'a missing gpu_metrics is not worth a warning');
  });

  it('i915 6.8 Tiger Lake (integrated): frequencies from sysfs, busy from fdinfo (video capacity 2), memory null with a reason', () => {
    const root = tree('i915-6.8-tgl-iris-xe');
    const { backend, clock } = open(root);
    let d = backend.read().devices[0];
    assert.equal(d.name, 'Intel Iris Xe Graphics (Tiger Lake)');
    assert.equal(d.vendor, 'intel');
    assert.equal(m(d, 'sm_clock_hertz'), 1100e6);
    assert.equal(m(d, 'sm_clock_max_hertz'), 1350e6);
    assert.equal(m(d, 'memory_used_bytes'), null);
    assert.match(d.unavailable?.memory_used_bytes ?? '', /integrated GPU/);
    assert.match(d.unavailable?.temperature_celsius ?? '', /integrated GPU: no hwmon/);
    const f = path.join(root, 'proc/1900/fdinfo/41');
    bump(f, 'drm-engine-render', 400_000_000);
    bump(f, 'drm-engine-video', 1_200_000_000); // two video engines: 1.2 s of 2 s capacity
    clock.t += 1000;
    const r = backend.read();
    d = r.devices[0];
    assert.equal(m(d, 'utilization_ratio'), 0.6);
    assert.equal(m(d, 'decoder_utilization_ratio'), 0.6);
    assert.equal(r.processes[0].pid, 1900);
    assert.equal(r.processes[0].usedMemoryBytes, 184320 * KIB, 'integrated: the client’s system memory');
    assert.equal(r.processes[0].type, 'graphics');
  });

  it('xe 6.12 Arc B580 (discrete): busy from cycles, VRAM used from clients, power from the energy counter', () => {
    const root = tree('xe-6.12-arc-b580');
    const { backend, clock } = open(root);
    let d = backend.read().devices[0];
    assert.equal(d.name, 'Intel Arc B580');
    assert.equal(d.driver, 'xe');
    assert.equal(m(d, 'sm_clock_hertz'), 2850e6);
    assert.equal(m(d, 'memory_used_bytes'), 3932160 * KIB);
    // 12 GiB from tile0/physical_vram_size_bytes (xe_tile_sysfs.c), with a note that it is the physical size.
    assert.equal(m(d, 'memory_total_bytes'), 12 * GIB);
    assert.equal(m(d, 'memory_used_ratio'), (3932160 * KIB) / (12 * GIB));
    assert.ok(d.notes.some((n) => /physical_vram_size_bytes/.test(n)));
    assert.equal(m(d, 'power_watts'), null, 'no energy delta yet');
    assert.equal(m(d, 'power_limit_watts'), 190);
    assert.match(d.unavailable?.temperature_celsius ?? '', /no temperature sensor/);
    assert.equal(d.extra?.pcie_link_width_count, 8);
    const f = path.join(root, 'proc/3001/fdinfo/6');
    // ccs: 4 engines; 2e9 busy cycles of 1e9 elapsed → 2 of 4 engines' worth = 0.5.
    bump(f, 'drm-cycles-ccs', 2_000_000_000);
    for (const c of ['rcs', 'bcs', 'vcs', 'vecs', 'ccs']) bump(f, `drm-total-cycles-${c}`, 1_000_000_000);
    const e = path.join(root, 'sys/class/drm/card0/device/hwmon/hwmon2/energy1_input');
    fs.writeFileSync(e, String(Number(fs.readFileSync(e, 'utf8')) + 95_000_000));
    clock.t += 500;
    const r = backend.read();
    d = r.devices[0];
    assert.equal(m(d, 'utilization_ratio'), 0.5);
    assert.equal(m(d, 'power_watts'), 190);
    assert.equal(r.processes[0].smUtilRatio, 0.5);
    assert.equal(r.processes[0].type, 'compute');
  });

  it('Intel VRAM total: summed over xe tiles; null with the reason where sysfs has none (xe without the file, mainline i915)', () => {
    const root = tree('xe-6.12-arc-b580');
    const dev = path.join(root, 'sys/class/drm/card0/device');
    // A two-tile part (Data Center GPU Max) sums its tiles.
    fs.mkdirSync(path.join(dev, 'tile1'));
    fs.writeFileSync(path.join(dev, 'tile1/physical_vram_size_bytes'), `${64 * GIB}\n`);
    assert.equal(m(open(root).backend.read().devices[0], 'memory_total_bytes'), 76 * GIB);
    for (const t of ['tile0', 'tile1']) fs.rmSync(path.join(dev, t, 'physical_vram_size_bytes'));
    const d = open(root).backend.read().devices[0];
    assert.equal(m(d, 'memory_total_bytes'), null);
    assert.match(d.unavailable?.memory_total_bytes ?? '', /no tile\*\/physical_vram_size_bytes .*DG1, or a kernel before 6\.8/);
    // i915 on a discrete slot: mainline has no size file; Intel's backport driver has card<N>/lmem_total_bytes.
    const i915 = tree('i915-6.8-tgl-iris-xe');
    const ue = path.join(i915, 'sys/class/drm/card0/device/uevent');
    fs.writeFileSync(ue, fs.readFileSync(ue, 'utf8').replace('0000:00:02.0', '0000:03:00.0'));
    const a = open(i915).backend.read().devices[0];
    assert.equal(m(a, 'memory_total_bytes'), null);
    assert.match(a.unavailable?.memory_total_bytes ?? '', /mainline i915 has no VRAM size in sysfs/);
    fs.writeFileSync(path.join(i915, 'sys/class/drm/card0/lmem_total_bytes'), `${16 * GIB}\n`);
    assert.equal(m(open(i915).backend.read().devices[0], 'memory_total_bytes'), 16 * GIB);
  });

  it('a GPU that disappears keeps its place with every value null and a note, and comes back', () => {
    const root = tree('amdgpu-6.8-mi300x');
    const { backend, logs } = open(root);
    backend.read();
    const dev = path.join(root, 'sys/class/drm/card1/device');
    fs.renameSync(dev, dev + '.gone');
    const r: GpuReading = backend.read();
    assert.equal(r.devices.length, 2);
    const d = r.devices[0];
    assert.equal(d.pciBusId, '00000000:11:00.0');
    assert.equal(m(d, 'utilization_ratio'), null);
    assert.equal(m(d, 'memory_used_bytes'), null);
    assert.match(d.notes[0], /GPU disappeared: .*uevent is missing/);
    assert.equal(m(r.devices[1], 'utilization_ratio'), 0, 'the other GPU is unaffected');
    assert.equal(logs.filter((l) => /disappeared/.test(l)).length, 1);
    backend.read();
    assert.equal(logs.filter((l) => /disappeared/.test(l)).length, 1, 'warned once');
    fs.renameSync(dev + '.gone', dev);
    assert.equal(m(backend.read().devices[0], 'utilization_ratio'), 0.87);
    assert.ok(logs.some((l) => /is back/.test(l)));
  });

  it('unreadable files (permission denied) are null with that reason; the rest of the GPU still reads', () => {
    // Tests run as root, which chmod cannot stop: the fault sits in front of the real file system.
    const denied = (p: string): boolean => /power1_input$|pp_dpm_sclk$|\/proc\/5151\/fd$/.test(p);
    const eacces = (p: string): Error => Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' });
    const io: DrmIo = kernfsIo({
      ...realDrmIo,
      open: (p) => {
        if (denied(p)) throw eacces(p);
        return realDrmIo.open(p);
      },
      readText: (p) => {
        if (denied(p)) throw eacces(p);
        return realDrmIo.readText(p);
      },
      readBytes: realDrmIo.readBytes,
      readdir: (p) => {
        if (denied(p)) throw eacces(p);
        return realDrmIo.readdir(p);
      },
      readlink: realDrmIo.readlink,
    });
    const { backend } = open(tree('amdgpu-6.8-mi300x'), io);
    const r = backend.read();
    const d = r.devices[1];
    assert.match(d.unavailable?.sm_clock_max_hertz ?? '', /permission denied reading .*pp_dpm_sclk/);
    assert.equal(m(d, 'sm_clock_max_hertz'), null);
    // gpu_metrics still gives the power and clock when the files cannot be read.
    assert.equal(m(d, 'power_watts'), 141);
    assert.equal(m(d, 'sm_clock_hertz'), 140e6);
    assert.equal(m(d, 'memory_used_bytes'), 291782656);
    assert.equal(
      r.processes.find((p) => p.pid === 5151),
      undefined,
      'another user’s process: not visible',
    );
    assert.equal(backend.scannerStats?.unreadablePids, 1);
  });

  it('new clients are found at the discovery cadence; between walks only known fdinfo files are read', () => {
    const root = tree('amdgpu-6.8-rx7900xtx');
    const { backend, clock } = open(root, undefined, 5000, 2000);
    assert.equal(backend.read().processes.length, 2);
    assert.equal(backend.scannerStats?.filesRead, 2);
    // AMD only: processes are rescanned every 2 s, not every tick.
    const f = path.join(root, 'proc/2411/fdinfo/8');
    bump(f, 'drm-engine-compute', 500_000_000);
    clock.t += 1000;
    assert.equal(backend.read().processes.find((p) => p.pid === 2411)?.smUtilRatio, null, 'not rescanned yet');
    clock.t += 1000;
    assert.equal(backend.read().processes.find((p) => p.pid === 2411)?.smUtilRatio, 0.25, '0.5 s over 2 s');
    const src = path.join(root, 'proc/2411');
    fs.cpSync(src, path.join(root, 'proc/2999'), { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(
      path.join(root, 'proc/2999/fdinfo/8'),
      fs.readFileSync(path.join(src, 'fdinfo/8'), 'utf8').replace('drm-client-id:\t7', 'drm-client-id:\t8'),
    );
    clock.t += 2000;
    assert.equal(backend.read().processes.length, 2, 'not walked yet');
    clock.t += 2000;
    assert.equal(backend.read().processes.length, 3, 'a young process is walked at the 5 s discovery');
  });

  it('old processes are checked at the fd-list cadence, not at every listing; young ones at every listing', () => {
    const root = tree('amdgpu-6.8-rx7900xtx');
    const lists: string[] = [];
    const io = kernfsIo({
      ...realDrmIo,
      readdir: (p) => {
        lists.push(p);
        return realDrmIo.readdir(p);
      },
    });
    const clock = { t: 0 };
    const b = DrmBackend.open({
      sysRoot: path.join(root, 'sys'),
      procRoot: path.join(root, 'proc'),
      log: createLogger('error', () => {}),
      io,
      now: () => clock.t,
      discoveryIntervalMs: 5000,
      fullWalkIntervalMs: 30_000,
      processIntervalMs: 0,
    });
    assert.ok(b);
    assert.equal(b.read().processes.length, 2);
    // 3100 starts at 5 s without a GPU fd.
    const fdDir = path.join(root, 'proc/3100/fd');
    fs.mkdirSync(fdDir, { recursive: true });
    fs.mkdirSync(path.join(root, 'proc/3100/fdinfo'));
    const walksOf3100 = (from: number, to: number): number => {
      lists.length = 0;
      for (clock.t = from; clock.t < to; clock.t += 5000) b.read();
      return lists.filter((l) => l === fdDir).length;
    };
    assert.equal(walksOf3100(5000, 65_000), 12, 'young (first seen < 60 s ago): walked at every 5 s listing');
    // Old: checked at its own turn once per 30 s (the first one may be a late turn from its young minute).
    const old = walksOf3100(70_000, 130_000);
    assert.ok(old >= 2 && old <= 3, `old: its fd list is checked once per 30 s, not at every listing (${old} walks in 60 s)`);
    // It opens the GPU: found at its next check, within 30 s.
    fs.symlinkSync('/dev/dri/renderD128', path.join(fdDir, '4'));
    fs.writeFileSync(
      path.join(root, 'proc/3100/fdinfo/4'),
      fs.readFileSync(path.join(root, 'proc/2411/fdinfo/8'), 'utf8').replace('drm-client-id:\t7', 'drm-client-id:\t9'),
    );
    const opened = clock.t;
    while (clock.t <= opened + 30_000 && b.read().processes.length === 2) clock.t += 5000;
    assert.ok(clock.t <= opened + 30_000, 'the fd-list check finds the new fd number');
    b.close();
  });

  it('sysfs files are held open and re-read in place: a later tick opens and reads no file anew', () => {
    const root = tree('amdgpu-6.8-mi300x');
    const fresh: string[] = [];
    const io = kernfsIo({
      ...realDrmIo,
      readText: (p) => {
        fresh.push(p);
        return realDrmIo.readText(p);
      },
      readBytes: (p) => {
        fresh.push(p);
        return realDrmIo.readBytes(p);
      },
    });
    const { backend, clock } = open(root, io, 5000, 60_000);
    const first = backend.read();
    assert.equal(m(first.devices[0], 'utilization_ratio'), 0.87);
    const opened = io.opens.length;
    assert.ok(opened > 0);
    fresh.length = 0;
    clock.t += 1000;
    // A value changed between ticks is seen through the held fd (sysfs runs show() again at offset 0).
    fs.writeFileSync(path.join(root, 'sys/class/drm/card1/device/mem_info_vram_used'), String(4 * GIB));
    const second = backend.read();
    assert.equal(m(second.devices[0], 'memory_used_bytes'), 4 * GIB);
    assert.deepEqual(io.opens.slice(opened), [], 'no open on the second tick');
    assert.deepEqual(fresh, [], 'no open-read-close on the second tick');
    backend.close();
  });

  it('fd lists are checked incrementally: only new fd numbers are followed; a reused number is found at the re-link', () => {
    const root = tree('amdgpu-6.8-rx7900xtx');
    const links: string[] = [];
    const io = kernfsIo({
      ...realDrmIo,
      readlink: (p) => {
        links.push(p);
        return realDrmIo.readlink(p);
      },
    });
    const clock = { t: 0 };
    const b = DrmBackend.open({
      sysRoot: path.join(root, 'sys'),
      procRoot: path.join(root, 'proc'),
      log: createLogger('error', () => {}),
      io,
      now: () => clock.t,
      discoveryIntervalMs: 5000,
      fullWalkIntervalMs: 30_000,
      relinkIntervalMs: 300_000,
      processIntervalMs: 0,
    });
    assert.ok(b);
    assert.equal(b.read().processes.length, 2);
    assert.deepEqual(links.map((l) => path.relative(root, l)).sort(), ['proc/2300/fd/14', 'proc/2411/fd/8']);
    // 2300 opens a socket on fd 20: the next check of its fd list follows fd 20 alone.
    const fd20 = path.join(root, 'proc/2300/fd/20');
    fs.symlinkSync('socket:[4242]', fd20);
    fs.writeFileSync(path.join(root, 'proc/2300/fdinfo/20'), 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t4242\n');
    links.length = 0;
    for (clock.t = 5000; clock.t <= 35_000; clock.t += 5000) b.read();
    assert.deepEqual(
      links.map((l) => path.relative(root, l)),
      ['proc/2300/fd/20'],
      'the known DRM fds and the unchanged numbers are not followed again',
    );
    // The socket closes and the GPU is opened on the same number: a check cannot tell, the re-link does.
    fs.rmSync(fd20);
    fs.symlinkSync('/dev/dri/renderD128', fd20);
    fs.writeFileSync(
      path.join(root, 'proc/2300/fdinfo/20'),
      fs.readFileSync(path.join(root, 'proc/2411/fdinfo/8'), 'utf8').replace('drm-client-id:\t7', 'drm-client-id:\t31'),
    );
    let found = 0;
    for (clock.t = 40_000; clock.t <= 305_000; clock.t += 5000) {
      if (b.read().processes.some((p) => p.pid === 2300 && p.usedMemoryBytes !== null && p.usedMemoryBytes > 0) && !found) found = clock.t;
    }
    assert.ok(found > 0, 'found within one re-link interval');
    b.close();
  });

  it('VRAM no known client holds grows on an AMD GPU: every link is re-read at once, finding a GPU opened on a reused fd number', () => {
    const run = (grow: boolean): { found: number; triggers: number } => {
      const root = tree('amdgpu-6.8-rx7900xtx');
      // 2300 holds a socket on fd 20 when first walked.
      const fd20 = path.join(root, 'proc/2300/fd/20');
      fs.symlinkSync('socket:[4242]', fd20);
      fs.writeFileSync(path.join(root, 'proc/2300/fdinfo/20'), 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t4242\n');
      const clock = { t: 0 };
      const b = DrmBackend.open({
        sysRoot: path.join(root, 'sys'),
        procRoot: path.join(root, 'proc'),
        log: createLogger('error', () => {}),
        io: kernfsIo(),
        now: () => clock.t,
        processIntervalMs: 0,
      });
      assert.ok(b);
      opened.push(b);
      assert.equal(b.read().processes.length, 2);
      // The socket closes and a 2 GiB client opens on the same number; the GPU's used VRAM grows by as much.
      fs.rmSync(fd20);
      fs.symlinkSync('/dev/dri/renderD128', fd20);
      fs.writeFileSync(
        path.join(root, 'proc/2300/fdinfo/20'),
        fs
          .readFileSync(path.join(root, 'proc/2411/fdinfo/8'), 'utf8')
          .replace('drm-client-id:\t7', 'drm-client-id:\t31')
          .replace(/drm-(resident|total|memory)-vram:\s*\d+ KiB/g, 'drm-$1-vram:\t2097152 KiB'),
      );
      if (grow) fs.writeFileSync(path.join(root, 'sys/class/drm/card0/device/mem_info_vram_used'), String(9016504320 + 2 * GIB));
      let found = 0;
      for (clock.t = 1000; clock.t <= 20_000 && !found; clock.t += 1000) {
        const p = b.read().processes.find((x) => x.pid === 2300);
        if (p && p.usedMemoryBytes !== null && p.usedMemoryBytes > 1 * GIB) found = clock.t;
      }
      return { found, triggers: b.relinkTriggers };
    };
    const withGrowth = run(true);
    assert.equal(withGrowth.triggers, 1);
    assert.ok(withGrowth.found > 0 && withGrowth.found <= 3000, `found at ${withGrowth.found} ms`);
    // Without the VRAM signal the incremental check cannot tell: it waits for the 10-minute re-link.
    assert.deepEqual(run(false), { found: 0, triggers: 0 });
  });

  it('a process that exits and a new one given its pid: the new one is walked as new and its client found', () => {
    const root = tree('amdgpu-6.8-rx7900xtx');
    const { backend, clock } = open(root, undefined, 5000, 0);
    assert.deepEqual(
      backend
        .read()
        .processes.map((p) => p.pid)
        .sort(),
      [2300, 2411],
    );
    // 2411 exits; a new 2411 (another start time) opens the GPU on fd 9.
    const dir = path.join(root, 'proc/2411');
    const info = fs.readFileSync(path.join(dir, 'fdinfo/8'), 'utf8').replace('drm-client-id:\t7', 'drm-client-id:\t77');
    fs.rmSync(dir, { recursive: true });
    clock.t += 1000;
    assert.deepEqual(
      backend.read().processes.map((p) => p.pid),
      [2300],
    );
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'fdinfo'));
    fs.writeFileSync(path.join(dir, 'stat'), '2411 (python3) S 1 2411 2411 0 -1 4194304 0 0 0 0 5 1 0 0 20 0 1 0 99999 1000000 500 0\n');
    fs.symlinkSync('/dev/dri/renderD128', path.join(dir, 'fd/9'));
    fs.writeFileSync(path.join(dir, 'fdinfo/9'), info);
    for (let i = 0; i < 3; i++) {
      clock.t += 5000;
      backend.read();
    }
    assert.deepEqual(
      backend
        .read()
        .processes.map((p) => p.pid)
        .sort(),
      [2300, 2411],
    );
  });

  it('a scan spends at most the walk budget on fd tables; the rest of a big walk continues at the next scans', () => {
    const root = tree('amdgpu-6.8-rx7900xtx');
    // 80 processes of 10 fds each: one walk needs ~12 fs operations per process, more than one scan's budget.
    for (let p = 0; p < 80; p++) {
      const dir = path.join(root, 'proc', String(5000 + p));
      fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'fdinfo'));
      for (let fd = 0; fd < 10; fd++) fs.symlinkSync(`socket:[${p * 100 + fd}]`, path.join(dir, 'fd', String(fd)));
    }
    // The last process is a GPU user.
    const last = path.join(root, 'proc/5079');
    fs.symlinkSync('/dev/dri/renderD128', path.join(last, 'fd/10'));
    fs.writeFileSync(
      path.join(last, 'fdinfo/10'),
      fs.readFileSync(path.join(root, 'proc/2411/fdinfo/8'), 'utf8').replace('drm-client-id:\t7', 'drm-client-id:\t55'),
    );
    const { backend, clock } = open(root, undefined, 5000, 0);
    let r = backend.read();
    const ops = backend.scannerStats?.walkOps ?? Infinity;
    assert.ok(ops <= WALK_BUDGET_OPS + 13, `first scan: ${ops} fs operations`);
    assert.ok(ops >= WALK_BUDGET_OPS, `first scan used its budget: ${ops}`);
    assert.ok(!r.processes.some((p) => p.pid === 5079), 'the last process waits for the next scan');
    clock.t += 1000;
    r = backend.read();
    assert.ok(
      r.processes.some((p) => p.pid === 5079),
      'the second scan finishes the walk',
    );
  });

  it('no DRM GPU (no class/drm, or only other drivers) is absence: open returns null', () => {
    const log = createLogger('error', () => {});
    assert.equal(DrmBackend.open({ sysRoot: '/nonexistent', procRoot: '/proc', log }), null);
    const root = tree('amdgpu-6.8-mi300x');
    for (const c of ['card1', 'card2']) fs.rmSync(path.join(root, 'sys/class/drm', c), { recursive: true });
    assert.equal(DrmBackend.open({ sysRoot: path.join(root, 'sys'), procRoot: path.join(root, 'proc'), log }), null);
  });
});
