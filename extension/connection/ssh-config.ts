// Lists the host aliases of the user's OpenSSH client config (`~/.ssh/config` and every file it
// `Include`s), for the "Connect to Remote Host…" picker. Only names are read here: ssh itself applies the
// config when it runs, so nothing in this list changes how a connection is made. Wildcard and negated
// patterns (`Host *`, `Host !bastion`, `Host gpu-?`) are not hosts and are skipped. Free of the vscode
// module.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Include nesting depth ssh itself allows (readconf.c READCONF_MAX_DEPTH). */
export const MAX_INCLUDE_DEPTH = 16;
/** Largest config file read, in bytes (a config is a few KB; this bounds a mistaken Include of a big file). */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** One `Host` alias with what its block says about where it goes (display only). */
export interface SshConfigHost {
  alias: string;
  hostName?: string;
  user?: string;
  port?: number;
  /** File and 1-based line of the `Host` line that named it. */
  file: string;
  line: number;
}

/** Where to read from. */
export interface SshConfigOptions {
  /** The top config file (default `~/.ssh/config`). */
  configFile?: string;
  /** Home directory for `~` and for relative Include paths (default `os.homedir()`). */
  home?: string;
}

/** Splits one config line into words: whitespace or one `=` separates, double quotes group, `#` starts a comment. */
export function splitConfigLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quoted = false;
  let eqUsed = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') quoted = false;
      else cur += ch;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      inWord = true;
      continue;
    }
    if (ch === '#' && !inWord) break;
    // `Key=value` and `Key = value`: one `=` right after the keyword separates like a space.
    const eq = ch === '=' && !eqUsed && (words.length === 0 || (words.length === 1 && !inWord));
    if (eq) eqUsed = true;
    if (ch === ' ' || ch === '\t' || eq) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (inWord) words.push(cur);
  return words;
}

/** True for a Host pattern that names one host (no wildcard, not negated). */
export function isPlainHostPattern(p: string): boolean {
  return p.length > 0 && !/[*?!]/.test(p);
}

function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

function globToRegExp(seg: string): RegExp {
  let re = '';
  for (const ch of seg) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Expands `*` and `?` in an absolute path, segment by segment, sorted like glob(3); dotfiles only when the pattern starts with a dot. */
export function expandGlob(pattern: string): string[] {
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : parts[0]];
  for (const seg of parts.slice(1)) {
    if (seg === '') continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!/[*?]/.test(seg)) {
        next.push(path.join(base, seg));
        continue;
      }
      let names: string[];
      try {
        names = fs.readdirSync(base);
      } catch {
        continue;
      }
      const re = globToRegExp(seg);
      for (const n of names.sort()) if (re.test(n) && (seg.startsWith('.') || !n.startsWith('.'))) next.push(path.join(base, n));
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/** Reads the host aliases from the user's ssh config and its Includes (missing or unreadable files are skipped, as ssh does). */
export function readSshConfigHosts(opts: SshConfigOptions = {}): SshConfigHost[] {
  const home = opts.home ?? os.homedir();
  const top = opts.configFile ?? path.join(home, '.ssh', 'config');
  const hosts = new Map<string, SshConfigHost>();
  const visiting = new Set<string>();

  const readFile = (file: string, depth: number): void => {
    if (depth > MAX_INCLUDE_DEPTH || visiting.has(file)) return;
    let text: string;
    try {
      const st = fs.statSync(file);
      if (!st.isFile() || st.size > MAX_CONFIG_BYTES) return;
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    visiting.add(file);
    // The hosts named by the current `Host` line (empty inside `Match` or before any Host line).
    let block: SshConfigHost[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const words = splitConfigLine(raw);
      if (words.length === 0) return;
      const key = words[0].toLowerCase();
      const args = words.slice(1);
      switch (key) {
        case 'host':
          block = [];
          for (const p of args) {
            if (!isPlainHostPattern(p) || hosts.has(p)) continue;
            const h: SshConfigHost = { alias: p, file, line: i + 1 };
            hosts.set(p, h);
            block.push(h);
          }
          break;
        case 'match':
          block = [];
          break;
        case 'include':
          for (const a of args) {
            // User config: a relative path is relative to ~/.ssh (ssh_config(5)).
            const p = expandTilde(a, home);
            for (const f of expandGlob(path.isAbsolute(p) ? p : path.join(home, '.ssh', p))) readFile(f, depth + 1);
          }
          break;
        // ssh uses the first value obtained for each parameter, so later ones do not overwrite.
        case 'hostname':
          for (const h of block) h.hostName ??= args[0];
          break;
        case 'user':
          for (const h of block) h.user ??= args[0];
          break;
        case 'port': {
          const n = Number(args[0]);
          if (Number.isInteger(n) && n > 0 && n < 65536) for (const h of block) h.port ??= n;
          break;
        }
      }
    });
    visiting.delete(file);
  };

  readFile(top, 0);
  return [...hosts.values()];
}
