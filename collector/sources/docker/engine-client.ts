// A minimal Docker Engine API client on Node's `http` (unix socket or plain tcp), so the source needs no
// dependency. Errors are mapped where they happen to a kind that says what the user can do and whether
// retrying can help.

import * as http from 'node:http';

/** Where the engine listens. `display` is safe to show (no credentials can be in it). */
export type DockerEndpoint = { kind: 'unix'; socketPath: string; display: string } | { kind: 'tcp'; host: string; port: number; display: string };

/** The default engine socket on Linux. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Largest response body read, bytes (a `containers/json?all=1` with thousands of containers fits). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Why a request failed. */
export type DockerErrorKind = 'absent' | 'permission' | 'refused' | 'timeout' | 'aborted' | 'http' | 'protocol' | 'network';

/** A failed Engine API request; `message` is what a user can act on. */
export class DockerApiError extends Error {
  constructor(
    message: string,
    readonly kind: DockerErrorKind,
    /** HTTP status for kind `http`. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DockerApiError';
  }

  /** Whether trying again later can help without the user changing anything. */
  get retry(): boolean {
    return this.kind !== 'protocol';
  }
}

/** Options of one request. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Gives up after this many ms. */
  timeoutMs: number;
}

/** Callbacks of a streaming request (`/events`). */
export interface StreamHandlers {
  /** The engine accepted the request (HTTP 200); messages follow. */
  onOpen(): void;
  /** One JSON message of the stream. */
  onMessage(msg: unknown): void;
  /** The stream ended (engine stopped, connection lost, HTTP error); not called after `close()`. */
  onClose(err: DockerApiError): void;
}

/** An open streaming request. */
export interface EngineStream {
  /** Ends the stream without calling `onClose`. Idempotent. */
  close(): void;
}

/** Longest line of a stream without a newline, bytes (one event is a few hundred bytes). */
export const MAX_STREAM_LINE_BYTES = 1024 * 1024;

/** The engine API surface the source uses; tests wrap it to observe or hold requests. */
export interface DockerApi {
  readonly endpoint: DockerEndpoint;
  /** GETs `path` on the tick's connection pool and parses the JSON answer. */
  get(path: string, opts: RequestOptions): Promise<unknown>;
  /** GETs a slow stats `path` on a separate pool, so stats never queue in front of the tick's requests. */
  getStats(path: string, opts: RequestOptions): Promise<unknown>;
  /** Opens a long-lived streaming GET (newline-delimited JSON) on its own connection. */
  stream(path: string, handlers: StreamHandlers): EngineStream;
  /** Closes idle connections and open streams; idempotent. */
  close(): void;
}

/**
 * Parses a Docker host string: a socket path, `unix:///path`, or `tcp://host:port`.
 * Returns an error text for forms this client cannot speak (ssh://, npipe://).
 */
export function parseDockerHost(value: string): DockerEndpoint | { error: string } {
  const v = value.trim();
  if (v.startsWith('/')) return { kind: 'unix', socketPath: v, display: `unix://${v}` };
  const m = /^([a-z]+):\/\/(.*)$/i.exec(v);
  if (!m) return { error: 'a socket path, unix:///path/to/docker.sock or tcp://host:port' };
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) return { error: 'unix:// followed by an absolute path, e.g. unix:///var/run/docker.sock' };
    return { kind: 'unix', socketPath: rest, display: `unix://${rest}` };
  }
  if (scheme === 'tcp' || scheme === 'http') {
    let url: URL;
    try {
      url = new URL(`http://${rest}`);
    } catch {
      return { error: 'tcp://host:port' };
    }
    if (url.username || url.password) return { error: 'tcp://host:port without credentials' };
    const port = url.port ? Number(url.port) : 2375;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return { kind: 'tcp', host, port, display: `tcp://${url.host.includes(':') ? url.host : `${url.host}:${port}`}` };
  }
  return { error: `unix:// or tcp:// (${scheme}:// is not supported; use the engine's socket or a plain tcp endpoint)` };
}

/** The actionable text for a socket the user may not open. */
export function permissionDeniedMessage(endpoint: DockerEndpoint): string {
  const where = endpoint.kind === 'unix' ? endpoint.socketPath : endpoint.display;
  return `permission denied on ${where}: add your user to the docker group or set DOCKER_HOST`;
}

/** Maps a socket-level error (errno code) to a DockerApiError a user can act on. */
export function mapConnectError(err: unknown, endpoint: DockerEndpoint): DockerApiError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const where = endpoint.display;
  switch (code) {
    case 'ENOENT':
      return new DockerApiError(`no Docker engine socket at ${endpoint.kind === 'unix' ? endpoint.socketPath : where}`, 'absent');
    case 'EACCES':
    case 'EPERM':
      return new DockerApiError(permissionDeniedMessage(endpoint), 'permission');
    case 'ECONNREFUSED':
      return new DockerApiError(`cannot connect to the Docker engine at ${where}: connection refused (is dockerd running?)`, 'refused');
    case 'ECONNRESET':
    case 'EPIPE':
      return new DockerApiError(`the Docker engine at ${where} closed the connection`, 'network');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new DockerApiError(`cannot resolve the Docker host in ${where}`, 'network');
    default: {
      const msg = err instanceof Error ? err.message : String(err);
      return new DockerApiError(`Docker engine at ${where}: ${msg}`, 'network');
    }
  }
}

function makeAgent(maxSockets: number): http.Agent {
  // keepAlive: the tick issues one list plus one inspect per container every second; reusing
  // connections keeps that at a few syscalls instead of a connect per request.
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** Creates a client for `endpoint`. */
export function createEngineClient(endpoint: DockerEndpoint): DockerApi {
  // Two pools: stats answers take about a second each, and must never occupy the sockets the
  // tick's list/inspect requests need.
  const tickAgent = makeAgent(4);
  const statsAgent = makeAgent(32);
  let closed = false;

  const request = (agent: http.Agent, path: string, opts: RequestOptions): Promise<unknown> =>
    new Promise<unknown>((resolve, reject) => {
      if (closed) return reject(new DockerApiError('Docker client closed', 'aborted'));
      if (opts.signal?.aborted) return reject(new DockerApiError(`request ${path} aborted`, 'aborted'));
      let settled = false;
      const finish = (err: DockerApiError | null, value?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value);
      };
      const base: http.RequestOptions = endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
      const req = http.request({ ...base, agent, method: 'GET', path, headers: { Accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            finish(new DockerApiError(`Docker API GET ${path}: answer larger than ${MAX_RESPONSE_BYTES} bytes`, 'protocol'));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', (e) => finish(mapConnectError(e, endpoint)));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = body === '' ? null : JSON.parse(body);
          } catch {
            if (status >= 400) return finish(new DockerApiError(`Docker API GET ${path}: HTTP ${status}`, 'http', status));
            return finish(new DockerApiError(`Docker API GET ${path}: answer is not JSON`, 'protocol'));
          }
          if (status >= 400) {
            const m = typeof parsed === 'object' && parsed !== null && 'message' in parsed ? String((parsed as { message: unknown }).message) : '';
            return finish(new DockerApiError(`Docker API GET ${path}: HTTP ${status}${m ? ` ${m}` : ''}`, 'http', status));
          }
          finish(null, parsed);
        });
      });
      const onAbort = (): void => {
        finish(new DockerApiError(`request ${path} aborted`, 'aborted'));
        req.destroy();
      };
      const timer = setTimeout(() => {
        finish(new DockerApiError(`Docker engine at ${endpoint.display} did not answer GET ${path} within ${opts.timeoutMs} ms`, 'timeout'));
        req.destroy();
      }, opts.timeoutMs);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => finish(mapConnectError(e, endpoint)));
      req.end();
    });

  const streams = new Set<() => void>();

  const stream = (path: string, h: StreamHandlers): EngineStream => {
    let done = false;
    const base: http.RequestOptions = endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    // Its own connection (agent: false): a stream holds it for as long as the engine runs.
    const req = http.request({ ...base, agent: false, method: 'GET', path, headers: { Accept: 'application/json' } });
    const end = (err: DockerApiError): void => {
      if (done) return;
      done = true;
      streams.delete(stop);
      req.destroy();
      h.onClose(err);
    };
    const stop = (): void => {
      if (done) return;
      done = true;
      streams.delete(stop);
      req.destroy();
    };
    if (closed) {
      queueMicrotask(() => end(new DockerApiError('Docker client closed', 'aborted')));
      return { close: stop };
    }
    streams.add(stop);
    req.on('response', (res) => {
      if ((res.statusCode ?? 0) !== 200) {
        res.resume();
        return end(new DockerApiError(`Docker API GET ${path}: HTTP ${res.statusCode}`, 'http', res.statusCode));
      }
      h.onOpen();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (done) return;
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          let msg: unknown;
          try {
            msg = JSON.parse(line);
          } catch {
            return end(new DockerApiError(`Docker API GET ${path}: a streamed message is not JSON`, 'protocol'));
          }
          h.onMessage(msg);
          if (done) return;
        }
        if (buf.length > MAX_STREAM_LINE_BYTES) end(new DockerApiError(`Docker API GET ${path}: streamed message too long`, 'protocol'));
      });
      // A stopping engine cuts the response ("aborted"); either way the stream is over.
      res.on('error', (e) => end(mapConnectError(e, endpoint)));
      res.on('close', () => end(new DockerApiError(`the Docker engine at ${endpoint.display} closed the event stream`, 'network')));
    });
    req.on('error', (e) => end(mapConnectError(e, endpoint)));
    req.on('close', () => end(new DockerApiError(`the Docker engine at ${endpoint.display} closed the event stream`, 'network')));
    req.end();
    return { close: stop };
  };

  return {
    endpoint,
    get: (path, opts) => request(tickAgent, path, opts),
    getStats: (path, opts) => request(statsAgent, path, opts),
    stream,
    close: () => {
      closed = true;
      for (const s of [...streams]) s();
      tickAgent.destroy();
      statsAgent.destroy();
    },
  };
}
