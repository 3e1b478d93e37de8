// Pure DRM parsers on captured formats: pp_dpm tables, link speed, gpu_metrics tables, fdinfo.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeGpuMetrics, parseDpmClock, parseLinkSpeed, type GpuMetrics } from '../../../../../collector/sources/gpu/drm/amdgpu-parse';
import { clientMemoryBytes, parseFdinfo } from '../../../../../collector/sources/gpu/drm/fdinfo';

const FIX = path.resolve(__dirname, '../../../../fixtures/gpu/drm');
const read = (rel: string): string => fs.readFileSync(path.join(FIX, rel), 'utf8');
const KIB = 1024;

describe('drm parsers', () => {
  it('pp_dpm_sclk: the starred level is current, the highest non-sleep level is max', () => {
    assert.deepEqual(parseDpmClock(read('amdgpu-6.8-mi300x/sys/class/drm/card1/device/pp_dpm_sclk')), { currentHz: 1302e6, maxHz: 2100e6 });
    assert.deepEqual(parseDpmClock(read('amdgpu-5.4-rx580/sys/class/drm/card0/device/pp_dpm_sclk')), { currentHz: 300e6, maxHz: 1366e6 });
    // Deep sleep: the GPU is idle below its lowest DPM level; max ignores the S line.
    assert.deepEqual(parseDpmClock('S: 19Mhz *\n0: 500Mhz\n1: 2526Mhz\n'), { currentHz: 19e6, maxHz: 2526e6 });
    assert.deepEqual(parseDpmClock('0: 500Mhz\n1: 2526Mhz\n'), { currentHz: null, maxHz: 2526e6 });
    assert.equal(parseDpmClock('garbage\n'), null);
  });

  it('link speed in GT/s', () => {
    assert.equal(parseLinkSpeed('32.0 GT/s PCIe\n'), 32e9);
    assert.equal(parseLinkSpeed('8 GT/s\n'), 8e9);
    assert.equal(parseLinkSpeed('Unknown\n'), null);
  });

  it('gpu_metrics v1.4 (MI300X, kernel 6.8): hotspot, memory temperature, power, activity, clocks, link', () => {
    const g = decodeGpuMetrics(fs.readFileSync(path.join(FIX, 'amdgpu-6.8-mi300x/sys/class/drm/card1/device/gpu_metrics'))) as GpuMetrics;
    assert.equal(g.version, '1.4');
    assert.equal(g.edgeC, null, 'v1.4 has no edge sensor');
    assert.equal(g.hotspotC, 52);
    assert.equal(g.memC, 44);
    assert.equal(g.socketPowerW, 312);
    assert.equal(g.gfxActivityRatio, 0.87);
    assert.equal(g.umcActivityRatio, 0.35);
    assert.equal(g.gfxClkHz, 1302e6);
    assert.equal(g.uclkHz, 1300e6);
    assert.equal(g.pcieWidth, 16);
    assert.equal(g.pcieSpeed, 32e9);
    assert.equal(g.throttleStatus, 0);
  });

  it('gpu_metrics v1.3 (Navi 31): edge/hotspot/mem, fan, link; all-ones fields are null', () => {
    const b = fs.readFileSync(path.join(FIX, 'amdgpu-6.8-rx7900xtx/sys/class/drm/card0/device/gpu_metrics'));
    const g = decodeGpuMetrics(b) as GpuMetrics;
    assert.equal(g.version, '1.3');
    assert.deepEqual([g.edgeC, g.hotspotC, g.memC, g.socketPowerW, g.fanRpm, g.pcieWidth, g.pcieSpeed], [48, 61, 58, 212, 1420, 16, 16e9]);
    assert.equal(g.gfxClkHz, 2410e6);
    assert.equal(g.throttleStatus, null, '0xffffffff = not filled by the firmware');
  });

  it('gpu_metrics v1.5 and v1.6 read their own offsets; v2.x (APU) and short tables are refused', () => {
    for (const [content, size, clocks, pcie] of [
      [5, 360, 312, 112],
      [6, 384, 336, 136],
    ]) {
      const b = Buffer.alloc(size, 0xff);
      b.writeUInt16LE(size, 0);
      b.writeUInt8(1, 2);
      b.writeUInt8(content, 3);
      b.writeUInt16LE(70, 4);
      b.writeUInt16LE(16, pcie);
      b.writeUInt16LE(2100, clocks);
      const g = decodeGpuMetrics(b) as GpuMetrics;
      assert.equal(g.version, `1.${content}`);
      assert.deepEqual([g.hotspotC, g.pcieWidth, g.gfxClkHz], [70, 16, 2100e6]);
    }
    const apu = Buffer.alloc(264, 0);
    apu.writeUInt16LE(264, 0);
    apu.writeUInt8(2, 2);
    apu.writeUInt8(1, 3);
    assert.deepEqual(decodeGpuMetrics(apu), { unsupported: '2.1' });
    const short = fs.readFileSync(path.join(FIX, 'amdgpu-6.8-mi300x/sys/class/drm/card1/device/gpu_metrics')).subarray(0, 100);
    assert.match((decodeGpuMetrics(short) as { error: string }).error, /100 bytes, header says 288/);
    assert.match((decodeGpuMetrics(Buffer.alloc(2)) as { error: string }).error, /shorter than its 4-byte header/);
  });

  it('fdinfo: amdgpu (kernel patch example) — resident beats total beats the legacy drm-memory- keys', () => {
    const f = parseFdinfo(read('amdgpu-6.8-fdinfo-kernel-patch.txt'));
    assert.ok(f);
    assert.equal(f.driver, 'amdgpu');
    assert.equal(f.pdev, '0000:04:00.0');
    assert.equal(f.clientId, '4');
    assert.equal(f.engineNs.get('compute'), 46464671);
    assert.equal(f.memory.get('vram'), 44564 * KIB);
    assert.equal(f.memory.get('gtt'), 2392 * KIB);
    assert.deepEqual(clientMemoryBytes(f), { bytes: 44564 * KIB, local: true });
  });

  it('fdinfo: i915 engine capacity is not an engine; integrated memory falls back to system regions', () => {
    const f = parseFdinfo(read('i915-6.2-fdinfo-drm-usage-stats.txt'));
    assert.ok(f);
    assert.deepEqual([...f.engineNs.keys()], ['render', 'copy', 'video', 'video-enhance']);
    assert.equal(f.capacity.get('video'), 2);
    assert.deepEqual(clientMemoryBytes(f), { bytes: null, local: false });
    const g = parseFdinfo(read('i915-6.8-tgl-iris-xe/proc/1900/fdinfo/41'));
    assert.ok(g);
    assert.deepEqual(clientMemoryBytes(g), { bytes: 184320 * KIB, local: false });
  });

  it('fdinfo: xe cycles and total cycles per class, vram0 is local memory', () => {
    const f = parseFdinfo(read('xe-6.12-arc-b580/proc/3001/fdinfo/6'));
    assert.ok(f);
    assert.equal(f.cycles.get('ccs'), 5120000000);
    assert.equal(f.totalCycles.get('rcs'), 7655183225);
    assert.equal(f.capacity.get('ccs'), 4);
    assert.deepEqual(clientMemoryBytes(f), { bytes: 3932160 * KIB, local: true });
  });

  it('fdinfo: a non-DRM descriptor, an oversized file and a file without client id are not clients', () => {
    assert.equal(parseFdinfo('pos:\t0\nflags:\t02\nmnt_id:\t25\nino:\t5\n'), null);
    assert.equal(parseFdinfo('drm-driver:\tamdgpu\n'), null);
    assert.equal(parseFdinfo(`drm-client-id:\t1\ndrm-driver:\tamdgpu\n${'x'.repeat(20_000)}`), null);
  });
});
