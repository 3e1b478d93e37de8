// Request checks: token, Host (DNS-rebinding guard on loopback binds) and Origin.

import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

/** Access policy of one server. */
export interface AccessPolicy {
  token: string | undefined;
  /** True when the server listens on a loopback address only. */
  loopbackOnly: boolean;
  /** Extra allowed Origins (exact match). */
  allowedOrigins: string[];
}

/** Extracts the token from `Authorization: Bearer`, `?token=` or the `Sec-WebSocket-Protocol` header. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const q = url.searchParams.get('token');
  if (q) return q;
  // Browsers cannot set headers on WebSocket: a subprotocol `rigwatch.token.<token>` is accepted too.
  const proto = req.headers['sec-websocket-protocol'];
  if (typeof proto === 'string') {
    for (const p of proto.split(',').map((s) => s.trim())) if (p.startsWith('rigwatch.token.')) return p.slice('rigwatch.token.'.length);
  }
  return undefined;
}

/** Constant-time token comparison. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

/**
 * Checks Host: on a loopback-only bind, a Host header that names some other domain means the
 * request came through DNS rebinding — refuse it.
 */
export function hostAllowed(req: IncomingMessage, policy: AccessPolicy): boolean {
  if (!policy.loopbackOnly) return true;
  const host = req.headers.host;
  return host === undefined || LOOPBACK_HOST.test(host);
}

/**
 * Checks Origin: absent (non-browser clients), the collector's own origin, a VS Code webview, or an
 * allowed one. A random web page in the user's browser must not read localhost metrics.
 */
export function originAllowed(req: IncomingMessage, policy: AccessPolicy): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return true;
  if (origin.startsWith('vscode-webview://')) return true;
  if (policy.allowedOrigins.includes(origin)) return true;
  const host = req.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/** Returns null when the request may proceed, else [status, reason]. */
export function checkRequest(req: IncomingMessage, url: URL, policy: AccessPolicy, needsToken: boolean): [number, string] | null {
  if (!hostAllowed(req, policy)) return [421, `Host "${req.headers.host}" is not a loopback name; refused (DNS rebinding guard)`];
  if (!originAllowed(req, policy)) return [403, `Origin "${req.headers.origin}" is not allowed`];
  if (needsToken && policy.token !== undefined && !tokenMatches(policy.token, requestToken(req, url))) {
    return [401, 'missing or wrong token (send Authorization: Bearer <token> or ?token=)'];
  }
  return null;
}
