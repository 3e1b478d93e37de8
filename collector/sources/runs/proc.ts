// Process facts from /proc (root injectable: RIGWATCH_PROC_ROOT for tests): stat (parent, state,
// start time, exit code of a zombie), cmdline, cwd, uid, owner (through proc-owner's cgroup parser). Reads are per pid and cheap;
// the caller caches by (pid, start time) so a reused pid is never mistaken for the old process.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { ProcessOwner } from '../../../protocol/details/gpu';
import { listPids } from '../proc-list';
import { parseCgroupOwner, parsePasswd, parseUid } from '../proc-owner';

export { listPids };

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every mainstream Linux). */
export const CLOCK_TICKS_PER_SECOND = 100;
/** Longest command line kept, in bytes. */
export const MAX_CMDLINE_BYTES = 4096;

/** The fields of /proc/<pid>/stat this source uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot. */
  startTicks: number;
  /** waitpid-style exit status (field 52), meaningful for a zombie; null when absent. */
  exitCode: number | null;
}

/** Parses a /proc/<pid>/stat line (the command name may hold spaces and parentheses). */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // f[0] is field 3 (state); field N is f[N - 3].
  const ppid = Number(f[1]);
  const startTicks = Number(f[19]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(startTicks)) return null;
  const ec = f.length >= 50 ? Number(f[49]) : NaN;
  return { pid, comm: text.slice(open + 1, close), state: f[0] ?? '?', ppid, startTicks, exitCode: Number.isInteger(ec) ? ec : null };
}

/** A waitpid status as words: "exit code 1", "killed by signal 9". */
export function describeExit(status: number): { code: number | null; signal: number | null; text: string } {
  const sig = status & 0x7f;
  if (sig === 0) {
    const code = (status >> 8) & 0xff;
    return { code, signal: null, text: `exit code ${code}` };
  }
  return { code: null, signal: sig, text: `killed by signal ${sig}` };
}

/** Reads /proc/<pid>/stat; null when the process is gone or unreadable. */
export async function readStat(procRoot: string, pid: number): Promise<ProcStat | null> {
  try {
    return parseStat(await fs.readFile(join(procRoot, String(pid), 'stat'), 'utf8'));
  } catch {
    return null;
  }
}

/** argv of a process (bounded), or null. */
export async function readCmdline(procRoot: string, pid: number): Promise<string[] | null> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(join(procRoot, String(pid), 'cmdline'), 'r');
    const buf = Buffer.alloc(MAX_CMDLINE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, MAX_CMDLINE_BYTES, 0);
    if (bytesRead === 0) return null; // kernel thread or zombie
    const parts = buf.subarray(0, bytesRead).toString('utf8').split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    return parts;
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

/** The process's working directory, or null when not ours to read. */
export async function readCwd(procRoot: string, pid: number): Promise<string | null> {
  try {
    return await fs.readlink(join(procRoot, String(pid), 'cwd'));
  } catch {
    return null;
  }
}

/** Real uid from /proc/<pid>/status (the attribution code's parser), or null. */
export async function readUid(procRoot: string, pid: number): Promise<number | null> {
  try {
    return parseUid(await fs.readFile(join(procRoot, String(pid), 'status'), 'utf8'));
  } catch {
    return null;
  }
}

/** Boot time in epoch ms from /proc/stat's btime, or null. */
export async function readBootTimeMs(procRoot: string): Promise<number | null> {
  try {
    const m = /^btime\s+(\d+)/m.exec(await fs.readFile(join(procRoot, 'stat'), 'utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** Reads a process's owner (container, pod, unit, session) through the one cgroup parser, proc-owner's. */
export async function readOwner(procRoot: string, pid: number): Promise<ProcessOwner | null> {
  try {
    return parseCgroupOwner(await fs.readFile(join(procRoot, String(pid), 'cgroup'), 'utf8'));
  } catch {
    return null;
  }
}

let passwd: Map<number, string> | null = null;

/** User name for a uid from /etc/passwd (read once, parsed by the attribution code's parser), else the uid as text. */
export async function userName(uid: number): Promise<string> {
  if (passwd === null) {
    try {
      passwd = parsePasswd(await fs.readFile('/etc/passwd', 'utf8'));
    } catch {
      passwd = new Map(); // no passwd file: numeric uids
    }
  }
  return passwd.get(uid) ?? String(uid);
}
