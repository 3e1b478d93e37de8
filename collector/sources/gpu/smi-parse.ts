// Parsers for nvidia-smi output: `--query-gpu … --format=csv,noheader,nounits` lines,
// `--query-compute-apps` lines, `--help-query-gpu` (field discovery) and the `-q` header.

import { emptyMetrics, normalizePciBusId, usedRatio, type DeviceReading, type MetricRecord, type ProcessReading } from './reading';

/** Logical fields read from nvidia-smi, each with its names across drivers (preferred first). */
export const SMI_FIELDS = {
  index: ['index'],
  pciBusId: ['pci.bus_id', 'gpu_bus_id'],
  name: ['name', 'gpu_name'],
  uuid: ['uuid', 'gpu_uuid'],
  driverVersion: ['driver_version'],
  util: ['utilization.gpu'],
  memUtil: ['utilization.memory'],
  memUsedMiB: ['memory.used'],
  memTotalMiB: ['memory.total'],
  memReservedMiB: ['memory.reserved'],
  temp: ['temperature.gpu'],
  powerW: ['power.draw', 'power.draw.instant'],
  powerLimitW: ['enforced.power.limit', 'power.limit'],
  fan: ['fan.speed'],
  smClockMHz: ['clocks.sm', 'clocks.current.sm'],
  memClockMHz: ['clocks.mem', 'clocks.current.memory'],
  smMaxMHz: ['clocks.max.sm'],
  memMaxMHz: ['clocks.max.mem', 'clocks.max.memory'],
  enc: ['utilization.encoder'],
  dec: ['utilization.decoder'],
  pstate: ['pstate'],
  reasons: ['clocks_event_reasons.active', 'clocks_throttle_reasons.active'],
  eccCorrected: ['ecc.errors.corrected.volatile.total'],
  eccUncorrected: ['ecc.errors.uncorrected.volatile.total'],
  mig: ['mig.mode.current'],
  computeCap: ['compute_cap'],
} as const satisfies Record<string, readonly string[]>;

/** A logical nvidia-smi field. */
export type SmiField = keyof typeof SMI_FIELDS;

/** Fields without which a row is useless. */
const REQUIRED: SmiField[] = ['index', 'pciBusId', 'name'];

/** The query: logical fields in order with the driver's name for each. */
export interface SmiQuery {
  fields: SmiField[];
  names: string[];
}

const MIB = 1024 * 1024;

/** Names listed by `nvidia-smi --help-query-gpu` (every quoted name on a line that starts with a quote). */
export function parseHelpQueryGpu(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('"')) continue;
    for (const m of line.matchAll(/"([^"]+)"/g)) out.add(m[1]);
  }
  return out;
}

/** Chooses, for every logical field, the first name the driver knows; `known` null = try preferred names. */
export function buildSmiQuery(known: Set<string> | null, rejected: ReadonlySet<string> = new Set()): SmiQuery {
  const fields: SmiField[] = [];
  const names: string[] = [];
  for (const f of Object.keys(SMI_FIELDS) as SmiField[]) {
    const name = SMI_FIELDS[f].find((n) => !rejected.has(n) && (known === null || known.has(n)));
    if (name === undefined) {
      if (REQUIRED.includes(f)) throw new Error(`nvidia-smi does not know the field ${SMI_FIELDS[f].join(' / ')}`);
      continue;
    }
    fields.push(f);
    names.push(name);
  }
  return { fields, names };
}

/** The field an nvidia-smi "Field "x" is not a valid field to query." message names, or null. */
export function parseUnknownField(text: string): string | null {
  return /Field "([^"]+)" is not a valid field to query/.exec(text)?.[1] ?? null;
}

/** A csv cell as a string, null for [N/A], [Not Supported], [Unknown Error], N/A and empty. */
export function smiText(cell: string | undefined): string | null {
  if (cell === undefined) return null;
  const v = cell.trim();
  if (v === '' || /^\[.*\]$/.test(v) || v === 'N/A' || v === 'Not Supported') return null;
  return v;
}

/** A csv cell as a number (units already stripped by `nounits`), null when not a number. */
export function smiNumber(cell: string | undefined): number | null {
  const v = smiText(cell);
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Splits a `--format=csv,noheader` line (values are separated by ", "; GPU names hold no commas). */
export function splitCsvLine(line: string): string[] {
  return line.split(',').map((s) => s.trim());
}

/** One parsed `--query-gpu` line: the nvidia-smi index and the reading. */
export interface SmiRow {
  index: number;
  driverVersion: string | null;
  device: DeviceReading & { metrics: MetricRecord };
}

/** Parses one `--query-gpu` csv line for `query`; null when the line does not have the expected shape. */
export function parseQueryGpuLine(line: string, query: SmiQuery): SmiRow | null {
  const cells = splitCsvLine(line);
  if (cells.length !== query.fields.length) return null;
  const get = (f: SmiField): string | undefined => {
    const i = query.fields.indexOf(f);
    return i < 0 ? undefined : cells[i];
  };
  const index = smiNumber(get('index'));
  const bus = smiText(get('pciBusId'));
  if (index === null || bus === null) return null;
  const m = emptyMetrics();
  const ratio = (f: SmiField): number | null => {
    const v = smiNumber(get(f));
    return v === null ? null : v / 100;
  };
  const bytes = (f: SmiField): number | null => {
    const v = smiNumber(get(f));
    return v === null ? null : v * MIB;
  };
  const hertz = (f: SmiField): number | null => {
    const v = smiNumber(get(f));
    return v === null ? null : v * 1e6;
  };
  m.utilization_ratio = ratio('util');
  m.memory_utilization_ratio = ratio('memUtil');
  m.memory_used_bytes = bytes('memUsedMiB');
  m.memory_total_bytes = bytes('memTotalMiB');
  m.memory_reserved_bytes = bytes('memReservedMiB');
  m.memory_used_ratio = usedRatio(m.memory_used_bytes, m.memory_total_bytes);
  m.temperature_celsius = smiNumber(get('temp'));
  m.power_watts = smiNumber(get('powerW'));
  m.power_limit_watts = smiNumber(get('powerLimitW'));
  m.fan_ratio = ratio('fan');
  m.sm_clock_hertz = hertz('smClockMHz');
  m.memory_clock_hertz = hertz('memClockMHz');
  m.sm_clock_max_hertz = hertz('smMaxMHz');
  m.memory_clock_max_hertz = hertz('memMaxMHz');
  m.encoder_utilization_ratio = ratio('enc');
  m.decoder_utilization_ratio = ratio('dec');
  const pstate = smiText(get('pstate'));
  const pm = pstate ? /^P(\d+)$/.exec(pstate) : null;
  m.pstate_count = pm ? Number(pm[1]) : null;
  const ce = smiNumber(get('eccCorrected'));
  const cu = smiNumber(get('eccUncorrected'));
  m.ecc_volatile_errors_count = ce !== null && cu !== null ? ce + cu : null;
  const reasons = smiText(get('reasons'));
  const mig = smiText(get('mig'));
  const migMode = mig === null ? null : mig === 'Enabled';
  const notes: string[] = [];
  if (migMode) notes.push('utilisation not available under MIG');
  return {
    index,
    driverVersion: smiText(get('driverVersion')),
    device: {
      name: smiText(get('name')) ?? `GPU ${index}`,
      uuid: smiText(get('uuid')) ?? '',
      pciBusId: normalizePciBusId(bus),
      computeCapability: smiText(get('computeCap')),
      migMode,
      throttleMask: reasons !== null && /^0x[0-9a-f]+$/i.test(reasons) ? parseInt(reasons, 16) : null,
      metrics: m,
      notes,
    },
  };
}

/** Fields asked of `--query-compute-apps`, in order. */
export const SMI_APPS_FIELDS = ['gpu_bus_id', 'pid', 'process_name', 'used_memory'] as const;

/** Parses `--query-compute-apps=gpu_bus_id,pid,process_name,used_memory --format=csv,noheader,nounits`. */
export function parseComputeApps(text: string): ProcessReading[] {
  const out: ProcessReading[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || /^No running/i.test(line.trim())) continue;
    const cells = splitCsvLine(line);
    if (cells.length < 4) continue;
    // A process name may contain commas: the first two cells and the last one are fixed.
    const bus = smiText(cells[0]);
    const pid = smiNumber(cells[1]);
    const used = smiNumber(cells[cells.length - 1]);
    const name = smiText(cells.slice(2, -1).join(','));
    if (bus === null || pid === null) continue;
    out.push({
      pciBusId: normalizePciBusId(bus),
      pid,
      usedMemoryBytes: used === null ? null : used * MIB,
      smUtilRatio: null,
      type: 'compute',
      name: name ? (name.split('/').pop() ?? name) : null,
    });
  }
  return out;
}

/** The header and GPU list of `nvidia-smi -q` text. */
export interface SmiQSummary {
  driverVersion: string | null;
  cudaVersion: string | null;
  attachedGpus: number | null;
  gpus: { pciBusId: string; productName: string | null; uuid: string | null }[];
}

/** Parses the header (driver, CUDA version) and per-GPU name/UUID of `nvidia-smi -q` text. */
export function parseSmiQ(text: string): SmiQSummary {
  const top = (key: string): string | null => {
    const m = new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm').exec(text);
    const v = m ? m[1].trim() : null;
    return v && v !== 'N/A' && v !== 'Not Found' ? v : null;
  };
  const attached = top('Attached GPUs');
  const gpus: SmiQSummary['gpus'] = [];
  const blocks = text.split(/^GPU (?=[0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-7]\s*$)/m).slice(1);
  for (const b of blocks) {
    const bus = b.split('\n')[0].trim();
    const field = (key: string): string | null => {
      const m = new RegExp(`^\\s{4}${key}\\s*:\\s*(.*)$`, 'm').exec(b);
      const v = m ? m[1].trim() : null;
      return v && v !== 'N/A' ? v : null;
    };
    gpus.push({ pciBusId: normalizePciBusId(bus), productName: field('Product Name'), uuid: field('GPU UUID') });
  }
  return { driverVersion: top('Driver Version'), cudaVersion: top('CUDA Version'), attachedGpus: attached === null ? null : Number(attached), gpus };
}
