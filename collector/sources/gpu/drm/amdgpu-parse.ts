// Pure parsers for amdgpu's sysfs files: DPM clock tables, PCIe link speed and the binary
// `gpu_metrics` table (struct layouts from the kernel's drivers/gpu/drm/amd/include/kgd_pp_interface.h).

/** Current and highest level of a `pp_dpm_sclk` / `pp_dpm_mclk` table, in Hz. */
export interface DpmClock {
  currentHz: number | null;
  maxHz: number;
}

/**
 * Parses `pp_dpm_sclk`-style tables: one level per line, `0: 500Mhz`, the active one marked `*`,
 * deep-sleep levels as `S: 19Mhz *`. Null when no level parses.
 */
export function parseDpmClock(text: string): DpmClock | null {
  let current: number | null = null;
  let max = 0;
  let any = false;
  for (const line of text.split('\n')) {
    const m = /^\s*(\w+):\s*(\d+)\s*([MG]?)hz\s*(\*)?/i.exec(line);
    if (!m) continue;
    const hz = Number(m[2]) * (m[3].toUpperCase() === 'G' ? 1e9 : m[3] === '' ? 1 : 1e6);
    any = true;
    if (m[1] !== 'S' && hz > max) max = hz;
    if (m[4]) current = hz;
  }
  return any ? { currentHz: current, maxHz: max } : null;
}

/** `16.0 GT/s PCIe` (or `8 GT/s`) → transfers per second; null when unknown. */
export function parseLinkSpeed(text: string): number | null {
  const m = /([\d.]+)\s*GT\/s/i.exec(text);
  return m ? Number(m[1]) * 1e9 : null;
}

/** What Rigwatch takes from a gpu_metrics table; null where the firmware does not fill a field. */
export interface GpuMetrics {
  /** `1.4` etc. */
  version: string;
  edgeC: number | null;
  hotspotC: number | null;
  memC: number | null;
  gfxActivityRatio: number | null;
  umcActivityRatio: number | null;
  socketPowerW: number | null;
  gfxClkHz: number | null;
  uclkHz: number | null;
  fanRpm: number | null;
  pcieWidth: number | null;
  /** Transfers per second. */
  pcieSpeed: number | null;
  throttleStatus: number | null;
}

/** Versions decodeGpuMetrics understands (format.content). */
export const GPU_METRICS_VERSIONS = ['1.1', '1.2', '1.3', '1.4', '1.5', '1.6'] as const;

// The firmware leaves fields it does not support at all-ones (the driver memsets the table to 0xff).
const U16_NA = 0xffff;
const U32_NA = 0xffffffff;

function u16(b: Buffer, off: number): number | null {
  if (off + 2 > b.length) return null;
  const v = b.readUInt16LE(off);
  return v === U16_NA ? null : v;
}
function u32(b: Buffer, off: number): number | null {
  if (off + 4 > b.length) return null;
  const v = b.readUInt32LE(off);
  return v === U32_NA ? null : v;
}
const pct = (v: number | null): number | null => (v === null || v > 100 ? null : v / 100);
const mhz = (v: number | null): number | null => (v === null || v === 0 ? null : v * 1e6);
const gts = (v: number | null): number | null => (v === null || v === 0 ? null : v * 1e8); // 0.1 GT/s units

/** The header: total size and format/content revision. */
export function gpuMetricsHeader(b: Buffer): { size: number; format: number; content: number } | null {
  if (b.length < 4) return null;
  return { size: b.readUInt16LE(0), format: b.readUInt8(2), content: b.readUInt8(3) };
}

/**
 * Decodes a gpu_metrics table of a dGPU (format 1, content 1–6: Navi, Aldebaran/MI200, MI300).
 * Format 2 (APUs) and other versions return `{ unsupported: version }`; a table shorter than its
 * header says returns `{ error }`. Offsets follow the C layout with natural alignment.
 */
export function decodeGpuMetrics(b: Buffer): GpuMetrics | { unsupported: string } | { error: string } {
  const h = gpuMetricsHeader(b);
  if (!h) return { error: `gpu_metrics: ${b.length} bytes, shorter than its 4-byte header` };
  const version = `${h.format}.${h.content}`;
  if (h.format !== 1 || h.content < 1 || h.content > 6) return { unsupported: version };
  if (b.length < h.size) return { error: `gpu_metrics v${version}: ${b.length} bytes, header says ${h.size}` };
  const base: GpuMetrics = {
    version,
    edgeC: null,
    hotspotC: null,
    memC: null,
    gfxActivityRatio: null,
    umcActivityRatio: null,
    socketPowerW: null,
    gfxClkHz: null,
    uclkHz: null,
    fanRpm: null,
    pcieWidth: null,
    pcieSpeed: null,
    throttleStatus: null,
  };
  if (h.content <= 3) {
    // v1.1–1.3 share their first 96 bytes (1.2 and 1.3 only append fields).
    base.edgeC = u16(b, 4);
    base.hotspotC = u16(b, 6);
    base.memC = u16(b, 8);
    base.gfxActivityRatio = pct(u16(b, 16));
    base.umcActivityRatio = pct(u16(b, 18));
    base.socketPowerW = u16(b, 22);
    base.gfxClkHz = mhz(u16(b, 54));
    base.uclkHz = mhz(u16(b, 58));
    base.throttleStatus = u32(b, 68);
    base.fanRpm = u16(b, 72);
    base.pcieWidth = u16(b, 74);
    base.pcieSpeed = gts(u16(b, 76));
    return base;
  }
  // v1.4 (MI300, kernel 6.8), 1.5 (adds 32 JPEG activity words) and 1.6 (adds throttler residencies).
  base.hotspotC = u16(b, 4);
  base.memC = u16(b, 6);
  base.socketPowerW = u16(b, 10);
  base.gfxActivityRatio = pct(u16(b, 12));
  base.umcActivityRatio = pct(u16(b, 14));
  const o =
    h.content === 4
      ? { throttle: 40, pcie: 48, clocks: 240 }
      : h.content === 5
        ? { throttle: 104, pcie: 112, clocks: 312 }
        : { throttle: 128, pcie: 136, clocks: 336 };
  base.throttleStatus = u32(b, o.throttle);
  base.pcieWidth = u16(b, o.pcie);
  base.pcieSpeed = gts(u16(b, o.pcie + 2));
  base.gfxClkHz = mhz(u16(b, o.clocks)); // current_gfxclk[0]: the first XCC
  base.uclkHz = mhz(u16(b, o.clocks + 16 + 8 + 8 + 8)); // after gfxclk[8], socclk[4], vclk0[4], dclk0[4]
  return base;
}
