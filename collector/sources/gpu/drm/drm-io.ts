// The file-system calls the DRM backend makes, behind an interface so tests can put faults (EACCES,
// a GPU that vanishes) in front of a captured tree. Every call is a small synchronous read of a
// kernel file: sysfs and procfs never touch a disk, and the async versions cost several times more.

import * as fs from 'node:fs';
import { readProcFile } from '../../host/read-proc';

/** What the DRM backend reads with. */
export interface DrmIo {
  /** The whole file as text; throws like fs.readFileSync (err.code ENOENT, EACCES, …). */
  readText(path: string): string;
  /** The whole file as bytes (the binary gpu_metrics table). */
  readBytes(path: string): Buffer;
  /** Entry names of a directory. */
  readdir(path: string): string[];
  /** Target of a symbolic link. */
  readlink(path: string): string;
}

/** The real file system. */
export const realDrmIo: DrmIo = {
  readText: readProcFile,
  readBytes: (p) => fs.readFileSync(p),
  readdir: (p) => fs.readdirSync(p),
  readlink: (p) => fs.readlinkSync(p),
};

/** The error code of a failed call (`ENOENT`, `EACCES`, …), or `EIO` when there is none. */
export function errCode(e: unknown): string {
  const c = (e as NodeJS.ErrnoException | null)?.code;
  return typeof c === 'string' ? c : 'EIO';
}

/** A short reason for a failed read: "permission denied" reads better in a tooltip than EACCES. */
export function readFailure(path: string, e: unknown): string {
  const code = errCode(e);
  if (code === 'EACCES' || code === 'EPERM') return `permission denied reading ${path}`;
  if (code === 'ENOENT') return `${path} is missing`;
  if (code === 'ENODEV' || code === 'ENXIO') return `the device behind ${path} is gone`;
  return `cannot read ${path}: ${(e as Error).message}`;
}
