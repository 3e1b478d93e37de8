// The nvidia-smi fallback: ONE long-lived `nvidia-smi --query-gpu=… --format=csv,noheader,nounits -lms N`
// child streaming lines (never a process per sample), plus `--query-compute-apps` on a slower cadence.
// A child silent past a timeout is killed and restarted with backoff; field-name drift between drivers
// is handled by asking `--help-query-gpu` once and by dropping a field the driver rejects.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import type * as Readline from 'node:readline';
import { SourceError } from '../../source';
import { Backoff, type BackoffOptions } from '../../../client/backoff';
import type { Logger } from '../../log';
import type { GpuReading, ProcessReading } from './reading';
import {
  buildSmiQuery,
  parseComputeApps,
  parseHelpQueryGpu,
  parseQueryGpuLine,
  parseSmiQ,
  parseUnknownField,
  SMI_APPS_FIELDS,
  type SmiQuery,
  type SmiRow,
} from './smi-parse';

/** Longest a one-shot nvidia-smi call (help, apps, -q) may run. */
export const SMI_ONESHOT_TIMEOUT_MS = 10_000;
/** Restart backoff of the nvidia-smi stream: 0.5 s doubling to 30 s, no jitter (one child per collector). */
const RESTART_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0 };
const MAX_FIELD_RETRIES = 8;
const FIRST_BATCH_SETTLE_MS = 50;

/** Options of the nvidia-smi backend. */
export interface SmiOptions {
  smiPath: string;
  intervalMs: number;
  /** A child that prints nothing for this long is killed and restarted. */
  silenceTimeoutMs: number;
  /** Cadence of `--query-compute-apps` (a spawn each time, so much slower than samples). */
  appsIntervalMs: number;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/** Outcome of starting the fallback. */
export type SmiOpenResult = { ok: true; backend: SmiBackend } | { ok: false; message: string };

/** Runs nvidia-smi once with a timeout; resolves stdout+stderr and the exit code. */
export function runSmi(
  smiPath: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = SMI_ONESHOT_TIMEOUT_MS,
): Promise<{ code: number | null; out: string; err: string; error?: Error }> {
  return new Promise((resolve) => {
    execFile(smiPath, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error
        ? typeof (error as NodeJS.ErrnoException & { code?: unknown }).code === 'number'
          ? (error as unknown as { code: number }).code
          : null
        : 0;
      resolve({ code, out: String(stdout), err: String(stderr), error: error ?? undefined });
    });
  });
}

/** Reads GPUs from a streaming nvidia-smi child. */
export class SmiBackend {
  private child: ChildProcess | null = null;
  private rows = new Map<string, { row: SmiRow; at: number }>();
  private lastLineAt = 0;
  private startedAt = 0;
  private readonly backoff = new Backoff(RESTART_BACKOFF);
  private restartTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private appsTimer: NodeJS.Timeout | null = null;
  private apps: ProcessReading[] = [];
  private appsRunning = false;
  private closed = false;
  private rejected = new Set<string>();
  private lastError = '';
  private restarts = 0;
  private onFirstData: (() => void) | null = null;
  private onFatal: ((msg: string) => void) | null = null;

  private constructor(
    private readonly opts: SmiOptions,
    private known: Set<string> | null,
    private query: SmiQuery,
    /** CUDA version from `nvidia-smi -q` (not a --query-gpu field). */
    readonly cudaVersion: string | null,
  ) {}

  /** Asks for the field list once, starts the stream and waits for its first line. */
  static async open(opts: SmiOptions): Promise<SmiOpenResult> {
    const help = await runSmi(opts.smiPath, ['--help-query-gpu'], opts.env);
    if (help.error && (help.error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, message: `${opts.smiPath} not found` };
    const known = help.code === 0 ? parseHelpQueryGpu(help.out) : null;
    let query: SmiQuery;
    try {
      query = buildSmiQuery(known && known.size > 0 ? known : null);
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
    const q = await runSmi(opts.smiPath, ['-q', '-d', 'COMPUTE'], opts.env);
    const cudaVersion = q.code === 0 ? parseSmiQ(q.out).cudaVersion : null;
    const b = new SmiBackend(opts, known && known.size > 0 ? known : null, query, cudaVersion);
    const first = await b.startAndWait();
    if (first !== null) {
      b.close();
      return { ok: false, message: first };
    }
    return { ok: true, backend: b };
  }

  /** Pid of the streaming child (tests). */
  get childPid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the stream was restarted. */
  get restartCount(): number {
    return this.restarts;
  }

  /** Names passed to --query-gpu now. */
  get queryFields(): readonly string[] {
    return this.query.names;
  }

  /** The latest line of every GPU; throws SourceError when the stream has been silent too long. */
  read(): GpuReading {
    const now = Date.now();
    const silentFor = now - Math.max(this.lastLineAt, this.startedAt);
    if (this.lastLineAt === 0 || silentFor > this.opts.silenceTimeoutMs) {
      throw new SourceError(`nvidia-smi printed nothing for ${Math.round(silentFor / 1000)} s; restarting it${this.lastError ? ` (${this.lastError})` : ''}`);
    }
    // A GPU whose line stopped arriving is gone (or the stream is partial): drop it after a few intervals.
    const maxAge = Math.max(3 * this.opts.intervalMs, 2000);
    const devices = [];
    let driverVersion: string | null = null;
    for (const [bus, r] of this.rows) {
      if (now - r.at > maxAge) {
        this.rows.delete(bus);
        continue;
      }
      devices.push(r.row.device);
      driverVersion ??= r.row.driverVersion;
    }
    return { backend: 'nvidia-smi', driverVersion, cudaVersion: this.cudaVersion, devices, processes: this.apps };
  }

  /** Kills the children and timers. Idempotent. */
  close(): void {
    this.closed = true;
    for (const t of [this.restartTimer, this.appsTimer]) if (t) clearTimeout(t);
    if (this.watchdog) clearInterval(this.watchdog);
    this.restartTimer = this.watchdog = this.appsTimer = null;
    this.kill();
  }

  private startAndWait(): Promise<string | null> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: string | null): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.onFirstData = null;
        this.onFatal = null;
        resolve(r);
      };
      const timer = setTimeout(() => finish(`nvidia-smi printed no data within ${this.opts.silenceTimeoutMs} ms`), this.opts.silenceTimeoutMs);
      // The first line may be the first GPU of a batch: give the rest of the batch a moment to arrive.
      this.onFirstData = () => {
        this.onFirstData = null;
        setTimeout(() => finish(null), FIRST_BATCH_SETTLE_MS);
      };
      this.onFatal = (msg) => finish(msg);
      this.spawnStream();
      this.scheduleApps(0);
    });
  }

  private spawnStream(): void {
    if (this.closed) return;
    const args = [
      `--query-gpu=${this.query.names.join(',')}`,
      '--format=csv,noheader,nounits',
      '-lms',
      String(Math.max(100, Math.round(this.opts.intervalMs))),
    ];
    let child: ChildProcess;
    try {
      child = spawn(this.opts.smiPath, args, { env: this.opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      this.lastError = (e as Error).message;
      this.onFatal?.(`could not start nvidia-smi: ${this.lastError}`);
      this.scheduleRestart();
      return;
    }
    this.child = child;
    this.startedAt = Date.now();
    // readline is loaded with the first nvidia-smi child, not at start (startup memory, docs/performance.md).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use
    const lines = (require('node:readline') as typeof Readline).createInterface({ input: child.stdout! });
    let errText = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (errText.length < 4096) errText += d.toString();
    });
    lines.on('line', (line) => this.onLine(child, line));
    child.on('error', (e) => {
      this.lastError = e.message;
      this.onFatal?.(`could not start nvidia-smi: ${e.message}`);
    });
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.closed) return;
      const unknown = parseUnknownField(errText);
      if (unknown) return this.dropField(unknown);
      const first = errText.trim().split('\n')[0] ?? '';
      this.lastError = `nvidia-smi exited${code !== null ? ` with code ${code}` : ` on ${signal}`}${first ? `: ${first}` : ''}`;
      this.opts.log.warn(this.lastError);
      if (this.lastLineAt === 0 && this.onFatal && code !== null && code !== 0) this.onFatal(this.lastError);
      this.scheduleRestart();
    });
    this.armWatchdog();
  }

  private onLine(child: ChildProcess, line: string): void {
    if (this.child !== child || !line.trim()) return;
    const unknown = parseUnknownField(line);
    if (unknown) {
      // Real nvidia-smi prints this on stdout and exits; drop the field and restart at once.
      this.child = null;
      child.kill('SIGKILL');
      this.dropField(unknown);
      return;
    }
    const row = parseQueryGpuLine(line, this.query);
    if (!row) {
      this.opts.log.warnOnce(`smi-line:${this.query.names.length}`, `nvidia-smi printed a line that does not match the query: ${line.slice(0, 200)}`);
      return;
    }
    const now = Date.now();
    this.lastLineAt = now;
    this.backoff.reset();
    this.lastError = '';
    this.rows.set(row.device.pciBusId, { row, at: now });
    this.onFirstData?.();
  }

  private dropField(name: string): void {
    this.rejected.add(name);
    if (this.rejected.size > MAX_FIELD_RETRIES) {
      this.onFatal?.(`nvidia-smi rejected too many fields (${[...this.rejected].join(', ')})`);
      return;
    }
    try {
      this.query = buildSmiQuery(this.known, this.rejected);
    } catch (e) {
      this.onFatal?.((e as Error).message);
      return;
    }
    this.opts.log.warnOnce(`smi-field:${name}`, `nvidia-smi does not know the field "${name}"; querying without it`);
    this.spawnStream();
  }

  /** One periodic check per child (not a timer re-armed per line): kills it when silent too long. */
  private armWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    const period = Math.max(50, Math.floor(this.opts.silenceTimeoutMs / 4));
    this.watchdog = setInterval(() => {
      if (Date.now() - Math.max(this.lastLineAt, this.startedAt) > this.opts.silenceTimeoutMs) this.onSilent();
    }, period);
    this.watchdog.unref();
  }

  private onSilent(): void {
    if (this.closed || !this.child) return;
    this.lastError = `silent for more than ${this.opts.silenceTimeoutMs} ms, killed`;
    this.opts.log.warn(`nvidia-smi ${this.lastError}; restarting`);
    this.kill();
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.closed || this.restartTimer) return;
    const delay = this.backoff.next();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarts++;
      this.spawnStream();
    }, delay);
    this.restartTimer.unref();
  }

  private kill(): void {
    const c = this.child;
    this.child = null;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  private scheduleApps(delayMs: number): void {
    if (this.closed) return;
    this.appsTimer = setTimeout(() => void this.pollApps(), delayMs);
    this.appsTimer.unref();
  }

  private async pollApps(): Promise<void> {
    if (this.closed || this.appsRunning) return;
    this.appsRunning = true;
    try {
      const r = await runSmi(this.opts.smiPath, [`--query-compute-apps=${SMI_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'], this.opts.env);
      if (r.code === 0) this.apps = parseComputeApps(r.out);
      else this.opts.log.warnOnce('smi-apps', `nvidia-smi --query-compute-apps failed: ${(r.out + r.err).trim().split('\n')[0] ?? r.code}`);
    } finally {
      this.appsRunning = false;
      this.scheduleApps(this.opts.appsIntervalMs);
    }
  }
}
