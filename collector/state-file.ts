// The state file (`<dataDir>/collector.json`, mode 0600) lets the extension, the CLI and remote
// deploys find and reuse a collector already running for this user.

import * as fs from 'node:fs';
import { parseCollectorState, type CollectorState } from '../protocol/state-file';

/** Contents of the state file (the contract lives in protocol/state-file.ts). */
export type { CollectorState } from '../protocol/state-file';

/** Writes the state file atomically with mode 0600 (it holds the token). */
export function writeStateFile(file: string, state: CollectorState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** Reads a state file; undefined when missing, unreadable or not ours. */
export function readStateFile(file: string): CollectorState | undefined {
  try {
    return parseCollectorState(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Removes the state file only if it still describes process `pid` (another collector may own it now). */
export function removeStateFile(file: string, pid: number): void {
  if (readStateFile(file)?.pid === pid) {
    try {
      fs.unlinkSync(file);
    } catch {
      // Already gone: nothing to do.
    }
  }
}

/** True when a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data dir's lock (`collector.lock` holding our pid), created exclusively so two collectors
 * starting at the same moment cannot both own one data dir. A lock left by a dead process is taken over.
 * Returns the pid of the live owner when someone else holds it.
 */
export function acquireLock(file: string): { ok: true } | { ok: false; pid: number } {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return { ok: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let pid = NaN;
    try {
      pid = Number(fs.readFileSync(file, 'utf8').trim());
    } catch {
      // Removed meanwhile: try again.
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) return { ok: false, pid };
    // Stale (the owner died, e.g. kill -9) or half-written by a racer that is about to finish: a short
    // pause lets a racer's write land, then a stale file is removed and creation retried.
    if (!Number.isInteger(pid) || pid <= 0) {
      const until = Date.now() + 100;
      while (Date.now() < until) {
        /* brief wait for a concurrent writer */
      }
      continue;
    }
    try {
      fs.unlinkSync(file);
    } catch {
      // Someone else removed it first.
    }
  }
  return { ok: false, pid: NaN };
}

/** Removes the lock if it is ours. */
export function releaseLock(file: string): void {
  try {
    if (Number(fs.readFileSync(file, 'utf8').trim()) === process.pid) fs.unlinkSync(file);
  } catch {
    // Already gone.
  }
}
