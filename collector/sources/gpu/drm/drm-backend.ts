// The DRM backend: AMD (amdgpu) and Intel (i915, xe) GPUs through the kernel's sysfs files and the
// DRM clients' fdinfo, with no vendor library. One batch of small synchronous reads per device per
// tick; what a driver does not expose is null with a reason, logged once. See docs/gpu.md.

import * as path from 'node:path';
import type { GpuDevice } from '../../../../protocol/details/gpu';
import type { Logger } from '../../../log';
import {
  emptyMetrics,
  GPU_METRICS,
  metricOf,
  normalizePciBusId,
  type DeviceReading,
  type GpuMetric,
  type GpuReading,
  type MetricRecord,
  type ProcessReading,
} from '../reading';
import { decodeGpuMetrics, parseDpmClock, parseLinkSpeed, type GpuMetrics } from './amdgpu-parse';
import { errCode, HeldFiles, readFailure, realDrmIo, type DrmIo } from './drm-io';
import { FdinfoScanner, type DrmClientUse } from './fdinfo';

const NO_CLIENTS: DrmClientUse[] = [];
/** Every metric null: copied per GPU per tick (a spread of one shape is cheaper than filling a new object). */
const EMPTY_METRICS: Readonly<MetricRecord> = emptyMetrics();
const NO_ENGINES: ReadonlyMap<string, number> = new Map();

/** Kernel drivers this backend reads. */
export const DRM_DRIVERS: ReadonlySet<string> = new Set(['amdgpu', 'i915', 'xe']);
/** Default cadence of the process listing (new processes walked, young ones re-walked, GPU users checked), ms. */
export const DRM_DISCOVERY_INTERVAL_MS = 5000;
/** Default cadence of the per-process scan on AMD-only boxes, ms (Intel GPU busy needs it every tick). */
export const DRM_PROCESS_INTERVAL_MS = 2000;
/** Growth of an AMD GPU's VRAM that no known DRM client holds, bytes, that asks the scanner to re-read every fd link. */
export const UNATTRIBUTED_VRAM_TRIGGER_BYTES = 512 * 1024 ** 2;
/** At most one such re-link per this long, ms (each costs a walk of every fd, spread over scans). */
export const RELINK_TRIGGER_MIN_INTERVAL_MS = 120_000;
/** How often slow-changing files (VRAM size, power cap, DPM top levels, link, RAS counts) are re-read, ms. */
export const SLOW_REFRESH_MS = 10_000;

// Names of common data-centre and desktop parts by PCI vendor:device, for drivers without product_name.
const PCI_NAMES: Record<string, string> = {
  '1002:74a1': 'AMD Instinct MI300X',
  '1002:74a5': 'AMD Instinct MI325X',
  '1002:74a0': 'AMD Instinct MI300A',
  '1002:740c': 'AMD Instinct MI250X / MI250',
  '1002:740f': 'AMD Instinct MI210',
  '1002:738c': 'AMD Instinct MI100',
  '1002:744c': 'AMD Radeon RX 7900 XTX / XT',
  '1002:7448': 'AMD Radeon PRO W7900',
  '1002:73bf': 'AMD Radeon RX 6800 / 6900',
  '8086:e20b': 'Intel Arc B580',
  '8086:e20c': 'Intel Arc B570',
  '8086:56a0': 'Intel Arc A770',
  '8086:56a1': 'Intel Arc A750',
  '8086:9a49': 'Intel Iris Xe Graphics (Tiger Lake)',
  '8086:46a6': 'Intel Iris Xe Graphics (Alder Lake-P)',
  '8086:a7a0': 'Intel Iris Xe Graphics (Raptor Lake-P)',
  '8086:7d55': 'Intel Arc Graphics (Meteor Lake)',
};

interface Hwmon {
  dir: string;
  /** temp index by label (edge, junction, mem, pkg, vram…); `null` label map when the chip has no labels. */
  temps: Map<string, number> | null;
  /** Every temp*_input index (for the no-label case). */
  tempIdx: number[];
  /** File names in the hwmon directory (so absent files are never opened). */
  files: ReadonlySet<string>;
}

/** One DRM GPU as discovered at open. */
export interface DrmDevice {
  card: string;
  /** …/class/drm/cardN */
  cardDir: string;
  /** …/class/drm/cardN/device */
  dir: string;
  driver: string;
  vendor: NonNullable<GpuDevice['vendor']>;
  /** Kernel form, `0000:03:00.0` (fdinfo's drm-pdev). */
  pdev: string;
  pciBusId: string;
  pciId: string;
  name: string;
  uuid: string;
  hwmon: Hwmon | null;
  /** Intel integrated GPUs sit at 00:02.0 and share system memory. */
  integrated: boolean;
}

/** Options of DrmBackend.open. */
export interface DrmBackendOptions {
  sysRoot: string;
  procRoot: string;
  log: Logger;
  io?: DrmIo;
  /** false: no per-process scan (and no fdinfo-derived engine busy). */
  processes?: boolean;
  discoveryIntervalMs?: number;
  /** Check of every process's fd list for new fd numbers, ms (default DRM_FULL_WALK_MS). */
  fullWalkIntervalMs?: number;
  /** Re-read of every fd link of every process, ms (default DRM_RELINK_MS). */
  relinkIntervalMs?: number;
  /** Per-process scan cadence where no Intel GPU needs it every tick, ms (default DRM_PROCESS_INTERVAL_MS). */
  processIntervalMs?: number;
  /** Monotonic clock, ms. */
  now?: () => number;
}

function field(uevent: string, key: string): string | null {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(uevent);
  return m ? m[1].trim() : null;
}

/** AMD and Intel GPUs read through sysfs and fdinfo. */
export class DrmBackend {
  private readonly io: DrmIo;
  /** sysfs files read every tick, kept open. */
  private readonly held: HeldFiles;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly scanner: FdinfoScanner | null;
  private readonly prevEnergy = new Map<string, { t: number; uj: number }>();
  private readonly gone = new Set<string>();
  private readonly processIntervalMs: number;
  private lastScan = -Infinity;
  private clients: DrmClientUse[] = [];
  /** The last scan's clients per device (pdev), their engine busy, and the process rows. */
  private readonly byDev = new Map<string, DrmClientUse[]>();
  private readonly engByDev = new Map<string, Map<string, number>>();
  private procRows: ProcessReading[] = [];
  /** Joined paths by directory and name (pj). */
  private readonly joined = new Map<string, Map<string, string>>();
  /** PCI bus id (NVML form) by the kernel's slot name. */
  private readonly busIdOf: Map<string, string>;
  private scannedLast = false;
  /** Per AMD GPU: the least VRAM no known client held since the last triggered re-link, bytes. */
  private readonly unattributedBase = new Map<string, number>();
  private lastRelinkTrigger = -Infinity;
  /** Re-links the VRAM check asked for (tests). */
  relinkTriggers = 0;
  /** Files found missing, per device: not tried again (each costs a failed open) until the GPU is re-probed. */
  private readonly missing = new Map<string, Map<string, string>>();
  private readonly slowCache = new Map<string, { t: number; values: Record<string, number | null>; why: [string, string][]; notes: string[] }>();
  /** Metrics whose absence was already logged, per device. */
  private readonly told = new Map<string, Set<string>>();

  private constructor(
    readonly devices: DrmDevice[],
    opts: DrmBackendOptions,
  ) {
    this.io = opts.io ?? realDrmIo;
    this.held = new HeldFiles(this.io);
    this.busIdOf = new Map(devices.map((d) => [d.pdev, d.pciBusId]));
    this.log = opts.log;
    this.now = opts.now ?? (() => performance.now());
    this.scanner =
      opts.processes === false
        ? null
        : new FdinfoScanner({
            procRoot: opts.procRoot,
            io: this.io,
            drivers: DRM_DRIVERS,
            pdevs: new Set(devices.map((d) => d.pdev)),
            discoveryIntervalMs: opts.discoveryIntervalMs ?? DRM_DISCOVERY_INTERVAL_MS,
            fullWalkIntervalMs: opts.fullWalkIntervalMs,
            relinkIntervalMs: opts.relinkIntervalMs,
          });
    // Intel's GPU busy exists only as the sum of its clients' engine time: scan every tick there.
    this.processIntervalMs = devices.some((d) => d.vendor === 'intel') ? 0 : (opts.processIntervalMs ?? DRM_PROCESS_INTERVAL_MS);
  }

  /** Finds amdgpu/i915/xe devices under <sysRoot>/class/drm; null when there are none (absent, not an error). */
  static open(opts: DrmBackendOptions): DrmBackend | null {
    const io = opts.io ?? realDrmIo;
    const base = path.join(opts.sysRoot, 'class', 'drm');
    let cards: string[];
    try {
      cards = io.readdir(base).filter((n) => /^card\d+$/.test(n));
    } catch {
      return null;
    }
    const found = new Map<string, DrmDevice>();
    for (const card of cards.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
      const cardDir = path.join(base, card);
      const dir = path.join(cardDir, 'device');
      let uevent: string;
      try {
        uevent = io.readText(path.join(dir, 'uevent'));
      } catch {
        continue;
      }
      const driver = field(uevent, 'DRIVER');
      const pdev = field(uevent, 'PCI_SLOT_NAME');
      if (!driver || !DRM_DRIVERS.has(driver) || !pdev || found.has(pdev)) continue;
      const pciId = (field(uevent, 'PCI_ID') ?? '').toLowerCase();
      const vendor = driver === 'amdgpu' ? 'amd' : 'intel';
      const product = tryText(io, path.join(dir, 'product_name'));
      const name = product || PCI_NAMES[pciId] || `${vendor === 'amd' ? 'AMD' : 'Intel'} GPU [${pciId || 'unknown id'}]`;
      const uniq = tryText(io, path.join(dir, 'unique_id'));
      const pciBusId = normalizePciBusId(pdev);
      found.set(pdev, {
        card,
        cardDir,
        dir,
        driver,
        vendor,
        pdev,
        pciBusId,
        pciId,
        name,
        uuid: uniq ? `${vendor.toUpperCase()}-${uniq}` : `PCI-${pciBusId}`,
        hwmon: findHwmon(io, dir),
        integrated: vendor === 'intel' && /^0000:00:02\.0$/.test(pdev),
      });
    }
    if (found.size === 0) return null;
    return new DrmBackend([...found.values()], opts);
  }

  /** "2 × AMD Instinct MI300X via amdgpu sysfs". */
  describe(): string {
    const names = this.devices.map((d) => d.name);
    const drivers = [...new Set(this.devices.map((d) => d.driver))].join('/');
    const unique = [...new Set(names)];
    return unique.length === 1 ? `${names.length} × ${unique[0]} via ${drivers} sysfs` : `${names.length} GPUs (${unique.join(', ')}) via ${drivers} sysfs`;
  }

  /** Releases the held sysfs and fdinfo files. Idempotent. */
  close(): void {
    this.held.close();
    this.scanner?.close();
  }

  /** The DRM clients the last read saw, per process and device (tests, bench). */
  get scannerStats(): { filesRead: number; unreadablePids: number; scanned: boolean; walkOps: number } | null {
    return this.scanner
      ? {
          filesRead: this.scanner.filesRead,
          unreadablePids: this.scanner.unreadablePids,
          scanned: this.scannedLast,
          walkOps: this.scannedLast ? this.scanner.walkOps : 0,
        }
      : null;
  }

  /** One tick: every device's sysfs values and every DRM client's use. */
  read(): GpuReading {
    const t = this.now();
    this.scannedLast = false;
    if (this.scanner && (t - this.lastScan >= this.processIntervalMs || t < this.lastScan)) {
      this.clients = this.scanner.scan(t);
      this.lastScan = t;
      this.scannedLast = true;
      // What follows from the clients changes only at a scan: grouped, summed and turned into rows once,
      // not at every tick in between.
      this.byDev.clear();
      for (const c of this.clients) {
        let l = this.byDev.get(c.pdev);
        if (!l) this.byDev.set(c.pdev, (l = []));
        l.push(c);
      }
      this.engByDev.clear();
      for (const [pdev, l] of this.byDev) this.engByDev.set(pdev, engineBusy(l));
      this.procRows = this.processes(this.clients);
    }
    const devices = this.devices.map((d) => this.readDevice(d, t, this.byDev.get(d.pdev) ?? NO_CLIENTS));
    if (this.scannedLast) this.checkUnattributed(devices, this.byDev, t);
    return { backend: 'drm', driverVersion: null, cudaVersion: null, devices, processes: this.procRows.slice() };
  }

  /** `path.join(dir, name)`, remembered: the same few dozen paths are read at every tick. */
  private pj(dir: string, name: string): string {
    let m = this.joined.get(dir);
    if (!m) this.joined.set(dir, (m = new Map()));
    let p = m.get(name);
    if (p === undefined) m.set(name, (p = path.join(dir, name)));
    return p;
  }

  /** Busy ratio per engine of a device's clients at the last scan. */
  private engines(d: DrmDevice): ReadonlyMap<string, number> {
    return this.engByDev.get(d.pdev) ?? NO_ENGINES;
  }

  /**
   * An AMD GPU reports its used VRAM (mem_info_vram_used) apart from the clients: when what no known
   * client holds grows by UNATTRIBUTED_VRAM_TRIGGER_BYTES, a process has most likely opened the GPU on an
   * fd number the incremental check does not follow again, so every link is re-read now rather than at
   * the 10-minute re-link. Compared on scan ticks only, when the clients' memory is fresh.
   */
  private checkUnattributed(readings: DeviceReading[], byDev: Map<string, DrmClientUse[]>, t: number): void {
    for (let i = 0; i < this.devices.length; i++) {
      const d = this.devices[i];
      const used = metricOf(readings[i], 'memory_used_bytes');
      if (d.vendor !== 'amd' || used === null) continue;
      let known = 0;
      for (const c of byDev.get(d.pdev) ?? []) if (c.memoryIsLocal && c.memoryBytes !== null) known += c.memoryBytes;
      const free = used - known;
      const base = this.unattributedBase.get(d.pdev);
      if (base === undefined || free < base) this.unattributedBase.set(d.pdev, free);
      else if (free - base > UNATTRIBUTED_VRAM_TRIGGER_BYTES && t - this.lastRelinkTrigger >= RELINK_TRIGGER_MIN_INTERVAL_MS) {
        this.log.debug(`GPU ${d.pciBusId}: ${Math.round((free - base) / 1024 ** 2)} MiB of VRAM held by no known process: re-reading every fd link`);
        this.scanner?.requestRelink();
        this.lastRelinkTrigger = t;
        this.relinkTriggers++;
        this.unattributedBase.set(d.pdev, free);
      }
    }
  }

  private processes(clients: DrmClientUse[]): ProcessReading[] {
    // One row per (pid, device): a process with several clients on one GPU (several contexts) sums them.
    const rows = new Map<string, { row: ProcessReading; compute: boolean; gfx: boolean }>();
    for (const c of clients) {
      const key = `${c.pid}|${c.pdev}`;
      let r = rows.get(key);
      if (!r) {
        const pciBusId = this.busIdOf.get(c.pdev) ?? normalizePciBusId(c.pdev);
        r = { row: { pciBusId, pid: c.pid, usedMemoryBytes: null, smUtilRatio: null, type: 'unknown' }, compute: false, gfx: false };
        rows.set(key, r);
      }
      const row = r.row;
      if (c.memoryBytes !== null) row.usedMemoryBytes = (row.usedMemoryBytes ?? 0) + c.memoryBytes;
      if (c.utilRatio !== null) row.smUtilRatio = Math.min(1, (row.smUtilRatio ?? 0) + c.utilRatio);
      for (const [e, v] of c.engines) {
        if (v <= 0) continue;
        if (e === 'compute' || e === 'ccs') r.compute = true;
        else if (e === 'gfx' || e === 'render' || e === 'rcs') r.gfx = true;
      }
    }
    const out: ProcessReading[] = [];
    for (const r of rows.values()) {
      r.row.type = r.compute ? 'compute' : r.gfx ? 'graphics' : 'unknown';
      out.push(r.row);
    }
    return out;
  }

  private readDevice(d: DrmDevice, t: number, clients: DrmClientUse[]): DeviceReading {
    const m: MetricRecord = { ...EMPTY_METRICS };
    const why: Partial<Record<string, string>> = {};
    const notes: string[] = [];
    const extra: Record<string, number | null> = {};
    const reading: DeviceReading = {
      name: d.name,
      uuid: d.uuid,
      pciBusId: d.pciBusId,
      computeCapability: null,
      migMode: null,
      throttleMask: null,
      metrics: m,
      notes,
      vendor: d.vendor,
      driver: d.driver,
      extra,
    };
    const r = new DeviceReads(this.held, why, notes, this.missingOf(d));
    if (d.vendor === 'amd') this.readAmd(d, r, m, extra, clients, t);
    else this.readIntel(d, r, m, extra, notes, clients, t);
    // A read that failed may mean the GPU fell off the bus (or was unbound): only then is uevent checked.
    // A vanished GPU keeps its index with every value null, so the series of the GPUs after it do not shift.
    if (r.failed || this.gone.has(d.pdev)) {
      try {
        this.io.readText(path.join(d.dir, 'uevent'));
        if (this.gone.delete(d.pdev)) {
          this.log.warn(`GPU ${d.pciBusId} (${d.name}) is back`);
          this.forget(d);
          return this.readDevice(d, t, clients);
        }
      } catch (e) {
        const reason = `GPU disappeared: ${readFailure(path.join(d.dir, 'uevent'), e)}`;
        if (!this.gone.has(d.pdev)) this.log.warn(`GPU ${d.pciBusId} (${d.name}): ${reason}; its values are null until it returns`);
        this.gone.add(d.pdev);
        this.forget(d);
        const empty = emptyMetrics();
        return { ...reading, metrics: empty, extra: {}, notes: [reason], unavailable: Object.fromEntries(Object.keys(empty).map((k) => [k, reason])) };
      }
    }
    m.memory_used_ratio = m.memory_used_bytes !== null && m.memory_total_bytes ? m.memory_used_bytes / m.memory_total_bytes : null;
    if (m.memory_used_ratio === null && !why.memory_used_ratio)
      why.memory_used_ratio = why.memory_used_bytes ?? why.memory_total_bytes ?? 'memory total not known';
    // The reasons of what is null: a value read after all drops its reason; a null metric without one gets
    // the default. (In one pass, without deleting from `why`: this runs for every GPU at every tick.)
    const unavailable: Record<string, string> = {};
    let told = this.told.get(d.pdev);
    const first = !told;
    if (!told) this.told.set(d.pdev, (told = new Set()));
    const fresh: string[] = [];
    const add = (k: string, v: string): void => {
      unavailable[k] = v;
      if (!told.has(k)) {
        told.add(k);
        fresh.push(`${k} (${v})`);
      }
    };
    for (const k in why) {
      const v = why[k];
      if (v === undefined) continue;
      const value = k in m ? m[k as GpuMetric] : extra[k];
      if (value !== null && value !== undefined) continue;
      add(k, v);
    }
    for (const k of GPU_METRICS) if (m[k] === null && unavailable[k] === undefined) add(k, `not exposed by ${d.driver}`);
    // Once per metric: the first tick lists every absence in one line; later losses each get a warning.
    if (fresh.length > 0) {
      const line = `GPU ${d.pciBusId} (${d.name}, ${d.driver}): null: ${fresh.join('; ')}`;
      if (first) this.log.info(line);
      else this.log.warn(line);
    }
    reading.unavailable = unavailable;
    return reading;
  }

  private readAmd(d: DrmDevice, r: DeviceReads, m: MetricRecord, extra: Record<string, number | null>, clients: DrmClientUse[], t: number): void {
    const dir = d.dir;
    const hw = d.hwmon;
    // Slow-changing values (sizes, caps, DPM tables' top levels, link, RAS) are read every SLOW_REFRESH_MS.
    const slow = this.slow(d, t, r, (s) => {
      const v: Record<string, number | null> = {};
      v.memory_total_bytes = s.num(this.pj(dir, 'mem_info_vram_total'), 'memory_total_bytes');
      v.gtt_total_bytes = s.num(this.pj(dir, 'mem_info_gtt_total'), 'gtt_total_bytes');
      const sclk = s.dpm(this.pj(dir, 'pp_dpm_sclk'), 'sm_clock_max_hertz');
      const mclk = s.dpm(this.pj(dir, 'pp_dpm_mclk'), 'memory_clock_max_hertz');
      v.sm_clock_max_hertz = sclk ? sclk.maxHz : null;
      v.memory_clock_max_hertz = mclk ? mclk.maxHz : null;
      v.pcie_link_width_count = s.num(this.pj(dir, 'current_link_width'), 'pcie_link_width_count');
      v.pcie_link_transfers_per_second = s.text(this.pj(dir, 'current_link_speed'), 'pcie_link_transfers_per_second', parseLinkSpeed);
      v.power_limit_watts = hw?.files.has('power1_cap')
        ? s.microWatts(this.pj(hw.dir, 'power1_cap'), 'power_limit_watts')
        : s.absent('power_limit_watts', hw ? `no power1_cap under ${hw.dir}` : `no hwmon directory under ${dir}`);
      const ras = s.optionalText(path.join(dir, 'ras', 'umc_err_count'));
      if (ras !== null) {
        const ue = /ue:\s*(\d+)/.exec(ras);
        const ce = /ce:\s*(\d+)/.exec(ras);
        v.ecc_volatile_errors_count = ue || ce ? Number(ue?.[1] ?? 0) + Number(ce?.[1] ?? 0) : null;
      } else v.ecc_volatile_errors_count = s.absent('ecc_volatile_errors_count', 'no ras/umc_err_count (RAS not enabled on this GPU)');
      return v;
    });
    m.memory_total_bytes = slow.memory_total_bytes;
    m.sm_clock_max_hertz = slow.sm_clock_max_hertz;
    m.memory_clock_max_hertz = slow.memory_clock_max_hertz;
    m.power_limit_watts = slow.power_limit_watts;
    m.ecc_volatile_errors_count = slow.ecc_volatile_errors_count;
    extra.gtt_total_bytes = slow.gtt_total_bytes;
    m.memory_used_bytes = r.num(this.pj(dir, 'mem_info_vram_used'), 'memory_used_bytes');
    extra.gtt_used_bytes = r.num(this.pj(dir, 'mem_info_gtt_used'), 'gtt_used_bytes');

    // The binary table carries in one read what half a dozen files would: use it first where it decodes.
    const gm = this.gpuMetrics(d, r);
    let edge: number | null = gm?.edgeC ?? null;
    let junction: number | null = gm?.hotspotC ?? null;
    let mem: number | null = gm?.memC ?? null;
    if (gm) {
      m.utilization_ratio = gm.gfxActivityRatio;
      m.memory_utilization_ratio = gm.umcActivityRatio;
      m.power_watts = gm.socketPowerW;
      m.sm_clock_hertz = gm.gfxClkHz;
      m.memory_clock_hertz = gm.uclkHz;
      extra.pcie_link_width_count = gm.pcieWidth;
      extra.pcie_link_transfers_per_second = gm.pcieSpeed;
      if (gm.throttleStatus !== null) extra.throttle_status_mask = gm.throttleStatus;
    }
    // Files fill what the table lacks (or everything, on GPUs without one).
    if (m.utilization_ratio === null) m.utilization_ratio = r.ratio(this.pj(dir, 'gpu_busy_percent'), 'utilization_ratio');
    if (m.memory_utilization_ratio === null) m.memory_utilization_ratio = r.ratio(this.pj(dir, 'mem_busy_percent'), 'memory_utilization_ratio');
    if (m.sm_clock_hertz === null) m.sm_clock_hertz = r.dpm(this.pj(dir, 'pp_dpm_sclk'), 'sm_clock_hertz')?.currentHz ?? null;
    if (m.memory_clock_hertz === null) m.memory_clock_hertz = r.dpm(this.pj(dir, 'pp_dpm_mclk'), 'memory_clock_hertz')?.currentHz ?? null;
    extra.pcie_link_width_count ??= slow.pcie_link_width_count;
    extra.pcie_link_transfers_per_second ??= slow.pcie_link_transfers_per_second;
    if (hw) {
      const temp = (label: string, key: string): number | null => {
        const i = hw.temps?.get(label);
        return i === undefined ? r.absent(key, `hwmon has no "${label}" sensor`) : r.milli(this.pj(hw.dir, `temp${i}_input`), key);
      };
      if (hw.temps) {
        if (edge === null) edge = temp('edge', 'temperature_celsius');
        if (junction === null) junction = temp('junction', 'temperature_junction_celsius');
        if (mem === null) mem = temp('mem', 'temperature_memory_celsius');
      } else if (edge === null && hw.tempIdx.length > 0) {
        // Without labels the first sensor is amdgpu's edge sensor (temp1 is always edge where it exists).
        edge = r.milli(this.pj(hw.dir, `temp${hw.tempIdx[0]}_input`), 'temperature_celsius');
        r.note(`hwmon has no temperature labels: temp${hw.tempIdx[0]} is taken as the GPU temperature`);
      }
      if (m.power_watts === null) {
        const f = hw.files.has('power1_average') ? 'power1_average' : hw.files.has('power1_input') ? 'power1_input' : null;
        m.power_watts = f ? r.microWatts(this.pj(hw.dir, f), 'power_watts') : r.absent('power_watts', `no power1_average or power1_input under ${hw.dir}`);
      }
      m.fan_ratio = r.fan(hw);
    } else {
      for (const k of ['temperature_celsius', 'power_watts', 'fan_ratio']) r.absent(k, `no hwmon directory under ${dir}`);
    }
    if (edge === null && junction !== null) {
      r.note('no edge sensor: temperature_celsius is the junction (hotspot) temperature');
      edge = junction;
    }
    m.temperature_celsius = edge;
    extra.temperature_junction_celsius = junction;
    extra.temperature_memory_celsius = mem;
    r.absent('pstate_count', 'amdgpu has no P-states (see power_dpm_force_performance_level)');
    r.absent('memory_reserved_bytes', 'amdgpu does not report reserved VRAM separately');
    // pcie_bw samples for a whole second inside the read: far too slow for a tick.
    r.absent('pcie_rx_bytes_per_second', 'amdgpu only measures PCIe traffic in a 1 s blocking read (pcie_bw)');
    r.absent('pcie_tx_bytes_per_second', 'amdgpu only measures PCIe traffic in a 1 s blocking read (pcie_bw)');
    const eng = this.engines(d);
    m.decoder_utilization_ratio = this.scanner ? (maxOf(eng, /^(dec|vcn|jpeg)/) ?? 0) : r.absent('decoder_utilization_ratio', 'per-process scan is off');
    m.encoder_utilization_ratio = this.scanner ? (maxOf(eng, /^enc/) ?? 0) : r.absent('encoder_utilization_ratio', 'per-process scan is off');
  }

  private missingOf(d: DrmDevice): Map<string, string> {
    let m = this.missing.get(d.pdev);
    if (!m) this.missing.set(d.pdev, (m = new Map()));
    return m;
  }

  /** Drops what was remembered about a device's files (it vanished or came back). */
  private forget(d: DrmDevice): void {
    this.missing.delete(d.pdev);
    this.held.dropUnder(d.cardDir);
    this.slowCache.delete(d.pdev);
    this.prevEnergy.delete(d.pdev);
  }

  /** The slow-changing values of a device, re-read every SLOW_REFRESH_MS; their reasons are merged every tick. */
  private slow(d: DrmDevice, t: number, cur: DeviceReads, read: (s: DeviceReads) => Record<string, number | null>): Record<string, number | null> {
    let c = this.slowCache.get(d.pdev);
    if (!c || t - c.t >= SLOW_REFRESH_MS || t < c.t) {
      const why: Partial<Record<string, string>> = {};
      const notes: string[] = [];
      const s = new DeviceReads(this.held, why, notes, this.missingOf(d));
      const values = read(s);
      // Kept as pairs: merged into the tick's reasons at every tick until the next refresh.
      const pairs: [string, string][] = [];
      for (const k in why) {
        const v = why[k];
        if (v !== undefined) pairs.push([k, v]);
      }
      c = { t, values, why: pairs, notes };
      this.slowCache.set(d.pdev, c);
    }
    for (const [k, v] of c.why) cur.absent(k, v);
    for (const n of c.notes) cur.note(n);
    return c.values;
  }

  private readIntel(
    d: DrmDevice,
    r: DeviceReads,
    m: MetricRecord,
    extra: Record<string, number | null>,
    notes: string[],
    clients: DrmClientUse[],
    t: number,
  ): void {
    const eng = this.engines(d);
    if (this.scanner) {
      // The busiest engine class over every client: what intel_gpu_top shows as the headline.
      let max = 0;
      for (const v of eng.values()) if (v > max) max = v;
      m.utilization_ratio = max;
      m.decoder_utilization_ratio = maxOf(eng, /^(video|vcs)$/) ?? 0;
      r.absent('encoder_utilization_ratio', `${d.driver} reports one video engine for decode and encode: see decoder_utilization_ratio`);
    } else {
      r.absent('utilization_ratio', `${d.driver} reports engine busy only per client (fdinfo), and the per-process scan is off`);
    }
    r.absent('memory_utilization_ratio', `${d.driver} does not report memory-controller activity`);
    if (d.integrated) {
      r.absent('memory_used_bytes', 'integrated GPU: it uses system memory (see host memory)');
      r.absent('memory_total_bytes', 'integrated GPU: it uses system memory (see host memory)');
    } else {
      m.memory_total_bytes = this.slow(d, t, r, (s) => ({ memory_total_bytes: intelVramTotal(this.io, d, s) })).memory_total_bytes;
      if (this.scanner) {
        let sum = 0;
        for (const c of clients) if (c.memoryIsLocal && c.memoryBytes !== null) sum += c.memoryBytes;
        m.memory_used_bytes = sum;
        notes.push('memory used is the sum of DRM clients’ VRAM (fdinfo); kernel-internal allocations are not counted');
      } else r.absent('memory_used_bytes', 'per-process scan is off');
    }
    if (d.driver === 'xe') {
      const f = path.join(d.dir, 'tile0', 'gt0', 'freq0');
      m.sm_clock_hertz = r.mhzFile(this.pj(f, 'act_freq'), 'sm_clock_hertz');
      m.sm_clock_max_hertz = r.mhzFile(this.pj(f, 'rp0_freq'), 'sm_clock_max_hertz');
    } else {
      m.sm_clock_hertz = r.mhzFile(this.pj(d.cardDir, 'gt_act_freq_mhz'), 'sm_clock_hertz');
      m.sm_clock_max_hertz = r.mhzFile(this.pj(d.cardDir, 'gt_RP0_freq_mhz'), 'sm_clock_max_hertz');
    }
    const hw = d.hwmon;
    if (hw) {
      const idx = hw.temps?.get('pkg') ?? hw.temps?.get('card') ?? hw.tempIdx[0];
      m.temperature_celsius =
        idx === undefined
          ? r.absent('temperature_celsius', `${d.driver} hwmon has no temperature sensor on this kernel/GPU`)
          : r.milli(this.pj(hw.dir, `temp${idx}_input`), 'temperature_celsius');
      const vram = hw.temps?.get('vram');
      extra.temperature_memory_celsius = vram === undefined ? null : r.milli(this.pj(hw.dir, `temp${vram}_input`), 'temperature_memory_celsius');
      // Power from the card's energy counter (µJ) over the tick: i915/xe have no instantaneous power file.
      const uj = r.num(this.pj(hw.dir, 'energy1_input'), 'power_watts');
      const prev = this.prevEnergy.get(d.pdev);
      if (uj !== null) {
        this.prevEnergy.set(d.pdev, { t, uj });
        m.power_watts = prev && t > prev.t && uj >= prev.uj ? (uj - prev.uj) / 1e6 / ((t - prev.t) / 1000) : null;
        if (m.power_watts === null) r.absent('power_watts', 'first tick: power comes from the energy counter’s change');
      }
      const cap = r.microWatts(this.pj(hw.dir, 'power1_max'), 'power_limit_watts');
      m.power_limit_watts = cap === 0 ? r.absent('power_limit_watts', 'power1_max is 0 (no limit set)') : cap;
      const rpm = r.optionalText(this.pj(hw.dir, 'fan1_input'));
      r.absent('fan_ratio', rpm !== null ? `${d.driver} reports fan RPM (${rpm.trim()}) but no maximum to scale it by` : `${d.driver} exposes no fan control`);
      if (rpm !== null) extra.fan_rpm = Number(rpm) || null;
    } else {
      const why = d.integrated ? 'integrated GPU: no hwmon (temperature and power are the CPU package’s)' : `no hwmon directory under ${d.dir}`;
      for (const k of ['temperature_celsius', 'power_watts', 'power_limit_watts', 'fan_ratio']) r.absent(k, why);
    }
    r.absent('memory_clock_hertz', `${d.driver} does not expose the memory clock`);
    r.absent('memory_clock_max_hertz', `${d.driver} does not expose the memory clock`);
    r.absent('pstate_count', `${d.driver} has no P-states`);
    r.absent('ecc_volatile_errors_count', `${d.driver} exposes no ECC counters in sysfs`);
    r.absent('memory_reserved_bytes', `${d.driver} does not report reserved memory`);
    r.absent('pcie_rx_bytes_per_second', `${d.driver} does not report PCIe traffic`);
    r.absent('pcie_tx_bytes_per_second', `${d.driver} does not report PCIe traffic`);
    const link = d.integrated ? null : r.text(this.pj(d.dir, 'current_link_speed'), 'pcie_link_transfers_per_second', parseLinkSpeed);
    if (!d.integrated) {
      extra.pcie_link_transfers_per_second = link;
      extra.pcie_link_width_count = r.num(this.pj(d.dir, 'current_link_width'), 'pcie_link_width_count');
    }
  }

  private gpuMetrics(d: DrmDevice, r: DeviceReads): GpuMetrics | null {
    const file = this.pj(d.dir, 'gpu_metrics');
    const missing = this.missingOf(d);
    if (missing.has(file)) return null;
    let b: Buffer;
    try {
      // The table is at most a page: a held fd and one pread, like the text files.
      b = Buffer.from(this.held.read(file), 'latin1');
    } catch (e) {
      if (errCode(e) === 'ENOENT') missing.set(file, readFailure(file, e));
      else this.log.warnOnce(`gpu_metrics:${d.pdev}`, `GPU ${d.pciBusId}: ${readFailure(file, e)}; values it would fill stay null`);
      return null;
    }
    const g = decodeGpuMetrics(b);
    if ('unsupported' in g) {
      this.log.warnOnce(
        `gpu_metrics-v:${d.pdev}`,
        `GPU ${d.pciBusId}: gpu_metrics v${g.unsupported} is not decoded (Rigwatch reads v1.1–v1.6); sysfs files only`,
      );
      return null;
    }
    if ('error' in g) {
      this.log.warnOnce(`gpu_metrics-e:${d.pdev}`, `GPU ${d.pciBusId}: ${g.error}; ignored`);
      return null;
    }
    r.note(`gpu_metrics v${g.version}`);
    return g;
  }
}

/**
 * VRAM size of a discrete Intel GPU from sysfs, or null with the reason.
 * - xe: `device/tile<N>/physical_vram_size_bytes`, one per tile (summed), created by
 *   drivers/gpu/drm/xe/xe_tile_sysfs.c on discrete GPUs other than DG1 since the driver's merge (6.8). It
 *   is the tile's physical size (`actual_physical_size`), a little above what the driver can allocate
 *   (igt's xe_sysfs_tile test checks it is larger than the DRM query's vram size): noted.
 * - i915: `card<N>/lmem_total_bytes` exists only in Intel's out-of-tree (DKMS/backport) i915; mainline
 *   i915 has no VRAM size in sysfs. nvtop and intel_gpu_top ask the driver with a DRM query ioctl
 *   (DRM_XE_DEVICE_QUERY_MEM_REGIONS / DRM_I915_QUERY_MEMORY_REGIONS), which Rigwatch does not call.
 */
function intelVramTotal(io: DrmIo, d: DrmDevice, s: DeviceReads): number | null {
  if (d.driver === 'xe') {
    let tiles: string[];
    try {
      tiles = io.readdir(d.dir).filter((n) => /^tile\d+$/.test(n));
    } catch (e) {
      return s.absent('memory_total_bytes', readFailure(d.dir, e));
    }
    let sum = 0;
    let any = false;
    for (const tile of tiles) {
      const v = s.optionalText(path.join(d.dir, tile, 'physical_vram_size_bytes'));
      const n = v === null ? NaN : Number(v.trim());
      if (Number.isFinite(n) && n > 0) {
        sum += n;
        any = true;
      }
    }
    if (any) {
      s.note('VRAM total is the tiles’ physical size (physical_vram_size_bytes), a little above what xe can allocate');
      return sum;
    }
    return s.absent(
      'memory_total_bytes',
      'xe has no tile*/physical_vram_size_bytes for this GPU (DG1, or a kernel before 6.8); the size is only in a DRM query ioctl, which Rigwatch does not call',
    );
  }
  const v = s.optionalText(path.join(d.cardDir, 'lmem_total_bytes'));
  const n = v === null ? NaN : Number(v.trim());
  if (Number.isFinite(n) && n > 0) return n;
  return s.absent(
    'memory_total_bytes',
    'mainline i915 has no VRAM size in sysfs (lmem_total_bytes is only in Intel’s backport driver); the size is only in a DRM query ioctl, which Rigwatch does not call',
  );
}

/** Busy ratio per engine on one device: the sum over its clients (capped at 1). */
function engineBusy(clients: DrmClientUse[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of clients) for (const [e, v] of c.engines) out.set(e, Math.min(1, (out.get(e) ?? 0) + v));
  return out;
}

function maxOf(eng: ReadonlyMap<string, number>, re: RegExp): number | null {
  let max: number | null = null;
  for (const [e, v] of eng) if (re.test(e) && (max === null || v > max)) max = v;
  return max;
}

function tryText(io: DrmIo, p: string): string {
  try {
    return io.readText(p).trim();
  } catch {
    return '';
  }
}

function findHwmon(io: DrmIo, dir: string): Hwmon | null {
  let names: string[];
  try {
    names = io.readdir(path.join(dir, 'hwmon')).filter((n) => /^hwmon\d+$/.test(n));
  } catch {
    return null;
  }
  if (names.length === 0) return null;
  const hdir = path.join(dir, 'hwmon', names[0]);
  let files: string[];
  try {
    files = io.readdir(hdir);
  } catch {
    return null;
  }
  const tempIdx = files
    .map((f) => /^temp(\d+)_input$/.exec(f))
    .filter((x): x is RegExpExecArray => x !== null)
    .map((x) => Number(x[1]))
    .sort((a, b) => a - b);
  const temps = new Map<string, number>();
  for (const i of tempIdx) {
    const label = tryText(io, path.join(hdir, `temp${i}_label`));
    if (label) temps.set(label.toLowerCase(), i);
  }
  return { dir: hdir, temps: temps.size > 0 ? temps : null, tempIdx, files: new Set(files) };
}

/** One device's reads within one tick, recording why a value is null. */
class DeviceReads {
  /** A read failed for a reason other than a file remembered as missing. */
  failed = false;
  constructor(
    private readonly held: HeldFiles,
    private readonly why: Partial<Record<string, string>>,
    private readonly notes: string[],
    private readonly missing: Map<string, string>,
  ) {}

  /** Marks `key` unavailable with `reason` (first reason wins); returns null. */
  absent(key: string, reason: string): null {
    this.why[key] ??= reason;
    return null;
  }

  /** A note shown with the device. */
  note(s: string): void {
    if (!this.notes.includes(s)) this.notes.push(s);
  }

  optionalText(p: string): string | null {
    try {
      return this.held.read(p);
    } catch {
      return null;
    }
  }

  /** Text of a file, or null with the reason recorded (a missing file is remembered and not opened again). */
  raw(p: string, key: string): string | null {
    const known = this.missing.get(p);
    if (known !== undefined) return this.absent(key, known);
    try {
      return this.held.read(p);
    } catch (e) {
      const reason = readFailure(p, e);
      if (errCode(e) === 'ENOENT') this.missing.set(p, reason);
      this.failed = true;
      return this.absent(key, reason);
    }
  }

  text(p: string, key: string, parse: (s: string) => number | null): number | null {
    const s = this.raw(p, key);
    if (s === null) return null;
    const v = parse(s);
    return v === null ? this.absent(key, `${p}: unexpected contents`) : v;
  }

  num(p: string, key: string): number | null {
    return this.text(p, key, (s) => {
      const n = Number(s.trim());
      return s.trim() !== '' && Number.isFinite(n) ? n : null;
    });
  }

  ratio(p: string, key: string): number | null {
    const v = this.num(p, key);
    return v === null ? null : Math.min(1, Math.max(0, v / 100));
  }

  milli(p: string, key: string): number | null {
    const v = this.num(p, key);
    return v === null ? null : v / 1000;
  }

  /** µW → W. */
  microWatts(p: string, key: string): number | null {
    const v = this.num(p, key);
    return v === null ? null : v / 1e6;
  }

  mhzFile(p: string, key: string): number | null {
    const v = this.num(p, key);
    return v === null ? null : v * 1e6;
  }

  dpm(p: string, key: string): ReturnType<typeof parseDpmClock> {
    const s = this.raw(p, key);
    if (s === null) return null;
    const c = parseDpmClock(s);
    if (!c) this.absent(key, `${p}: no clock levels`);
    return c;
  }

  /** amdgpu fan: pwm1 (0–255 of pwm1_max), else fan1_input / fan1_max RPM. */
  fan(hw: Hwmon): number | null {
    if (hw.files.has('pwm1')) {
      const v = this.num(path.join(hw.dir, 'pwm1'), 'fan_ratio');
      const max = hw.files.has('pwm1_max') ? Number(this.optionalText(path.join(hw.dir, 'pwm1_max'))) || 255 : 255;
      return v === null ? null : Math.min(1, v / max);
    }
    if (hw.files.has('fan1_input') && hw.files.has('fan1_max')) {
      const rpm = this.num(path.join(hw.dir, 'fan1_input'), 'fan_ratio');
      const max = this.num(path.join(hw.dir, 'fan1_max'), 'fan_ratio');
      return rpm !== null && max !== null && max > 0 ? Math.min(1, rpm / max) : null;
    }
    return this.absent('fan_ratio', `no fan sensor under ${hw.dir} (passively cooled GPU?)`);
  }
}
