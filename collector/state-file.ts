// The state file (`<dataDir>/collector.json`, mode 0600) lets the extension, the CLI and remote
// deploys find and reuse a collector already running for this user.

import * as fs from 'node:fs';

/** Contents of the state file. */
export interface CollectorState {
  pid: number;
  port: number;
  host: string;
  url: string;
  token: string | null;
  version: string;
  startedAt: number;
}

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
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CollectorState>;
    if (typeof s.pid !== 'number' || typeof s.port !== 'number' || typeof s.url !== 'string') return undefined;
    return s as CollectorState;
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
