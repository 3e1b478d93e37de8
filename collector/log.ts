// Minimal levelled logger writing one line per message to stderr; never given secrets.

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

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
      write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${comp ? `[${comp}] ` : ''}${msg}`);
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
