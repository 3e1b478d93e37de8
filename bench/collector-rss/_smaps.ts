// Helper of the RSS benchmarks (not a benchmark itself): where a process's resident memory is, from
// /proc/<pid>/smaps, grouped by mapping: the node binary, other files, the glibc main heap ([heap]),
// thread stacks, glibc thread arenas (anonymous mappings inside a 64 MiB arena reservation) and the
// other anonymous mappings (V8 heap pages, large ArrayBuffers and malloc'd blocks over the mmap threshold).

import * as fs from 'node:fs';

export interface SmapsGroups {
  [group: string]: number;
}

const KB = 1024;

/** Resident bytes per group for `pid`. */
export function smapsGroups(pid: number): SmapsGroups {
  const text = fs.readFileSync(`/proc/${pid}/smaps`, 'latin1');
  const exe = fs.readlinkSync(`/proc/${pid}/exe`);
  const groups: SmapsGroups = {};
  const add = (g: string, b: number): void => {
    groups[g] = (groups[g] ?? 0) + b;
  };
  // Thread stacks per /proc/<pid>/task/*/stat are not listed by name in smaps; glibc thread arenas are
  // 64 MiB-aligned anonymous reservations (rw part + PROT_NONE rest).
  const lines = text.split('\n');
  let cur: { start: number; end: number; perms: string; name: string } | undefined;
  const maps: { start: number; end: number; perms: string; name: string; rss: number }[] = [];
  for (const line of lines) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, name: head[4] ?? '' };
      continue;
    }
    const m = /^Rss:\s+(\d+) kB/.exec(line);
    if (m && cur) maps.push({ ...cur, rss: Number(m[1]) * KB });
  }
  const ARENA = 64 * 1024 * 1024;
  for (let i = 0; i < maps.length; i++) {
    const mp = maps[i]!;
    if (mp.name === exe) add('node binary (file)', mp.rss);
    else if (mp.name.startsWith('/')) add('other files', mp.rss);
    else if (mp.name === '[heap]') add('glibc main heap [heap]', mp.rss);
    else if (mp.name.startsWith('[stack')) add('main stack', mp.rss);
    else if (mp.name.startsWith('[')) add('other ' + mp.name, mp.rss);
    else {
      // rw anon at a 64 MiB boundary followed by a ---p rest of the same reservation: a glibc arena
      const next = maps[i + 1];
      const arena =
        mp.start % ARENA === 0 && mp.perms.startsWith('rw') && next && next.start === mp.end && next.perms === '---p' && next.end - mp.start <= ARENA;
      // a thread stack: rw anon directly after an 4-64 KiB ---p guard page
      const prev = maps[i - 1];
      const stack =
        !arena &&
        prev &&
        prev.end === mp.start &&
        prev.perms === '---p' &&
        prev.end - prev.start <= 64 * KB &&
        mp.end - mp.start >= 256 * KB &&
        mp.end - mp.start <= 16 * 1024 * KB;
      add(arena ? 'glibc thread arenas' : stack ? 'thread stacks' : 'other anon (V8 heap, big buffers)', mp.rss);
    }
  }
  return groups;
}
