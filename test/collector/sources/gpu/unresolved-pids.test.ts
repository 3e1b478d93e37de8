// Pids NVML lists that /proc cannot resolve (other pid namespaces, exited processes) are looked up once and
// then remembered: not read again every tick, still reported as before (not alive / cannot tell), and
// attributed at once when the pid appears in /proc, or within the retry cadence when only the NSpid map
// can find it. A captured-format proc tree (RIGWATCH_PROC_ROOT); reads of it are counted through fs.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GpuDetails, GpuProcess } from '../../../../protocol/details/gpu';
import { ProcOwnerReader } from '../../../../collector/sources/proc-owner';
import { UnresolvedPids, UNRESOLVED_RETRY_MS } from '../../../../collector/sources/gpu/unresolved-pids';
import { buildFakeNvml } from '../../../fakes/nvml/build';
import { gpuHarness, NEVER, type GpuHarness } from './helpers';

const stat = (pid: number, start: number): string =>
  `${pid} (python3) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 10 18446744073709551615`;

/** A proc tree with pid 1 (init, our namespace unless `nested`); `mk` adds a python process. */
function procTree(nested = false): { root: string; mk: (pid: number, nsPid?: number) => void; dispose: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-unresolved-'));
  const mk = (pid: number, nsPid?: number): void => {
    const d = path.join(root, String(pid));
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'stat'), stat(pid, 4200));
    fs.writeFileSync(path.join(d, 'cmdline'), ['/usr/bin/python3', 'train.py'].join('\0') + '\0');
    fs.writeFileSync(path.join(d, 'status'), `Name:\tpython3\nUid:\t0\t0\t0\t0\nNSpid:\t${pid}${nsPid === undefined ? '' : `\t${nsPid}`}\n`);
    fs.writeFileSync(path.join(d, 'cgroup'), '0::/system.slice/train.service\n');
  };
  fs.writeFileSync(path.join(root, 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
  mk(1, nested ? 7 : undefined);
  fs.symlinkSync('1', path.join(root, 'self'));
  return { root, mk, dispose: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Counts fs calls on paths under `dir` (opens, reads, listings, existence checks) while installed. */
function countFs(dir: string): { count: () => number; restore: () => void } {
  const names = ['openSync', 'readFileSync', 'readdirSync', 'accessSync', 'statSync', 'existsSync'] as const;
  // The module object itself (an ES namespace import is a read-only view of it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('node:fs') as Record<string, (...a: unknown[]) => unknown>;
  const saved = names.map((n) => mod[n]);
  let n = 0;
  names.forEach((name, i) => {
    mod[name] = (...a: unknown[]) => {
      if (typeof a[0] === 'string' && (a[0] === dir || a[0].startsWith(dir + '/'))) n++;
      return saved[i].apply(mod, a);
    };
  });
  return { count: () => n, restore: () => names.forEach((name, i) => (mod[name] = saved[i])) };
}

describe('gpu: pids /proc cannot resolve are remembered, not re-read every tick', function () {
  this.timeout(30000);
  let lib: string;
  let h: GpuHarness | undefined;
  let tree: ReturnType<typeof procTree> | undefined;
  before(() => {
    lib = buildFakeNvml();
  });
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
    tree?.dispose();
    tree = undefined;
  });

  async function procs(): Promise<GpuProcess[]> {
    const r = await (h as GpuHarness).source.sample(NEVER);
    return (r.details as GpuDetails).processes;
  }

  for (const attribution of [true, false])
    it(`a pid missing from /proc on 4 GPUs is read once, then only checked for existence (attribution ${attribution ? 'on' : 'off'})`, async () => {
      tree = procTree();
      tree.mk(4242);
      h = gpuHarness({ nvmlPath: lib, attribution }, { count: 4, 'gpu.*.compute': '100:1073741824;4242:2147483648' }, { RIGWATCH_PROC_ROOT: tree.root });
      assert.equal((await h.source.probe(NEVER)).status, 'ready');
      const missing = countFs(path.join(tree.root, '100'));
      try {
        let first = 0;
        for (let t = 0; t < 6; t++) {
          const ps = await procs();
          assert.equal(ps.length, 8, `tick ${t}: two processes on each of 4 GPUs`);
          const p100 = ps.filter((p) => p.pid === 100);
          assert.equal(p100.length, 4, `tick ${t}: pid 100 still listed on every GPU`);
          for (const p of p100) {
            assert.equal(p.name, null, `tick ${t}: no name for a pid /proc lacks`);
            // This tree shows every process of its namespace: a missing pid is not alive (orphaned VRAM).
            if (attribution) assert.equal(p.alive, false, `tick ${t}: not alive, as before`);
          }
          for (const p of ps.filter((x) => x.pid === 4242)) assert.equal(p.name, 'python3 train.py', `tick ${t}`);
          if (t === 0) first = missing.count();
          // After the first tick: one existence check per tick (not per GPU), nothing read.
          else assert.equal(missing.count(), first + t, `tick ${t}: /proc/100 touched ${missing.count() - first} times since tick 0`);
        }
        assert.ok(first > 0, 'the first tick looked pid 100 up');
        assert.equal(h.source.unresolved.size, 1);
      } finally {
        missing.restore();
      }
    });

  it('a missing pid that appears in /proc is attributed on the next tick; one NVML stops listing is forgotten', async () => {
    tree = procTree();
    h = gpuHarness({ nvmlPath: lib }, { count: 2, 'gpu.*.compute': '100:1073741824' }, { RIGWATCH_PROC_ROOT: tree.root });
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    for (let t = 0; t < 3; t++)
      assert.deepEqual(
        (await procs()).map((p) => [p.name, p.alive]),
        [
          [null, false],
          [null, false],
        ],
        `tick ${t}`,
      );
    tree.mk(100);
    assert.deepEqual(
      (await procs()).map((p) => [p.name, p.alive]),
      [
        ['python3 train.py', undefined],
        ['python3 train.py', undefined],
      ],
    );
    assert.equal(h.source.unresolved.size, 0, 'dropped once resolved');
  });

  it('in a nested pid namespace a missing pid stays "cannot tell" (alive not false) while remembered', async () => {
    tree = procTree(true);
    h = gpuHarness({ nvmlPath: lib }, { count: 1, 'gpu.*.compute': '100:1073741824' }, { RIGWATCH_PROC_ROOT: tree.root });
    assert.equal((await h.source.probe(NEVER)).status, 'ready');
    for (let t = 0; t < 3; t++) {
      const [p] = await procs();
      assert.equal(p.pid, 100);
      assert.equal(p.alive, undefined, `tick ${t}: cannot tell, not "exited"`);
    }
    assert.equal(h.source.unresolved.size, 1);
  });

  describe('retry cadence and NVML view (clock injected)', () => {
    it('a container pid only NSpid can map is attributed within the retry cadence, not looked up in between', () => {
      tree = procTree();
      const { root, mk } = tree;
      let now = 0;
      const reader = new ProcOwnerReader({ procRoot: root, passwdFile: '/etc/passwd', now: () => now });
      const u = new UnresolvedPids((pid) => reader.lookup(pid), { procRoot: root, now: () => now });
      const tick = (pid: number, gpus: string[]) => {
        const out = gpus.map((g) => u.lookup(pid, g));
        reader.endTick();
        u.endTick();
        return out;
      };
      assert.equal(tick(7, ['A', 'B'])[0].name, null, 'no process has NSpid 7 yet');
      assert.equal(u.reads, 1, 'one lookup for both GPUs of the tick');
      // The container's process starts (host pid 5000, pid 7 inside); /proc/7 never exists.
      mk(5000, 7);
      const step = 1000;
      let attributedAt = -1;
      let readsBefore = -1;
      while (now < UNRESOLVED_RETRY_MS + 2 * step) {
        now += step;
        readsBefore = u.reads;
        const [a] = tick(7, ['A', 'B']);
        if (a.name !== null) {
          attributedAt = now;
          assert.equal(a.pid, 5000);
          assert.equal(a.nvmlPid, 7);
          break;
        }
      }
      assert.ok(attributedAt > 0 && attributedAt <= UNRESOLVED_RETRY_MS + step, `attributed at ${attributedAt} ms (cadence ${UNRESOLVED_RETRY_MS} ms)`);
      assert.equal(readsBefore, 1, 'not looked up between the first tick and the retry');
      assert.equal(u.size, 0);
    });

    it('a pid NVML lists on a GPU it was not on is looked up again at once; one that leaves NVML is forgotten', () => {
      tree = procTree();
      let now = 0;
      let inner = 0;
      const u = new UnresolvedPids(
        () => {
          inner++;
          return { name: null, user: null, alive: null };
        },
        { procRoot: tree.root, now: () => now },
      );
      u.lookup(100, 'A');
      u.endTick();
      now += 1000;
      u.lookup(100, 'A');
      u.endTick();
      assert.equal(inner, 1);
      u.lookup(100, 'B'); // another process behind the same number (a second container's pid 100)
      u.lookup(100, 'A');
      u.endTick();
      assert.equal(inner, 2);
      u.endTick(); // a tick without pid 100
      assert.equal(u.size, 0);
      u.lookup(100, 'A');
      assert.equal(inner, 3, 'a pid NVML lists again is a new process');
    });

    it('a resolved process, or one the reader knew and that has gone, is never remembered as a miss', () => {
      tree = procTree();
      let inner = 0;
      const answers = [
        { name: 'python3 train.py', user: 'root', alive: true, startTime: 1 },
        { name: 'python3 train.py', user: 'root', alive: false, startTime: 1 },
      ];
      for (const a of answers) {
        const u: UnresolvedPids = new UnresolvedPids(
          () => {
            inner++;
            return a;
          },
          { procRoot: tree.root },
        );
        for (let t = 0; t < 3; t++) {
          assert.equal(u.lookup(100, 'A'), a);
          u.endTick();
        }
        assert.equal(u.size, 0);
      }
      assert.equal(inner, 6);
    });
  });
});
