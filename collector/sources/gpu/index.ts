// The NVIDIA GPU source: NVML (through koffi, in a worker thread with a watchdog) when it can be
// loaded, else one streaming nvidia-smi child; GPUs ordered by PCI bus id. See docs/gpu.md.

import * as path from 'node:path';
import type { GpuDetails } from '../../../protocol/details/gpu';
import type { ProbeResult, SampleResult, Source, SourceContext, SourceFactory } from '../../source';
import { SourceError } from '../../source';
import type { Logger } from '../../log';
import { parseGpuConfig, type GpuConfig } from './config';
import { NvmlBackend } from './nvml-backend';
import { NvmlEventThread } from './nvml-events';
import { XidStore, xidKey } from './xid-store';
import { KernelXidWatcher, type KernelXid } from './kernel-xid';
import { JournalXidWatcher } from './journal-xid';
import { gpuHealth, VERDICT_STATE } from './health';
import { ThrottleWindows } from './throttle-window';
import { ProcessEnergy } from './process-energy';
import { xidInfo } from '../../../protocol/details/gpu-xid';
import type { GpuEventsInfo, GpuXidSummary } from '../../../protocol/details/gpu';

export { stuckNvmlWorkers } from './nvml-backend';
import { SmiBackend } from './smi-backend';
import { DrmBackend } from './drm/drm-backend';
import { AppleGpuBackend } from './apple/ioreg';

/** A GPU backend read beside (or instead of) NVIDIA's: DRM (AMD/Intel on Linux) or ioreg (Apple). */
interface ExtraGpuBackend {
  read(): GpuReading;
  describe(): string;
  close(): void;
}
import { ProcessInfoCache } from './proc-info';
import { UnresolvedPids } from './unresolved-pids';
import { buildSample, metricOf, sortByPciBusId, type GpuReading, type ProcessLookup } from './reading';
import { ContainerNames, KubeletPods, ProcOwnerReader, procRootOf, type ContainerInfo } from '../proc-owner';
import type { DockerDetails } from '../../../protocol/details/docker';
import { addWasteSeries } from './waste';
import { fetchReport, findExecutable, type GpuReport } from './report';

/** After "no GPU here", probes within this window answer from memory (a long backoff that costs nothing). */
export const NO_GPU_REPROBE_MS = 60_000;
/** Extra time the tick loop allows beyond the NVML watchdog, so our own watchdog fires first. */
const SAMPLE_TIMEOUT_MARGIN_MS = 500;

/** The `gpu` source. */
export class GpuSource implements Source {
  readonly id = 'gpu';
  readonly kind = 'gpu';
  readonly sampleTimeoutMs: number;
  readonly actions: Source['actions'];
  private nvml: NvmlBackend | null = null;
  private smi: SmiBackend | null = null;
  private backendReason: string | undefined;
  private busOrder: string[] = [];
  /** Details of the last sample: the report maps an index to a PCI bus id from it (lazily, not per tick). */
  private lastDetails: GpuDetails | null = null;
  private noGpu: { until: number; result: ProbeResult } | null = null;
  /** Name and user only (gpu.attribution: false). */
  private readonly procs: ProcessInfoCache;
  /** AMD/Intel GPUs through DRM sysfs + fdinfo (or Apple's through ioreg), alongside or instead of NVIDIA's backend. */
  private drm: ExtraGpuBackend | null = null;
  /** Full attribution (default). */
  private readonly owners: ProcOwnerReader | null;
  private readonly names: ContainerNames | null;
  private readonly lookup: ProcessLookup;
  /** Pids /proc could not resolve, remembered between ticks (see unresolved-pids.ts). */
  readonly unresolved: UnresolvedPids;
  private readonly log: Logger;
  private events: NvmlEventThread | null = null;
  /** CPU the last closed event thread used, ns (benchmarks), or null. */
  eventThreadCpuNs: number | null = null;
  private closingEvents: Promise<unknown> = Promise.resolve();
  /** Per PCI bus id: null = events registered, a string = why not; absent = not known yet. */
  private readonly eventReasons = new Map<string, string | null>();
  private eventsUnavailable: string | null = null;
  private readonly xids = new XidStore();
  /** Per-reason throttle shares over the last 5 min, per NVIDIA GPU. */
  private readonly throttle = new ThrottleWindows();
  /** Health series names per GPU index, built once. */
  private readonly healthKeys: HealthKeys[] = [];
  /** Per-process energy estimates (NVML). */
  private readonly procEnergy = new ProcessEnergy();
  /** Kernel-log fallback: the watcher, or why it cannot run; null until a GPU needs it. */
  private kernel: KernelXidWatcher | string | null = null;
  /** Journal fallback, when /dev/kmsg is not readable: journalctl -k followed, or null. */
  private journal: JournalXidWatcher | null = null;

  constructor(
    private readonly cfg: GpuConfig,
    private readonly ctx: SourceContext,
  ) {
    this.log = ctx.log;
    this.sampleTimeoutMs = cfg.callTimeoutMs + SAMPLE_TIMEOUT_MARGIN_MS;
    this.actions = { report: (args) => this.report(args) };
    this.procs = new ProcessInfoCache(procRootOf(ctx.env));
    if (cfg.attribution) {
      const names = new ContainerNames(() => dockerContainers(ctx), cfg.kubeletUrl ? new KubeletPods(cfg.kubeletUrl) : null);
      const owners = new ProcOwnerReader({ procRoot: procRootOf(ctx.env), names });
      this.owners = owners;
      this.names = names;
      this.unresolved = new UnresolvedPids((pid) => owners.lookup(pid), { procRoot: procRootOf(ctx.env) });
    } else {
      this.owners = null;
      this.names = null;
      this.unresolved = new UnresolvedPids((pid) => this.procs.lookup(pid), { procRoot: procRootOf(ctx.env) });
    }
    this.lookup = this.unresolved.lookup;
  }

  /** Which backend is active (tests, status). */
  get backend(): 'nvml' | 'nvidia-smi' | null {
    return this.nvml ? 'nvml' : this.smi ? 'nvidia-smi' : null;
  }

  /** The fallback backend, when active (tests). */
  get smiBackend(): SmiBackend | null {
    return this.smi;
  }

  /** Probes NVIDIA (NVML, else nvidia-smi) and the DRM GPUs; ready when either finds a GPU. */
  async probe(signal: AbortSignal): Promise<ProbeResult> {
    this.drm?.close();
    this.drm = null;
    let drm: ExtraGpuBackend | null = this.cfg.drm
      ? DrmBackend.open({
          sysRoot: this.cfg.sysRoot,
          procRoot: this.cfg.procRoot,
          log: this.log.child('drm'),
          discoveryIntervalMs: this.cfg.drmDiscoveryIntervalMs,
        })
      : null;
    // Macs: the accelerator statistics ioreg prints (RIGWATCH_IOREG names a stand-in command for tests).
    if (!drm && (process.platform === 'darwin' || this.ctx.env.RIGWATCH_IOREG))
      drm = await AppleGpuBackend.open(this.ctx.env.RIGWATCH_IOREG || 'ioreg', this.log.child('apple'));
    if (!drm) return this.probeNvidia(signal);
    let nv: ProbeResult;
    try {
      nv = await this.probeNvidia(signal);
    } catch (e) {
      nv = { status: 'unavailable', reason: (e as Error).message, retry: true };
    }
    this.drm = drm;
    drm.read(); // primes the engine-time and energy baselines
    if (nv.status === 'ready') return { status: 'ready', description: `${nv.description ?? 'NVIDIA'}; ${drm.describe()}` };
    return { status: 'ready', description: drm.describe() };
  }

  private async probeNvidia(signal: AbortSignal): Promise<ProbeResult> {
    this.closeBackends();
    if (this.noGpu && Date.now() < this.noGpu.until) return this.noGpu.result;
    this.noGpu = null;
    let nvmlWhy: string | null = null;
    let nvmlNotFound = false;
    if (this.cfg.backend !== 'nvidia-smi') {
      let r = await NvmlBackend.open({
        libPath: this.cfg.nvmlPaths[0],
        initTimeoutMs: this.cfg.initTimeoutMs,
        callTimeoutMs: this.cfg.callTimeoutMs,
        migDiscoveryIntervalMs: this.cfg.migDiscoveryIntervalMs,
        log: this.log,
      });
      // Windows: System32 first, then the NVSMI folder of older drivers.
      for (let i = 1; i < this.cfg.nvmlPaths.length && !r.ok && r.stage === 'load' && !signal.aborted; i++) {
        r = await NvmlBackend.open({
          libPath: this.cfg.nvmlPaths[i],
          initTimeoutMs: this.cfg.initTimeoutMs,
          callTimeoutMs: this.cfg.callTimeoutMs,
          migDiscoveryIntervalMs: this.cfg.migDiscoveryIntervalMs,
          log: this.log,
        });
      }
      if (signal.aborted) {
        if (r.ok) r.backend.close();
        return { status: 'unavailable', reason: 'probe aborted', retry: true };
      }
      if (r.ok) {
        if (r.backend.info.devices.length === 0) {
          r.backend.close();
          return this.rememberNoGpu('NVML found no GPUs');
        }
        // One full batch under the watchdog before saying "ready": a device whose calls hang is not ready.
        // A hang is a fault, not an absence: throw so the tick loop retries with its short backoff.
        try {
          await r.backend.read(signal);
        } catch (e) {
          r.backend.close();
          throw new SourceError((e as Error).message, true);
        }
        this.nvml = r.backend;
        this.backendReason = undefined;
        if (this.cfg.events) this.startEvents(r.backend);
        else this.eventsUnavailable = 'disabled in the config (gpu.events: false)';
        this.busOrder = sortByPciBusId(r.backend.info.devices.slice()).map((d) => d.pciBusId);
        return {
          status: 'ready',
          description: describe(
            r.backend.info.devices.map((d) => d.name),
            'NVML',
          ),
        };
      }
      // A hung init would hang nvidia-smi too (it uses NVML): report it instead of falling back.
      if (r.stage === 'timeout') throw new SourceError(r.message, true);
      nvmlNotFound = r.stage === 'load';
      nvmlWhy = r.stage === 'load' ? `${path.basename(this.cfg.nvmlPath)} not found` : r.message;
      if (r.stage !== 'load') this.log.warn(`NVML unavailable (${r.message}); trying nvidia-smi`);
      if (this.cfg.backend === 'nvml') return nvmlNotFound ? this.rememberNoGpu(nvmlWhy) : { status: 'unavailable', reason: nvmlWhy, retry: true };
    }
    const smiPath = findExecutable(this.cfg.nvidiaSmiPath, this.ctx.env);
    if (!smiPath) {
      const smiWhy = this.cfg.nvidiaSmiPath.includes('/') ? `${this.cfg.nvidiaSmiPath} not found` : `${this.cfg.nvidiaSmiPath} not on PATH`;
      const reason = nvmlWhy ? `${nvmlWhy} and ${smiWhy}` : smiWhy;
      return nvmlNotFound || !nvmlWhy ? this.rememberNoGpu(reason) : { status: 'unavailable', reason, retry: true };
    }
    const s = await SmiBackend.open({
      smiPath,
      intervalMs: this.ctx.intervalMs,
      silenceTimeoutMs: this.cfg.silenceTimeoutMs,
      appsIntervalMs: this.cfg.processIntervalMs,
      env: this.ctx.env,
      log: this.log,
    });
    if (!s.ok) return { status: 'unavailable', reason: nvmlWhy ? `${nvmlWhy}; nvidia-smi: ${s.message}` : `nvidia-smi: ${s.message}`, retry: true };
    if (signal.aborted) {
      s.backend.close();
      return { status: 'unavailable', reason: 'probe aborted', retry: true };
    }
    this.smi = s.backend;
    this.backendReason = nvmlWhy ? `NVML unavailable: ${nvmlWhy}` : 'nvidia-smi backend chosen in config';
    const reading = s.backend.read();
    this.busOrder = sortByPciBusId(reading.devices.slice()).map((d) => d.pciBusId);
    return {
      status: 'ready',
      description: `${describe(
        reading.devices.map((d) => d.name),
        'nvidia-smi',
      )} (${this.backendReason})`,
    };
  }

  async sample(signal: AbortSignal): Promise<SampleResult> {
    let reading: GpuReading;
    if (this.nvml) reading = await this.nvml.read(signal);
    else if (this.smi) reading = this.smi.read();
    else if (this.drm) reading = this.drm.read();
    else throw new SourceError('GPU source not probed');
    if (this.drm && (this.nvml || this.smi)) {
      // NVIDIA and DRM GPUs side by side: buildSample orders them all by PCI bus id.
      const d = this.drm.read();
      reading = { ...reading, devices: reading.devices.concat(d.devices), processes: reading.processes.concat(d.processes) };
    }
    if (reading.devices.length === 0) throw new SourceError('no GPU reported');
    const result = buildSample(this.id, reading, this.lookup, this.backendReason);
    const details = result.details as GpuDetails;
    const notes: Record<string, string> = {};
    addWasteSeries(this.id, details, result.series, notes);
    result.notes = notes;
    if (this.owners) this.owners.endTick();
    else this.procs.endTick();
    this.unresolved.endTick();
    if (reading.backend === 'nvml') {
      this.addHealth(details, result.series);
      this.procEnergy.apply(this.id, details, result.series, performance.now());
    }
    this.addThrottle(reading, details);
    this.lastDetails = details;
    return result;
  }

  async close(): Promise<void> {
    this.closeBackends();
    this.owners?.close();
    this.drm?.close();
    this.drm = null;
    await this.closingEvents;
  }

  /** Starts the event thread; events are folded per GPU (bus id) as they arrive. */
  private startEvents(backend: NvmlBackend): void {
    const busIds = backend.info.devices.map((d) => d.pciBusId);
    this.eventReasons.clear();
    this.eventsUnavailable = null;
    this.events = new NvmlEventThread(
      this.cfg.nvmlPath,
      {
        registered: (reasons) => {
          reasons.forEach((r, i) => {
            const bus = busIds[i];
            if (bus === undefined) return;
            this.eventReasons.set(bus, r);
            if (r !== null) this.log.info(`GPU ${bus}: Xid events unavailable (${r})`);
          });
          if (reasons.some((r) => r !== null)) this.startKernelLog();
        },
        unavailable: (reason) => {
          this.eventsUnavailable = reason;
          this.log.info(`GPU events unavailable: ${reason}`);
          this.startKernelLog();
        },
        events: (events) => {
          for (const e of events) {
            const bus = busIds[e.device];
            if (bus !== undefined) this.xids.record(bus, xidKey(e.kind, e.code), e.code, e.count, e.lastSeen);
          }
        },
      },
      this.log,
    );
  }

  /**
   * Starts the kernel-log fallback once: /dev/kmsg, else the journal (journalctl -k followed). It records
   * Xids only for GPUs without NVML events.
   */
  private startKernelLog(): void {
    if (this.kernel !== null) return;
    const onXid = (x: KernelXid): void => {
      if (this.eventsUnavailable === null && this.eventReasons.get(x.pciBusId) === null) return;
      this.xids.record(x.pciBusId, String(x.code), x.code, 1, Date.now());
    };
    this.kernel = KernelXidWatcher.open(onXid, this.cfg.kernelLogPath);
    if (typeof this.kernel !== 'string') return;
    const jctl = findExecutable(this.cfg.journalctlPath, this.ctx.env);
    if (jctl) {
      this.journal = JournalXidWatcher.start(jctl, this.ctx.env, onXid);
      this.log.info(`GPU Xid fallback: ${this.kernel}; following journalctl -k`);
    } else {
      this.kernel = `${this.kernel}; ${this.cfg.journalctlPath} ${this.cfg.journalctlPath.includes('/') ? 'not found' : 'not on PATH'}`;
      this.log.info(`GPU Xid fallback: ${this.kernel}`);
    }
  }

  /** Xid series, health verdict and events info for every GPU of an NVML sample. */
  private addHealth(details: GpuDetails, series: SampleResult['series']): void {
    const now = Date.now();
    const lostNote = 'GPU is lost';
    for (const d of details.devices) {
      const k = (this.healthKeys[d.index] ??= healthKeysOf(`${this.id}.${d.index}.`));
      const prefix = k.prefix;
      const recent: GpuXidSummary[] = [];
      for (const e of this.xids.entries(d.pciBusId)) {
        series[`${prefix}xid_${e.key}_events_count`] = e.count;
        const info = xidInfo(e.key);
        // Fatal codes (reset/reboot/RMA in NVIDIA's catalogue) carry a companion, the number of new events
        // above which they are critical (0): gpu-xid-fatal fires critical on it and gpu-xid (warning) leaves
        // them alone. Emitted in the same tick as the count, so no tick sees the count without it.
        if (info.severity === 'critical') series[`${prefix}xid_${e.key}_fatal_threshold_count`] = 0;
        if (now - e.lastSeen >= this.cfg.xidHoldMs) continue;
        recent.push({
          code: e.key,
          count: e.count,
          firstSeen: e.firstSeen,
          lastSeen: e.lastSeen,
          severity: info.severity,
          meaning: info.meaning,
          action: info.action,
        });
      }
      const reason = this.eventsUnavailable ?? this.eventReasons.get(d.pciBusId);
      let events: GpuEventsInfo;
      if (reason === undefined || reason === null) events = { source: 'nvml', recent };
      else if (this.kernel instanceof KernelXidWatcher)
        events = { source: 'kernel-log', reason: `NVML events: ${reason}; reading NVRM Xid lines from ${this.cfg.kernelLogPath}`, recent };
      else if (this.journal && this.journal.failure === null)
        events = { source: 'kernel-log', reason: `NVML events: ${reason}; ${String(this.kernel)}; reading NVRM Xid lines from journalctl -k`, recent };
      else
        events = {
          source: 'unavailable',
          reason: [reason, typeof this.kernel === 'string' ? this.kernel : null, this.journal?.failure ?? null].filter(Boolean).join('; '),
          recent,
        };
      if (events.source !== 'nvml') {
        const note = `Xid events unavailable: ${reason}`;
        if (!d.notes.includes(note)) d.notes = [...d.notes, note];
      }
      d.events = events;
      const pending = series[k.pending] ?? null;
      const failed = series[k.failure] ?? null;
      series[k.remapHealth] = failed === 1 ? 2 : pending === 1 ? 1 : pending === null && failed === null ? null : 0;
      d.health = gpuHealth({ series, prefix, lost: d.notes.some((n) => n.startsWith(lostNote)), recentEvents: recent, uncorrectedBaseline: null });
      series[k.health] = VERDICT_STATE[d.health.verdict];
    }
  }

  /** Per-reason throttle shares (last interval, last 5 min) of every NVIDIA GPU of this tick. */
  private addThrottle(reading: GpuReading, details: GpuDetails): void {
    const t = performance.now();
    const bus = new Map<string, GpuDetails['devices'][number]>();
    for (const d of details.devices) if (d.vendor === 'nvidia') bus.set(d.pciBusId, d);
    if (bus.size === 0) return;
    for (const r of reading.devices) {
      const dev = bus.get(r.pciBusId);
      if (!dev) continue;
      const summary = this.throttle.add(r.pciBusId, t, {
        mask: r.throttleMask,
        powerViolation: metricOf(r, 'power_violation_ratio'),
        thermalViolation: metricOf(r, 'thermal_violation_ratio'),
      });
      if (summary) dev.throttle = summary;
    }
    this.throttle.retain(bus);
  }

  /** `nvidia-smi -q` text of GPU `args.index` (PCI bus id order), served at /api/gpu/<index>/report. */
  private async report(args: Record<string, string>): Promise<string> {
    const raw = args.index;
    const index = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(index)) throw new Error(`index: expected a GPU index (0, 1, …), got ${JSON.stringify(raw ?? null)}`);
    if (this.lastDetails) this.busOrder = this.lastDetails.devices.map((d) => d.pciBusId);
    if (this.busOrder.length === 0) throw new Error('no GPU is known yet');
    if (index >= this.busOrder.length) throw new Error(`index: expected 0..${this.busOrder.length - 1}, got ${index}`);
    const dev = this.lastDetails?.devices[index];
    if (dev?.vendor && dev.vendor !== 'nvidia')
      throw new Error(`GPU ${index} (${dev.name}) is not an NVIDIA GPU: the nvidia-smi report covers NVIDIA GPUs only`);
    const r: GpuReport = await fetchReport(this.cfg.nvidiaSmiPath, this.ctx.env, index, this.busOrder[index]);
    return r.text;
  }

  private rememberNoGpu(reason: string): ProbeResult {
    const result: ProbeResult = { status: 'unavailable', reason, retry: true };
    this.noGpu = { until: Date.now() + NO_GPU_REPROBE_MS, result };
    return result;
  }

  private closeBackends(): void {
    this.lastDetails = null;
    if (this.events) {
      this.closingEvents = this.events.close().then((ns) => {
        this.eventThreadCpuNs = ns;
      });
      this.events = null;
    }
    if (this.kernel instanceof KernelXidWatcher) this.kernel.close();
    this.kernel = null;
    this.journal?.close();
    this.journal = null;
    this.nvml?.close();
    this.nvml = null;
    this.smi?.close();
    this.smi = null;
  }
}

/** Names of the health series of one GPU. */
interface HealthKeys {
  prefix: string;
  pending: string;
  failure: string;
  remapHealth: string;
  health: string;
}

function healthKeysOf(prefix: string): HealthKeys {
  return {
    prefix,
    pending: `${prefix}remap_pending_state`,
    failure: `${prefix}remap_failure_state`,
    remapHealth: `${prefix}remap_health_state`,
    health: `${prefix}health_state`,
  };
}

/** "8 × NVIDIA A100 via NVML", or "2 GPUs (A, B) via NVML" when models differ. */
function describe(names: string[], via: string): string {
  const unique = [...new Set(names)];
  if (unique.length === 1) return `${names.length} × ${unique[0]} via ${via}`;
  return `${names.length} GPUs (${unique.join(', ')}) via ${via}`;
}

/** Containers of the Docker source's latest details (the collector's snapshot is the seam: no source imports another). */
function dockerContainers(ctx: SourceContext): readonly ContainerInfo[] | null {
  const details = ctx.latest()?.details;
  if (!details) return null;
  for (const k in details) {
    const d = details[k];
    if (d.kind === 'docker') return (d as DockerDetails).containers;
  }
  return null;
}

/** Factory of the `gpu` kind: one source. */
export const gpuFactory: SourceFactory = {
  kind: 'gpu',
  create(ctx: SourceContext): Source[] {
    return [new GpuSource(parseGpuConfig(ctx.config, ctx.env, ctx.intervalMs), ctx)];
  },
};
