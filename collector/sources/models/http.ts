// HTTP for model servers: built-in fetch, one timeout per request tied to the tick's AbortSignal,
// capped bodies, and errors a user can act on (never with header values or URL credentials).

import type { ParsedMetrics } from '../../prometheus-text';
import { SourceError } from '../../source';
import { PageStream } from './page-stream';

/** Largest JSON or error body read from a model server (/metrics pages have their own cap, `maxPageBytes`). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Characters of an unexpected body quoted in the error. */
const QUOTE_CHARS = 80;

/** One answer. */
export interface HttpAnswer {
  url: string;
  status: number;
  body: string;
  contentType: string;
  latencySeconds: number;
}

/** The fetch function (injectable so tests can count requests; the real one by default). */
export type FetchFn = typeof fetch;

/** Options of one GET. */
export interface GetOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  fetchFn?: FetchFn;
  now?: () => number;
}

/** GETs `url` with `headers` under `timeoutMs` and the caller's signal. Throws SourceError on transport failure. */
export async function httpGet(url: string, opts: GetOptions): Promise<HttpAnswer> {
  return request(url, opts, async (res) => ({ body: await readCapped(res) }));
}

/** A /metrics page read as it arrived (see page-stream.ts). */
export interface PageAnswer extends HttpAnswer {
  /** The parsed page (empty unless the status is 2xx). For a 2xx answer `body` holds only the page's first characters. */
  page: ParsedMetrics;
  /** Bytes read. */
  bytes: number;
  /** True when the page was longer than the byte cap and the read stopped there. */
  capped: boolean;
  /** The page's size as the server declared it (Content-Length), when it did. */
  declaredBytes: number | null;
}

/** Limits of one page read. */
export interface PageLimits {
  /** Bytes read before the read stops (what was parsed is kept). */
  maxPageBytes: number;
  maxLabelSetsPerMetric: number;
}

/**
 * GETs a Prometheus text page and parses it while it arrives, in slices with the event loop free
 * between them, stopping at `maxPageBytes`. A non-2xx answer is read as a plain (capped) body.
 * `timeoutMs` is the server's time: time spent parsing moves the deadline.
 */
export async function httpGetPage(url: string, opts: GetOptions & PageLimits): Promise<PageAnswer> {
  return request(url, opts, async (res, signal, credit) => {
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const declaredBytes = Number.isFinite(declared) && declared >= 0 ? declared : null;
    if (res.status < 200 || res.status >= 300) {
      const body = await readCapped(res);
      return { body, page: EMPTY_PAGE(), bytes: Buffer.byteLength(body), capped: false, declaredBytes };
    }
    const stream = new PageStream(opts.maxLabelSetsPerMetric);
    let capped = false;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const room = opts.maxPageBytes - stream.bytes;
          const t = performance.now();
          capped = value.byteLength > room;
          await stream.push(capped ? value.subarray(0, Math.max(0, room)) : value, signal);
          credit(performance.now() - t);
          if (capped) break;
        }
      } finally {
        // Stops the transfer of the rest (byte cap, abort) and frees the connection.
        await reader.cancel().catch(() => undefined);
      }
    }
    return { body: stream.head, page: stream.end(capped), bytes: stream.bytes, capped, declaredBytes };
  });
}

const EMPTY_PAGE = (): ParsedMetrics => ({ families: new Map(), sampleCount: 0, issues: [], issueCount: 0, truncated: [] });

/** One GET with a timeout, the caller's signal and the error wording; `read` consumes the response. */
async function request<T extends { body: string }>(
  url: string,
  opts: GetOptions,
  read: (res: Response, signal: AbortSignal, credit: (ms: number) => void) => Promise<T>,
): Promise<Omit<HttpAnswer, 'body'> & T> {
  const ctl = new AbortController();
  let timedOut = false;
  const expire = (): void => {
    timedOut = true;
    ctl.abort();
  };
  let timer = setTimeout(expire, opts.timeoutMs);
  let deadline = performance.now() + opts.timeoutMs;
  // Time spent on our side (parsing a page as it arrives) is not the server's: it moves the deadline.
  const credit = (ms: number): void => {
    deadline += ms;
    clearTimeout(timer);
    timer = setTimeout(expire, Math.max(0, deadline - performance.now()));
  };
  const onAbort = (): void => ctl.abort();
  if (opts.signal) {
    if (opts.signal.aborted) ctl.abort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }
  const clock = opts.now ?? (() => performance.now());
  const t0 = clock();
  try {
    const res = await (opts.fetchFn ?? fetch)(url, { headers: opts.headers, signal: ctl.signal, redirect: 'follow' });
    const value = await read(res, ctl.signal, credit);
    return { ...value, url, status: res.status, contentType: res.headers.get('content-type') ?? '', latencySeconds: Math.max(0, (clock() - t0) / 1000) };
  } catch (e) {
    if (e instanceof SourceError) throw e;
    if (timedOut) throw new SourceError(`no answer from ${safeUrl(url)} within ${opts.timeoutMs} ms`);
    if (opts.signal?.aborted) throw new SourceError(`request to ${safeUrl(url)} cancelled (sample timed out)`);
    throw new SourceError(`cannot reach ${safeUrl(url)}: ${transportReason(e)}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new SourceError(`answer from ${safeUrl(res.url)} is larger than ${MAX_BODY_BYTES / (1024 * 1024)} MB`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A short reason for a failed fetch: refused, reset, DNS, TLS… */
export function transportReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } } | null)?.cause;
  const code = cause?.code ?? (e as { code?: string } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection closed by the server';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_VERSION':
    case 'UND_ERR_INVALID_ARG':
      return 'not an HTTP answer';
  }
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT')) return `TLS error (${code})`;
  if (code?.startsWith('HPE_')) return 'malformed HTTP answer';
  // Library messages may quote the URL: strip any credentials before they reach a message.
  return (cause?.message ?? (e instanceof Error ? e.message : String(e))).replace(/\/\/[^/@\s]+@/g, '//');
}

/** The URL without credentials or query values, safe for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const s = u.toString();
    const q = s.indexOf('?');
    return q === -1 ? s : s.slice(0, q) + '?…';
  } catch {
    return '(invalid URL)';
  }
}

/** The error for an answer that is not what the server kind sends. */
export function unexpected(url: string, body: string): SourceError {
  const text = body.replace(/\s+/g, ' ').trim();
  return new SourceError(`unexpected response from ${safeUrl(url)}: ${text === '' ? '(empty body)' : text.slice(0, QUOTE_CHARS)}`);
}

/** Throws a SourceError unless the status is 2xx. */
export function requireOk(a: HttpAnswer): HttpAnswer {
  if (a.status >= 200 && a.status < 300) return a;
  const text = a.body.replace(/\s+/g, ' ').trim().slice(0, QUOTE_CHARS);
  throw new SourceError(`HTTP ${a.status} from ${safeUrl(a.url)}${text ? `: ${text}` : ''}`);
}

/** Parses a JSON body or throws the "unexpected response" error. */
export function jsonBody(a: HttpAnswer): unknown {
  try {
    return JSON.parse(a.body);
  } catch {
    throw unexpected(a.url, a.body);
  }
}

/** Joins a base URL and a path, keeping the base's query (some proxies want a token there). */
export function join(base: string, path: string): string {
  const u = new URL(base);
  u.pathname = u.pathname.replace(/\/+$/, '') + path;
  return u.toString();
}
