// Which processes serve a port: /proc/net/tcp{,6} give the listening socket's inode, /proc/<pid>/fd
// links name the process holding it; /proc/<pid>/stat gives parents, so children (vLLM workers,
// Ollama runners) are included. Linux only; elsewhere every lookup answers "not visible".

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { listPids } from '../proc-list';

const TCP_LISTEN = '0A';

/** Inodes of sockets listening on `port` (IPv4 and IPv6). */
export async function listeningInodes(port: number, procRoot = '/proc'): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const file of ['net/tcp', 'net/tcp6']) {
    let text: string;
    try {
      text = await fs.readFile(join(procRoot, file), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== TCP_LISTEN) continue;
      const local = cols[1];
      const p = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (p === port && cols[9] !== '0') inodes.add(cols[9]);
    }
  }
  return inodes;
}

/** Pids holding any of the socket inodes (only processes whose fds we may read are seen). */
export async function pidsHoldingInodes(inodes: Set<string>, procRoot = '/proc'): Promise<number[]> {
  if (inodes.size === 0) return [];
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  const pids: number[] = [];
  for (const pid of await listPids(procRoot)) {
    let fds: string[];
    try {
      fds = await fs.readdir(join(procRoot, String(pid), 'fd'));
    } catch {
      continue; // not ours to read, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = await fs.readlink(join(procRoot, String(pid), 'fd', fd));
      } catch {
        continue;
      }
      if (wanted.has(target)) {
        pids.push(pid);
        break;
      }
    }
  }
  return pids;
}

/** `pids` plus all their descendants, ascending. */
export async function withDescendants(pids: number[], procRoot = '/proc'): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const pid of await listPids(procRoot)) {
    const ppid = await parentOf(pid, procRoot);
    if (ppid === null) continue;
    let list = children.get(ppid);
    if (list === undefined) children.set(ppid, (list = []));
    list.push(pid);
  }
  const out = new Set<number>();
  const queue = [...pids];
  while (queue.length > 0) {
    const p = queue.pop() as number;
    if (out.has(p)) continue;
    out.add(p);
    for (const c of children.get(p) ?? []) queue.push(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** Parent pid from /proc/<pid>/stat (the command name may contain spaces and parentheses). */
export async function parentOf(pid: number, procRoot = '/proc'): Promise<number | null> {
  try {
    const stat = await fs.readFile(join(procRoot, String(pid), 'stat'), 'utf8');
    return parseStatParent(stat);
  } catch {
    return null;
  }
}

/** The ppid field of a /proc/<pid>/stat line. */
export function parseStatParent(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close === -1) return null;
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

/** The process's command name (`comm`), or null. */
export async function commOf(pid: number, procRoot = '/proc'): Promise<string | null> {
  try {
    return (await fs.readFile(join(procRoot, String(pid), 'comm'), 'utf8')).trim();
  } catch {
    return null;
  }
}

/** True when /proc/<pid> exists. */
export async function pidAlive(pid: number, procRoot = '/proc'): Promise<boolean> {
  try {
    await fs.access(join(procRoot, String(pid)));
    return true;
  } catch {
    return false;
  }
}
