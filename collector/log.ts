// Minimal levelled logger writing one line per message to stderr; never given secrets.

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Longest message written to one log line; the rest is cut with a count, in characters. */
export const MAX_LOG_MESSAGE_CHARS = 2000;

// C0/C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides that can fake a new
// line or reorder what a terminal shows.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this strips
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text from someone else (a client, a server's error body, a file name) safe for one log line:
 * control characters become visible escapes (`\n`, `\x1b`, `\u2028`) so they cannot start a forged
 * line or drive a terminal, and the length is capped at `max` characters.
 */
export function plainLogText(text: string, max = MAX_LOG_MESSAGE_CHARS): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const safe = cut.replace(UNSAFE_CHARS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return text.length > max ? `${safe}… (${text.length - max} more characters)` : safe;
}

/** A logger; `child` prefixes messages with a component name. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Logs `msg` at warn level only the first time `key` is seen. */
  warnOnce(key: string, msg: string): void;
  child(component: string): Logger;
}

/** Creates a logger writing to `write` (stderr by default) at or above `level`. */
export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n'), component = ''): Logger {
  const seen = new Set<string>();
  const make = (comp: string): Logger => {
    const out = (lvl: LogLevel, msg: string): void => {
      if (ORDER[lvl] < ORDER[level]) return;
      // Every message is sanitised here: log lines cannot be forged whatever a caller interpolates.
      write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${comp ? `[${comp}] ` : ''}${plainLogText(msg)}`);
    };
    return {
      debug: (m) => out('debug', m),
      info: (m) => out('info', m),
      warn: (m) => out('warn', m),
      error: (m) => out('error', m),
      warnOnce: (key, m) => {
        const k = `${comp}:${key}`;
        if (seen.has(k)) return;
        seen.add(k);
        out('warn', m);
      },
      child: (c) => make(comp ? `${comp}.${c}` : c),
    };
  };
  return make(component);
}

/** A logger that discards everything (tests). */
export const silentLogger: Logger = createLogger('error', () => {});
