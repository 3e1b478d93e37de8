// GPUs: one row per device with utilisation, VRAM and temperature; its processes as children.

import type { SourceViewAdapter, ViewItem } from '../adapter';
import { GPU_GROUP } from '../groups';
import { gpuDetails, gpuReadings } from '../readings';
import { notReadyItem, sourceIcon } from '../source-items';
import { gpuStatus } from './gpu-status';
import { ownerLabel } from '../../../protocol/owner-label';
import type { GpuDevice, GpuNvLink } from '../../../protocol/details/gpu';
import type { SeriesMap } from '../../../protocol';
import type { ViewFormat } from '../adapter';

/** A GPU's marketing name without the vendor prefix (`NVIDIA H100 80GB HBM3` → `H100 80GB HBM3`). */
export function shortGpuName(name: string): string {
  return name
    .replace(/^NVIDIA\s+/i, '')
    .replace(/^(GeForce|Tesla|Quadro)\s+/i, '')
    .trim();
}

/**
 * A GPU row's numbers, short enough to fit the tree at VS Code's default sidebar width (≈ 205 px for the
 * label at 13 px): `93% · 71/80 GiB · 63°C` — no space before % and °C, VRAM in whole GiB from 10 GiB on.
 * The tooltip keeps the house spacing and full precision.
 */
export function gpuRowNumbers(g: { util: number | null; memUsed: number | null; memTotal: number | null; temp: number | null }, fmt: ViewFormat): string {
  const tight = (s: string): string => s.replace(/ (%|°C)$/, '$1');
  return `${tight(fmt.percent(g.util))} · ${fmt.usedTotal(g.memUsed, g.memTotal, true)}${g.temp !== null ? ` · ${tight(fmt.value('celsius', g.temp))}` : ''}`;
}

/** "n/a: Temperature — why; Power limit — why" for the tooltip's values that are null with a reason from the collector. */
function naLine(dev: { unavailable?: Record<string, string> } | undefined, shown: Record<string, [string, number | null]>, md: (s: string) => string): string {
  const why = dev?.unavailable;
  if (!why) return '';
  const parts = Object.entries(shown)
    .filter(([, [k, v]]) => v === null && why[k])
    .map(([label, [k]]) => `${label} — ${md(why[k])}`);
  return parts.length ? `n/a: ${parts.join('; ')}` : '';
}

/** NVIDIA GPUs (NVML or nvidia-smi). */
export const gpuAdapter: SourceViewAdapter = {
  kind: 'gpu',
  group: GPU_GROUP,
  icon: 'circuit-board',
  section: 'rw-gpu-row',
  label: () => 'GPU',
  describe([s], { sample, alerts, fmt }) {
    if (s.state !== 'ready') return [notReadyItem('gpus', 'GPU', s, fmt)];
    const gpus = gpuReadings(sample);
    const det = gpuDetails(sample);
    if (gpus.length === 0) return [{ key: 'gpus', label: 'GPUs', description: s.description ?? 'no GPU found', icon: { id: 'circuit-board' } }];
    const children = gpus.map((g): ViewItem => {
      const dev = det?.devices.find((d) => d.index === g.index);
      const procs = (det?.processes ?? []).filter((p) => p.gpuIndex === g.index);
      const firing = alerts.some((a) => a.state === 'firing' && a.series.startsWith(`gpu.${g.index}.`));
      const health = dev?.health;
      const verdict = health && health.verdict !== 'healthy' ? ` · ${health.verdict === 'action-needed' ? 'action needed' : 'degraded'}` : '';
      // The numbers lead, short enough for the default sidebar width: a narrow sidebar cuts the end of a
      // row, and the name (the description) is the least news.
      const label = `GPU ${g.index}${verdict} · ${gpuRowNumbers(g, fmt)}`;
      return {
        key: `gpu/${g.index}`,
        label,
        description: g.name ? shortGpuName(g.name) : '',
        tooltip: [
          `**GPU ${g.index}${g.name ? ` — ${fmt.markdown(g.name)}` : ''}**`,
          health
            ? `Health: **${health.verdict === 'action-needed' ? 'action needed' : health.verdict}**${health.reasons.map((r) => `\n- ${fmt.markdown(r)}`).join('')}`
            : '',
          dev?.events && dev.events.source !== 'nvml' && dev.events.reason
            ? `Xid events: ${dev.events.source === 'kernel-log' ? 'from the kernel log' : 'unavailable'} (${fmt.markdown(dev.events.reason)})`
            : '',
          `Utilisation ${fmt.percent(g.util)} · VRAM ${fmt.usedTotal(g.memUsed, g.memTotal)}`,
          `Temperature ${fmt.value('celsius', g.temp)} · Power ${fmt.value('watts', g.power)}${g.powerLimit !== null ? ` of ${fmt.value('watts', g.powerLimit)}` : ''}`,
          naLine(
            dev,
            {
              Utilisation: ['utilization_ratio', g.util],
              'VRAM used': ['memory_used_bytes', g.memUsed],
              'VRAM total': ['memory_total_bytes', g.memTotal],
              Temperature: ['temperature_celsius', g.temp],
              Power: ['power_watts', g.power],
              'Power limit': ['power_limit_watts', g.powerLimit],
            },
            fmt.markdown,
          ),
          dev
            ? `${fmt.markdown(dev.pciBusId)}${dev.pstate ? ` · ${dev.pstate}` : ''}${dev.throttleReasons.length ? ` · throttled: ${fmt.markdown(dev.throttleReasons.join(', '))}` : ''}`
            : '',
          throttleLine(g.index, dev, sample?.series ?? {}, fmt),
          nvlinkLine(g.index, dev, sample?.series ?? {}, fmt),
          migLine(dev, fmt),
          det?.driverVersion ? `Driver ${fmt.markdown(det.driverVersion)}${det.cudaVersion ? ` · CUDA ${fmt.markdown(det.cudaVersion)}` : ''}` : '',
        ]
          .filter(Boolean)
          .join('\n\n'),
        icon:
          health?.verdict === 'action-needed'
            ? { id: 'error', color: 'list.errorForeground' }
            : health?.verdict === 'degraded' || firing
              ? { id: 'circuit-board', color: 'list.warningForeground' }
              : { id: 'circuit-board', color: 'testing.iconPassed' },
        contextValue: 'rigwatch.gpu',
        ref: { gpuIndex: g.index },
        children: procs.length
          ? procs.map((p): ViewItem => {
              const owner = ownerLabel(p.owner);
              const idle = p.smUtilRatio === 0 || (p.smUtilRatio === null && g.util === 0);
              return {
                key: `gpu/${g.index}/pid/${p.pid}`,
                label: `${p.name ?? 'process'} (${p.pid})`,
                description: [
                  fmt.bytes(p.usedMemoryBytes),
                  p.smUtilRatio !== null ? `SM ${fmt.percent(p.smUtilRatio)}` : null,
                  p.user,
                  owner,
                  p.alive === false ? 'exited' : null,
                ]
                  .filter(Boolean)
                  .join(' · '),
                tooltip: [
                  `**${fmt.markdown(p.name ?? 'process')}** · pid ${p.pid}${p.nvmlPid !== undefined ? ` (NVML pid ${p.nvmlPid})` : ''}${p.user ? ` · ${fmt.markdown(p.user)}` : ''}`,
                  // Code span: a command line is shown verbatim and never renders as a link.
                  p.command ? `\`${p.command.replace(/`/g, "'")}\`` : '',
                  `${p.gpuInstanceId !== undefined ? `MIG GPU instance ${p.gpuInstanceId} · ` : ''}VRAM ${fmt.bytes(p.usedMemoryBytes)} · SM ${fmt.percent(p.smUtilRatio)}${
                    typeof p.energyJoules === 'number' ? ` · energy ${fmt.value('joules', p.energyJoules)} (estimate)` : ''
                  }${p.startTime ? ` · started ${new Date(p.startTime).toISOString().replace('T', ' ').slice(0, 19)} UTC` : ''}`,
                  owner ? fmt.markdown(owner) : '',
                  p.owner?.note ? fmt.markdown(p.owner.note) : '',
                ]
                  .filter(Boolean)
                  .join('\n\n'),
                icon: p.alive === false ? { id: 'warning', color: 'list.warningForeground' } : idle ? { id: 'debug-pause' } : { id: 'symbol-event' },
                contextValue: p.alive === false ? 'rigwatch.gpuProcess.gone' : 'rigwatch.gpuProcess',
                ref: { gpuIndex: g.index, pid: p.pid },
              };
            })
          : undefined,
        expanded: false,
      };
    });
    return [{ key: 'gpus', label: 'GPUs', description: s.description ?? `${gpus.length}`, icon: sourceIcon(s, 'circuit-board'), children, expanded: true }];
  },
  charts(_s, { sample }) {
    const gpus = gpuReadings(sample);
    return [
      { title: 'GPU utilisation', lines: gpus.map((g) => ({ series: `gpu.${g.index}.utilization_ratio`, label: `GPU ${g.index}` })) },
      { title: 'VRAM used', lines: gpus.map((g) => ({ series: `gpu.${g.index}.memory_used_bytes`, label: `GPU ${g.index}` })) },
    ];
  },
  status: gpuStatus,
};

/**
 * The NVLink line of a GPU's tooltip: links up, throughput (GPM, where read) and error counters, with
 * the links that are down named; empty for a GPU without NVLink.
 */
export function nvlinkLine(index: number, dev: GpuDevice | undefined, series: SeriesMap, fmt: ViewFormat): string {
  const links = dev?.nvlink?.links;
  if (!links || links.length === 0) return '';
  const v = (m: string): number | null => {
    const x = series[`gpu.${index}.${m}`];
    return typeof x === 'number' ? x : null;
  };
  const down = links.filter((l) => l.active === false).map((l) => l.link);
  const up = links.filter((l) => l.active === true).length;
  const rx = v('nvlink_rx_bytes_per_second');
  const tx = v('nvlink_tx_bytes_per_second');
  const parts = [`NVLink ${up}/${links.length} links up${down.length ? ` (down: ${down.join(', ')})` : ''}`];
  if (rx !== null || tx !== null)
    parts.push(`rx ${fmt.value(`gpu.${index}.nvlink_rx_bytes_per_second`, rx)} · tx ${fmt.value(`gpu.${index}.nvlink_tx_bytes_per_second`, tx)}`);
  const busiest = busiestLink(links);
  if (busiest) parts.push(`busiest link ${busiest.link}: rx ${fmt.value('bytes_per_second', busiest.rx)} · tx ${fmt.value('bytes_per_second', busiest.tx)}`);
  else if (dev?.nvlink?.throughputUnavailable) parts.push('throughput n/a (counters not supported)');
  const crc = v('nvlink_crc_errors_count');
  const replay = v('nvlink_replay_errors_count');
  const recovery = v('nvlink_recovery_errors_count');
  if (crc !== null || replay !== null || recovery !== null)
    parts.push(`errors: CRC ${fmt.number(crc, 0)}, replay ${fmt.number(replay, 0)}, recovery ${fmt.number(recovery, 0)}`);
  return parts.join(' · ');
}

/** The link with the most traffic (rx + tx) over the last interval, or null when no link has a rate. */
export function busiestLink(links: readonly GpuNvLink[]): { link: number; rx: number | null; tx: number | null } | null {
  let best: { link: number; rx: number | null; tx: number | null } | null = null;
  let bestSum = -1;
  for (const l of links) {
    const rx = l.rxBytesPerSecond ?? null;
    const tx = l.txBytesPerSecond ?? null;
    if (rx === null && tx === null) continue;
    const sum = (rx ?? 0) + (tx ?? 0);
    if (sum > bestSum) {
      best = { link: l.link, rx, tx };
      bestSum = sum;
    }
  }
  return best;
}

/**
 * The throttle line of a GPU's tooltip: SM clock vs max, then how long each reason held over the rolling
 * window (`Throttle, last 5 min: power cap 62 % · thermal 0 % · idle 30 %`): power cap and thermal always,
 * the others when they held at all; empty before the second sample or for GPUs without reasons.
 */
export function throttleLine(index: number, dev: GpuDevice | undefined, series: SeriesMap, fmt: ViewFormat): string {
  const th = dev?.throttle;
  if (!th || th.reasons.length === 0) return '';
  const sm = series[`gpu.${index}.sm_clock_hertz`];
  const max = series[`gpu.${index}.sm_clock_max_hertz`];
  const clock = typeof sm === 'number' ? `SM clock ${fmt.value('hertz', sm)}${typeof max === 'number' ? ` of ${fmt.value('hertz', max)}` : ''} · ` : '';
  const minutes = Math.max(1, Math.round(th.windowMs / 60_000));
  const shown = th.reasons.filter((r) => r.reason === 'power_cap' || r.reason === 'thermal' || r.windowRatio > 0);
  return `${clock}Throttle, last ${minutes} min: ${shown.map((r) => `${r.label} ${fmt.percent(r.windowRatio)}`).join(' · ')}`;
}

/**
 * Increase of a cumulative counter (energy in joules) over points, oldest first: the sum of its rises.
 * A drop means the counter restarted (driver reload): the value after it counts from 0. Null with fewer
 * than two known points (no increase can be told).
 */
export function counterIncrease(points: readonly { y: number | null }[]): number | null {
  let prev: number | null = null;
  let sum = 0;
  let known = 0;
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y)) continue;
    known++;
    if (prev !== null) sum += p.y >= prev ? p.y - prev : p.y;
    prev = p.y;
  }
  return known >= 2 ? sum : null;
}

/** The MIG line of a GPU's tooltip: each instance's VRAM (`MIG: GI 1 2 GiB/11.4 GiB · GI 2 …`); empty without MIG. */
export function migLine(dev: GpuDevice | undefined, fmt: ViewFormat): string {
  const mig = dev?.mig;
  if (!mig) return '';
  if (mig.instances.length === 0) return 'MIG enabled, no MIG instances found';
  const inst = mig.instances.map(
    (m) =>
      `GI ${m.gpuInstanceId ?? '?'}${m.computeInstanceId ? `/CI ${m.computeInstanceId}` : ''} ${fmt.usedTotal(m.memoryUsedBytes, m.memoryTotalBytes)}${
        typeof m.smActivityRatio === 'number' ? ` SM ${fmt.percent(m.smActivityRatio)}` : ''
      }`,
  );
  return `MIG: ${inst.join(' · ')}`;
}
