// The real-GPU check (test/real-gpu/check.py) cannot run here (no GPU), so this only keeps it honest where
// it can be: it compiles, and its ctypes layouts of NVML's structs agree with the sizes the fake NVML
// asserts and the byte constants the collector's workers use (its --abi-only mode, no driver needed).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SCRIPT = path.join(__dirname, 'check.py');
const PYTHON = '/usr/bin/python3';

describe('real-GPU check script (not run: no GPU here)', () => {
  before(() => {
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y python3`);
  });

  it('compiles', () => {
    // compile() checks the syntax without writing a .pyc into the tree.
    const r = spawnSync(PYTHON, ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('its NVML struct layouts match the fake and the collector (--abi-only)', () => {
    const r = spawnSync(PYTHON, [SCRIPT, '--abi-only'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const s of ['nvmlMemory_v2_t', 'nvmlProcessInfo_v2/v3_t', 'nvmlProcessUtilizationSample_t', 'nvmlEventData_t', 'nvmlGpmMetricsGet_t'])
      assert.match(r.stdout, new RegExp(`ABI sizeof ${s.replace('/', '\\/')}\\s+ctypes \\d+, fake \\d+, collector \\d+\\s+ok`), s);
  });
});
