// The Docker source: containers from the Engine API. The engine's event stream tells which
// containers changed; the tick lists (every LIST_INTERVAL_MS, or at once after an event or when the
// stream is gone) and inspects only what changed, so a quiet engine costs no requests on most ticks.
// Stats (about a second each with stream=false) run on their own cadence in the background, and the
// tick only reads the latest cached readings — it never waits for them.

import type { SeriesMap } from '../../../protocol';
import type { DockerContainer, DockerDetails } from '../../../protocol/details/docker';
import { seriesName } from '../../../protocol/series';
import { containerSeriesKeys } from '../../../protocol/keys';
import type { Logger } from '../../log';
import { SourceError, type ProbeResult, type SampleResult, type Source } from '../../source';
import type { EndpointOrigin } from './config';
import { DockerApiError, type DockerApi, type EngineStream } from './engine-client';
import {
  healthFromStatus,
  parseContainerList,
  parseInspect,
  parseStats,
  parseVersion,
  type ContainerStats,
  type InspectedContainer,
  type ListedContainer,
} from './parse';

/** Timeout of the probe's `/version` request, ms. */
export const PROBE_TIMEOUT_MS = 3000;
/** Timeout of one list/inspect request, ms. */
export const REQUEST_TIMEOUT_MS = 5000;
/** Longest reuse of a container list while the event stream reports no change, ms. */
export const LIST_INTERVAL_MS = 2000;
/** Longest reuse of a live container's inspect answer without the event stream, ms. */
export const INSPECT_REFRESH_MS = 2000;
/** Refresh of a container's last health-check output (it changes without an event), ms. */
export const HEALTH_OUTPUT_REFRESH_MS = 10_000;
/** Longest reuse of a live container's inspect answer even with the event stream (safety net), ms. */
export const INSPECT_MAX_AGE_MS = 60_000;
/** Wait before reopening an event stream the engine refused (HTTP or format error), ms. */
export const EVENTS_RETRY_MS = 60_000;
/** Container events that change what the source reports (exec_* events of health checks are left out). */
export const WATCHED_EVENTS = ['create', 'start', 'restart', 'die', 'stop', 'kill', 'oom', 'pause', 'unpause', 'destroy', 'rename', 'update', 'health_status'];
/** A restart-count increase within this window counts the container as restarting, ms. */
export const RESTART_RECENT_MS = 60_000;
/** Stats older than this many stats intervals are reported as null (stale). */
export const STATS_STALE_INTERVALS = 3;

/** Numeric codes of `docker.<c>.health_state`. */
export const HEALTH_STATE_CODE = { healthy: 0, starting: 1, unhealthy: 2 } as const;

/** What a DockerSource needs. */
export interface DockerSourceOptions {
  api: DockerApi;
  origin: EndpointOrigin;
  statsIntervalMs: number;
  /** Which container names to report. */
  filter: (name: string) => boolean;
  log: Logger;
  /** Clock (tests). */
  now?: () => number;
}

interface CachedInspect {
  listedState: string;
  listedHealth: string | null;
  at: number;
  data: InspectedContainer;
}

interface CachedStats {
  stats: ContainerStats;
  /** The container's StartedAt when the reading was requested: a restart makes the reading stale. */
  startedAt: number | null;
  fetchedAt: number;
}

interface RestartTrack {
  count: number;
  changedAt: number | null;
}

/** Docker containers through the Engine API. */
export class DockerSource implements Source {
  readonly id = 'docker';
  readonly kind = 'docker';

  private readonly api: DockerApi;
  private readonly log: Logger;
  private readonly now: () => number;
  private engineVersion: string | null = null;
  private readonly inspects = new Map<string, CachedInspect>();
  private readonly stats = new Map<string, CachedStats>();
  private readonly statsInFlight = new Set<string>();
  private readonly restarts = new Map<string, RestartTrack>();
  /** Running containers (id → StartedAt) whose stats the background loop reads. */
  private running = new Map<string, number | null>();
  private statsTimer: NodeJS.Timeout | undefined;
  private statsAbort = new AbortController();
  private closed = false;
  /** The engine's container event stream, while open. */
  private events: EngineStream | undefined;
  /** True once the engine accepted the event stream (until it ends). */
  private eventsLive = false;
  /** An event arrived (or the stream changed) since the last list. */
  private listDirty = true;
  /** Containers named by events since their last inspect. */
  private readonly dirtyIds = new Set<string>();
  private lastListAt = Number.NEGATIVE_INFINITY;
  /** Epoch ms before which a refused event stream is not reopened. */
  private eventsRetryAt = 0;
  private listed: ListedContainer[] = [];
  private inspected: InspectedContainer[] = [];
  /** Whether the engine ever answered: after that, a missing socket means "stopped", not "no Docker". */
  private everReady = false;

  constructor(private readonly opts: DockerSourceOptions) {
    this.api = opts.api;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Pings the engine with `/version`. Only a missing default socket on a machine where the engine was
   * never seen is a quiet "unavailable" (re-probed rarely); permission denied is "unavailable" with the
   * message to act on; anything else — including a socket that vanished because dockerd stopped —
   * throws, so the tick loop marks the source down and re-probes with a short backoff.
   */
  async probe(signal: AbortSignal): Promise<ProbeResult> {
    const where = this.api.endpoint.display;
    try {
      const v = parseVersion(await this.api.get('/version', { signal, timeoutMs: PROBE_TIMEOUT_MS }));
      this.engineVersion = v.version;
      this.everReady = true;
      return { status: 'ready', description: `Docker Engine ${v.version ?? '(unknown version)'}${v.apiVersion ? ` (API ${v.apiVersion})` : ''} at ${where}` };
    } catch (err) {
      const e = err instanceof DockerApiError ? err : new DockerApiError(err instanceof Error ? err.message : String(err), 'protocol');
      if (e.kind === 'absent' && this.opts.origin === 'default' && !this.everReady) {
        // Most machines have no Docker: absence is an answer, not a warning.
        this.log.debug(e.message);
        return { status: 'unavailable', reason: e.message, retry: true };
      }
      if (e.kind === 'permission') {
        this.log.warnOnce('probe:permission', e.message);
        return { status: 'unavailable', reason: e.message, retry: true };
      }
      throw new SourceError(e.message, e.retry);
    }
  }

  /**
   * Lists and inspects what changed (see the file comment), and reports every container with the
   * latest cached stats. Without a live event stream it lists on every tick, so a stopped engine is
   * noticed on the next tick either way: its stream ends, and the forced list fails.
   */
  async sample(signal: AbortSignal): Promise<SampleResult> {
    if (this.closed) throw new SourceError('Docker source closed', false);
    const started = this.now();
    if (!this.eventsLive || this.listDirty || started - this.lastListAt >= LIST_INTERVAL_MS) {
      // Cleared before the requests: an event arriving meanwhile makes the next tick list again.
      this.listDirty = false;
      const dirty = [...this.dirtyIds];
      this.dirtyIds.clear();
      try {
        const listed = parseContainerList(await this.api.get('/containers/json?all=1', { signal, timeoutMs: REQUEST_TIMEOUT_MS })).filter((c) =>
          this.opts.filter(c.name),
        );
        this.inspected = await this.inspectAll(listed, new Set(dirty), signal);
        this.listed = listed;
        this.lastListAt = started;
      } catch (err) {
        this.listDirty = true;
        for (const id of dirty) this.dirtyIds.add(id);
        // The engine is gone or unreachable: stop reading stats and events until it answers again. A
        // tick that was merely cut short (aborted) or an HTTP error from a live engine keeps the caches.
        if (!(err instanceof DockerApiError) || !['aborted', 'http', 'protocol'].includes(err.kind)) {
          this.stopStats();
          this.stopEvents();
        }
        if (err instanceof DockerApiError) throw new SourceError(err.message, err.retry);
        throw new SourceError(`Docker engine at ${this.api.endpoint.display}: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.startEvents();
    }
    const now = this.now();
    this.trackRestarts(this.inspected, now);
    this.updateRunning(this.listed, this.inspected);
    return this.build(this.listed, this.inspected, now);
  }

  /** Stops the stats loop and the event stream, aborts stats in flight, closes connections. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopStats();
    this.stopEvents();
    this.api.close();
  }

  /** Number of stats requests in flight (diagnostics and tests). */
  get statsPending(): number {
    return this.statsInFlight.size;
  }

  /** Whether a container's cached inspect answer can stand in for a new one. */
  private inspectFresh(c: ListedContainer, cached: CachedInspect | undefined, dirty: boolean, now: number): boolean {
    if (!cached || dirty) return false;
    // A state or health change shows in the list at once; stopped containers change only that way.
    if (cached.listedState !== c.state || cached.listedHealth !== healthFromStatus(c.status)) return false;
    const live = c.state === 'running' || c.state === 'restarting' || c.state === 'paused';
    if (!live) return true;
    const age = now - cached.at;
    // Without events a restart (RestartCount) can happen between two lists unseen: refresh often.
    if (!this.eventsLive) return age < INSPECT_REFRESH_MS;
    // The last health-check output changes with every check, without an event.
    if (cached.data.health !== null && age >= HEALTH_OUTPUT_REFRESH_MS) return false;
    return age < INSPECT_MAX_AGE_MS;
  }

  private async inspectAll(listed: ListedContainer[], dirty: Set<string>, signal: AbortSignal): Promise<InspectedContainer[]> {
    const seen = new Set(listed.map((c) => c.id));
    for (const id of this.inspects.keys()) if (!seen.has(id)) this.inspects.delete(id);
    const now = this.now();
    const results = await Promise.all(
      listed.map(async (c): Promise<InspectedContainer | null> => {
        const cached = this.inspects.get(c.id);
        if (cached && this.inspectFresh(c, cached, dirty.has(c.id), now)) return cached.data;
        const listedHealth = healthFromStatus(c.status);
        try {
          const data = parseInspect(await this.api.get(`/containers/${encodeURIComponent(c.id)}/json`, { signal, timeoutMs: REQUEST_TIMEOUT_MS }));
          this.inspects.set(c.id, { listedState: c.state, listedHealth, at: now, data });
          return data;
        } catch (err) {
          // Removed between the list and the inspect: simply gone.
          if (err instanceof DockerApiError && err.status === 404) return null;
          throw err;
        }
      }),
    );
    return results.filter((r): r is InspectedContainer => r !== null);
  }

  private trackRestarts(inspected: InspectedContainer[], now: number): void {
    const seen = new Set<string>();
    for (const c of inspected) {
      seen.add(c.id);
      if (c.restartCount === null) continue;
      const prev = this.restarts.get(c.id);
      if (!prev) this.restarts.set(c.id, { count: c.restartCount, changedAt: null });
      else if (c.restartCount !== prev.count) this.restarts.set(c.id, { count: c.restartCount, changedAt: now });
    }
    for (const id of this.restarts.keys()) if (!seen.has(id)) this.restarts.delete(id);
  }

  private updateRunning(listed: ListedContainer[], inspected: InspectedContainer[]): void {
    const startedAt = new Map(inspected.map((c) => [c.id, c.startedAt]));
    const running = new Map<string, number | null>();
    for (const c of listed) if (c.state === 'running' && startedAt.has(c.id)) running.set(c.id, startedAt.get(c.id) ?? null);
    for (const id of this.stats.keys()) {
      const s = this.stats.get(id);
      if (!running.has(id) || (s && s.startedAt !== running.get(id))) this.stats.delete(id);
    }
    this.running = running;
    if (this.statsTimer === undefined) {
      this.statsAbort = new AbortController();
      this.statsTimer = setInterval(() => this.statsRound(), this.opts.statsIntervalMs);
      // The collector closes the source; unref only keeps a forgotten one from holding a process open.
      this.statsTimer.unref();
    }
    // Newly seen running containers get their first reading now rather than at the next round.
    for (const id of running.keys()) if (!this.stats.has(id)) this.fetchStats(id);
  }

  private statsRound(): void {
    for (const id of this.running.keys()) this.fetchStats(id);
  }

  private fetchStats(id: string): void {
    if (this.closed || this.statsInFlight.has(id)) return;
    this.statsInFlight.add(id);
    const startedAt = this.running.get(id) ?? null;
    const signal = this.statsAbort.signal;
    // stream=false waits for two readings about a second apart so that precpu_stats is filled.
    const timeoutMs = Math.max(this.opts.statsIntervalMs * 2, 10_000);
    this.api
      .getStats(`/containers/${encodeURIComponent(id)}/stats?stream=false`, { signal, timeoutMs })
      .then((json) => {
        if (signal.aborted || !this.running.has(id)) return;
        this.stats.set(id, { stats: parseStats(json), startedAt, fetchedAt: this.now() });
      })
      .catch((err: unknown) => {
        if (signal.aborted) return;
        this.log.debug(`stats for container ${id.slice(0, 12)}: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => this.statsInFlight.delete(id));
  }

  private startEvents(): void {
    if (this.events || this.closed || this.now() < this.eventsRetryAt) return;
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: WATCHED_EVENTS }));
    this.events = this.api.stream(`/events?filters=${filters}`, {
      onOpen: () => {
        this.eventsLive = true;
      },
      onMessage: (msg) => {
        const m = msg as { id?: unknown; Actor?: { ID?: unknown } };
        const id = typeof m.id === 'string' ? m.id : typeof m.Actor?.ID === 'string' ? m.Actor.ID : undefined;
        if (id) this.dirtyIds.add(id);
        this.listDirty = true;
      },
      onClose: (err) => {
        // Usually the engine stopping: the next tick lists (and fails, marking the source down).
        this.log.debug(`event stream ended: ${err.message}`);
        // An engine that refuses the stream would refuse it on every tick: list-only mode for a while.
        if (err.kind === 'http' || err.kind === 'protocol') this.eventsRetryAt = this.now() + EVENTS_RETRY_MS;
        this.events = undefined;
        this.eventsLive = false;
        this.listDirty = true;
      },
    });
  }

  private stopEvents(): void {
    this.events?.close();
    this.events = undefined;
    this.eventsLive = false;
  }

  private stopStats(): void {
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    // Aborted requests settle at once and remove themselves from statsInFlight.
    this.statsAbort.abort();
    this.stats.clear();
    this.running = new Map();
  }

  private freshStats(id: string, now: number): ContainerStats | null {
    const s = this.stats.get(id);
    if (!s || now - s.fetchedAt > this.opts.statsIntervalMs * STATS_STALE_INTERVALS) return null;
    return s.stats;
  }

  private build(listed: ListedContainer[], inspected: InspectedContainer[], now: number): SampleResult {
    const byId = new Map(inspected.map((c) => [c.id, c]));
    const rows = listed.filter((c) => byId.has(c.id)).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const series: SeriesMap = {};
    const containers: DockerContainer[] = [];
    const keys = containerSeriesKeys(rows);
    let unhealthy = 0;
    let restarting = 0;
    let running = 0;
    for (const [i, l] of rows.entries()) {
      const c = byId.get(l.id) as InspectedContainer;
      // Series keys are sanitised names; two names that sanitise alike keep apart by short id.
      const key = keys[i];
      const state = l.state;
      const isRunning = state === 'running';
      const track = this.restarts.get(l.id);
      const isRestarting = state === 'restarting' || (track?.changedAt != null && now - track.changedAt < RESTART_RECENT_MS);
      // Health only means something while the container runs; a stopped one is "stopped", not unhealthy.
      const liveHealth = isRunning || state === 'paused' ? c.health : null;
      const isUnhealthy = liveHealth === 'unhealthy';
      const st = isRunning ? this.freshStats(l.id, now) : null;
      if (isRunning) running++;
      if (isUnhealthy) unhealthy++;
      if (isRestarting) restarting++;

      const p = (metric: string): string => seriesName('docker', key, metric);
      series[p('running_state')] = isRunning ? 1 : 0;
      series[p('health_state')] = liveHealth === null ? null : HEALTH_STATE_CODE[liveHealth];
      series[p('restart_count')] = c.restartCount;
      series[p('uptime_seconds')] = isRunning && c.startedAt !== null ? Math.max(0, (now - c.startedAt) / 1000) : null;
      series[p('cpu_ratio')] = st?.cpuRatio ?? null;
      series[p('memory_used_bytes')] = st?.memoryUsedBytes ?? null;
      series[p('memory_limit_bytes')] = st?.memoryLimitBytes ?? null;

      containers.push({
        id: l.id,
        name: l.name,
        seriesKey: key,
        image: l.image || c.image,
        state,
        status: l.status,
        health: liveHealth,
        lastHealthOutput: c.lastHealthOutput,
        lastHealthExitCode: c.lastHealthExitCode,
        lastHealthAt: c.lastHealthAt,
        healthFailingStreak: c.healthFailingStreak,
        restartCount: c.restartCount,
        startedAt: c.startedAt,
        exitCode: c.exitCode,
        cpuRatio: st?.cpuRatio ?? null,
        memoryUsedBytes: st?.memoryUsedBytes ?? null,
        memoryLimitBytes: st?.memoryLimitBytes ?? null,
        statsAt: st ? (this.stats.get(l.id)?.stats.readAt ?? null) : null,
      });
    }
    series['docker.containers_running_count'] = running;
    series['docker.containers_unhealthy_count'] = unhealthy;
    series['docker.containers_restarting_count'] = restarting;
    series['docker.containers_count'] = rows.length;
    const details: DockerDetails = {
      kind: 'docker',
      endpoint: this.api.endpoint.display,
      engineVersion: this.engineVersion,
      statsIntervalMs: this.opts.statsIntervalMs,
      containers,
    };
    return { series, details };
  }
}
