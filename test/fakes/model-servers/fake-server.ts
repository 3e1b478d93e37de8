// An in-process HTTP server on an ephemeral loopback port that answers like a model server:
// each path maps to a canned answer the test can change between ticks, or to a misbehaviour
// (hang, close the connection, answer HTML or 500).

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A canned answer, or a misbehaviour. */
export type Route =
  | { status?: number; body: string; contentType?: string }
  | { behaviour: 'hang' }
  | { behaviour: 'close' }
  | ((req: IncomingMessage) => { status?: number; body: string; contentType?: string });

/** A running fake. */
export interface FakeModelServer {
  url: string;
  port: number;
  /** Routes by path (query ignored); change them between ticks. Unknown paths answer 404. */
  routes: Map<string, Route>;
  /** Paths requested so far, in order. */
  requests: string[];
  /** Holds the server's own pid (tests of the port → pid lookup). */
  pid: number;
  close(): Promise<void>;
}

/** Directory of the model-server fixtures. */
export const MODEL_FIXTURES = join(__dirname, '..', '..', 'fixtures', 'models');

/** Reads a model-server fixture by file name. */
export function fixture(name: string): string {
  return readFileSync(join(MODEL_FIXTURES, name), 'utf8');
}

/** Starts a fake on 127.0.0.1 with an ephemeral port. */
export async function startFakeModelServer(routes: Record<string, Route> = {}): Promise<FakeModelServer> {
  const map = new Map<string, Route>(Object.entries(routes));
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    const route = map.get(path);
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
      return;
    }
    if (typeof route === 'function') {
      const a = route(req);
      res.writeHead(a.status ?? 200, { 'content-type': a.contentType ?? guessType(a.body) }).end(a.body);
      return;
    }
    if ('behaviour' in route) {
      if (route.behaviour === 'hang') hung.add(res);
      else req.socket.destroy();
      return;
    }
    res.writeHead(route.status ?? 200, { 'content-type': route.contentType ?? guessType(route.body) }).end(route.body);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    routes: map,
    requests,
    pid: process.pid,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hung) r.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function guessType(body: string): string {
  const t = body.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) return 'application/json';
  if (t.startsWith('<')) return 'text/html';
  return 'text/plain; version=0.0.4; charset=utf-8';
}

/**
 * Rewrites the value of the sample `name{labels}` in a Prometheus page (labels compared as a set,
 * `le` included). Throws when no line matches, so a typo in a test cannot pass silently.
 */
export function setSample(page: string, name: string, labels: Record<string, string>, value: number): string {
  const lines = page.split('\n');
  let hit = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const close = line.lastIndexOf('}');
    const labelText = line[name.length] === '{' ? line.slice(name.length + 1, close) : '';
    const got: Record<string, string> = {};
    for (const m of labelText.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[m[1]] = m[2];
    const want = Object.keys(labels);
    if (want.length !== Object.keys(got).length || want.some((k) => got[k] !== labels[k])) continue;
    const head = line[name.length] === '{' ? line.slice(0, close + 1) : name;
    lines[i] = `${head} ${Number.isInteger(value) ? value.toFixed(1) : String(value)}`;
    hit++;
  }
  if (hit === 0) throw new Error(`setSample: no sample ${name}${JSON.stringify(labels)} in page`);
  return lines.join('\n');
}

/** Adds `n` observations of `value` to a cumulative histogram in a page (buckets with le ≥ value, _count, _sum). */
export function observe(page: string, family: string, labels: Record<string, string>, value: number, n = 1): string {
  let out = page;
  for (const line of page.split('\n')) {
    if (!line.startsWith(family + '_bucket{')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const rest = Object.fromEntries(
      [...line.slice(line.indexOf('{') + 1, line.lastIndexOf('}')).matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    const { le: _le, ...others } = rest;
    void _le;
    if (Object.keys(labels).some((k) => others[k] !== labels[k]) || Object.keys(others).length !== Object.keys(labels).length) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (value <= bound) out = setSample(out, family + '_bucket', rest, Number(line.slice(line.lastIndexOf(' ') + 1)) + n);
  }
  out = bump(out, family + '_count', labels, n);
  out = bump(out, family + '_sum', labels, value * n);
  return out;
}

/** Adds `delta` to the value of sample `name{labels}`. */
export function bump(page: string, name: string, labels: Record<string, string>, delta: number): string {
  const line = page.split('\n').find((l) => {
    if (!l.startsWith(name)) return false;
    const c = l[name.length];
    if (c !== '{' && c !== ' ') return false;
    return Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`));
  });
  if (line === undefined) throw new Error(`bump: no sample ${name}${JSON.stringify(labels)}`);
  const current = Number(line.slice(line.lastIndexOf(' ') + 1));
  return setSample(page, name, labels, Math.round((current + delta) * 1e9) / 1e9);
}
