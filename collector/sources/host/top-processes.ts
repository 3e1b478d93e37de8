// Top processes by CPU and by resident memory, from /proc/<pid>/stat (one small read per process).
// Only the winners get the extra reads (status for the uid, cmdline) so a refresh stays cheap.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostProcess } from '../../../protocol/details/host';
import { readProcFile } from './read-proc';
import { parsePasswd, parsePidStat, parseStatusUid, type PidStat } from './parsers';

/** Linux reports process times in USER_HZ, which is 100 on every mainstream architecture. */
export const USER_HZ = 100;
/** How many processes each list holds. */
export const TOP_PROCESS_COUNT = 10;
const MAX_COMMAND_CHARS = 300;

/** Both lists of one refresh. */
export interface TopProcesses {
  topCpu: HostProcess[];
  topMem: HostProcess[];
}

/** Removes credentials from a command line before it leaves the machine (URLs, --password=…, token=…). */
export function redactCommand(cmd: string): string {
  return cmd
    .replace(/(\/\/[^\s/:@]+):[^\s@/]+@/g, '$1:***@')
    .replace(/((?:^|[\s-])(?:password|passwd|pass|pwd|token|secret|api[-_]?key|access[-_]?key)(?:=|\s+))(\S+)/gi, '$1***');
}

/** Samples /proc for the top lists; keeps the previous CPU ticks per pid to turn them into rates. */
export class TopProcessSampler {
  private prev = new Map<number, number>();
  private prevT: number | undefined;
  private users = new Map<number, string>();
  private pageBytes: number;

  constructor(
    private readonly procRoot: string,
    private readonly passwdFile: string,
    pageBytes = 4096,
  ) {
    this.pageBytes = pageBytes;
  }

  /** Reads every process; CPU ratios are null on the first call (no previous reading to diff against). */
  sample(tMs: number): TopProcesses {
    const stats: PidStat[] = [];
    let names: string[];
    try {
      names = fs.readdirSync(this.procRoot);
    } catch {
      return { topCpu: [], topMem: [] };
    }
    for (const n of names) {
      const c = n.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      try {
        const s = parsePidStat(readProcFile(path.join(this.procRoot, n, 'stat')));
        if (s) stats.push(s);
      } catch {
        // The process exited between readdir and read: that is normal, not an error.
      }
    }
    const dtS = this.prevT === undefined ? 0 : (tMs - this.prevT) / 1000;
    const cpu = new Map<number, number | null>();
    const next = new Map<number, number>();
    for (const s of stats) {
      next.set(s.pid, s.cpuTicks);
      const p = this.prev.get(s.pid);
      cpu.set(s.pid, p === undefined || dtS <= 0 || s.cpuTicks < p ? null : (s.cpuTicks - p) / USER_HZ / dtS);
    }
    this.prev = next;
    this.prevT = tMs;
    const byCpu = stats
      .filter((s) => cpu.get(s.pid) !== null)
      .sort((a, b) => (cpu.get(b.pid) ?? 0) - (cpu.get(a.pid) ?? 0) || b.rssPages - a.rssPages)
      .slice(0, TOP_PROCESS_COUNT);
    const byMem = [...stats].sort((a, b) => b.rssPages - a.rssPages).slice(0, TOP_PROCESS_COUNT);
    const describe = (s: PidStat): HostProcess => ({
      pid: s.pid,
      name: s.name,
      user: this.userOf(s.pid),
      cpuRatio: cpu.get(s.pid) ?? null,
      rssBytes: s.rssPages * this.pageBytes,
      command: this.commandOf(s.pid),
    });
    const described = new Map<number, HostProcess>();
    const get = (s: PidStat): HostProcess => {
      let d = described.get(s.pid);
      if (!d) described.set(s.pid, (d = describe(s)));
      return d;
    };
    return { topCpu: byCpu.map(get), topMem: byMem.map(get) };
  }

  private userOf(pid: number): string | null {
    let uid: number | null;
    try {
      uid = parseStatusUid(readProcFile(path.join(this.procRoot, String(pid), 'status')));
    } catch {
      return null;
    }
    if (uid === null) return null;
    let name = this.users.get(uid);
    if (name === undefined) {
      // A user added since the last read: re-read passwd once; users only in LDAP etc. show as the uid.
      try {
        this.users = parsePasswd(fs.readFileSync(this.passwdFile, 'utf8'));
      } catch {
        // No passwd (minimal container): fall through to the uid.
      }
      name = this.users.get(uid) ?? String(uid);
      this.users.set(uid, name);
    }
    return name;
  }

  private commandOf(pid: number): string | undefined {
    try {
      const raw = Buffer.from(readProcFile(path.join(this.procRoot, String(pid), 'cmdline')), 'latin1').toString('utf8');
      const cmd = raw.replace(/\0+$/, '').replace(/\0/g, ' ');
      if (!cmd) return undefined; // kernel threads have no command line
      return redactCommand(cmd.length > MAX_COMMAND_CHARS ? cmd.slice(0, MAX_COMMAND_CHARS) + '…' : cmd);
    } catch {
      return undefined;
    }
  }
}
