// The NVIDIA GPU source: NVML (through koffi, in a worker thread with a watchdog) when it can be
// loaded, else one streaming nvidia-smi child; GPUs ordered by PCI bus id. See docs/gpu.md.

import * as path from 'node:path';
import type { GpuDetails } from '../../../protocol/details/gpu';
import type { ProbeResult, SampleResult, Source, SourceContext, SourceFactory } from '../../source';
import { SourceError } from '../../source';
import type { Logger } from '../../log';
import { parseGpuConfig, type GpuConfig } from './config';
import { NvmlBackend } from './nvml-backend';

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
import { buildSample, sortByPciBusId, type GpuReading, type ProcessAttribution, type ProcessLookup } from './reading';
import { ContainerNames, KubeletPods, ProcOwnerReader, procRootOf, type ContainerInfo, type ProcIdentity } from '../proc-owner';
import type { DockerDetails } from '../../../protocol/details/docker';
import type { ProcessOwner } from '../../../protocol/details/gpu';
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
  private readonly joined = new WeakMap<ProcIdentity, { owner: ProcessOwner | null; out: ProcessAttribution }>();
  private readonly lookup: ProcessLookup;
  private readonly log: Logger;

  constructor(
    private readonly cfg: GpuConfig,
    private readonly ctx: SourceContext,
  ) {
    this.log = ctx.log;
    this.procs = new ProcessInfoCache(cfg.procRoot);
    this.sampleTimeoutMs = cfg.callTimeoutMs + SAMPLE_TIMEOUT_MARGIN_MS;
    this.actions = { report: (args) => this.report(args) };
    if (cfg.attribution) {
      const owners = new ProcOwnerReader({ procRoot: procRootOf(ctx.env) });
      const names = new ContainerNames(() => dockerContainers(ctx), cfg.kubeletUrl ? new KubeletPods(cfg.kubeletUrl) : null);
      this.owners = owners;
      this.names = names;
      this.lookup = (pid) => {
        const id = owners.lookup(pid);
        const owner = names.enrich(id.owner);
        if (owner === id.owner) return id;
        // One joined object per (identity, enriched owner): nothing allocated per tick in the steady state.
        const hit = this.joined.get(id);
        if (hit && hit.owner === owner) return hit.out;
        const out = { ...id, owner };
        this.joined.set(id, { owner, out });
        return out;
      };
    } else {
      this.owners = null;
      this.names = null;
      this.lookup = (pid) => this.procs.lookup(pid);
    }
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
    let drm: ExtraGpuBackend | null = this.cfg.drm ? DrmBackend.open({ sysRoot: this.cfg.sysRoot, procRoot: this.cfg.procRoot, log: this.log.child('drm'), discoveryIntervalMs: this.cfg.drmDiscoveryIntervalMs }) : null;
    // Macs: the accelerator statistics ioreg prints (RIGWATCH_IOREG names a stand-in command for tests).
    if (!drm && (process.platform === 'darwin' || this.ctx.env.RIGWATCH_IOREG)) drm = await AppleGpuBackend.open(this.ctx.env.RIGWATCH_IOREG || 'ioreg', this.log.child('apple'));
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
      const r = await NvmlBackend.open({ libPath: this.cfg.nvmlPath, initTimeoutMs: this.cfg.initTimeoutMs, callTimeoutMs: this.cfg.callTimeoutMs, log: this.log });
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
        this.busOrder = sortByPciBusId(r.backend.info.devices.slice()).map((d) => d.pciBusId);
        return { status: 'ready', description: describe(r.backend.info.devices.map((d) => d.name), 'NVML') };
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
    return { status: 'ready', description: `${describe(reading.devices.map((d) => d.name), 'nvidia-smi')} (${this.backendReason})` };
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
    if (this.owners) this.owners.endTick();
    else this.procs.endTick();
    this.lastDetails = result.details as GpuDetails;
    return result;
  }

  close(): void {
    this.closeBackends();
    this.drm?.close();
    this.drm = null;
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
    if (dev?.vendor && dev.vendor !== 'nvidia') throw new Error(`GPU ${index} (${dev.name}) is not an NVIDIA GPU: the nvidia-smi report covers NVIDIA GPUs only`);
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
    this.nvml?.close();
    this.nvml = null;
    this.smi?.close();
    this.smi = null;
  }
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
