// Parsers of nvidia-smi output (fixtures from drivers 470/535/550) and the backend-neutral helpers.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildSmiQuery,
  parseComputeApps,
  parseHelpQueryGpu,
  parseQueryGpuLine,
  parseSmiQ,
  parseUnknownField,
  smiNumber,
  type SmiQuery,
} from '../../../../collector/sources/gpu/smi-parse';
import {
  buildSample,
  decodeThrottleReasons,
  normalizePciBusId,
  sortByPciBusId,
  emptyMetrics,
  type GpuReading,
} from '../../../../collector/sources/gpu/reading';
import { parseGpuConfig } from '../../../../collector/sources/gpu/config';
import { ConfigError } from '../../../../collector/config-error';
import { ProcessInfoCache } from '../../../../collector/sources/gpu/proc-info';

const FIX = path.join(__dirname, '..', '..', '..', 'fixtures', 'gpu');
const fixture = (name: string): string => fs.readFileSync(path.join(FIX, name), 'utf8');
const MIB = 1024 * 1024;

/** The query each csv fixture was produced with: buildSmiQuery over that driver's --help-query-gpu. */
const FIELDS_470 = buildSmiQuery(parseHelpQueryGpu(fixture('nvidia-smi-470-help-query-gpu.txt')));
const FIELDS_550 = buildSmiQuery(parseHelpQueryGpu(fixture('nvidia-smi-550-help-query-gpu.txt')));
/** 535 knows everything 550 does for our purposes except power.draw.instant (we prefer power.draw anyway). */
const FIELDS_535: SmiQuery = FIELDS_550;

describe('gpu: nvidia-smi parsers', () => {
  it("--help-query-gpu: field discovery picks each driver's names (470 throttle vs 550 event reasons)", () => {
    const h470 = parseHelpQueryGpu(fixture('nvidia-smi-470-help-query-gpu.txt'));
    assert.ok(h470.has('pci.bus_id') && h470.has('gpu_bus_id') && h470.has('clocks.sm') && h470.has('clocks.current.sm'));
    assert.equal(h470.has('clocks_event_reasons.active'), false);
    assert.ok(FIELDS_470.names.includes('clocks_throttle_reasons.active'));
    assert.ok(!FIELDS_470.names.includes('memory.reserved'));
    assert.ok(!FIELDS_470.fields.includes('computeCap'));
    assert.ok(FIELDS_550.names.includes('clocks_event_reasons.active'));
    assert.ok(!FIELDS_550.names.includes('clocks_throttle_reasons.active'));
    assert.ok(FIELDS_550.names.includes('memory.reserved') && FIELDS_550.names.includes('compute_cap'));
    assert.equal(FIELDS_550.names[0], 'index');
  });

  it('without a field list, drops a rejected field and falls back to the next name', () => {
    const q = buildSmiQuery(null);
    assert.ok(q.names.includes('clocks_event_reasons.active'));
    const q2 = buildSmiQuery(null, new Set(['clocks_event_reasons.active', 'memory.reserved']));
    assert.ok(q2.names.includes('clocks_throttle_reasons.active'));
    assert.ok(!q2.fields.includes('memReservedMiB'));
    assert.throws(() => buildSmiQuery(new Set(['name'])), /index/);
  });

  it('recognises the unknown-field message', () => {
    assert.equal(parseUnknownField('Field "clocks_event_reasons.active" is not a valid field to query.\n\n'), 'clocks_event_reasons.active');
    assert.equal(parseUnknownField('0, 00000000:07:00.0, A100'), null);
  });

  it('[N/A] and [Not Supported] are null, never 0', () => {
    for (const s of ['[N/A]', '[Not Supported]', '[Unknown Error]', 'N/A', '', ' [N/A] ']) assert.equal(smiNumber(s), null, s);
    assert.equal(smiNumber(' 0 '), 0);
    assert.equal(smiNumber('61.54'), 61.54);
  });

  it('470 (2 × V100): values in base units, throttle mask decoded, missing fields null', () => {
    const rows = fixture('nvidia-smi-470-v100x2-query-gpu.csv')
      .trim()
      .split('\n')
      .map((l) => parseQueryGpuLine(l, FIELDS_470));
    assert.equal(rows.length, 2);
    const r = rows[0]!;
    assert.equal(r.index, 0);
    assert.equal(r.driverVersion, '470.129.06');
    assert.equal(r.device.pciBusId, '00000000:1B:00.0');
    assert.equal(r.device.name, 'Tesla V100-PCIE-32GB');
    const m = r.device.metrics;
    assert.equal(m.utilization_ratio, 0.87);
    assert.equal(m.memory_used_bytes, 29447 * MIB);
    assert.equal(m.memory_total_bytes, 32510 * MIB);
    assert.equal(m.memory_reserved_bytes, null);
    assert.equal(m.memory_used_ratio, 29447 / 32510);
    assert.equal(m.temperature_celsius, 63);
    assert.equal(m.power_watts, 214.37);
    assert.equal(m.power_limit_watts, 250);
    assert.equal(m.fan_ratio, null);
    assert.equal(m.sm_clock_hertz, 1380e6);
    assert.equal(m.memory_clock_max_hertz, 877e6);
    assert.equal(m.pcie_rx_bytes_per_second, null);
    assert.equal(m.pstate_count, 0);
    assert.equal(m.ecc_volatile_errors_count, 0);
    assert.equal(r.device.migMode, null);
    assert.equal(r.device.computeCapability, null);
    assert.equal(r.device.throttleMask, 0);
    assert.deepEqual(decodeThrottleReasons(rows[1]!.device.throttleMask), ['gpu_idle']);
  });

  it('535 (RTX 4090): reserved memory, fan, P2, sw power cap, ECC not supported', () => {
    const r = parseQueryGpuLine(fixture('nvidia-smi-535-rtx4090-query-gpu.csv').trim(), FIELDS_535)!;
    assert.equal(r.device.metrics.memory_reserved_bytes, 346 * MIB);
    assert.equal(r.device.metrics.fan_ratio, 0.64);
    assert.equal(r.device.metrics.decoder_utilization_ratio, 0.03);
    assert.equal(r.device.metrics.pstate_count, 2);
    assert.equal(r.device.metrics.ecc_volatile_errors_count, null);
    assert.deepEqual(decodeThrottleReasons(r.device.throttleMask), ['sw_power_cap']);
    assert.equal(r.device.computeCapability, '8.9');
    assert.equal(r.device.migMode, null);
  });

  it('550 (2 × A100, one in MIG mode): utilisation null with a MIG note, ECC summed', () => {
    const [a, b] = fixture('nvidia-smi-550-a100x2-query-gpu.csv')
      .trim()
      .split('\n')
      .map((l) => parseQueryGpuLine(l, FIELDS_550)!);
    assert.equal(a.device.metrics.utilization_ratio, 1);
    assert.equal(a.device.migMode, false);
    assert.deepEqual(a.device.notes, []);
    assert.equal(b.device.metrics.utilization_ratio, null);
    assert.equal(b.device.metrics.memory_utilization_ratio, null);
    assert.equal(b.device.migMode, true);
    assert.deepEqual(b.device.notes, ['utilisation not available under MIG']);
    assert.equal(b.device.metrics.ecc_volatile_errors_count, 2);
  });

  it('a line with the wrong number of cells is rejected, not misread', () => {
    assert.equal(parseQueryGpuLine('0, 00000000:07:00.0, A100', FIELDS_550), null);
  });

  it('--query-compute-apps: bus id, pid, base name, MiB → bytes, [N/A] → null', () => {
    const apps = parseComputeApps(fixture('nvidia-smi-550-compute-apps.csv'));
    assert.deepEqual(
      apps.map((a) => [a.pciBusId, a.pid, a.name, a.usedMemoryBytes]),
      [
        ['00000000:07:00.0', 48211, 'python3', 75490 * MIB],
        ['00000000:07:00.0', 48377, 'python', null],
        ['00000000:0F:00.0', 51002, 'ollama_llama_server', 20210 * MIB],
      ],
    );
    assert.deepEqual(parseComputeApps('No running processes found\n'), []);
  });

  it('-q header and GPU list (470, 535, 550)', () => {
    assert.deepEqual(parseSmiQ(fixture('nvidia-smi-470-q.txt')), {
      driverVersion: '470.129.06',
      cudaVersion: '11.4',
      attachedGpus: 8,
      gpus: [{ pciBusId: '00000000:1C:00.0', productName: 'Tesla V100-PCIE-32GB', uuid: 'GPU-06e3d8e6-3f54-374a-8142-9752ca1f2316' }],
    });
    const q535 = parseSmiQ(fixture('nvidia-smi-535-q.txt'));
    assert.equal(q535.cudaVersion, '12.2');
    assert.equal(q535.gpus[0].productName, 'NVIDIA GeForce RTX 4090');
    const q550 = parseSmiQ(fixture('nvidia-smi-550-q.txt'));
    assert.equal(q550.driverVersion, '550.54.15');
    assert.equal(q550.gpus[0].pciBusId, '00000000:0F:00.0');
    assert.equal(parseSmiQ('CUDA Version                              : Not Found\n').cudaVersion, null);
  });
});

describe('gpu: reading helpers', () => {
  it('decodes clock-event reasons, including unknown bits', () => {
    assert.deepEqual(decodeThrottleReasons(0x4 | 0x40), ['sw_power_cap', 'hw_thermal_slowdown']);
    assert.deepEqual(decodeThrottleReasons(0), []);
    assert.deepEqual(decodeThrottleReasons(null), []);
    assert.deepEqual(decodeThrottleReasons(0x1 | 0x1000), ['gpu_idle', 'unknown_0x1000']);
  });

  it('normalises PCI bus ids and orders by domain, bus, device, function', () => {
    assert.equal(normalizePciBusId('0000:3b:00.0'), '00000000:3B:00.0');
    assert.equal(normalizePciBusId('3b:00.0'), '00000000:3B:00.0');
    const ids = ['00000000:81:00.0', '00000001:01:00.0', '00000000:0A:00.0', '00000000:09:00.1', '00000000:09:00.0'];
    assert.deepEqual(
      sortByPciBusId(ids.map((pciBusId) => ({ pciBusId }))).map((d) => d.pciBusId),
      ['00000000:09:00.0', '00000000:09:00.1', '00000000:0A:00.0', '00000000:81:00.0', '00000001:01:00.0'],
    );
  });

  it('buildSample indexes series by PCI order and attaches processes to the right GPU', () => {
    const dev = (bus: string, util: number): GpuReading['devices'][number] => {
      const metrics = emptyMetrics();
      metrics.utilization_ratio = util;
      return { name: 'X', uuid: `u-${bus}`, pciBusId: bus, computeCapability: null, migMode: null, throttleMask: null, metrics, notes: [] };
    };
    const r = buildSample(
      'gpu',
      {
        backend: 'nvml',
        driverVersion: '1',
        cudaVersion: null,
        devices: [dev('00000000:81:00.0', 0.8), dev('00000000:07:00.0', 0.1)],
        processes: [{ pciBusId: '00000000:81:00.0', pid: 7, usedMemoryBytes: 5, smUtilRatio: null, type: 'compute' }],
      },
      () => ({ name: 'p', user: 'u' }),
    );
    assert.equal(r.series['gpu.0.utilization_ratio'], 0.1);
    assert.equal(r.series['gpu.1.utilization_ratio'], 0.8);
    assert.equal(r.series['gpu.1.fan_ratio'], null);
    const d = r.details as { devices: { pciBusId: string }[]; processes: { gpuIndex: number; name: string }[] };
    assert.equal(d.devices[0].pciBusId, '00000000:07:00.0');
    assert.deepEqual(
      d.processes.map((p) => [p.gpuIndex, p.name]),
      [[1, 'p']],
    );
  });
});

describe('gpu: config', () => {
  it('defaults, env overrides and clear errors', () => {
    const c = parseGpuConfig(undefined, { RIGWATCH_NVML_PATH: '/x/libnvidia-ml.so.1', RIGWATCH_NVIDIA_SMI: '/x/nvidia-smi' }, 1000);
    assert.equal(c.nvmlPath, '/x/libnvidia-ml.so.1');
    assert.equal(c.nvidiaSmiPath, '/x/nvidia-smi');
    assert.equal(c.backend, 'auto');
    assert.equal(parseGpuConfig({ nvmlPath: '/y.so' }, { RIGWATCH_NVML_PATH: '/x' }, 1000).nvmlPath, '/y.so');
    assert.throws(
      () => parseGpuConfig({ backend: 'cuda' }, {}, 1000),
      (e: unknown) => e instanceof ConfigError && e.key === 'gpu.backend',
    );
    assert.throws(
      () => parseGpuConfig({ callTimeoutMs: -1 }, {}, 1000),
      (e: unknown) => e instanceof ConfigError && e.key === 'gpu.callTimeoutMs',
    );
    assert.throws(
      () => parseGpuConfig({ nvmlpath: 'x' }, {}, 1000),
      (e: unknown) => e instanceof ConfigError && e.key === 'gpu.nvmlpath',
    );
  });
});

describe('gpu: process names and users from /proc', () => {
  it('interpreters get the script base name (never other arguments); uid → user; invisible pids are null', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-proc-'));
    try {
      const mk = (pid: number, argv: string[], uid: number): void => {
        fs.mkdirSync(path.join(root, String(pid)));
        fs.writeFileSync(path.join(root, String(pid), 'cmdline'), argv.join('\0') + '\0');
        fs.writeFileSync(path.join(root, String(pid), 'comm'), path.basename(argv[0] ?? 'x') + '\n');
        fs.writeFileSync(path.join(root, String(pid), 'status'), `Name:\tx\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
      };
      mk(10, ['/opt/conda/bin/python3.11', '-u', '/home/ann/train.py', '--api-key=SECRET'], 0);
      mk(11, ['/usr/local/bin/ollama', 'serve'], 0);
      mk(12, [], 4242424);
      const cache = new ProcessInfoCache(root);
      assert.deepEqual(cache.lookup(10), { name: 'python3.11 train.py', user: 'root' });
      assert.deepEqual(cache.lookup(11), { name: 'ollama', user: 'root' });
      assert.deepEqual(cache.lookup(12), { name: 'x', user: '4242424' });
      assert.deepEqual(cache.lookup(99), { name: null, user: null });
      // Cached while the pid keeps appearing, dropped after a tick without it.
      cache.endTick();
      fs.writeFileSync(path.join(root, '11', 'cmdline'), '/usr/bin/other\0');
      assert.equal(cache.lookup(11).name, 'ollama');
      cache.endTick();
      cache.endTick();
      assert.equal(cache.lookup(11).name, 'other');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
