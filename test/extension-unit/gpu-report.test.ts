// "Show GPU Details" without nvidia-smi: the report built from a real NVML snapshot (the fake
// libnvidia-ml.so read by the collector's GPU source), and nvidia-smi's report in the formatter's units.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GpuDetails } from '../../protocol/details/gpu';
import { noGpuDataText, nvmlReportText, smiReportText } from '../../extension/gpu-report';
import { buildFakeNvml } from '../fakes/nvml/build';
import { gpuHarness, NEVER, spawnSleeper, type GpuHarness } from '../collector/sources/gpu/helpers';

const GIB = 1024 ** 3;
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'gpu');

/** The value of a `Label : value` line under `section` (first match after the section heading). */
function field(text: string, section: string, label: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === section);
  assert.ok(start >= 0, `no section "${section}" in:\n${text}`);
  for (const l of lines.slice(start + 1)) {
    const m = /^\s*(.+?)\s*: (.*)$/.exec(l);
    if (m && m[1] === label) return m[2];
  }
  return undefined;
}

describe('GPU details report (extension/gpu-report.ts)', function () {
  this.timeout(60_000);
  let h: GpuHarness | undefined;
  let sleeper: ReturnType<typeof spawnSleeper> | undefined;

  afterEach(async () => {
    sleeper?.kill();
    sleeper = undefined;
    await h?.dispose();
    h = undefined;
  });

  it('renders the NVML readings of a fake-NVML snapshot: name, driver, clocks, power, temperatures and thresholds, memory, ECC, reasons, processes', async () => {
    sleeper = spawnSleeper();
    h = gpuHarness(
      { nvmlPath: buildFakeNvml(), nvidiaSmiPath: '/nonexistent/nvidia-smi' },
      {
        count: 2,
        'gpu.1.util': 97,
        'gpu.1.mem_total': 80 * GIB,
        'gpu.1.mem_used': 76 * GIB,
        'gpu.1.temp': 71,
        'gpu.1.temp_slowdown': 87,
        'gpu.1.temp_shutdown': 92,
        'gpu.1.power_mw': 398_000,
        'gpu.1.power_limit_mw': 400_000,
        'gpu.1.clock_sm': 1410,
        'gpu.1.clock_sm_max': 1980,
        'gpu.1.reasons': 0x4,
        'gpu.1.ecc_agg_corrected': 3,
        'gpu.1.compute': `${sleeper.pid}:${Math.round(75.5 * GIB)}`,
        'gpu.1.putil': `${sleeper.pid}:93`,
      },
    );
    await h.source.probe(NEVER);
    const r = await h.source.sample(NEVER);
    const details = r.details as GpuDetails;
    assert.equal(details.backend, 'nvml');
    const text = nvmlReportText({ series: r.series, details, t: 1_700_000_000_000, connectionName: 'trainbox', smiError: 'nvidia-smi not found' }, 1);
    assert.ok(text, 'a report for GPU 1');
    assert.match(text, /^GPU 1 on trainbox — read by the collector through NVML/);
    assert.match(text, /nvidia-smi report unavailable: nvidia-smi not found/);
    assert.equal(field(text, 'GPU 00000000:0F:00.0', 'Product Name'), 'NVIDIA A100-SXM4-80GB');
    assert.match(text, /^Driver Version +: 550.54.15$/m);
    assert.equal(field(text, 'Utilization', 'GPU'), '97 %');
    assert.equal(field(text, 'Memory Usage', 'Total'), '80 GiB');
    assert.equal(field(text, 'Memory Usage', 'Used'), '76/80 GiB (95 %)');
    assert.equal(field(text, 'Temperature', 'GPU Current Temp'), '71 °C');
    assert.equal(field(text, 'Temperature', 'GPU Slowdown Temp'), '87 °C');
    assert.equal(field(text, 'Temperature', 'GPU Shutdown Temp'), '92 °C');
    assert.equal(field(text, 'Power', 'Power Draw'), '398 W');
    assert.equal(field(text, 'Power', 'Power Limit'), '400 W (drawing 99.5 %)');
    assert.equal(field(text, 'Clocks', 'SM'), '1.41 GHz (max 1.98 GHz)');
    assert.equal(field(text, 'Clocks Event Reasons', 'Active'), 'sw_power_cap');
    assert.equal(field(text, 'ECC Errors', 'Aggregate Corrected'), '3');
    assert.equal(field(text, 'Processes', 'Name'), 'sleep');
    assert.equal(field(text, 'Processes', 'User'), (await import('node:os')).userInfo().username);
    assert.equal(field(text, 'Processes', 'Used GPU Memory'), '75.5 GiB');
    assert.equal(field(text, 'Processes', 'SM Utilization'), '93 %');
    // GPU 0 has no process; an unknown index has no report.
    const t0 = nvmlReportText({ series: r.series, details, t: 0, connectionName: 'trainbox' }, 0)!;
    assert.match(t0, /Processes\n\s+None/);
    assert.doesNotMatch(t0, /unavailable:/);
    assert.equal(nvmlReportText({ series: r.series, details, t: 0, connectionName: 'trainbox' }, 5), null);
    // One unit system: no raw MiB counts, no GB.
    assert.doesNotMatch(text, /\d{4,} MiB|\bGB\b/);
  });

  it('says why when the collector has no GPU data', () => {
    assert.equal(
      noGpuDataText(3, 'box', 'nvidia-smi not found'),
      'No data for GPU 3 on box: the collector has not sent GPU details (GPU source down or not found).\nnvidia-smi report: nvidia-smi not found',
    );
  });

  it("prints nvidia-smi's MiB sizes in the formatter's units (no `81920 MiB` next to GiB elsewhere)", () => {
    const raw = fs.readFileSync(path.join(FIXTURES, 'nvidia-smi-550-q.txt'), 'utf8');
    assert.match(raw, /Total\s+: 81920 MiB/);
    const text = smiReportText(raw);
    assert.match(text, /Total\s+: 80 GiB/);
    assert.match(text, /Used\s+: 20 GiB/);
    assert.match(text, /Reserved\s+: 538 MiB/);
    assert.doesNotMatch(text, /: \d{4,} MiB/);
    // Everything but the sizes is unchanged.
    assert.equal(text.split('\n').length, raw.split('\n').length);
    assert.equal(text.replace(/: [\d.]+ [KMG]iB/g, ''), raw.replace(/: \d+ MiB/g, ''));
  });
});
