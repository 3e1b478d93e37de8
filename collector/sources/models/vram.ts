// "Which model holds my VRAM": find the server's processes (configured pid, container, or the
// process listening on its port, plus children) and join them with the GPU source's process list.
// Where the join cannot be made the note says why; nothing is guessed.

import { hostname, networkInterfaces } from 'node:os';
import type { SampleMessage } from '../../../protocol';
import type { GpuDetails } from '../../../protocol/details/gpu';
import { isLoopbackHost } from './config';
import { containerPid, dockerSocketPath } from './docker-pid';
import { commOf, listeningInodes, pidAlive, pidsHoldingInodes, withDescendants } from './proc';

/** How long a pid lookup is trusted before /proc is scanned again, ms (sooner if the pid dies). */
export const PID_REFRESH_MS = 15_000;

/** Result of finding a server's processes. */
export type ProcessLookup = { pids: number[]; note?: undefined } | { pids: null; note: string };

/** Finds and caches the processes of one endpoint. */
export class ServerProcessFinder {
  private cached: ProcessLookup | null = null;
  private cachedAt = -Infinity;

  constructor(
    private readonly target: { url: string; pid?: number; container?: string },
    private readonly opts: { procRoot?: string; env: NodeJS.ProcessEnv; timeoutMs: number; refreshMs?: number },
  ) {}

  /** The server's pids (with descendants) or why they are unknown. `now` is epoch ms. */
  async lookup(now: number): Promise<ProcessLookup> {
    const fresh = now - this.cachedAt < (this.opts.refreshMs ?? PID_REFRESH_MS);
    if (this.cached !== null && fresh && (this.cached.pids === null || (await pidAlive(this.cached.pids[0], this.opts.procRoot)))) return this.cached;
    this.cached = await this.find();
    this.cachedAt = now;
    return this.cached;
  }

  private async find(): Promise<ProcessLookup> {
    const procRoot = this.opts.procRoot;
    if (process.platform !== 'linux' && procRoot === undefined) return { pids: null, note: 'process lookup needs Linux /proc' };
    if (this.target.pid !== undefined) {
      if (!(await pidAlive(this.target.pid, procRoot))) return { pids: null, note: `configured pid ${this.target.pid} is not running` };
      return { pids: await withDescendants([this.target.pid], procRoot) };
    }
    if (this.target.container !== undefined) {
      const sock = dockerSocketPath(this.opts.env);
      if (sock === null) return { pids: null, note: 'DOCKER_HOST is not a unix socket; set pid for this endpoint' };
      try {
        const pid = await containerPid(this.target.container, sock, this.opts.timeoutMs);
        return { pids: await withDescendants([pid], procRoot) };
      } catch (e) {
        return { pids: null, note: `container ${this.target.container}: ${(e as Error).message}` };
      }
    }
    const u = new URL(this.target.url);
    if (!isLocalHost(u.hostname)) return { pids: null, note: `server is on another host (${u.hostname}); VRAM is attributed only for servers on this machine` };
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const inodes = await listeningInodes(port, procRoot);
    if (inodes.size === 0) return { pids: null, note: `no listening socket for port ${port} in this network namespace` };
    const holders = await pidsHoldingInodes(inodes, procRoot);
    if (holders.length === 0)
      return { pids: null, note: `the process listening on port ${port} is not visible to the collector (run it as the same user or root, or set pid)` };
    const comm = await commOf(holders[0], procRoot);
    if (comm === 'docker-proxy') return { pids: null, note: `port ${port} is forwarded by docker-proxy; set container (or pid) for this endpoint` };
    return { pids: await withDescendants(holders, procRoot) };
  }
}

/** True when `host` names this machine (loopback, one of its addresses, or its hostname). */
export function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(h) || h === hostname().toLowerCase()) return true;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.address.toLowerCase() === h) return true;
  }
  return false;
}

/** The attribution shown on a model row. */
export interface VramAttribution {
  vram: { gpuIndex: number; bytes: number; pid: number }[] | null;
  bytes: number | null;
  note: string | null;
  summary: string | null;
}

/** The GPU source's details in a snapshot, if any. */
export function gpuDetailsOf(latest: SampleMessage | undefined): GpuDetails | null {
  if (latest === undefined) return null;
  for (const d of Object.values(latest.details)) if (d.kind === 'gpu') return d;
  return null;
}

/** Joins the server's pids with the GPU process list. */
export function joinVram(lookup: ProcessLookup, latest: SampleMessage | undefined): VramAttribution {
  const gpu = gpuDetailsOf(latest);
  if (gpu === null) {
    const note = latest === undefined ? 'no sample from the GPU source yet' : 'no GPU source (no NVIDIA GPU found, or the GPU source is disabled or down)';
    return { vram: null, bytes: null, summary: null, note };
  }
  if (lookup.pids === null) return { vram: null, bytes: null, summary: null, note: lookup.note };
  const mine = new Set(lookup.pids);
  const procs = gpu.processes.filter((p) => mine.has(p.pid));
  if (procs.length === 0) {
    return { vram: [], bytes: 0, summary: 'no VRAM in use', note: `no GPU process among pid ${shortList(lookup.pids)}` };
  }
  if (procs.some((p) => p.usedMemoryBytes === null)) {
    return { vram: null, bytes: null, summary: null, note: 'the GPU driver does not report per-process memory for this server' };
  }
  const vram = procs.map((p) => ({ gpuIndex: p.gpuIndex, bytes: p.usedMemoryBytes as number, pid: p.pid }));
  const perGpu = new Map<number, number>();
  for (const v of vram) perGpu.set(v.gpuIndex, (perGpu.get(v.gpuIndex) ?? 0) + v.bytes);
  const parts = [...perGpu.entries()].sort((a, b) => a[0] - b[0]).map(([i, b]) => `${formatGb(b)} on GPU ${i}`);
  return { vram, bytes: vram.reduce((a, v) => a + v.bytes, 0), note: null, summary: `VRAM ${parts.join(' + ')}` };
}

/** Bytes as decimal gigabytes with one decimal, e.g. "14.2 GB". */
export function formatGb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

function shortList(pids: number[]): string {
  return pids.length <= 4 ? pids.join(', ') : `${pids.slice(0, 4).join(', ')} and ${pids.length - 4} more`;
}
