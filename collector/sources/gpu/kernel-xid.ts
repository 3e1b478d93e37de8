// Fallback for GPUs whose NVML events cannot be registered: `NVRM: Xid` lines from the kernel log
// (/dev/kmsg), read without blocking every few seconds on the main thread (a handful of records).

import * as fs from 'node:fs';
import * as os from 'node:os';
import { normalizePciBusId } from './reading';

/** How often /dev/kmsg is drained, ms. */
export const KMSG_POLL_MS = 5000;
/** Most kernel records read per poll (the rest wait for the next poll). */
const KMSG_RECORDS_PER_POLL_MAX = 10_000;
/** Largest kernel record read, bytes (the kernel caps records at ~1 KiB; longer reads are cut). */
const KMSG_RECORD_BYTES = 8192;

/** One Xid from a kernel log line. */
export interface KernelXid {
  /** NVML-style `DDDDDDDD:BB:DD.0`. */
  pciBusId: string;
  code: number;
  /** Microseconds since boot when the line came from /dev/kmsg, else null. */
  usecSinceBoot: number | null;
}

const XID_RE = /NVRM: Xid \(PCI:([0-9a-fA-F]{1,8}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})(?:\.([0-7]))?\): (\d{1,6})\b/;
const KMSG_PREFIX_RE = /^\d+,\d+,(\d+),[^;]*;/;

/** Parses one /dev/kmsg record, journal or dmesg line; null when it is not an NVRM Xid line. */
export function parseKernelXid(line: string): KernelXid | null {
  const m = XID_RE.exec(line.length > KMSG_RECORD_BYTES ? line.slice(0, KMSG_RECORD_BYTES) : line);
  if (!m) return null;
  const pre = KMSG_PREFIX_RE.exec(line);
  return {
    pciBusId: normalizePciBusId(`${m[1]}:${m[2]}:${m[3]}.${m[4] ?? '0'}`),
    code: Number(m[5]),
    usecSinceBoot: pre ? Number(pre[1]) : null,
  };
}

/** Reads new Xid lines from a kmsg-style device without blocking. */
export class KernelXidWatcher {
  private fd: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly buf = Buffer.alloc(KMSG_RECORD_BYTES);
  /** Records older than this (µs since boot) were logged before we started and are skipped. */
  private readonly startUsec: number;

  private constructor(
    fd: number,
    private readonly onXid: (x: KernelXid) => void,
    pollMs: number,
    skipOlder: boolean,
  ) {
    this.fd = fd;
    this.startUsec = skipOlder ? os.uptime() * 1e6 : 0;
    this.timer = setInterval(() => this.poll(), pollMs);
    this.timer.unref();
    this.poll();
  }

  /** Opens `path` (default /dev/kmsg); an error string says why it cannot be read. */
  static open(onXid: (x: KernelXid) => void, path = '/dev/kmsg', pollMs = KMSG_POLL_MS, skipOlder = true): KernelXidWatcher | string {
    try {
      const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      return new KernelXidWatcher(fd, onXid, pollMs, skipOlder);
    } catch (e) {
      return `${path} is not readable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
  }

  /** Drains what the kernel has logged since the last poll. */
  poll(): void {
    if (this.fd === null) return;
    for (let i = 0; i < KMSG_RECORDS_PER_POLL_MAX; i++) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // EPIPE: records were overwritten before we read them; the next read continues.
        if (code === 'EPIPE') continue;
        return; // EAGAIN: nothing new.
      }
      if (n <= 0) return;
      // /dev/kmsg gives one record per read; a plain file (tests) may give several lines.
      for (const line of this.buf.toString('utf8', 0, n).split('\n')) {
        const x = parseKernelXid(line);
        if (x && (x.usecSinceBoot === null || x.usecSinceBoot >= this.startUsec)) this.onXid(x);
      }
    }
  }

  /** Stops polling and closes the device. Idempotent. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
