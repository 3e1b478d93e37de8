// HTTP for model servers: a small GET on node:http (https loaded only for an https URL), one timeout
// per request tied to the tick's AbortSignal, redirects followed as fetch follows them, capped bodies
// read as they arrive, and errors a user can act on (never with header values or URL credentials).
// Not the global fetch: its first call loads undici, http2 and web streams into the collector
// (~1.5 MB resident, docs/performance.md), and a default collector probes for Ollama at start.

import * as http from 'node:http';
import type * as https from 'node:https';
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

/** Redirects followed before giving up (fetch's limit). */
export const MAX_REDIRECTS = 20;

/** Options of one GET. */
export interface GetOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
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
    const declared = Number(res.msg.headers['content-length'] ?? NaN);
    const declaredBytes = Number.isFinite(declared) && declared >= 0 ? declared : null;
    if (res.status < 200 || res.status >= 300) {
      const body = await readCapped(res);
      return { body, page: EMPTY_PAGE(), bytes: Buffer.byteLength(body), capped: false, declaredBytes };
    }
    const stream = new PageStream(opts.maxLabelSetsPerMetric);
    let capped = false;
    for await (const value of res.msg as AsyncIterable<Buffer>) {
      const room = opts.maxPageBytes - stream.bytes;
      const t = performance.now();
      capped = value.byteLength > room;
      await stream.push(capped ? value.subarray(0, Math.max(0, room)) : value, signal);
      credit(performance.now() - t);
      // Leaving the loop destroys the response: the rest is not transferred (byte cap).
      if (capped) break;
    }
    return { body: stream.head, page: stream.end(capped), bytes: stream.bytes, capped, declaredBytes };
  });
}

const EMPTY_PAGE = (): ParsedMetrics => ({ families: new Map(), sampleCount: 0, issues: [], issueCount: 0, truncated: [] });

/** An answer's head; `msg` is the body as it arrives. */
interface Answer {
  /** The URL that answered (after redirects). */
  url: string;
  status: number;
  msg: http.IncomingMessage;
}

/** One GET with a timeout, the caller's signal and the error wording; `read` consumes the response. */
async function request<T extends { body: string }>(
  url: string,
  opts: GetOptions,
  read: (res: Answer, signal: AbortSignal, credit: (ms: number) => void) => Promise<T>,
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
  let res: Answer | undefined;
  try {
    res = await follow(url, opts.headers ?? {}, ctl.signal);
    const value = await read(res, ctl.signal, credit);
    return {
      ...value,
      url,
      status: res.status,
      contentType: headerText(res.msg.headers['content-type']),
      latencySeconds: Math.max(0, (clock() - t0) / 1000),
    };
  } catch (e) {
    if (e instanceof SourceError) throw e;
    if (timedOut) throw new SourceError(`no answer from ${safeUrl(url)} within ${opts.timeoutMs} ms`);
    if (opts.signal?.aborted) throw new SourceError(`request to ${safeUrl(url)} cancelled (sample timed out)`);
    throw new SourceError(`cannot reach ${safeUrl(url)}: ${transportReason(e)}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // Whatever was not read (cap, error, abort) is not transferred; a fully read body keeps its keep-alive socket.
    if (res && !res.msg.complete) res.msg.destroy();
  }
}

let httpsModule: typeof https | undefined;

/** GETs `url`, following redirects as fetch does (at most MAX_REDIRECTS; credentials dropped across origins). */
async function follow(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Answer> {
  let u = new URL(url);
  let hs: Record<string, string> = { accept: '*/*', ...headers };
  for (let hop = 0; ; hop++) {
    const msg = await get(u, hs, signal);
    const status = msg.statusCode ?? 0;
    const location = msg.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || location === undefined) return { url: u.toString(), status, msg };
    msg.destroy();
    if (hop >= MAX_REDIRECTS) throw new Error('redirect count exceeded');
    const next = new URL(location, u);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`redirect to an unsupported scheme (${next.protocol})`);
    // Like fetch: a redirect to another origin does not carry the credentials on.
    if (next.origin !== u.origin) hs = Object.fromEntries(Object.entries(hs).filter(([k]) => !/^(authorization|cookie|proxy-authorization)$/i.test(k)));
    u = next;
  }
}

function get(u: URL, headers: Record<string, string>, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- https only for an https URL (startup memory)
    const mod = u.protocol === 'https:' ? (httpsModule ??= require('node:https') as typeof https) : u.protocol === 'http:' ? http : null;
    if (!mod) return reject(new Error(`unsupported URL scheme ${u.protocol}`));
    const req = mod.get(u, { headers, signal }, resolve);
    req.on('error', reject);
  });
}

function headerText(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

async function readCapped(res: Answer): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const value of res.msg as AsyncIterable<Buffer>) {
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) throw new SourceError(`answer from ${safeUrl(res.url)} is larger than ${MAX_BODY_BYTES / (1024 * 1024)} MB`);
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A short reason for a failed request: refused, reset, DNS, TLS… */
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
