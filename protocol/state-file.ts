// The state file a running collector writes into its data directory so the extension, the CLI and remote
// deploys find and reuse it: its name, its shape and the one parser every reader uses.

/** File name of the state file inside the collector's data directory. */
export const STATE_FILE_NAME = 'collector.json';

/** Contents of the state file. */
export interface CollectorState {
  pid: number;
  port: number;
  host: string;
  url: string;
  token: string | null;
  version: string;
  startedAt: number;
}

/** Largest state file read, in bytes (a real one is ~250). */
export const STATE_FILE_MAX_BYTES = 64 * 1024;

/**
 * Parses state file text; undefined when it is not a collector's state (not JSON, or no positive integer
 * `pid` and a valid `port`). Fields a collector of another version may lack take safe defaults.
 */
export function parseCollectorState(text: string): CollectorState | undefined {
  if (text.length > STATE_FILE_MAX_BYTES) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const s = raw as Record<string, unknown>;
  const { pid, port } = s;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  const host = typeof s.host === 'string' && s.host ? s.host : '127.0.0.1';
  return {
    pid,
    port,
    host,
    url: typeof s.url === 'string' && s.url ? s.url : `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token: typeof s.token === 'string' ? s.token : null,
    version: typeof s.version === 'string' ? s.version : '',
    startedAt: typeof s.startedAt === 'number' ? s.startedAt : 0,
  };
}
