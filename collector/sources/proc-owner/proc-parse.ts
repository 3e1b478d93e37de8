// Pure parsers of the /proc files attribution reads: stat (start time), status (uid, NSpid), cmdline.

/** Longest command line kept, in characters (the rest is cut with an ellipsis). */
export const COMMAND_MAX_CHARS = 1024;

/** Field 22 of /proc/<pid>/stat: start time in clock ticks after boot; null when unparsable. */
export function parseStartTicks(stat: string): number | null {
  // comm (field 2) may hold spaces and ')': the fields after it start at the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const f = stat.slice(close + 2).split(' ');
  // After comm: state is field 3 → index 0, so field 22 is index 19.
  const v = Number(f[19]);
  return Number.isFinite(v) && f[19] !== '' ? v : null;
}

/** `btime` of /proc/stat: boot time in epoch seconds; null when missing. */
export function parseBootTime(procStat: string): number | null {
  const m = /^btime\s+(\d+)/m.exec(procStat);
  return m ? Number(m[1]) : null;
}

/** Real uid from /proc/<pid>/status. */
export function parseUid(status: string): number | null {
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : null;
}

/** `NSpid:` of /proc/<pid>/status: the pid in this namespace first, then in each nested one; [] when absent (kernel < 4.1). */
export function parseNsPid(status: string): number[] {
  const m = /^NSpid:\s+([\d\s]+)$/m.exec(status);
  if (!m) return [];
  return m[1]
    .trim()
    .split(/\s+/)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

// Arguments that carry secrets: `--api-key=…`, `--token …`, `PASSWORD=…` (an env-style argument).
const SECRET_ARG = /^(-{0,2}[A-Za-z0-9_.-]*(?:key|token|passw(?:or)?d|secret|credential)[A-Za-z0-9_.-]*)=(.+)$/i;
const SECRET_FLAG = /^--?[A-Za-z0-9_.-]*(?:key|token|passw(?:or)?d|secret|credential)[A-Za-z0-9_.-]*$/i;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):(\S*)@/gi;

/**
 * /proc/<pid>/cmdline (NUL-separated) as one plain-text line: values of secret-looking arguments
 * (`--api-key=…`, `--token …`, `user:pass@` in URLs) replaced by `***`, control characters dropped, capped.
 */
export function parseCmdline(raw: string): string | null {
  const args = raw.split('\0').filter((s) => s.length > 0);
  if (args.length === 0) return null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const kv = SECRET_ARG.exec(a);
    if (kv) args[i] = `${kv[1]}=***`;
    else if (i > 0 && SECRET_FLAG.test(a) && i + 1 < args.length && !args[i + 1].startsWith('-')) args[++i] = '***';
    else if (a.includes('://')) args[i] = a.replace(URL_USERINFO, '$1$2:***@');
  }
  // eslint-disable-next-line no-control-regex
  const text = args.join(' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return text.length > COMMAND_MAX_CHARS ? `${text.slice(0, COMMAND_MAX_CHARS - 1)}…` : text;
}

const INTERPRETERS = /^(python[0-9.]*|node|java|ruby|perl|bash|sh|Rscript|julia)$/;

/** Short name of a process: `python train.py` for interpreters (the script's base name only), else the executable's base name. */
export function shortName(raw: string): string | null {
  const argv = raw.split('\0').filter((s) => s.length > 0);
  if (argv.length === 0) return null;
  const exe = baseName(argv[0]);
  if (INTERPRETERS.test(exe)) {
    const script = argv.slice(1).find((a) => !a.startsWith('-'));
    if (script) return `${exe} ${baseName(script)}`;
  }
  return exe;
}

function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** uid → user name map from /etc/passwd text. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2])) users.set(Number(f[2]), f[0]);
  }
  return users;
}
