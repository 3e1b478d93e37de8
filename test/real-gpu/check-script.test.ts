// The real-GPU check (test/real-gpu/check.py) needs a GPU for its driver checks, so this keeps it honest
// where it can be: it compiles, its ctypes layouts of NVML's structs agree with the sizes the fake NVML
// asserts and the byte constants the collector's workers use (--abi-only), and its collector phase runs
// here end to end against the fake NVML and the fake nvidia-smi (--fake-nvml): the real collector
// (dist/collector.js), a real PyTorch training on the CPU listed by the fake as a GPU process, and the
// table of fields compared with what the fake answers.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFakeNvidiaSmi, buildFakeNvml, writeFakeState } from '../fakes/nvml/build';
import { requireTorch } from '../collector/sources/runs/helpers';
import { COLLECTOR_JS } from '../helpers/collector-process';

const SCRIPT = path.join(__dirname, 'check.py');
const PYTHON = '/usr/bin/python3';

/** Runs the script to its end (it is bounded by its own --seconds and deadlines). */
function runScript(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(PYTHON, [SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

/** The field table's row for `field`: [collector, ctypes, nvidia-smi, pynvml, status] (fixed-width columns). */
function fieldRow(out: string, field: string): string[] {
  const line = out.split('\n').find((l) => l.startsWith(field.padEnd(40)));
  assert.ok(line, `no table row for ${field}`);
  const cols = [41, 56, 71, 86, 101].map((at, k) => line.slice(at, at + (k === 4 ? 5 : 14)).trim());
  return cols;
}

describe('real-GPU check script', () => {
  before(() => {
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y python3`);
  });

  it('compiles', () => {
    // compile() checks the syntax without writing a .pyc into the tree.
    for (const f of [SCRIPT, path.join(__dirname, 'collector_phase.py')]) {
      const r = spawnSync(PYTHON, ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', f], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it('its NVML struct layouts match the fake and the collector (--abi-only)', () => {
    const r = spawnSync(PYTHON, [SCRIPT, '--abi-only'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const s of ['nvmlMemory_v2_t', 'nvmlProcessInfo_v2/v3_t', 'nvmlProcessUtilizationSample_t', 'nvmlEventData_t', 'nvmlGpmMetricsGet_t'])
      assert.match(r.stdout, new RegExp(`ABI sizeof ${s.replace('/', '\\/')}\\s+ctypes \\d+, fake \\d+, collector \\d+\\s+ok`), s);
  });

  describe('collector phase against the fake NVML (--fake-nvml)', function () {
    this.timeout(90_000);
    let dir: string;
    let res: { code: number | null; out: string };
    before(async () => {
      requireTorch();
      if (!fs.existsSync(COLLECTOR_JS)) throw new Error(`${COLLECTOR_JS} is missing: run "node build.mjs" (npm test does) first`);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-real-gpu-test-'));
      const state = path.join(dir, 'state');
      // Values no default of the fake has, so a row can only match by reading them.
      writeFakeState(state, {
        count: 1,
        'gpu.0.temp': 61,
        'gpu.0.power_mw': 123_450,
        'gpu.0.power_limit_mw': 700_000,
        'gpu.0.util': 73,
        'gpu.0.mem_used': 5 * 1024 ** 3,
        'gpu.0.clock_sm': 1234,
        'gpu.0.ecc_corrected': 7,
      });
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` };
      for (const k of Object.keys(env)) if (k.startsWith('RIGWATCH_') || k === 'FAKE_NVML_STATE') delete env[k];
      // This machine's Node and the bundle just built (a carried test/real-gpu/.carry/ would otherwise be used).
      res = await runScript(
        [
          '--fake-nvml',
          buildFakeNvml(),
          '--fake-state',
          state,
          '--nvidia-smi',
          buildFakeNvidiaSmi(),
          '--node',
          process.execPath,
          '--bundle',
          COLLECTOR_JS,
          // The longest the training runs: the script stops it once it has checked the run.
          '--seconds',
          '60',
          '--out',
          path.join(dir, 'out'),
        ],
        env,
      );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('passes with no FAIL row', () => {
      assert.equal(res.code, 0, res.out);
      assert.match(res.out, /\d+ checks, 0 failed/);
    });

    it("the collector's fields match what the fake answers, through ctypes and nvidia-smi -q -x", () => {
      assert.deepEqual(fieldRow(res.out, 'GPU 0 temperature_celsius'), ['61 C', '61 C', '61 C', '-', 'ok']);
      assert.deepEqual(fieldRow(res.out, 'GPU 0 power_watts'), ['123.45 W', '123.45 W', '123.45 W', '-', 'ok']);
      assert.deepEqual(fieldRow(res.out, 'GPU 0 utilization_ratio'), ['0.730', '0.730', '0.730', '-', 'ok']);
      assert.deepEqual(fieldRow(res.out, 'GPU 0 memory_used_bytes'), ['5120.0 MiB', '5120.0 MiB', '5120.0 MiB', '-', 'ok']);
      assert.deepEqual(fieldRow(res.out, 'GPU 0 sm_clock_hertz'), ['1234 MHz', '1234 MHz', '1234 MHz', '-', 'ok']);
      // Not in the fake's nvidia-smi XML: compared with ctypes only.
      assert.deepEqual(fieldRow(res.out, 'GPU 0 ecc_volatile_corrected_count'), ['7', '7', '-', '-', 'ok']);
      // Every one of the collector's 47 GPU metrics has a row.
      const rows = res.out.split('\n').filter((l) => /^GPU 0 [a-z_]+ /.test(l) && !/^GPU 0 (name|uuid|pciBusId) /.test(l));
      assert.ok(rows.length >= 47, `${rows.length} metric rows`);
    });

    it('the training is a run with its scalars; the collector reports its tick cost', () => {
      assert.match(res.out, /run discovered through the GPU's process list\s+rw_real_gpu_train\.py \(gpu, running\)\s+ok/);
      assert.match(res.out, /run scalar loss = what the training logged\s+step \d+: \S+\s+ok/);
      assert.match(res.out, /run reported ended after the training exits\s+(finished|gone) at tick [123] after the exit\s+ok/);
      assert.match(res.out, /GPU 0 process \d+ usedMemoryBytes\s+2048\.0 MiB\s+2048\.0 MiB\s+2048\.0 MiB/);
      assert.match(res.out, /collector NVML tick cost \(GPU source sample\)\s+median [\d.]+ ms, max [\d.]+ ms\s+ok/);
      const table = fs.readFileSync(path.join(dir, 'out', 'table.txt'), 'utf8');
      assert.match(table, /field GPU 0 temperature_celsius/);
      // The collector's stdout (its URL carries the token) is kept with the token masked.
      assert.match(fs.readFileSync(path.join(dir, 'out', 'collector.stdout.txt'), 'utf8'), /#token=<token>/);
    });
  });
});
