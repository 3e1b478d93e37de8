// Tick cost of the DRM backend (AMD/Intel through sysfs + fdinfo): 8 MI300X (copies of the captured
// amdgpu-6.8-mi300x tree at 8 PCI slots) and 200 GPU processes (each with 2 DRM fds of one client and
// 18 other fds) among 300 processes without GPU fds, over 11 simulated minutes at a 1 s interval with
// the default cadences (so the 10-minute re-link turns are in). Half the clients are busy (their engine
// time grows 0.6 s per tick, written between ticks; DRM_BENCH_BUSY=0..1 sets the share), the rest idle.
// procfs's fd count (st_size of /proc/<pid>/fd) is stood in for: one stat, answering the built count.
// DRM_BENCH_IO_TIME=1 adds the time spent inside the fs calls, per kind. Prints the median tick of each kind
// (sysfs only; + process scan; + walk work), the mean and the worst tick, and same-run ratios to the
// host source's tick and to the 2 ms target. Nothing is asserted.
// Before/after in the same run: DRM_BENCH_BASELINE=<dir> loads a second DrmBackend from <dir> (a tree
// holding collector/ and protocol/ of another commit, e.g.
//   mkdir /tmp/base && git archive <commit> collector protocol | tar -x -C /tmp/base)
// and reads the same tree with both at every tick, alternating which goes first.
// Caveat: the tree lives in files, not in a kernel: real sysfs/procfs reads cost the kernel's
// formatting on top (gpu_busy_percent and gpu_metrics ask the SMU firmware, ~tens of µs each).
// Run: npm run bench -- drm    (or: node -r esbuild-register bench/gpu/drm-tick-cost.ts)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../collector/log';
import { DrmBackend, DRM_DISCOVERY_INTERVAL_MS, DRM_PROCESS_INTERVAL_MS } from '../../collector/sources/gpu/drm/drm-backend';
import { realDrmIo, type DrmIo } from '../../collector/sources/gpu/drm/drm-io';
import { DRM_FULL_WALK_MS, DRM_RELINK_MS, WALK_BUDGET_OPS, YOUNG_PROCESS_MS } from '../../collector/sources/gpu/drm/fdinfo';
import { HostSource } from '../../collector/sources/host';

const GPUS = 8;
const GPU_PROCS = 200;
const OTHER_PROCS = 300;
const OTHER_FDS = 18;
const TICKS = 660;
/** Share of the GPU processes whose client is busy: its engine time grows between ticks (DRM_BENCH_BUSY, default 0.5). */
const BUSY = Math.min(1, Math.max(0, Number(process.env.DRM_BENCH_BUSY ?? 0.5)));
const TARGET_MS = 2;
const INTERVAL_MS = 1000;

const FIX = path.resolve(__dirname, '../../test/fixtures/gpu/drm/amdgpu-6.8-mi300x');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-drm-bench-'));
const sys = path.join(root, 'sys');
const proc = path.join(root, 'proc');

/** The busy clients' fdinfo files (their first DRM fd, the one a backend reads) as text around the compute time. */
const busy: { fd: number; pre: string; post: string; ns: number }[] = [];

/**
 * Advances every busy client's compute time by 0.6 s (between ticks, outside the timed part): written in
 * place through a held fd (the text never gets shorter), as a truncate-and-rewrite costs ext4 a block
 * allocation at every close (~1 ms here) and would swamp the machine.
 */
function advanceBusy(): void {
  for (const b of busy) {
    b.ns += 600_000_000;
    fs.writeSync(b.fd, `${b.pre}${b.ns}${b.post}`, 0);
  }
}

/** Open fds per /proc/<pid>/fd directory of the tree: what procfs gives as the directory's size (see dirSize below). */
const fdCounts = new Map<string, number>();

function build(): void {
  const card = path.join(FIX, 'sys/class/drm/card1');
  for (let i = 0; i < GPUS; i++) {
    const dst = path.join(sys, 'class/drm', `card${i}`);
    fs.cpSync(card, dst, { recursive: true });
    const slot = `0000:${(0x11 + i * 0x20).toString(16).padStart(2, '0')}:00.0`;
    const ue = path.join(dst, 'device/uevent');
    fs.writeFileSync(ue, fs.readFileSync(ue, 'utf8').replace('0000:11:00.0', slot));
  }
  const info = fs.readFileSync(path.join(FIX, 'proc/4242/fdinfo/5'), 'utf8');
  for (let p = 0; p < GPU_PROCS + OTHER_PROCS; p++) {
    const pid = 10_000 + p;
    const dir = path.join(proc, String(pid));
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'fdinfo'));
    fs.writeFileSync(path.join(dir, 'cmdline'), `python3\0worker${p}.py\0`);
    fs.writeFileSync(path.join(dir, 'status'), `Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\n`);
    fs.writeFileSync(path.join(dir, 'stat'), `${pid} (python3) S 1 ${pid} ${pid} 0 -1 4194304 0 0 0 0 5 1 0 0 20 0 1 0 ${1000 + p} 1000000 500 0\n`);
    for (let fd = 0; fd < OTHER_FDS; fd++) {
      fs.symlinkSync(fd < 3 ? '/dev/null' : `socket:[${pid * 100 + fd}]`, path.join(dir, 'fd', String(fd)));
      fs.writeFileSync(path.join(dir, 'fdinfo', String(fd)), 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t1\n');
    }
    fdCounts.set(path.join(dir, 'fd'), OTHER_FDS + (p < GPU_PROCS ? 2 : 0));
    if (p < GPU_PROCS) {
      const slot = `0000:${(0x11 + (p % GPUS) * 0x20).toString(16).padStart(2, '0')}:00.0`;
      const text = info.replace('drm-client-id:\t12', `drm-client-id:\t${100 + p}`).replace('0000:11:00.0', slot);
      for (const fd of [OTHER_FDS, OTHER_FDS + 1]) {
        fs.symlinkSync(`/dev/dri/renderD${128 + (p % GPUS)}`, path.join(dir, 'fd', String(fd)));
        fs.writeFileSync(path.join(dir, 'fdinfo', String(fd)), text);
      }
      if (p < GPU_PROCS * BUSY) {
        const at = text.indexOf('drm-engine-compute:\t') + 'drm-engine-compute:\t'.length;
        const end = text.indexOf(' ns', at);
        busy.push({
          fd: fs.openSync(path.join(dir, 'fdinfo', String(OTHER_FDS)), 'r+'),
          pre: text.slice(0, at),
          post: text.slice(end),
          ns: Number(text.slice(at, end)),
        });
      }
    }
  }
}

const median = (xs: number[]): number => (xs.length ? xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** What the bench needs of a DrmBackend, this commit's or a baseline's. */
interface Backend {
  read(): { processes: unknown[] };
  close(): void;
  readonly scannerStats: { scanned: boolean; walkOps?: number; walk?: string } | null;
}
type Open = (opts: { sysRoot: string; procRoot: string; log: ReturnType<typeof createLogger>; now: () => number; io: DrmIo }) => Backend | null;

interface Run {
  name: string;
  b: Backend;
  kinds: Record<string, number[]>;
  all: number[];
  /** CPU time (user + system) per tick, ms: less disturbed than wall time on a shared, loaded machine. */
  cpu: number[];
  procs: number;
  /** File-system system calls per tick (openat, read, pread, getdents64, readlink, statx, close): the cost that scales with the kernel. */
  calls: number[];
  counter: { n: number };
}

function report(r: Run, hostMedian: number): number {
  const m = mean(r.all);
  console.log(`${r.name}:`);
  for (const [k, xs] of Object.entries(r.kinds)) if (xs.length > 0) console.log(`  ${k.padEnd(18)} median ${median(xs).toFixed(3)} ms  (${xs.length} ticks)`);
  const p99 = r.all.slice().sort((a, b) => a - b)[Math.floor(r.all.length * 0.99)];
  console.log(
    `  wall: mean per tick ${m.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, worst tick ${Math.max(...r.all).toFixed(3)} ms; ${r.procs} GPU processes seen`,
  );
  console.log(`  cpu (user+sys): mean per tick ${mean(r.cpu).toFixed(3)} ms, worst tick ${Math.max(...r.cpu).toFixed(3)} ms`);
  console.log(`  fs syscalls: mean per tick ${mean(r.calls).toFixed(1)}, worst tick ${Math.max(...r.calls)}`);
  console.log(`  ratio mean / target ${TARGET_MS} ms: ${(m / TARGET_MS).toFixed(2)}   ratio mean / host tick: ${(m / hostMedian).toFixed(2)}`);
  return m;
}

async function main(): Promise<void> {
  build();
  const log = createLogger('error', () => {});
  const ioTime = !!process.env.DRM_BENCH_IO_TIME;
  const ioSpent = new Map<string, number>();
  const ioCount = new Map<string, number>();
  let clock = 0;
  // Each backend gets the real file system behind a counter of its system calls (strace: readText and
  // readBytes are openat + read + read + close; readdirSync is openat + fstat + getdents64 × 2 + close).
  const counted = (counter: { n: number }): DrmIo => {
    // Time inside the fs calls, per kind (DRM_BENCH_IO_TIME=1): what the kernel costs vs. the JavaScript.
    const timed = <A extends unknown[], R>(kind: string, calls: number, f: (...a: A) => R): ((...a: A) => R) =>
      ioTime
        ? (...a: A): R => {
            counter.n += calls;
            const t0 = performance.now();
            try {
              return f(...a);
            } finally {
              ioSpent.set(kind, (ioSpent.get(kind) ?? 0) + performance.now() - t0);
              ioCount.set(kind, (ioCount.get(kind) ?? 0) + 1);
            }
          }
        : (...a: A): R => ((counter.n += calls), f(...a));
    return {
      readText: timed('open+read+close', 4, realDrmIo.readText),
      readBytes: timed('open+read+close', 4, realDrmIo.readBytes),
      readdir: timed('readdir', 5, realDrmIo.readdir),
      readlink: timed('readlink', 1, realDrmIo.readlink),
      // procfs (Linux ≥ 6.2) gives a /proc/<pid>/fd directory's number of open fds as its size; the tree
      // lives on an ordinary file system, so this pays the same one stat and answers what procfs would.
      dirSize: timed('stat', 1, (p: string) => {
        const size = fs.statSync(p).size;
        return fdCounts.get(p) ?? size;
      }),
      open: timed('open', 1, realDrmIo.open),
      reread: timed('pread', 1, realDrmIo.reread),
      close: timed('close', 1, realDrmIo.close),
    };
  };
  const runs: Run[] = [];
  const add = (name: string, open: Open): void => {
    const counter = { n: 0 };
    const b = open({ sysRoot: sys, procRoot: proc, log, now: () => clock, io: counted(counter) });
    if (!b) throw new Error(`bench tree has no GPU (${name})`);
    runs.push({ name, b, kinds: { 'sysfs only': [], '+ process scan': [], '+ walk work': [] }, all: [], cpu: [], procs: 0, calls: [], counter });
  };
  add('this commit', (o) => DrmBackend.open(o));
  const base = process.env.DRM_BENCH_BASELINE;
  if (base) {
    const mod = require(path.resolve(base, 'collector/sources/gpu/drm/drm-backend')) as { DrmBackend: { open: Open } };
    add(`baseline (${base})`, (o) => mod.DrmBackend.open(o));
  }
  const host = new HostSource({ log, processes: false });
  await host.probe();
  await host.sample();

  // A simulated timeline at a 1 s interval with the default cadences; the first YOUNG_PROCESS_MS are
  // skipped (start-up: the first walks).
  const hostT: number[] = [];
  for (let i = 0; i < TICKS; i++) {
    clock = i * INTERVAL_MS;
    if (i > 0) advanceBusy();
    for (let j = 0; j < runs.length; j++) {
      const r = runs[(i + j) % runs.length];
      r.counter.n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = r.b.read();
      const dt = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (clock < YOUNG_PROCESS_MS) continue;
      r.all.push(dt);
      r.calls.push(r.counter.n);
      r.cpu.push((c.user + c.system) / 1000);
      const st = r.b.scannerStats;
      const walked = (st?.walkOps ?? 0) > 0 || (st?.walk !== undefined && st.walk !== 'none');
      r.kinds[walked ? '+ walk work' : st?.scanned ? '+ process scan' : 'sysfs only'].push(dt);
      r.procs = out.processes.length;
    }
    const t0 = performance.now();
    await host.sample();
    hostT.push(performance.now() - t0);
  }
  const h = median(hostT);
  console.log(
    `DRM backend: ${GPUS} × MI300X, ${GPU_PROCS} GPU processes (${GPU_PROCS * 2} DRM fds; ${busy.length} clients busy, the rest idle), ${GPU_PROCS + OTHER_PROCS} processes, ${(GPU_PROCS + OTHER_PROCS) * OTHER_FDS + GPU_PROCS * 2} fds`,
  );
  console.log(
    `cadences: tick ${INTERVAL_MS} ms, process scan ${DRM_PROCESS_INTERVAL_MS} ms, listing ${DRM_DISCOVERY_INTERVAL_MS} ms, fd-list check ${DRM_FULL_WALK_MS} ms, re-link ${DRM_RELINK_MS} ms, walk budget ${WALK_BUDGET_OPS} fs ops per scan`,
  );
  const means = runs.map((r) => report(r, h));
  console.log(`  host source tick (real /proc, same run): median ${h.toFixed(3)} ms`);
  if (means.length === 2) {
    console.log(`ratio this commit / baseline, mean wall per tick: ${(means[0] / means[1]).toFixed(2)}`);
    console.log(`ratio this commit / baseline, mean cpu per tick: ${(mean(runs[0].cpu) / mean(runs[1].cpu)).toFixed(2)}`);
    console.log(`ratio this commit / baseline, worst wall tick: ${(Math.max(...runs[0].all) / Math.max(...runs[1].all)).toFixed(2)}`);
    console.log(`ratio this commit / baseline, fs syscalls per tick: ${(mean(runs[0].calls) / mean(runs[1].calls)).toFixed(2)}`);
  }
  if (ioTime) {
    // Summed over every backend in the run (with a baseline: both); divided by the ticks of one.
    const n = TICKS * runs.length;
    console.log(`time inside fs calls per tick (all ticks, incl. the first minute; ${runs.length} backend(s)):`);
    for (const [k, ms] of [...ioSpent].sort((a, b) => b[1] - a[1]))
      console.log(
        `  ${k.padEnd(16)} ${(ms / n).toFixed(3)} ms  (${((ioCount.get(k) ?? 0) / n).toFixed(1)} calls, ${((ms / (ioCount.get(k) ?? 1)) * 1000).toFixed(1)} µs each)`,
      );
  }
  for (const r of runs) r.b.close();
  for (const b of busy) fs.closeSync(b.fd);
  // DRM_BENCH_KEEP=1 keeps the tree (to poke at it) and prints where.
  if (process.env.DRM_BENCH_KEEP) console.log(`  tree kept at ${root}`);
  else fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e) => {
  fs.rmSync(root, { recursive: true, force: true });
  console.error(e);
  process.exit(1);
});
