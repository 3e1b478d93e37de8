// Process name and user for GPU processes, from /proc (when the pid is visible in our pid namespace).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePasswd, parseUid } from '../proc-owner';

const INTERPRETERS = /^(python[0-9.]*|node|java|ruby|perl|bash|sh|Rscript|julia)$/;
const PASSWD_FILE = '/etc/passwd';

/** Looks up pid → {name, user} with a cache that lives while the pid keeps showing up. */
export class ProcessInfoCache {
  private cache = new Map<number, { name: string | null; user: string | null }>();
  private seen = new Set<number>();
  private users: Map<number, string> | null = null;

  constructor(private readonly procRoot = '/proc') {}

  /** Name ("python train.py", "ollama") and user of a pid; nulls when not visible. */
  lookup(pid: number): { name: string | null; user: string | null } {
    this.seen.add(pid);
    let hit = this.cache.get(pid);
    if (!hit) {
      hit = { name: this.readName(pid), user: this.readUser(pid) };
      // Do not cache a miss: the pid may appear in /proc a moment later.
      if (hit.name !== null) this.cache.set(pid, hit);
    }
    return hit;
  }

  /** Drops pids not looked up since the last call (they left the GPU; their pid may be reused). */
  endTick(): void {
    for (const pid of this.cache.keys()) if (!this.seen.has(pid)) this.cache.delete(pid);
    this.seen.clear();
  }

  private readName(pid: number): string | null {
    try {
      const argv = fs
        .readFileSync(path.join(this.procRoot, String(pid), 'cmdline'), 'utf8')
        .split('\0')
        .filter((s) => s.length > 0);
      if (argv.length > 0) {
        const exe = path.basename(argv[0]);
        // "python train.py" says more than "python"; only the script's base name (arguments may hold secrets).
        if (INTERPRETERS.test(exe)) {
          const script = argv.slice(1).find((a) => !a.startsWith('-'));
          if (script) return `${exe} ${path.basename(script)}`;
        }
        return exe;
      }
      return fs.readFileSync(path.join(this.procRoot, String(pid), 'comm'), 'utf8').trim() || null;
    } catch {
      return null;
    }
  }

  private readUser(pid: number): string | null {
    try {
      const status = fs.readFileSync(path.join(this.procRoot, String(pid), 'status'), 'utf8');
      const uid = parseUid(status);
      if (uid === null) return null;
      return this.userName(uid) ?? String(uid);
    } catch {
      return null;
    }
  }

  private userName(uid: number): string | null {
    if (!this.users) {
      try {
        this.users = parsePasswd(fs.readFileSync(PASSWD_FILE, 'utf8'));
      } catch {
        this.users = new Map(); // no passwd: numeric uids
      }
    }
    return this.users.get(uid) ?? null;
  }
}
