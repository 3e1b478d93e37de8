// The pids under a /proc root (or a captured stand-in): one listing shared by the sources that walk processes.

import { promises as fs } from 'node:fs';

/** Numeric entries of the proc root; empty when it cannot be read. */
export async function listPids(procRoot: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fs.readdir(procRoot);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(n));
  }
  return out;
}
