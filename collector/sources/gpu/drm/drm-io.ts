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
  /**
   * One stat of a directory, its st_size: for /proc/<pid>/fd on Linux ≥ 6.2 the number of open fds
   * (older kernels say 0; a directory on disk says its block size). The scanner checks on its first walks
   * that it equals the listing's length before it relies on it.
   */
  dirSize?(path: string): number;
  /** Opens a file to re-read with `reread` (a held fdinfo costs one pread a tick instead of open+read+close). */
  open(path: string): number;
  /** The whole file again from offset 0, as text; throws when the file is gone. */
  reread(fd: number): string;
  close(fd: number): void;
}

let rbuf = Buffer.allocUnsafe(16 * 1024);

/** The real file system. */
export const realDrmIo: DrmIo = {
  readText: readProcFile,
  // Through the reused buffer too: readFileSync allocates per call and costs twice as much here.
  readBytes: (p) => Buffer.from(readProcFile(p), 'latin1'),
  readdir: (p) => fs.readdirSync(p),
  readlink: (p) => fs.readlinkSync(p),
  dirSize: (p) => fs.statSync(p).size,
  open: (p) => fs.openSync(p, 'r'),
  reread: (fd) => {
    // procfs seq_files and sysfs attributes regenerate their text on a read at offset 0.
    for (;;) {
      const n = fs.readSync(fd, rbuf, 0, rbuf.length, 0);
      if (n < rbuf.length) return rbuf.toString('latin1', 0, n);
      rbuf = Buffer.allocUnsafe(rbuf.length * 2);
    }
  },
  close: (fd) => fs.closeSync(fd),
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

/**
 * Kernel files kept open and re-read from offset 0 each tick: one pread instead of open + read + read +
 * close. A sysfs attribute (kernfs seq_file) runs its show() again on every read at offset 0, so the
 * value is fresh (nvtop keeps its amdgpu files open the same way); once the device is removed the read
 * fails with ENODEV, which the backend takes as "GPU gone".
 */
export class HeldFiles {
  private readonly fds = new Map<string, number>();
  constructor(private readonly io: DrmIo) {}

  /** The file's text, from a held fd (opened on first use); throws like readText, and then forgets the fd. */
  read(p: string): string {
    let fd = this.fds.get(p);
    if (fd === undefined) {
      fd = this.io.open(p);
      this.fds.set(p, fd);
    }
    try {
      return this.io.reread(fd);
    } catch (e) {
      this.drop(p);
      throw e;
    }
  }

  /** Closes the held fd of `p`, if any. */
  drop(p: string): void {
    const fd = this.fds.get(p);
    if (fd === undefined) return;
    this.fds.delete(p);
    try {
      this.io.close(fd);
    } catch {
      /* already closed */
    }
  }

  /** Closes every held fd under a directory (a GPU that vanished or came back). */
  dropUnder(dir: string): void {
    for (const p of [...this.fds.keys()]) if (p.startsWith(dir + '/')) this.drop(p);
  }

  /** Closes every held fd. Idempotent. */
  close(): void {
    for (const p of [...this.fds.keys()]) this.drop(p);
  }

  /** How many files are held (tests). */
  get size(): number {
    return this.fds.size;
  }
}
