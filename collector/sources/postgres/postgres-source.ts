// One PostgreSQL instance as a Source: a single long-lived connection (`application_name=rigwatch`,
// statement_timeout on every query), re-established when it breaks. Two round trips per tick
// (SELECT 1 for latency, one stats query), database size on a slower cadence. Auth failures are
// final until the config changes; refused/timeouts are retried by the tick loop's re-probe backoff.

import type { Client } from 'pg';

// pg is loaded on first connect, not at start: a collector without PostgreSQL never pays its memory.
let pgModule: typeof import('pg') | undefined;
function loadPg(): typeof import('pg') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first connect (startup memory)
  return (pgModule ??= require('pg') as typeof import('pg'));
}
import type { PostgresDetails } from '../../../protocol';
import type { Logger } from '../../log';
import { redactSecrets, redactUrl, urlPassword } from '../../redact';
import type { ProbeResult, SampleResult, Source, SourceContext } from '../../source';
import { SourceError, authFailure } from '../../source';
import { connectionRefused, hostPort } from '../refused';
import { postgresTarget, type PostgresInstanceConfig } from './config';
import {
  buildPostgresSeries,
  DATABASE_SIZE_SQL,
  FORCE_FLUSH_SQL,
  maskQueryText,
  SERVER_INFO_SQL,
  statsSql,
  type PostgresCounters,
  type PostgresStatsRow,
} from './stats';

/** How long one connection attempt may take. */
export const POSTGRES_CONNECT_TIMEOUT_MS = 3000;
/** How often the database size is re-read (pg_database_size stats every file of the database). */
export const POSTGRES_SIZE_REFRESH_MS = 30_000;
/** An auto-detected instance found absent is not looked at again for this long. */
export const POSTGRES_AUTO_DETECT_RETRY_MS = 60_000;
/** Bounds of the default statement timeout, derived from the sampling interval. */
const STATEMENT_TIMEOUT_MIN_MS = 250;
const STATEMENT_TIMEOUT_MAX_MS = 5000;
/** Client-side guard beyond the server's statement_timeout, for a server that stopped answering. */
const QUERY_TIMEOUT_MARGIN_MS = 1000;

// Named (prepared once per connection): halves the client CPU per tick and spares the server a
// re-plan of the statistics query every tick (measured ~0.3 → 0.16 ms CPU, 1.3 → 0.2 ms wall).
const STATS_STATEMENT = 'rigwatch_stats';
const SIZE_STATEMENT = 'rigwatch_size';

/** What went wrong, decided where it happened (DESIGN rule 2). */
interface Failure {
  message: string;
  retry: boolean;
  /** `auth` never retries; `absent` is a refused connection; `query` keeps the connection. */
  kind: 'auth' | 'absent' | 'connection' | 'query';
}

/** Monitors one PostgreSQL instance. */
export class PostgresSource implements Source {
  readonly id: string;
  readonly kind = 'postgres';
  private readonly target: string;
  private readonly redactedUrl: string;
  private readonly secrets: string[];
  private readonly log: Logger;
  private readonly statementTimeoutMs: number;
  private readonly sql: string;
  private client: Client | null = null;
  private connectLatencySeconds: number | null = null;
  private serverVersion: string | null = null;
  private isReplica: boolean | null = null;
  private authError: string | null = null;
  private absentUntil = 0;
  private prev: PostgresCounters | null = null;
  private sizeBytes: number | null = null;
  private sizeAtMs = -Infinity;
  private closed = false;
  /** Why the last connection went away (redacted), for the next sample's error. */
  private lostReason: string | null = null;

  constructor(
    private readonly instance: PostgresInstanceConfig,
    ctx: Pick<SourceContext, 'intervalMs' | 'log'>,
  ) {
    this.id = `postgres.${instance.name}`;
    this.target = postgresTarget(instance.url);
    this.redactedUrl = redactUrl(instance.url);
    const pw = urlPassword(instance.url);
    this.secrets = pw ? [pw] : [];
    this.log = ctx.log.child(this.id);
    this.statementTimeoutMs =
      instance.statementTimeoutMs ?? Math.round(Math.min(STATEMENT_TIMEOUT_MAX_MS, Math.max(STATEMENT_TIMEOUT_MIN_MS, ctx.intervalMs * 0.8)));
    this.sql = statsSql(instance.showQueryText);
  }

  /**
   * Ready, or: auto-detected and absent → `unavailable` (the loop looks again in a minute); bad
   * credentials → no retry; a configured instance that cannot be reached → throws, so the loop
   * marks it down and re-probes with its backoff.
   */
  async probe(signal: AbortSignal): Promise<ProbeResult> {
    if (this.closed) return { status: 'unavailable', reason: 'closed', retry: false };
    if (this.authError) return this.authResult(this.authError);
    if (this.instance.autoDetected && Date.now() < this.absentUntil) {
      return { status: 'unavailable', reason: this.absentReason(), retry: true };
    }
    try {
      await this.connection(signal);
    } catch (err) {
      if (this.authError) return this.authResult(this.authError);
      if (err instanceof AbsentError) return { status: 'unavailable', reason: err.message, retry: true };
      throw err;
    }
    const role = this.isReplica ? 'replica' : 'primary';
    return { status: 'ready', description: `PostgreSQL ${this.serverVersion ?? '?'} at ${this.target} (${role})` };
  }

  private authResult(reason: string): ProbeResult {
    return authFailure(this.instance.autoDetected, reason);
  }

  async sample(signal: AbortSignal): Promise<SampleResult> {
    if (this.authError) throw new SourceError(this.authError, false);
    // Sampling never reconnects: a lost connection marks the source down and the tick loop's
    // re-probe (with backoff) reconnects — no connection attempt per tick against a stuck server.
    const client = this.client;
    if (!client) throw new SourceError(`PostgreSQL at ${this.target}: connection lost (${this.lostReason ?? 'closed'})`, true);
    try {
      const t0 = performance.now();
      await this.query(client, 'SELECT 1', [], signal);
      const queryLatencySeconds = (performance.now() - t0) / 1000;
      const rows = await this.query<PostgresStatsRow>(client, this.sql, [this.instance.database], signal, STATS_STATEMENT);
      const row = rows[0];
      if (!row) throw new SourceError(`PostgreSQL at ${this.target}: the statistics query returned no row`, true);
      const now = performance.now();
      if (now - this.sizeAtMs >= POSTGRES_SIZE_REFRESH_MS) {
        const size = await this.query<{ size: string | null }>(client, DATABASE_SIZE_SQL, [this.instance.database], signal, SIZE_STATEMENT);
        this.sizeBytes = size[0]?.size == null ? null : Number(size[0].size);
        this.sizeAtMs = now;
      }
      const { series, counters } = buildPostgresSeries(
        {
          instance: this.instance.name,
          atMs: now,
          row,
          queryLatencySeconds,
          connectLatencySeconds: this.connectLatencySeconds,
          databaseSizeBytes: this.sizeBytes,
        },
        this.prev,
      );
      this.prev = counters;
      this.isReplica = row.in_recovery;
      return { series, details: this.details(row) };
    } catch (err) {
      if (err instanceof SourceError) throw err;
      const f = this.classify(err);
      if (f.kind !== 'query') {
        // An abort already recorded its reason; otherwise keep the cause without the "PostgreSQL at …" prefix.
        if (!(err instanceof AbortedError)) this.lostReason = f.message.replace(`PostgreSQL at ${this.target}: `, '');
        this.dropClient();
      }
      throw new SourceError(f.message, f.retry);
    }
  }

  close(): void {
    this.closed = true;
    this.dropClient();
  }

  private details(row: PostgresStatsRow): PostgresDetails {
    const longest = row.longest_seconds === null ? null : Number(row.longest_seconds);
    return {
      kind: 'postgres',
      instance: this.instance.name,
      target: this.redactedUrl,
      origin: this.instance.origin,
      serverVersion: this.serverVersion,
      isReplica: row.in_recovery,
      statsDatabase: this.instance.database,
      longestQuerySeconds: longest,
      longestQuery: this.instance.showQueryText && row.longest_query ? redactSecrets(maskQueryText(row.longest_query), this.secrets) : null,
    };
  }

  /** The live connection, (re)connecting when there is none. Throws SourceError. */
  private async connection(signal: AbortSignal): Promise<Client> {
    if (this.client) return this.client;
    if (this.authError) throw new SourceError(this.authError, false);
    // The default address, looked at before pg is loaded: nothing there → absent, without pg in memory.
    const at = this.instance.autoDetected ? hostPort(this.instance.url, 5432) : null;
    if (at && (await connectionRefused(at.host, at.port, POSTGRES_CONNECT_TIMEOUT_MS, signal))) this.absent();
    const client = new (loadPg().Client)({
      connectionString: this.instance.url,
      application_name: 'rigwatch',
      statement_timeout: this.statementTimeoutMs,
      query_timeout: this.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
      connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    // A server restart or a killed backend arrives as an 'error' event; without a listener it would crash the process.
    client.on('error', (err: Error) => {
      this.lostReason = this.scrub(err.message);
      this.log.debug(`connection lost: ${this.lostReason}`);
      if (this.client === client) this.dropClient();
    });
    const t0 = performance.now();
    try {
      await abortable(client.connect(), signal, () => void client.end().catch(() => {}));
      const info = await abortable(
        client.query<{ version: string; num: number; replica: boolean }>(SERVER_INFO_SQL),
        signal,
        () => void client.end().catch(() => {}),
      );
      this.connectLatencySeconds = (performance.now() - t0) / 1000;
      this.serverVersion = info.rows[0]?.version ?? null;
      this.isReplica = info.rows[0]?.replica ?? null;
      await this.warmUp(client, info.rows[0]?.num ?? 0, signal);
    } catch (err) {
      client.removeAllListeners('error');
      client.on('error', () => {});
      void client.end().catch(() => {});
      const f = this.classify(err);
      if (f.kind === 'auth') {
        this.authError = f.message;
        this.log.warnOnce(`auth:${this.id}`, f.message);
      } else if (f.kind === 'absent' && this.instance.autoDetected) {
        this.absent();
      } else {
        this.log.debug(f.message);
      }
      throw new SourceError(f.message, f.retry);
    }
    if (this.closed) {
      void client.end().catch(() => {});
      throw new SourceError('closed', false);
    }
    this.client = client;
    this.lostReason = null;
    // New connection: counters may have been reset by a server restart; rates start afresh.
    this.prev = null;
    return client;
  }

  /**
   * A fresh backend reads catalogs from disk for the first statistics query; counted in the next
   * interval, those reads would show as a cache-hit dip (and a false alert) caused by Rigwatch
   * itself. Run the queries once now, read the size while at it, and ask for the stats flush.
   */
  private async warmUp(client: Client, versionNum: number, signal: AbortSignal): Promise<void> {
    const onAbort = (): void => void client.end().catch(() => {});
    await abortable(client.query({ name: STATS_STATEMENT, text: this.sql, values: [this.instance.database] }), signal, onAbort);
    const size = await abortable(
      client.query<{ size: string | null }>({ name: SIZE_STATEMENT, text: DATABASE_SIZE_SQL, values: [this.instance.database] }),
      signal,
      onAbort,
    );
    this.sizeBytes = size.rows[0]?.size == null ? null : Number(size.rows[0].size);
    this.sizeAtMs = performance.now();
    if (versionNum >= 150000) await abortable(client.query(FORCE_FLUSH_SQL), signal, onAbort).catch(() => undefined);
  }

  private async query<R>(client: Client, sql: string, params: unknown[], signal: AbortSignal, name?: string): Promise<R[]> {
    const q = name ? client.query({ name, text: sql, values: params }) : client.query(sql, params);
    const res = await abortable(q, signal, () => {
      // The loop gave up on this tick: drop the connection so the next tick does not queue behind it.
      this.lostReason = 'no reply before the sample timeout';
      if (this.client === client) this.dropClient();
    });
    return res.rows as R[];
  }

  private classify(err: unknown): Failure {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : '';
    const raw = this.scrub(typeof e.message === 'string' ? e.message : String(err));
    const at = `PostgreSQL at ${this.target}`;
    if (code === '28P01' || code === '28000' || /client password must be a string|SASL|password authentication|no password supplied/i.test(raw)) {
      const missing = /must be a string|no password supplied/i.test(raw);
      const what = missing ? `requires a password (${raw})` : `rejected the login (${raw})`;
      return { kind: 'auth', retry: false, message: `${at} ${what} — ${this.fixHint()}; not retrying until the config changes` };
    }
    if (code === 'ECONNREFUSED') return { kind: 'absent', retry: true, message: `cannot connect to ${at}: connection refused` };
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'connection', retry: true, message: `cannot connect to ${at}: host not found` };
    if (err instanceof AbortedError) return { kind: 'connection', retry: true, message: `${at}: no reply before the sample timeout` };
    if (code === 'ETIMEDOUT' || /timeout expired|connection timeout|Query read timeout/i.test(raw)) {
      return { kind: 'connection', retry: true, message: `${at}: timed out (${raw})` };
    }
    if (code === '57014')
      return {
        kind: 'query',
        retry: true,
        message: `${at}: monitoring query cancelled by statement_timeout (${this.statementTimeoutMs} ms) — the server is slow or a lock blocks it`,
      };
    if (code === '3D000') return { kind: 'connection', retry: true, message: `${at}: ${raw} — check ${this.instance.origin}` };
    if (/^(08|57P|53)/.test(code) || code === '') return { kind: 'connection', retry: true, message: `${at}: ${raw}` };
    return { kind: 'query', retry: true, message: `${at}: monitoring query failed: ${raw}${code ? ` (SQLSTATE ${code})` : ''}` };
  }

  private fixHint(): string {
    return this.instance.autoDetected
      ? 'add a "postgres" entry with the credentials to the config, or set DATABASE_URL'
      : `fix ${this.instance.origin}${this.instance.origin.startsWith('postgres') ? '.url' : ''}`;
  }

  /** An auto-detected instance that is not there: looked at again in a minute. */
  private absent(): never {
    this.absentUntil = Date.now() + POSTGRES_AUTO_DETECT_RETRY_MS;
    this.log.debug(`${this.absentReason()}; looking again in ${POSTGRES_AUTO_DETECT_RETRY_MS / 1000} s`);
    throw new AbsentError(this.absentReason(), true);
  }

  private absentReason(): string {
    return `no PostgreSQL at ${this.target} (auto-detected default; configure "postgres" or set DATABASE_URL to watch another)`;
  }

  private dropClient(): void {
    const c = this.client;
    this.client = null;
    if (!c) return;
    c.removeAllListeners('error');
    // A late socket error after end() must not become an unhandled 'error' event.
    c.on('error', () => {});
    void c.end().catch(() => {});
  }

  private scrub(text: string): string {
    return redactSecrets(text, this.secrets);
  }
}

/** An auto-detected default instance that is not there (connection refused). */
class AbsentError extends SourceError {}

/** Rejection used when the tick loop aborts a sample. */
class AbortedError extends Error {}

function abortable<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    p.catch(() => {});
    return Promise.reject(new AbortedError('aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(new AbortedError('aborted'));
    };
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
