// One Redis instance as a Source: a single ioredis connection (bounded reconnect backoff, no offline
// queue), PING for latency and one INFO per tick, parsed by the pure parser. Auth failures stop the
// connection for good ("fix the config"); refused/timeouts are retried.

import type { Redis } from 'ioredis';

// ioredis is loaded on first connect, not at start: a collector without Redis never pays its memory.
let ioredisModule: typeof import('ioredis') | undefined;
function loadIoredis(): typeof import('ioredis') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first connect (startup memory)
  return (ioredisModule ??= require('ioredis') as typeof import('ioredis'));
}
import type { RedisDetails } from '../../../protocol';
import { redactSecrets, redactUrl, urlPassword } from '../../redact';
import type { Logger } from '../../log';
import type { ProbeResult, SampleResult, Source, SourceContext } from '../../source';
import { SourceError, authFailure } from '../../source';
import { connectionRefused, hostPort } from '../refused';
import { redisTarget, type RedisInstanceConfig } from './config';
import { parseRedisInfo, type RedisInfo } from './info-parser';
import { buildRedisSeries, type RedisCounters } from './series';

/** How long one TCP connect may take. */
export const REDIS_CONNECT_TIMEOUT_MS = 2000;
/** First reconnect delay; doubles per attempt up to REDIS_RETRY_MAX_MS (no reconnect storms). */
export const REDIS_RETRY_BASE_MS = 250;
/** Longest delay between reconnect attempts. */
export const REDIS_RETRY_MAX_MS = 5000;
/** An auto-detected instance found absent is not looked at again for this long. */
export const REDIS_AUTO_DETECT_RETRY_MS = 60_000;
/** Bounds of the per-command timeout (derived from the sampling interval). */
const COMMAND_TIMEOUT_MIN_MS = 200;
const COMMAND_TIMEOUT_MAX_MS = 5000;

/** INFO sections the series and details come from. */
const INFO_SECTIONS = ['server', 'clients', 'memory', 'stats', 'replication', 'keyspace'] as const;

// Replies that mean "your credentials are wrong or missing": retrying cannot help.
const AUTH_ERROR_RE = /^(WRONGPASS|NOAUTH|ERR invalid password|ERR AUTH|ERR Client sent AUTH|NOPERM)/;

/** Monitors one Redis instance. */
export class RedisSource implements Source {
  readonly id: string;
  readonly kind = 'redis';
  private readonly target: string;
  private readonly redactedUrl: string;
  private readonly secrets: string[];
  private readonly log: Logger;
  private readonly commandTimeoutMs: number;
  private client: Redis | null = null;
  private everReady = false;
  private lastError: string | null = null;
  private lastErrorCode: string | null = null;
  private reconnectAttempts = 0;
  private authError: string | null = null;
  private absentUntil = 0;
  private prev: RedisCounters | null = null;
  /** Commands we sent since the last INFO reading that the next reading will count. */
  private ownCommands = 0;
  private readonly knownDbs = new Set<number>();
  /** Sections asked for each tick: Redis 7 takes several at once, 6 only one (then plain INFO). */
  private infoSections: string[] = [];
  private closed = false;

  constructor(
    private readonly instance: RedisInstanceConfig,
    ctx: Pick<SourceContext, 'intervalMs' | 'log'>,
  ) {
    this.id = `redis.${instance.name}`;
    this.target = redisTarget(instance.url);
    this.redactedUrl = redactUrl(instance.url);
    const pw = urlPassword(instance.url);
    this.secrets = pw ? [pw] : [];
    this.log = ctx.log.child(this.id);
    this.commandTimeoutMs = Math.round(Math.min(COMMAND_TIMEOUT_MAX_MS, Math.max(COMMAND_TIMEOUT_MIN_MS, ctx.intervalMs * 0.8)));
  }

  /**
   * Ready, or: auto-detected and absent → `unavailable` (the loop looks again in a minute); bad
   * credentials → no retry; a configured instance that cannot be reached → throws, so the loop
   * marks it down and re-probes with its backoff (while ioredis keeps its own bounded reconnects).
   */
  async probe(signal: AbortSignal): Promise<ProbeResult> {
    if (this.closed) return { status: 'unavailable', reason: 'closed', retry: false };
    if (this.authError) return this.authResult(this.authError);
    if (this.instance.autoDetected && Date.now() < this.absentUntil) {
      return { status: 'unavailable', reason: this.absentReason(), retry: true };
    }
    // The loop re-probes with its own backoff: a connection sitting in ioredis' reconnect wait is
    // replaced by a fresh attempt now rather than waiting up to REDIS_RETRY_MAX_MS on top.
    if (this.client?.status === 'reconnecting') this.dropClient();
    // The default address, looked at before ioredis is loaded: nothing there → absent, without ioredis in memory.
    const at = this.instance.autoDetected && !this.client ? hostPort(this.instance.url, 6379) : null;
    const refused = at && (await connectionRefused(at.host, at.port, REDIS_CONNECT_TIMEOUT_MS, signal));
    if (refused) {
      this.lastError = this.scrub(refused.message);
      this.lastErrorCode = 'ECONNREFUSED';
      return this.absent();
    }
    const client = this.ensureClient();
    if (client.status !== 'ready') await this.waitForOutcome(client, signal);
    if (this.authError) {
      this.dropClient();
      return this.authResult(this.authError);
    }
    if (client.status !== 'ready') {
      const reason = this.downReason();
      // A connection that never came up is not kept retrying in the background: the tick loop's
      // re-probe (with its backoff) is the retry. One that was up keeps ioredis' bounded reconnects.
      if (!this.everReady) this.dropClient();
      if (this.instance.autoDetected && this.lastErrorCode === 'ECONNREFUSED') return this.absent();
      throw new SourceError(reason, true);
    }
    const info = await this.readInfo(client, signal);
    const role = info.role === 'slave' ? 'replica' : (info.role ?? 'unknown role');
    return { status: 'ready', description: `Redis ${info.version ?? '?'} at ${this.target} (${role})` };
  }

  /** An auto-detected instance that is not there: looked at again in a minute. */
  private absent(): ProbeResult {
    this.absentUntil = Date.now() + REDIS_AUTO_DETECT_RETRY_MS;
    this.log.debug(`${this.absentReason()}; looking again in ${REDIS_AUTO_DETECT_RETRY_MS / 1000} s`);
    return { status: 'unavailable', reason: this.absentReason(), retry: true };
  }

  private authResult(reason: string): ProbeResult {
    return authFailure(this.instance.autoDetected, reason);
  }

  async sample(signal: AbortSignal): Promise<SampleResult> {
    if (this.authError) throw new SourceError(this.authError, false);
    const client = this.client;
    if (!client || client.status !== 'ready') throw new SourceError(this.downReason(), true);
    const t0 = performance.now();
    try {
      this.ownCommands++;
      await this.command(client.ping(), signal);
      const pingSeconds = (performance.now() - t0) / 1000;
      const ownCommands = this.ownCommands;
      const info = await this.readInfo(client, signal);
      const { series, counters } = buildRedisSeries(
        { instance: this.instance.name, info, atMs: performance.now(), pingSeconds, ownCommands, knownDbs: this.knownDbs },
        this.prev,
      );
      this.prev = counters;
      return { series, details: this.details(client, info) };
    } catch (err) {
      if (err instanceof SourceError) throw err;
      const msg = this.scrub(errorMessage(err));
      // A password changed or removed under a live connection: as final as a failed login.
      if (AUTH_ERROR_RE.test(msg)) {
        this.onError(client, err);
        if (this.authError) throw new SourceError(this.authError, false);
      }
      throw new SourceError(`Redis at ${this.target}: ${msg}`, true);
    }
  }

  close(): void {
    this.closed = true;
    this.dropClient();
  }

  /** Connection status as ioredis reports it (`ready`, `reconnecting`, …), or `closed`. */
  connectionStatus(): string {
    return this.client?.status ?? 'closed';
  }

  private async readInfo(client: Redis, signal: AbortSignal): Promise<RedisInfo> {
    const reply = await this.command(this.infoSections.length ? client.call('INFO', ...this.infoSections) : client.info(), signal);
    // This INFO is itself counted by the next reading.
    this.ownCommands = 1;
    const info = parseRedisInfo(typeof reply === 'string' ? reply : String(reply));
    const major = Number(info.version?.split('.')[0]);
    // Only what we read: skips persistence, cpu, modules, errorstats and cluster (a third of the text).
    if (info.version !== null) this.infoSections = major >= 7 ? [...INFO_SECTIONS] : [];
    return info;
  }

  private details(client: Redis, info: RedisInfo): RedisDetails {
    return {
      kind: 'redis',
      instance: this.instance.name,
      target: this.redactedUrl,
      origin: this.instance.origin,
      version: info.version,
      role: info.role,
      connection: client.status,
      reconnectAttempts: this.reconnectAttempts,
      lastError: this.lastError,
      uptimeSeconds: info.uptimeSeconds,
      connectedReplicas: info.role === 'master' ? info.connectedReplicas : null,
      masterLinkStatus: info.masterLinkStatus,
      keyspace: info.keyspace.map((d) => ({ db: d.db, keys: d.keys, expires: d.expires })),
    };
  }

  private ensureClient(): Redis {
    if (this.client && this.client.status !== 'end') return this.client;
    this.dropClient();
    this.everReady = false;
    const client = new (loadIoredis().Redis)(this.instance.url, {
      lazyConnect: true,
      connectionName: 'rigwatch',
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      commandTimeout: this.commandTimeoutMs,
      // Fail fast while disconnected instead of queueing commands behind a dead socket.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResubscribe: false,
      retryStrategy: (times: number) => Math.min(REDIS_RETRY_BASE_MS * 2 ** Math.min(times - 1, 16), REDIS_RETRY_MAX_MS),
    });
    client.on('error', (err: unknown) => this.onError(client, err));
    client.on('ready', () => {
      this.everReady = true;
      this.infoSections = []; // maybe another server version now: the next INFO is a plain one
      this.reconnectAttempts = 0;
      this.lastError = null;
      this.lastErrorCode = null;
      // A new connection may be to a restarted server, and its handshake sent commands: start rates afresh.
      this.prev = null;
      this.ownCommands = 0;
    });
    client.on('reconnecting', () => {
      this.reconnectAttempts++;
    });
    this.client = client;
    client.connect().catch(() => {
      // The outcome is observed through the error/ready events and `status`.
    });
    return client;
  }

  private onError(client: Redis, err: unknown): void {
    const msg = this.scrub(errorMessage(err));
    this.lastError = msg;
    this.lastErrorCode =
      (err as { code?: unknown }).code && typeof (err as { code?: unknown }).code === 'string' ? String((err as { code: string }).code) : null;
    if (AUTH_ERROR_RE.test(msg)) {
      const missing = msg.startsWith('NOAUTH');
      this.authError = missing
        ? `Redis at ${this.target} requires a password (${msg}) — ${this.fixHint()} (redis://:PASSWORD@host:port); not retrying until the config changes`
        : `Redis at ${this.target} rejected the credentials (${msg}) — ${this.fixHint()}; not retrying until the config changes`;
      this.log.warnOnce(`auth:${this.id}`, this.authError);
      // Stop ioredis from reconnecting with the same wrong credentials.
      if (this.client === client) this.dropClient();
      return;
    }
    this.log.debug(`connection error: ${msg}`);
  }

  private fixHint(): string {
    return this.instance.autoDetected
      ? 'add a "redis" entry with the password to the config, or set REDIS_URL'
      : `fix ${this.instance.origin}${this.instance.origin.startsWith('redis') ? '.url' : ''}`;
  }

  private downReason(): string {
    const status = this.client?.status ?? 'not connected';
    const cause = this.lastError ? `: ${describeCause(this.lastError, this.lastErrorCode)}` : '';
    const attempts = this.reconnectAttempts > 0 ? `, reconnect attempt ${this.reconnectAttempts}` : '';
    return `cannot reach Redis at ${this.target}${cause} (${status}${attempts})`;
  }

  private absentReason(): string {
    return `no Redis at ${this.target} (auto-detected default; configure "redis" or set REDIS_URL to watch another)`;
  }

  /** Waits until the client is ready, reports an error, ends, times out or the signal aborts. */
  private waitForOutcome(client: Redis, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        client.off('ready', done);
        client.off('error', done);
        client.off('end', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, REDIS_CONNECT_TIMEOUT_MS + 500);
      client.on('ready', done);
      client.on('error', done);
      client.on('end', done);
      signal.addEventListener('abort', done);
      if (signal.aborted || this.closed) done();
    });
  }

  private command<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(new SourceError(`Redis at ${this.target}: sample aborted`, true));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new SourceError(`Redis at ${this.target}: no reply before the sample timeout`, true));
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private dropClient(): void {
    const c = this.client;
    this.client = null;
    if (!c) return;
    c.disconnect();
    // Keep a listener so a late socket error after disconnect cannot become an unhandled 'error'.
    c.removeAllListeners();
    c.on('error', () => {});
  }

  private scrub(text: string): string {
    return redactSecrets(text, this.secrets);
  }
}

function describeCause(message: string, code: string | null): string {
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|timed out/i.test(message)) return 'connection timed out';
  if (code === 'ENOTFOUND') return 'host not found';
  return message;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
