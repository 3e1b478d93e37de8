// The `runs` source: finds training runs (process trees rooted at a Python program or a launcher
// such as torchrun, found through the GPU source's process list or configured by command pattern /
// log directory), reads the metrics they write, and says whether each is running, stalled, finished
// or gone. The GPU join goes through the latest snapshot (`ctx.latest()`), never the GPU source itself.

import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleMessage, SeriesMap } from '../../../protocol';
import type { GpuDetails, ProcessOwner } from '../../../protocol/details/gpu';
import { ownerLabel } from '../../../protocol/owner-label';
import type { RunFile, RunInfo, RunScalar, RunsDetails, RunState } from '../../../protocol/details/runs';
import { seriesName } from '../../../protocol';
import { parsePrometheusText } from '../../prometheus-text';
import type { Logger } from '../../log';
import type { ProbeResult, SampleResult, Source } from '../../source';
import { idStem, isTrainingCandidate, launcherOf, logDirsOf, runName } from './command';
import type { RunsConfig, RunWatch } from './config';
import { MetricFiles, type MetricFormat } from './metric-files';
import { isLossTag, isThroughputTag, sanitizeTag, type MetricPoint } from './parse';
import { runEndedText, runSummaryText, scalarText, type RunTextInput } from './text';
import {
  CLOCK_TICKS_PER_SECOND,
  describeExit,
  listPids,
  parseStat,
  type ProcStat,
  readBootTimeMs,
  readCmdline,
  readOwner,
  readCwd,
  readStat,
  readUid,
  userName,
} from './proc';

/** How often the process table is searched for new runs, ms (GPU processes not yet known trigger it sooner). */
export const DISCOVER_INTERVAL_MS = 5_000;
/** Without progress this long, a live run is stalled, ms. */
export const STALL_AFTER_MS = 10 * 60_000;
/** Ended runs stay listed (and `ended_state` stays 1) this long, ms. */
export const ENDED_RETAIN_MS = 60 * 60_000;
/** Most ended runs kept. */
export const MAX_ENDED_RUNS = 20;
/** Most live runs followed. */
export const MAX_RUNS = 32;
/** Most processes listed per run. */
export const MAX_PIDS_PER_RUN = 64;
/** Bytes of metric files read per tick by the whole source, shared by its live runs (each also has its own cap). */
export const READ_BYTES_PER_TICK_TOTAL = 8 * 1024 * 1024;
/** Smallest share of that budget a run gets, bytes. */
export const MIN_READ_BYTES_PER_RUN = 256 * 1024;
/** Timeout of a configured /metrics fetch, ms. */
export const METRICS_FETCH_TIMEOUT_MS = 2_000;
/** Largest /metrics page read, bytes. */
export const MAX_METRICS_PAGE_BYTES = 2 * 1024 * 1024;
/** Series names the source itself writes per run; a tag that sanitises to one of these gets a `tag_` prefix. */
export const BUILTIN_METRICS = [
  'up_state',
  'ended_state',
  'elapsed_seconds',
  'stalled_seconds',
  'loss_nonfinite_state',
  'throughput_per_second',
  'step_count',
  'gpu_memory_used_bytes',
] as const;
const BUILTIN = new Set<string>(BUILTIN_METRICS);

interface ProcInfo {
  pid: number;
  ppid: number;
  startTicks: number;
  argv: string[] | null;
}

interface TagState {
  tag: string;
  key: string;
  /** The full series name, `run.<id>.<key>` (built once). */
  series: string;
  value: number;
  step: number | null;
  t: number;
}

interface Run {
  id: string;
  name: string;
  origin: 'gpu' | 'config';
  watch: RunWatch | null;
  root: ProcInfo | null;
  pids: Set<number>;
  command: string | null;
  cwd: string | null;
  user: string | null;
  /** What the run runs in: the GPU source's owner of one of its processes (named from Docker / the kubelet) once known, else read at discovery. */
  owner: ProcessOwner | null;
  ownerFromGpu: boolean;
  startedAt: number | null;
  firstSeenAt: number;
  endedAt: number | null;
  exit: string | null;
  exitCode: number | null;
  files: MetricFiles;
  tags: Map<string, TagState>;
  keys: Set<string>;
  /** The loss-like and throughput-like tags shown and alerted on (chosen when a tag first appears). */
  loss: TagState | null;
  throughput: TagState | null;
  /** Series names of the built-in metrics (built once). */
  names: Record<(typeof BUILTIN_METRICS)[number], string>;
  tagsDropped: number;
  lastStep: number | null;
  lastMetricAt: number | null;
  lastGpuBusyAt: number | null;
  gpus: { index: number; memoryBytes: number | null }[];
  prom: { pending: boolean; problem: string | null } | null;
  /** The root's /proc/<pid>/stat, kept open: one read per tick says alive, gone or zombie. */
  statFd: number | null;
}

/** Options tests use: a clock and a fetch. */
export interface RunsSourceOptions {
  now?: () => number;
  fetch?: typeof fetch;
}

/** The runs source. */
export class RunsSource implements Source {
  readonly id = 'runs';
  readonly kind = 'runs';
  private readonly runs = new Map<string, Run>();
  private readonly procs = new Map<number, ProcInfo>();
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch;
  private bootMs: number | null = null;
  private nextDiscoverAt = 0;
  private readonly notes = new Set<string>();
  private closed = false;
  /** pid:startTicks of GPU processes already looked at (not training, or already in a run). */
  private readonly seenGpuPids = new Set<string>();

  constructor(
    private readonly cfg: RunsConfig,
    private readonly latest: () => SampleMessage | undefined,
    private readonly log: Logger,
    opts: RunsSourceOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.fetchFn = opts.fetch ?? fetch;
  }

  async probe(): Promise<ProbeResult> {
    this.bootMs = await readBootTimeMs(this.cfg.procRoot);
    if (this.bootMs === null && this.cfg.watch.every((w) => w.logDir === null)) {
      return { status: 'unavailable', reason: `no process table at ${this.cfg.procRoot} (runs are found on Linux)`, retry: false };
    }
    const what = [this.cfg.auto ? 'GPU processes' : null, this.cfg.watch.length ? `${this.cfg.watch.length} configured watch(es)` : null]
      .filter(Boolean)
      .join(' and ');
    return { status: 'ready', description: `training runs from ${what || 'nothing (auto off, no watches)'}` };
  }

  async sample(): Promise<SampleResult> {
    const now = this.now();
    const gpu = gpuDetailsOf(this.latest());
    if (now >= this.nextDiscoverAt || this.hasUnseenGpuProcess(gpu)) {
      this.nextDiscoverAt = now + DISCOVER_INTERVAL_MS;
      await this.discover(gpu, now);
    }
    await this.checkAlive(now);
    const series: SeriesMap = {};
    const latest = this.latest();
    let live = 0;
    for (const r of this.runs.values()) if (r.endedAt === null) live++;
    const share = Math.max(MIN_READ_BYTES_PER_RUN, Math.floor(READ_BYTES_PER_TICK_TOTAL / Math.max(1, live)));
    await Promise.all([...this.runs.values()].map((r) => this.readMetrics(r, now, share)));
    this.prune(now);
    const runs: RunInfo[] = [];
    const notes: Record<string, string> = {};
    for (const r of this.runs.values()) {
      this.joinGpus(r, gpu, latest, now);
      const stalled = this.stalledMs(r, now);
      this.writeSeries(r, now, stalled, series);
      runs.push(this.info(r, now, stalled));
      // The run-ended alert's words (`Run {subject}`): exit status, elapsed, last step and loss.
      if (r.endedAt !== null) notes[r.names.ended_state] = runEndedText(this.textInput(r, now));
    }
    const details: RunsDetails = { kind: 'runs', runs, notes: [...this.notes] };
    return { series, details, notes };
  }

  // ---- discovery ----

  private hasUnseenGpuProcess(gpu: GpuDetails | null): boolean {
    if (!this.cfg.auto || gpu === null) return false;
    for (const p of gpu.processes) {
      if (!this.procs.has(p.pid)) return true;
    }
    return false;
  }

  private async proc(pid: number): Promise<ProcInfo | null> {
    const st = await readStat(this.cfg.procRoot, pid);
    if (st === null || st.state === 'Z') {
      this.procs.delete(pid);
      return null;
    }
    const had = this.procs.get(pid);
    if (had !== undefined && had.startTicks === st.startTicks) {
      had.ppid = st.ppid;
      return had;
    }
    const p: ProcInfo = { pid, ppid: st.ppid, startTicks: st.startTicks, argv: await readCmdline(this.cfg.procRoot, pid) };
    this.procs.set(pid, p);
    return p;
  }

  /** Climbs from a training process to the top of its training tree (launcher over workers). */
  private async rootOf(p: ProcInfo, match: (argv: string[]) => boolean): Promise<ProcInfo> {
    let cur = p;
    for (let i = 0; i < 16 && cur.ppid > 1; i++) {
      const parent = await this.proc(cur.ppid);
      if (parent === null || parent.argv === null || !(match(parent.argv) || launcherOf(parent.argv) !== null)) break;
      cur = parent;
    }
    return cur;
  }

  private async discover(gpu: GpuDetails | null, now: number): Promise<void> {
    const watches = this.cfg.watch.filter((w) => w.command !== null);
    const rootsFound = new Map<number, { root: ProcInfo; watch: RunWatch | null; origin: 'gpu' | 'config' }>();
    const pids = await listPids(this.cfg.procRoot);
    const alive = new Set(pids);
    for (const pid of this.procs.keys()) if (!alive.has(pid)) this.procs.delete(pid);
    // Every process is read once (stat + cmdline), then only when its start time changes.
    for (const pid of pids) if (!this.procs.has(pid)) await this.proc(pid);
    const children = new Map<number, number[]>();
    for (const p of this.procs.values()) {
      let list = children.get(p.ppid);
      if (list === undefined) children.set(p.ppid, (list = []));
      list.push(p.pid);
    }
    const inRun = new Set<number>();
    for (const r of this.runs.values()) if (r.endedAt === null) for (const p of r.pids) inRun.add(p);

    if (this.cfg.auto && gpu !== null) {
      for (const gp of gpu.processes) {
        if (inRun.has(gp.pid)) continue;
        const p = this.procs.get(gp.pid) ?? (await this.proc(gp.pid));
        if (p === null || p.argv === null || !isTrainingCandidate(p.argv)) continue;
        const root = await this.rootOf(p, isTrainingCandidate);
        if (!inRun.has(root.pid)) rootsFound.set(root.pid, { root, watch: null, origin: 'gpu' });
      }
    }
    for (const w of watches) {
      for (const p of this.procs.values()) {
        if (p.argv === null || inRun.has(p.pid) || p.pid === process.pid) continue;
        const cmd = p.argv.join(' ');
        if (!(w.command as RegExp).test(cmd)) continue;
        const root = await this.rootOf(p, (argv) => (w.command as RegExp).test(argv.join(' ')));
        if (!inRun.has(root.pid)) rootsFound.set(root.pid, { root, watch: w, origin: 'config' });
      }
    }
    // A match inside another match's tree is one run: keep only the topmost roots.
    for (const [pid, f] of rootsFound) {
      for (let cur = f.root.ppid, i = 0; cur > 1 && i < 32; i++) {
        if (rootsFound.has(cur) && cur !== pid) {
          rootsFound.delete(pid);
          break;
        }
        cur = this.procs.get(cur)?.ppid ?? 0;
      }
    }
    for (const f of rootsFound.values()) {
      if ([...this.runs.values()].filter((r) => r.endedAt === null).length >= MAX_RUNS) {
        this.note(`more than ${MAX_RUNS} runs at once; the rest are not followed`);
        break;
      }
      await this.addProcessRun(f.root, f.watch, f.origin, now);
    }
    // Members: each live run's tree as it is now.
    for (const r of this.runs.values()) {
      if (r.endedAt !== null || r.root === null) continue;
      const tree = new Set<number>();
      const queue = [r.root.pid];
      while (queue.length > 0 && tree.size < MAX_PIDS_PER_RUN) {
        const p = queue.pop() as number;
        if (tree.has(p)) continue;
        tree.add(p);
        for (const c of children.get(p) ?? []) queue.push(c);
      }
      if (alive.has(r.root.pid)) r.pids = tree;
    }
    // Log-directory-only watches are runs from the start.
    for (const w of this.cfg.watch) {
      if (w.command !== null || w.name === null) continue;
      const id = idStem(w.name);
      if (this.runs.has(id)) continue;
      this.runs.set(id, this.newRun(id, w.name, 'config', w, null, now));
    }
  }

  private newRun(id: string, name: string, origin: 'gpu' | 'config', watch: RunWatch | null, root: ProcInfo | null, now: number): Run {
    return {
      id,
      name,
      origin,
      watch,
      root,
      pids: new Set(root ? [root.pid] : []),
      command: null,
      cwd: null,
      user: null,
      owner: null,
      ownerFromGpu: false,
      startedAt: null,
      firstSeenAt: now,
      endedAt: null,
      exit: null,
      exitCode: null,
      files: new MetricFiles(watch?.logDir ? [watch.logDir] : [], root ? null : now - 3_600_000, this.log),
      tags: new Map(),
      keys: new Set(),
      loss: null,
      throughput: null,
      names: Object.fromEntries(BUILTIN_METRICS.map((m) => [m, seriesName('run', id, m)])) as Run['names'],
      tagsDropped: 0,
      lastStep: null,
      lastMetricAt: null,
      lastGpuBusyAt: null,
      gpus: [],
      prom: watch?.metricsUrl ? { pending: false, problem: null } : null,
      statFd: null,
    };
  }

  private async addProcessRun(root: ProcInfo, watch: RunWatch | null, origin: 'gpu' | 'config', now: number): Promise<void> {
    const argv = root.argv ?? [];
    const name = watch?.name ?? runName(argv);
    let id = `${idStem(name)}-${root.pid}`;
    if (this.runs.has(id)) id = `${id}-${root.startTicks}`; // the same pid again after an earlier run ended
    const r = this.newRun(id, name, origin, watch, root, now);
    const procRoot = this.cfg.procRoot;
    r.command = argv.join(' ').slice(0, 1000);
    r.cwd = await readCwd(procRoot, root.pid);
    const uid = await readUid(procRoot, root.pid);
    r.user = uid === null ? null : await userName(uid);
    r.owner = await readOwner(procRoot, root.pid);
    r.startedAt = this.bootMs === null ? null : this.bootMs + (root.startTicks / CLOCK_TICKS_PER_SECOND) * 1000;
    const roots = [...(r.cwd ? [r.cwd] : []), ...logDirsOf(argv, r.cwd), ...(watch?.logDir ? [watch.logDir] : [])];
    r.files = new MetricFiles([...new Set(roots)], r.startedAt, this.log);
    r.statFd = openProcStat(join(procRoot, String(root.pid), 'stat'));
    this.runs.set(id, r);
    this.log.info(`runs: found ${name} (pid ${root.pid}${r.cwd ? `, in ${r.cwd}` : ''})`);
  }

  // ---- liveness ----

  private async checkAlive(now: number): Promise<void> {
    for (const r of this.runs.values()) {
      if (r.endedAt !== null || r.root === null) continue;
      const st = r.statFd !== null ? readStatFd(r.statFd) : await readStat(this.cfg.procRoot, r.root.pid);
      if (st !== null && st.startTicks === r.root.startTicks && st.state !== 'Z') continue;
      // The root is gone (or a zombie whose exit status we can read): any other member left keeps the run alive.
      if (st !== null && st.state === 'Z' && st.startTicks === r.root.startTicks && st.exitCode !== null) {
        const ex = describeExit(st.exitCode);
        r.exit = ex.text;
        r.exitCode = ex.code ?? -1;
      }
      let other = false;
      for (const pid of r.pids) {
        if (pid === r.root.pid) continue;
        const s = await readStat(this.cfg.procRoot, pid);
        if (s !== null && s.state !== 'Z') {
          other = true;
          break;
        }
      }
      if (other) continue;
      r.endedAt = now;
      closeFd(r.statFd);
      r.statFd = null;
      await r.files.tick(now, (points, format, path) => this.take(r, points, format, path, now));
      this.log.info(`runs: ${this.summary(r, now, this.state(r, null))}`);
    }
  }

  // ---- metrics ----

  private async readMetrics(r: Run, now: number, maxBytes: number): Promise<void> {
    if (r.endedAt !== null) return;
    await r.files.tick(now, (points, format, path) => this.take(r, points, format, path, now), maxBytes);
    if (r.prom !== null && !r.prom.pending && r.watch?.metricsUrl) this.scrape(r, r.watch.metricsUrl);
  }

  /** Fetches a run's /metrics in the background: the tick never waits for it. */
  private scrape(r: Run, url: string): void {
    const prom = r.prom as { pending: boolean; problem: string | null };
    prom.pending = true;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), METRICS_FETCH_TIMEOUT_MS);
    void (async () => {
      try {
        const res = await this.fetchFn(url, { signal: ac.signal, redirect: 'error' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const text = (await res.text()).slice(0, MAX_METRICS_PAGE_BYTES);
        const page = parsePrometheusText(text);
        const points: MetricPoint[] = [];
        const t = this.now();
        for (const fam of page.families.values()) {
          for (const s of fam.samples) {
            if (Object.keys(s.labels).length > 0 || s.name !== fam.name) continue;
            points.push({ tag: s.name, value: s.value, step: null, t });
          }
        }
        prom.problem = null;
        if (!this.closed) this.take(r, points, 'prometheus', url, t);
      } catch (e) {
        prom.problem = `cannot read ${url}: ${(e as Error).message}`;
      } finally {
        clearTimeout(timer);
        prom.pending = false;
      }
    })();
  }

  private take(r: Run, points: MetricPoint[], _format: MetricFormat | 'prometheus', _path: string, now: number): void {
    for (const p of points) {
      let s = r.tags.get(p.tag);
      if (s === undefined) {
        if (r.tags.size >= this.cfg.maxTags) {
          r.tagsDropped++;
          this.log.warnOnce(`runs-tags:${r.id}`, `runs: ${r.name} logs more than ${this.cfg.maxTags} scalars; the rest are not followed (runs.maxTags)`);
          continue;
        }
        let key = sanitizeTag(p.tag);
        if (BUILTIN.has(key)) key = `tag_${key}`;
        for (let i = 2; r.keys.has(key); i++) key = `${sanitizeTag(p.tag).slice(0, 60)}_${i}`;
        r.keys.add(key);
        s = { tag: p.tag, key, series: seriesName('run', r.id, key), value: p.value, step: p.step, t: p.t ?? now };
        r.tags.set(p.tag, s);
        if (isLossTag(s.tag) && (r.loss === null || lossScore(s) < lossScore(r.loss))) r.loss = s;
        if (r.throughput === null && isThroughputTag(s.tag)) r.throughput = s;
      } else if (p.step !== null && s.step !== null && p.step < s.step) {
        continue; // an older point (a re-read file) never replaces a newer one
      }
      s.value = p.value;
      s.step = p.step;
      s.t = p.t ?? now;
      if (p.step !== null && (r.lastStep === null || p.step > r.lastStep)) r.lastStep = p.step;
      r.lastMetricAt = now;
    }
  }

  // ---- GPUs and series ----

  private joinGpus(r: Run, gpu: GpuDetails | null, latest: SampleMessage | undefined, now: number): void {
    if (r.endedAt !== null) return;
    if (gpu === null) {
      r.gpus = [];
      return;
    }
    const per = new Map<number, number | null>();
    for (const p of gpu.processes) {
      if (!r.pids.has(p.pid)) continue;
      // The GPU source resolved this process's owner already (and named its container): use that one.
      if (p.owner != null && (!r.ownerFromGpu || p.pid === r.root?.pid)) {
        r.owner = p.owner;
        r.ownerFromGpu = true;
      }
      const had = per.get(p.gpuIndex);
      per.set(p.gpuIndex, p.usedMemoryBytes === null || had === null ? null : (had ?? 0) + p.usedMemoryBytes);
    }
    r.gpus = [...per.entries()].sort((a, b) => a[0] - b[0]).map(([index, memoryBytes]) => ({ index, memoryBytes }));
    for (const g of r.gpus) {
      const u = latest?.series[`gpu.${g.index}.utilization_ratio`];
      if (typeof u === 'number' && u > 0) r.lastGpuBusyAt = now;
    }
  }

  private stalledMs(r: Run, now: number): number | null {
    if (r.endedAt !== null) return null;
    const idle: number[] = [];
    if (r.gpus.length > 0) idle.push(now - (r.lastGpuBusyAt ?? r.firstSeenAt));
    if (r.tags.size > 0 || r.files.count > 0) idle.push(now - (r.lastMetricAt ?? r.firstSeenAt));
    return idle.length === 0 ? null : Math.max(...idle);
  }

  private state(r: Run, stalled: number | null): RunState {
    if (r.endedAt !== null) return r.exitCode !== null && r.exitCode !== 0 ? 'gone' : 'finished';
    if (r.root === null) return stalled !== null && stalled >= STALL_AFTER_MS ? 'gone' : 'running';
    return stalled !== null && stalled >= STALL_AFTER_MS ? 'stalled' : 'running';
  }

  private writeSeries(r: Run, now: number, stalled: number | null, series: SeriesMap): void {
    const n = r.names;
    const ended = r.endedAt !== null;
    series[n.up_state] = ended ? 0 : 1;
    series[n.ended_state] = ended ? 1 : 0;
    const el = this.elapsedMs(r, now);
    series[n.elapsed_seconds] = el === null ? null : el / 1000;
    series[n.stalled_seconds] = stalled === null ? null : stalled / 1000;
    series[n.step_count] = r.lastStep;
    const loss = r.loss;
    series[n.loss_nonfinite_state] = loss === null ? null : Number.isFinite(loss.value) ? 0 : 1;
    const thr = r.throughput;
    series[n.throughput_per_second] = ended || thr === null || !Number.isFinite(thr.value) ? null : thr.value;
    let vram: number | null = r.gpus.length === 0 ? null : 0;
    for (const g of r.gpus) vram = vram === null || g.memoryBytes === null ? null : vram + g.memoryBytes;
    series[n.gpu_memory_used_bytes] = ended ? null : vram;
    for (const s of r.tags.values()) series[s.series] = Number.isFinite(s.value) ? s.value : null;
  }

  private elapsedMs(r: Run, now: number): number | null {
    const start = r.startedAt ?? (r.root === null ? null : r.firstSeenAt);
    if (start === null) return null;
    return Math.max(0, (r.endedAt ?? now) - start);
  }

  private prune(now: number): void {
    const ended = [...this.runs.values()].filter((r) => r.endedAt !== null).sort((a, b) => (b.endedAt as number) - (a.endedAt as number));
    ended.forEach((r, i) => {
      if (i >= MAX_ENDED_RUNS || now - (r.endedAt as number) > ENDED_RETAIN_MS) {
        closeFd(r.statFd);
        r.statFd = null;
        void r.files.close();
        this.runs.delete(r.id);
      }
    });
  }

  private note(text: string): void {
    if (this.notes.size < 20 && !this.notes.has(text)) {
      this.notes.add(text);
      this.log.warn(`runs: ${text}`);
    }
  }

  // ---- details ----

  private scalar(r: Run, s: TagState): RunScalar {
    return {
      tag: s.tag,
      key: s.series,
      value: Number.isFinite(s.value) ? s.value : null,
      text: scalarText(s.value),
      step: s.step,
      t: s.t,
    };
  }

  /** What the run's words are made of (text.ts). */
  private textInput(r: Run, now: number): RunTextInput {
    const m = r.loss ?? r.throughput ?? mainMetric(r);
    return {
      name: r.name,
      command: r.command,
      ended: r.endedAt !== null,
      exit: r.exit,
      elapsedMs: this.elapsedMs(r, now),
      lastStep: r.lastStep,
      metric: m === null ? null : { tag: m.tag, value: m.value, isLoss: m === r.loss },
    };
  }

  /** "Run train.py finished (exit code 0) after 3 h 12 min — step 5000, loss 0.412". */
  private summary(r: Run, now: number, state: RunState): string {
    return runSummaryText(this.textInput(r, now), state);
  }

  private info(r: Run, now: number, st: number | null): RunInfo {
    const el = this.elapsedMs(r, now);
    const loss = r.loss;
    const thr = r.throughput;
    const state = this.state(r, st);
    const files: RunFile[] = r.files.files();
    if (r.prom !== null && r.watch?.metricsUrl) files.push({ path: r.watch.metricsUrl, format: 'prometheus', problem: r.prom.problem });
    const pids = r.root ? [r.root.pid, ...[...r.pids].filter((p) => p !== r.root?.pid).sort((a, b) => a - b)] : [];
    return {
      id: r.id,
      name: r.name,
      state,
      origin: r.origin,
      command: r.command,
      cwd: r.cwd,
      user: r.user,
      container: ownerLabel(r.owner),
      owner: r.owner,
      pids,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      elapsedSeconds: el === null ? null : Math.round(el / 1000),
      exit: r.exit,
      gpus: r.gpus,
      lastStep: r.lastStep,
      loss: loss ? this.scalar(r, loss) : null,
      throughput: thr ? this.scalar(r, thr) : null,
      stalledSeconds: st === null ? null : Math.round(st / 1000),
      scalars: [...r.tags.values()].map((s) => this.scalar(r, s)),
      files,
      summary: this.summary(r, now, state),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.runs.values()].map(async (r) => {
        await r.files.close();
        closeFd(r.statFd);
        r.statFd = null;
      }),
    );
    this.runs.clear();
  }
}

const statBuf = Buffer.alloc(1024);

// The liveness check runs every tick for every run, so it is one pread on a descriptor kept open.
// It is synchronous on purpose: procfs answers from kernel memory and never waits on a disk, and a
// synchronous pread costs ~4 µs here against ~26 µs for a thread-pool round trip.

function openProcStat(path: string): number | null {
  try {
    return openSync(path, 'r');
  } catch {
    return null;
  }
}

/** Re-reads /proc/<pid>/stat through an open descriptor (fresh each read; ESRCH once the process is gone). */
function readStatFd(fd: number): ProcStat | null {
  try {
    const n = readSync(fd, statBuf, 0, statBuf.length, 0);
    return n === 0 ? null : parseStat(statBuf.toString('latin1', 0, n));
  } catch {
    return null;
  }
}

function closeFd(fd: number | null): void {
  if (fd === null) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** The GPU source's details in a snapshot, if any. */
function gpuDetailsOf(latest: SampleMessage | undefined): GpuDetails | null {
  if (latest === undefined) return null;
  for (const d of Object.values(latest.details)) if (d.kind === 'gpu') return d;
  return null;
}

/** The first scalar that is not a schedule or a counter (learning rate, epoch, step), when no loss or throughput is logged. */
function mainMetric(r: Run): TagState | null {
  for (const s of r.tags.values()) if (!/^(lr|learning[_ ]?rate|epoch|step|global_step|time|timestamp)$/i.test(s.tag.replace(/^.*[/]/, ''))) return s;
  return null;
}

/** Orders loss-like tags: the plain training loss before validation / epoch aggregates (lower is better). */
function lossScore(x: TagState): number {
  return (/val|eval|test/i.test(x.tag) ? 2 : 0) + (/epoch/i.test(x.tag) ? 1 : 0) + x.tag.length / 1000;
}
