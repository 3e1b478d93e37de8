// Runtime guards: turn `unknown` (parsed JSON from a socket, HTTP body or postMessage) into a typed
// message, or throw a ProtocolError naming the field that is wrong.

import { PROTOCOL_VERSION, type ClientMessage, type ServerMessage, type HistoryQuery } from './messages';

/** A message that does not match the protocol; `field` names what was wrong. */
export class ProtocolError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`invalid message: ${field} ${problem}`);
    this.name = 'ProtocolError';
  }
}

type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  return typeof v === 'object' ? 'an object' : String(v);
}

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError(field, `must be an object, got ${describe(v)}`);
  return v as Obj;
}
function str(o: Obj, k: string, path: string, optional = false): string | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw new ProtocolError(`${path}.${k}`, `must be a string, got ${describe(v)}`);
  return v;
}
function num(o: Obj, k: string, path: string, optional = false): number | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ProtocolError(`${path}.${k}`, `must be a finite number, got ${describe(v)}`);
  return v;
}
function bool(o: Obj, k: string, path: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') throw new ProtocolError(`${path}.${k}`, `must be true or false, got ${describe(v)}`);
  return v;
}
function strArray(o: Obj, k: string, path: string): string[] {
  const v = o[k];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ProtocolError(`${path}.${k}`, `must be an array of strings, got ${describe(v)}`);
  return v as string[];
}
function oneOf<T extends string>(o: Obj, k: string, path: string, values: readonly T[]): T {
  const v = o[k];
  if (typeof v !== 'string' || !values.includes(v as T)) throw new ProtocolError(`${path}.${k}`, `must be one of ${values.join(', ')}, got ${describe(v)}`);
  return v as T;
}

/** Validates the shared history-query fields of `o` (history and export requests). */
export function parseHistoryQuery(o: Obj, path = 'message'): HistoryQuery {
  const series = strArray(o, 'series', path);
  if (series.length === 0) throw new ProtocolError(`${path}.series`, 'must name at least one series');
  if (series.length > 2000) throw new ProtocolError(`${path}.series`, 'must name at most 2000 series');
  const q: HistoryQuery = { series };
  const from = num(o, 'from', path, true);
  const to = num(o, 'to', path, true);
  const since = num(o, 'since', path, true);
  const points = num(o, 'points', path, true);
  if (from !== undefined) q.from = from;
  if (to !== undefined) q.to = to;
  if (since !== undefined) q.since = since;
  if (points !== undefined) {
    if (!Number.isInteger(points) || points < 1 || points > 5000) throw new ProtocolError(`${path}.points`, `must be an integer from 1 to 5000, got ${points}`);
    q.points = points;
  }
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new ProtocolError(`${path}.from`, 'must not be after to');
  return q;
}

const CLIENT_TYPES = ['history', 'logging', 'ack', 'mute', 'export', 'action', 'alerts'] as const;

/** Parses a client message; throws ProtocolError naming the wrong field. */
export function parseClientMessage(raw: unknown): ClientMessage {
  const o = obj(raw, 'message');
  const type = oneOf(o, 'type', 'message', CLIENT_TYPES);
  const id = str(o, 'id', 'message') as string;
  if (id.length > 200) throw new ProtocolError('message.id', 'must be at most 200 characters');
  switch (type) {
    case 'history':
      return { type, id, ...parseHistoryQuery(o) };
    case 'logging':
      return { type, id, enabled: bool(o, 'enabled', 'message') };
    case 'ack':
      return { type, id, alertId: str(o, 'alertId', 'message') as string };
    case 'mute': {
      const durationMs = num(o, 'durationMs', 'message') as number;
      if (durationMs < 0) throw new ProtocolError('message.durationMs', `must be >= 0, got ${durationMs}`);
      return { type, id, target: str(o, 'target', 'message') as string, durationMs };
    }
    case 'export':
      return { type, id, format: oneOf(o, 'format', 'message', ['csv', 'json'] as const), ...parseHistoryQuery(o) };
    case 'alerts': {
      const limit = num(o, 'limit', 'message', true);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100_000))
        throw new ProtocolError('message.limit', `must be an integer from 1 to 100000, got ${limit}`);
      return limit === undefined ? { type, id } : { type, id, limit };
    }
    case 'action': {
      const argsRaw = o.args === undefined ? {} : obj(o.args, 'message.args');
      const args: Record<string, string> = {};
      for (const [k, v] of Object.entries(argsRaw)) {
        if (typeof v !== 'string') throw new ProtocolError(`message.args.${k}`, `must be a string, got ${describe(v)}`);
        args[k] = v;
      }
      return { type, id, source: str(o, 'source', 'message') as string, action: str(o, 'action', 'message') as string, args };
    }
  }
}

const SERVER_TYPES = ['hello', 'sample', 'status', 'alert', 'history', 'result', 'logging', 'error'] as const;

/**
 * Parses a server message. Checks the discriminant and the fields clients rely on; nested payloads
 * are trusted to the collector that produced them (it builds them from these same types).
 */
export function parseServerMessage(raw: unknown): ServerMessage {
  const o = obj(raw, 'message');
  const type = oneOf(o, 'type', 'message', SERVER_TYPES);
  switch (type) {
    case 'hello': {
      const protocol = num(o, 'protocol', 'message');
      if (protocol !== PROTOCOL_VERSION) throw new ProtocolError('message.protocol', `is ${protocol}, this client speaks ${PROTOCOL_VERSION}`);
      obj(o.host, 'message.host');
      num(o, 'intervalMs', 'message');
      num(o, 'serverTime', 'message');
      if (!Array.isArray(o.sources)) throw new ProtocolError('message.sources', 'must be an array');
      if (!Array.isArray(o.alerts)) throw new ProtocolError('message.alerts', 'must be an array');
      obj(o.logging, 'message.logging');
      break;
    }
    case 'sample': {
      num(o, 't', 'message');
      const series = obj(o.series, 'message.series');
      for (const [k, v] of Object.entries(series)) {
        if (v !== null && typeof v !== 'number') throw new ProtocolError(`message.series["${k}"]`, `must be a number or null, got ${describe(v)}`);
      }
      obj(o.details, 'message.details');
      break;
    }
    case 'status':
      if (!Array.isArray(o.sources)) throw new ProtocolError('message.sources', 'must be an array');
      break;
    case 'alert':
      if (!Array.isArray(o.events)) throw new ProtocolError('message.events', 'must be an array');
      break;
    case 'history':
      str(o, 'id', 'message');
      if (!Array.isArray(o.series)) throw new ProtocolError('message.series', 'must be an array');
      break;
    case 'result':
      str(o, 'id', 'message');
      bool(o, 'ok', 'message');
      break;
    case 'logging':
      obj(o.logging, 'message.logging');
      break;
    case 'error':
      str(o, 'message', 'message');
      break;
  }
  return o as unknown as ServerMessage;
}

/** Parses JSON text then a client message; JSON syntax errors become ProtocolError too. */
export function decodeClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError('message', `is not valid JSON (${(e as Error).message})`);
  }
  return parseClientMessage(raw);
}

/** Parses JSON text then a server message. */
export function decodeServerMessage(text: string): ServerMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ProtocolError('message', `is not valid JSON (${(e as Error).message})`);
  }
  return parseServerMessage(raw);
}
