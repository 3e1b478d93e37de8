// A bare TCP connect to an auto-detected database's default address before its client library is
// loaded: the pg and ioredis modules (and the Node built-ins they pull in at load) stay out of a
// collector on a machine with no PostgreSQL or Redis (docs/performance.md, "Collector RSS").

import * as net from 'node:net';

/**
 * Connects to `host:port` and closes at once. Resolves with the error when the connection is refused
 * (nothing listens there); null when it connects, fails otherwise, times out or is aborted — the
 * client library then makes its own attempt and reports what it finds.
 */
export function connectionRefused(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Error | null> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(null);
    const sock = net.connect({ host, port });
    const done = (refused: Error | null): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(refused);
    };
    const onAbort = (): void => done(null);
    const timer = setTimeout(onAbort, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', onAbort);
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? e : null));
  });
}

/** Host and port of a URL, with the scheme's default port. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } | null {
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) return null;
    return { host, port: u.port ? Number(u.port) : defaultPort };
  } catch {
    return null;
  }
}
