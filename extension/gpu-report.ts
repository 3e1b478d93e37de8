// "Show GPU Details" text, pure (no vscode): the collector's own NVML readings of one GPU laid out like
// `nvidia-smi -q` when nvidia-smi is absent, and nvidia-smi's report with its byte sizes in the same
// units as everywhere else (GiB/MiB from the one formatter, protocol/format.ts).

import type { GpuDetails, GpuDevice, GpuProcess } from '../protocol/details/gpu';
import { formatBytes, formatPercent, formatUsedTotal, formatValue, hasValue, NO_DATA } from '../protocol/format';
import type { SeriesMap } from '../protocol/messages';
import { ownerLabel } from '../protocol/owner-label';

/** Bytes in one MiB (nvidia-smi prints sizes in MiB). */
const BYTES_PER_MIB = 1024 ** 2;
/** Width of the label column, in characters (as nvidia-smi -q). */
const LABEL_WIDTH = 42;

/** What the NVML report is built from: the latest sample's series and GPU details. */
export interface GpuReportInput {
  series: SeriesMap;
  details: GpuDetails;
  /** Epoch ms of the sample. */
  t: number;
  /** The connection's name (the collector's machine). */
  connectionName: string;
  /** Why the nvidia-smi report is not shown (its error), printed in the header. */
  smiError?: string;
}

/** Shown instead of a report when the collector has no GPU details for `index`. */
export function noGpuDataText(index: number, connectionName: string, smiError?: string): string {
  return [
    `No data for GPU ${index} on ${connectionName}: the collector has not sent GPU details (GPU source down or not found).`,
    smiError ? `nvidia-smi report: ${smiError}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** A label/value line, padded like nvidia-smi -q. */
function line(depth: number, label: string, value: string): string {
  const indent = '    '.repeat(depth);
  return `${indent}${label.padEnd(Math.max(1, LABEL_WIDTH - indent.length))}: ${value}`;
}

/** A section heading. */
function heading(depth: number, label: string): string {
  return `${'    '.repeat(depth)}${label}`;
}

/** The NVML report of GPU `index` (position in the details' PCI-bus order), or null when the details lack it. */
export function nvmlReportText(input: GpuReportInput, index: number): string | null {
  const dev = input.details.devices.find((d) => d.index === index);
  if (!dev) return null;
  const s = input.series;
  const v = (metric: string): number | null => {
    const x = s[`gpu.${index}.${metric}`];
    return hasValue(x) ? x : null;
  };
  const f = (metric: string): string => {
    const x = v(metric);
    if (x !== null) return formatValue(metric, x);
    const why = dev.unavailable?.[metric];
    return why ? `${NO_DATA} (${why})` : NO_DATA;
  };
  const out: string[] = [];
  const d = input.details;
  out.push(`GPU ${index} on ${input.connectionName} — read by the collector through ${d.backend === 'nvml' ? 'NVML' : d.backend}`);
  out.push(`Sampled ${new Date(input.t).toISOString()}`);
  if (input.smiError) out.push(`(nvidia-smi report unavailable: ${input.smiError})`);
  out.push('');
  out.push(line(0, 'Driver Version', d.driverVersion ?? NO_DATA));
  out.push(line(0, 'CUDA Version', d.cudaVersion ?? NO_DATA));
  out.push('');
  out.push(heading(0, `GPU ${dev.pciBusId}`));
  out.push(line(1, 'Product Name', dev.name));
  out.push(line(1, 'GPU UUID', dev.uuid));
  out.push(line(1, 'Compute Capability', dev.computeCapability ?? NO_DATA));
  out.push(line(1, 'MIG Mode', dev.migMode === null ? NO_DATA : dev.migMode ? 'Enabled' : 'Disabled'));
  out.push(line(1, 'Performance State', dev.pstate ?? NO_DATA));
  if (dev.health) out.push(line(1, 'Health', `${dev.health.verdict}${dev.health.reasons.length ? ` — ${dev.health.reasons.join('; ')}` : ''}`));

  out.push(heading(1, 'Utilization'));
  out.push(line(2, 'GPU', f('utilization_ratio')));
  out.push(line(2, 'Memory', f('memory_utilization_ratio')));
  out.push(line(2, 'Encoder', f('encoder_utilization_ratio')));
  out.push(line(2, 'Decoder', f('decoder_utilization_ratio')));

  out.push(heading(1, 'Memory Usage'));
  const used = v('memory_used_bytes');
  const total = v('memory_total_bytes');
  out.push(line(2, 'Total', f('memory_total_bytes')));
  out.push(line(2, 'Reserved', f('memory_reserved_bytes')));
  out.push(line(2, 'Used', used !== null && total !== null ? `${formatUsedTotal(used, total)} (${formatPercent(used / total)})` : f('memory_used_bytes')));
  out.push(line(2, 'Free', used !== null && total !== null ? formatBytes(Math.max(0, total - used)) : NO_DATA));

  out.push(heading(1, 'Temperature'));
  out.push(line(2, 'GPU Current Temp', f('temperature_celsius')));
  out.push(line(2, 'GPU Slowdown Temp', f('temperature_slowdown_celsius')));
  out.push(line(2, 'GPU Shutdown Temp', f('temperature_shutdown_celsius')));
  out.push(line(2, 'Fan Speed', f('fan_ratio')));

  out.push(heading(1, 'Power'));
  const pw = v('power_watts');
  const pl = v('power_limit_watts');
  out.push(line(2, 'Power Draw', f('power_watts')));
  out.push(
    line(2, 'Power Limit', pw !== null && pl !== null && pl > 0 ? `${f('power_limit_watts')} (drawing ${formatPercent(pw / pl)})` : f('power_limit_watts')),
  );
  out.push(line(2, 'Energy Since Driver Load', f('energy_joules')));

  out.push(heading(1, 'Clocks'));
  out.push(line(2, 'SM', `${f('sm_clock_hertz')} (max ${f('sm_clock_max_hertz')})`));
  out.push(line(2, 'Memory', `${f('memory_clock_hertz')} (max ${f('memory_clock_max_hertz')})`));

  out.push(heading(1, 'Clocks Event Reasons'));
  out.push(line(2, 'Active', dev.throttleReasons.length ? dev.throttleReasons.join(', ') : 'none'));
  out.push(line(2, 'Power Capped (last interval)', f('power_violation_ratio')));
  out.push(line(2, 'Thermal Capped (last interval)', f('thermal_violation_ratio')));
  out.push(line(2, 'HW Slowdown (last interval)', f('hw_slowdown_ratio')));

  out.push(heading(1, 'ECC Errors'));
  out.push(line(2, 'Volatile Corrected', f('ecc_volatile_corrected_count')));
  out.push(line(2, 'Volatile Uncorrected', f('ecc_volatile_uncorrected_count')));
  out.push(line(2, 'Aggregate Corrected', f('ecc_aggregate_corrected_count')));
  out.push(line(2, 'Aggregate Uncorrected', f('ecc_aggregate_uncorrected_count')));
  out.push(heading(1, 'Remapped Rows'));
  out.push(line(2, 'Correctable Error', f('remapped_rows_corrected_count')));
  out.push(line(2, 'Uncorrectable Error', f('remapped_rows_uncorrected_count')));
  out.push(line(2, 'Pending', yesNo(v('remap_pending_state'))));
  out.push(line(2, 'Remapping Failure Occurred', yesNo(v('remap_failure_state'))));
  out.push(line(2, 'Retired Pages', f('retired_pages_count')));

  out.push(heading(1, 'PCIe'));
  out.push(line(2, 'RX', f('pcie_rx_bytes_per_second')));
  out.push(line(2, 'TX', f('pcie_tx_bytes_per_second')));

  if (dev.events && dev.events.recent.length > 0) {
    out.push(heading(1, `Xid Events (${dev.events.source})`));
    for (const x of dev.events.recent) out.push(line(2, `Xid ${x.code} × ${x.count}`, `${x.meaning} — ${x.action}`));
  }

  out.push(heading(1, 'Processes'));
  const procs = d.processes.filter((p) => p.gpuIndex === index);
  if (procs.length === 0) out.push(heading(2, 'None'));
  for (const p of procs) out.push(...processLines(p));
  if (dev.notes.length) {
    out.push(heading(1, 'Notes'));
    for (const n of dev.notes) out.push(heading(2, n));
  }
  return out.join('\n') + '\n';
}

function yesNo(x: number | null): string {
  return x === null ? NO_DATA : x === 1 ? 'Yes' : 'No';
}

function processLines(p: GpuProcess): string[] {
  const owner = ownerLabel(p.owner);
  return [
    heading(2, `Process ${p.pid}`),
    line(3, 'Name', p.name ?? NO_DATA),
    line(3, 'User', p.user ?? NO_DATA),
    ...(owner ? [line(3, 'Owner', owner)] : []),
    line(3, 'Type', p.type),
    line(3, 'Used GPU Memory', formatBytes(p.usedMemoryBytes)),
    line(3, 'SM Utilization', formatPercent(p.smUtilRatio)),
    ...(p.command ? [line(3, 'Command', p.command)] : []),
  ];
}

/** nvidia-smi's `: 81559 MiB` sizes in the formatter's units (`79.6 GiB`); everything else unchanged. */
export function smiReportText(text: string): string {
  return text.replace(/(:\s*)(\d+(?:\.\d+)?) MiB\b/g, (_m, sep: string, n: string) => `${sep}${formatBytes(Number(n) * BYTES_PER_MIB)}`);
}

/** The device a GPU report is about, by index. */
export function reportDevice(details: GpuDetails | undefined, index: number): GpuDevice | undefined {
  return details?.devices.find((d) => d.index === index);
}
