// The start log (issue 18 item 7): after the first probe round the real collector says in one line
// which sources it found and in one line which it did not, each with what or why.

import { strict as assert } from 'node:assert';
import { startCollector, type RunningCollector } from '../helpers/collector-process';

describe('collector start log', function () {
  this.timeout(60_000);
  let c: RunningCollector | undefined;
  afterEach(async () => {
    await c?.stop();
    c = undefined;
  });

  it('lists found and not found sources in one line each (real process)', async () => {
    c = await startCollector({
      config: { docker: false, postgres: false, redis: false, models: false },
      env: { RIGWATCH_NVML_PATH: '/nonexistent/libnvidia-ml.so.1', RIGWATCH_NVIDIA_SMI: '/nonexistent/nvidia-smi' },
    });
    const lines = (): string[] => c!.stderr().split('\n');
    for (let i = 0; i < 300 && !lines().some((l) => / not found: /.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    const found = lines().filter((l) => / info +found: /.test(l));
    const missing = lines().filter((l) => / info +not found: /.test(l));
    assert.equal(found.length, 1, `one "found:" line:\n${c.stderr()}`);
    assert.equal(missing.length, 1, `one "not found:" line:\n${c.stderr()}`);
    assert.match(found[0]!, /found: .*\bhost \(/, 'host found, with what it reads');
    assert.match(missing[0]!, /not found: .*\bgpu \([^)]*not found/, 'gpu not found, with why');
    assert.doesNotMatch(found[0]! + missing[0]!, /\bdocker\b/, 'disabled sources are neither');
  });
});
