// Starts the real collector (`node dist/collector.js`) as a child process on a free loopback port
// with a temp data dir, and gives tests HTTP and WebSocket clients for it.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { decodeServerMessage, type ClientMessage, type ServerMessage } from '../../protocol';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../../protocol/collector-node-flags';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** The built collector bundle. */
export const COLLECTOR_JS = path.join(ROOT, 'dist', 'collector.js');

/** Options for startCollector. */
export interface StartOptions {
  /** Written to a config file passed with --config. */
  config?: Record<string, unknown>;
  /** Extra environment variables (merged over a clean copy of process.env). */
  env?: Record<string, string>;
  /** Extra CLI args. */
  args?: string[];
  /** Interval in seconds (default 0.25 to keep tests fast). */
  interval?: number;
  /** Reuse a data dir (e.g. to test persistence across restarts). */
  dataDir?: string;
  /** Token; default a random one. Pass null for no token. */
  token?: string | null;
  /** Fixed port (default 0 = free port, remembered across restart()). */
  port?: number;
}

/** A WebSocket client that queues every server message for inspection. */
export interface WsClient {
  ws: WebSocket;
  messages: ServerMessage[];
  /** Resolves with the first queued-or-future message matching `pred` (consumed from the cursor on). */
  waitFor<T extends ServerMessage = ServerMessage>(pred: (m: ServerMessage) => boolean, timeoutMs?: number, what?: string): Promise<T>;
  /** Next message of a type arriving after the read cursor. */
  next<K extends ServerMessage['type']>(type: K, timeoutMs?: number): Promise<Extract<ServerMessage, { type: K }>>;
  send(msg: ClientMessage | Record<string, unknown>): void;
  /** Sends a request and waits for the reply with the same id. */
  request(msg: ClientMessage): Promise<ServerMessage>;
  close(): Promise<void>;
  /** Resolves with [code, reason] when the server closes the socket. */
  closed: Promise<[number, string]>;
}

/** A running collector. */
export interface RunningCollector {
  url: string;
  port: number;
  token: string | null;
  dataDir: string;
  configFile: string | undefined;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  ws(opts?: { headers?: Record<string, string>; token?: string | null }): Promise<WsClient>;
  /** fetch relative to the collector with the token as a bearer header (unless init overrides). */
  get(p: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  /** Starts again with the same options, data dir and port. */
  restart(): Promise<void>;
}

const running = new Set<RunningCollector>();

/** Stops every collector still running (call from an `after` hook or rely on process exit). */
export async function stopAllCollectors(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/** Starts the collector and resolves once it prints its URL. */
export async function startCollector(opts: StartOptions = {}): Promise<RunningCollector> {
  if (!fs.existsSync(COLLECTOR_JS)) throw new Error(`${COLLECTOR_JS} is missing: run "node build.mjs" (npm test does) first`);
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-test-'));
  const ownsDir = opts.dataDir === undefined;
  const token = opts.token === undefined ? randomBytes(16).toString('hex') : opts.token;
  let configFile: string | undefined;
  if (opts.config) {
    configFile = path.join(dataDir, 'test-config.json');
    fs.writeFileSync(configFile, JSON.stringify(opts.config, null, 2));
  }
  let port = opts.port ?? 0;
  let proc!: ChildProcess;
  let out = '';
  let err = '';
  const clients = new Set<WsClient>();

  const launch = async (): Promise<void> => {
    out = '';
    const args = [
      ...COLLECTOR_NODE_FLAGS,
      COLLECTOR_JS,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--interval',
      String(opts.interval ?? 0.25),
    ];
    if (token) args.push('--token', token);
    if (configFile) args.push('--config', configFile);
    args.push(...(opts.args ?? []));
    const env: Record<string, string> = { ...(process.env as Record<string, string>), ...COLLECTOR_ENV, ...(opts.env ?? {}) };
    for (const k of Object.keys(env)) if (k.startsWith('RIGWATCH_') && !(opts.env && k in opts.env)) delete env[k];
    proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`collector did not start within 15 s; stderr:\n${err}`)), 15_000);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) {
          clearTimeout(timer);
          port = Number(m[1]);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`collector exited with ${code} before listening; stderr:\n${err}`));
      });
    });
  };
  await launch();

  const exited = (): Promise<void> =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));

  const rc: RunningCollector = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    token,
    dataDir,
    configFile,
    get proc() {
      return proc;
    },
    stdout: () => out,
    stderr: () => err,
    ws: async (o = {}) => {
      const t = o.token === undefined ? token : o.token;
      const c = await openWs(`ws://127.0.0.1:${port}/ws${t ? `?token=${t}` : ''}`, o.headers);
      clients.add(c);
      return c;
    },
    get: (p, init) => {
      const headers = new Headers(init?.headers);
      if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return fetch(`http://127.0.0.1:${port}${p}`, { ...init, headers });
    },
    stop: async () => {
      for (const c of clients) await c.close().catch(() => {});
      clients.clear();
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited();
        clearTimeout(t);
      }
      running.delete(rc);
      if (ownsDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
    kill9: async () => {
      proc.kill('SIGKILL');
      await exited();
    },
    restart: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited();
      }
      await launch();
    },
  };
  running.add(rc);
  return rc;
}

/** Opens a WebSocket client that records messages; rejects if the upgrade is refused. */
export function openWs(url: string, headers?: Record<string, string>): Promise<WsClient> {
  const ws = new WebSocket(url, { headers });
  const messages: ServerMessage[] = [];
  let cursor = 0;
  const waiters = new Set<() => void>();
  const closed = new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, reason.toString()])));
  ws.on('message', (data) => {
    messages.push(decodeServerMessage(data.toString()));
    for (const w of waiters) w();
  });
  const client: WsClient = {
    ws,
    messages,
    closed,
    waitFor: (pred, timeoutMs = 10_000, what = 'a matching message') =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          for (; cursor < messages.length; cursor++) {
            if (pred(messages[cursor])) {
              const m = messages[cursor++];
              waiters.delete(check as () => void);
              clearTimeout(timer);
              resolve(m as never);
              return true;
            }
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check as () => void);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; got types: ${messages
                .map((m) => m.type)
                .slice(-20)
                .join(',')}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check as () => void);
      }),
    next: (type, timeoutMs) => client.waitFor((m) => m.type === type, timeoutMs, `a "${type}" message`) as never,
    send: (msg) => ws.send(JSON.stringify(msg)),
    request: (msg) => {
      const p = client.waitFor((m) => 'id' in m && (m as { id: string }).id === msg.id, 15_000, `the reply to ${msg.type} ${msg.id}`);
      client.send(msg);
      return p;
    },
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      ws.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`WebSocket refused: ${res.statusCode} ${body.trim()}`), { status: res.statusCode })));
    });
    ws.once('error', reject);
  });
}
