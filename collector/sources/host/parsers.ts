// Pure parsers for the Linux /proc files the host source reads on every tick: text in, values out.
// No I/O here, so every function is tested on files captured from real machines (test/fixtures/host/).

/** Jiffies of one CPU line of /proc/stat. */
export interface CpuTimes {
  /** Time doing anything but idle/iowait, in USER_HZ ticks. */
  busy: number;
  /** Sum of all accounted states (guest time is already inside user/nice, so it is not added again). */
  total: number;
}

/** Parsed /proc/stat: the aggregate line and one entry per online core keyed by core number. */
export interface ProcStat {
  all: CpuTimes;
  cores: Map<number, CpuTimes>;
}

/** Parses /proc/stat CPU lines (`cpu`, `cpu0`, …). */
export function parseProcStat(text: string): ProcStat {
  let all: CpuTimes | null = null;
  const cores = new Map<number, CpuTimes>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const f = line.trim().split(/\s+/);
    const label = f[0]!;
    // user nice system idle iowait irq softirq steal [guest guest_nice]; older kernels have fewer columns.
    const v = f.slice(1, 9).map(Number);
    while (v.length < 8) v.push(0);
    if (v.some((x) => !Number.isFinite(x))) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = v as [number, number, number, number, number, number, number, number];
    const total = user + nice + system + idle + iowait + irq + softirq + steal;
    const times = { busy: total - idle - iowait, total };
    if (label === 'cpu') all = times;
    else {
      const n = Number(label.slice(3));
      if (Number.isInteger(n)) cores.set(n, times);
    }
  }
  if (!all) throw new Error('/proc/stat: no aggregate "cpu" line');
  return { all, cores };
}

/** Busy ratio between two readings; null when no time passed (or counters went backwards). */
export function cpuBusyRatio(prev: CpuTimes | undefined, cur: CpuTimes): number | null {
  if (!prev) return null;
  const dt = cur.total - prev.total;
  const db = cur.busy - prev.busy;
  if (dt <= 0 || db < 0) return null;
  return Math.min(1, db / dt);
}

/** RAM and swap in bytes from /proc/meminfo; a field the kernel does not report is null. */
export interface MemInfo {
  totalBytes: number | null;
  availableBytes: number | null;
  swapTotalBytes: number | null;
  swapFreeBytes: number | null;
}

/** Parses /proc/meminfo (values are in KiB despite the "kB" label). */
export function parseMeminfo(text: string): MemInfo {
  const kv = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) kv.set(m[1]!, Number(m[2]) * (line.endsWith('kB') ? 1024 : 1));
  }
  const get = (k: string): number | null => kv.get(k) ?? null;
  let available = get('MemAvailable');
  if (available === null) {
    // Kernels before 3.14 lack MemAvailable; free + buffers + page cache is the usual approximation.
    const free = get('MemFree');
    available = free === null ? null : free + (get('Buffers') ?? 0) + (get('Cached') ?? 0);
  }
  return { totalBytes: get('MemTotal'), availableBytes: available, swapTotalBytes: get('SwapTotal'), swapFreeBytes: get('SwapFree') };
}

/** Load averages from /proc/loadavg. */
export function parseLoadavg(text: string): [number, number, number] {
  const f = text
    .trim()
    .split(/\s+/)
    .slice(0, 3)
    .map((x) => (/^\d+(\.\d+)?$/.test(x) ? Number(x) : NaN));
  if (f.length < 3 || f.some((x) => !Number.isFinite(x))) throw new Error(`/proc/loadavg: unexpected content ${JSON.stringify(text.slice(0, 60))}`);
  return f as [number, number, number];
}

/** Seconds since boot from /proc/uptime. */
export function parseUptime(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s/.exec(text);
  const v = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(v)) throw new Error(`/proc/uptime: unexpected content ${JSON.stringify(text.slice(0, 60))}`);
  return v;
}

/** Cumulative byte counters of one block device. */
export interface DiskCounters {
  readBytes: number;
  writeBytes: number;
}

/** The kernel reports diskstats in 512-byte sectors whatever the device's real sector size. */
export const DISKSTATS_SECTOR_BYTES = 512;

/** Parses /proc/diskstats into byte counters per device name (every device; filtering is separate). */
export function parseDiskstats(text: string): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // major minor name reads reads_merged sectors_read ms writes writes_merged sectors_written …
    if (f.length < 10) continue;
    const sr = Number(f[5]);
    const sw = Number(f[9]);
    if (!Number.isFinite(sr) || !Number.isFinite(sw)) continue;
    out.set(f[2]!, { readBytes: sr * DISKSTATS_SECTOR_BYTES, writeBytes: sw * DISKSTATS_SECTOR_BYTES });
  }
  return out;
}

// Devices that never hold user data or that double-count (partitions of a disk already counted).
const VIRTUAL_DISK_RE = /^(loop|ram|zram|fd|sr)\d+$/;
const PARTITION_RE = /^((h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$/;

/**
 * Which diskstats devices to report, given the names in /sys/block (whole disks) when available.
 * Partitions and loop/ram/zram devices are left out; device-mapper and md devices are reported per device
 * but kept out of the totals because their I/O is already counted on the disks beneath them.
 */
export function classifyDisk(name: string, wholeDisks: Set<string> | null): 'total' | 'device' | 'skip' {
  if (VIRTUAL_DISK_RE.test(name)) return 'skip';
  if (wholeDisks ? !wholeDisks.has(name) : PARTITION_RE.test(name)) return 'skip';
  if (/^(dm-|md)\d+$/.test(name)) return 'device';
  return 'total';
}

/** Cumulative byte counters of one network interface. */
export interface NetCounters {
  rxBytes: number;
  txBytes: number;
}

/** Parses /proc/net/dev into byte counters per interface. */
export function parseNetDev(text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (!name || f.length < 9) continue;
    const rx = Number(f[0]);
    const tx = Number(f[8]);
    if (!Number.isFinite(rx) || !Number.isFinite(tx)) continue;
    out.set(name, { rxBytes: rx, txBytes: tx });
  }
  return out;
}

/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  /** `major:minor` of the backing device; bind mounts of one filesystem share it. */
  devId: string;
  /** Path inside the filesystem that is mounted (`/` unless it is a bind mount of a subtree or file). */
  root: string;
  mount: string;
  fsType: string;
  device: string;
}

/** Undoes the octal escapes (`\040` for space) the kernel writes in mount paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    // id parent major:minor root mountpoint options [optional fields…] - fstype source superoptions
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 6 || right.length < 2) continue;
    out.push({
      devId: left[2]!,
      root: unescapeMountPath(left[3]!),
      mount: unescapeMountPath(left[4]!),
      fsType: right[0]!,
      device: unescapeMountPath(right[1]!),
    });
  }
  return out;
}

/**
 * Filesystem types that are not storage a user fills: kernel interfaces, cgroups, RAM-backed scratch,
 * read-only images. `tmpfs` is here too, except that /dev/shm is kept (see `selectRealMounts`).
 */
export const PSEUDO_FS_TYPES: ReadonlySet<string> = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'tmpfs',
  'ramfs',
  'cgroup',
  'cgroup2',
  'mqueue',
  'debugfs',
  'tracefs',
  'securityfs',
  'pstore',
  'bpf',
  'configfs',
  'fusectl',
  'hugetlbfs',
  'binfmt_misc',
  'autofs',
  'nsfs',
  'rpc_pipefs',
  'selinuxfs',
  'efivarfs',
  'squashfs',
  'iso9660',
  'overlay',
  'aufs',
  'nfsd',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'fuse.snapfuse',
  'sockfs',
  'pipefs',
]);

// Mount points under these are the system's or a container runtime's, not the user's.
const SYSTEM_MOUNT_RE = /^\/(proc|sys|run\/credentials|var\/lib\/docker|var\/lib\/containers|var\/lib\/kubelet|snap)(\/|$)/;
// Container runtimes bind these single files from the host's disk; they are not mounts a user made.
const RUNTIME_FILE_MOUNTS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']);

/** Options for `selectRealMounts`. */
export interface MountFilter {
  /** Extra filesystem types to report although they are pseudo by default (e.g. `tmpfs`). */
  includeFsTypes?: readonly string[];
  /** Mount points to leave out (exact, or a prefix ending in `/`). */
  excludeMounts?: readonly string[];
}

/**
 * The mounts a user means by "disk usage": real filesystems, once each.
 * - pseudo types are skipped, but an overlay at `/` is kept (inside a container that *is* the disk)
 *   and so is `/dev/shm` (a full /dev/shm kills PyTorch DataLoader workers);
 * - bind mounts of the same device are reported once, preferring the mount of the filesystem's root
 *   and then the shortest path (containers bind single files like /etc/hosts from the host's disk).
 */
export function selectRealMounts(entries: MountEntry[], filter: MountFilter = {}): MountEntry[] {
  const include = new Set(filter.includeFsTypes ?? []);
  const exclude = filter.excludeMounts ?? [];
  const byDev = new Map<string, MountEntry>();
  // Later entries over the same path hide earlier ones: keep only the last mount per mount point.
  const byPath = new Map<string, MountEntry>();
  for (const e of entries) byPath.set(e.mount, e);
  for (const e of byPath.values()) {
    const pseudo = PSEUDO_FS_TYPES.has(e.fsType) && !include.has(e.fsType);
    const keep = !pseudo || (e.fsType === 'overlay' && e.mount === '/') || (e.fsType === 'tmpfs' && e.mount === '/dev/shm');
    if (!keep) continue;
    if (SYSTEM_MOUNT_RE.test(e.mount) && !include.has(e.fsType)) continue;
    if (/^\/dev\//.test(e.mount) && e.mount !== '/dev/shm') continue;
    if (RUNTIME_FILE_MOUNTS.has(e.mount)) continue;
    if (exclude.some((x) => e.mount === x || (x.endsWith('/') && e.mount.startsWith(x)))) continue;
    const prev = byDev.get(e.devId);
    if (!prev || better(e, prev)) byDev.set(e.devId, e);
  }
  return [...byDev.values()].sort((a, b) => (a.mount < b.mount ? -1 : a.mount > b.mount ? 1 : 0));
}

function better(a: MountEntry, b: MountEntry): boolean {
  const ar = a.root === '/' ? 0 : 1;
  const br = b.root === '/' ? 0 : 1;
  if (ar !== br) return ar < br;
  return a.mount.length < b.mount.length;
}

/** Series segment for a mount point (the contract lives in protocol/keys.ts). */
export { mountId } from '../../../protocol/keys';

/** The fields of /proc/<pid>/stat the top-process lists need. */
export interface PidStat {
  pid: number;
  /** Command name (comm, at most 15 characters; may contain spaces and parentheses). */
  name: string;
  /** user + system time in USER_HZ ticks. */
  cpuTicks: number;
  /** Resident set in pages. */
  rssPages: number;
}

/** Parses /proc/<pid>/stat; null for a malformed line (the process may have exited mid-read). */
export function parsePidStat(text: string): PidStat | null {
  // comm is inside the first "(" and the LAST ")" because the name itself may contain ")".
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime 15, rss 24.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const rss = Number(rest[21]);
  if (!Number.isInteger(pid) || !Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(rss)) return null;
  return { pid, name: text.slice(open + 1, close), cpuTicks: utime + stime, rssPages: rss };
}

/** The real uid from /proc/<pid>/status, or null. */
export function parseStatusUid(text: string): number | null {
  const m = /^Uid:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** uid → user name from /etc/passwd text. */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!)) out.set(Number(f[2]), f[0]);
  }
  return out;
}
