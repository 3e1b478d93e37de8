// The host: CPU, memory and one row per mount.

import { dfUsedRatio, formatPercent, formatUsedTotal } from '../../../protocol';
import { seriesValue, type SourceViewAdapter, type ViewItem } from '../adapter';
import { HOST_GROUP } from '../groups';
import { hostDetails, hostReading } from '../readings';
import { notReadyItem, sourceIcon } from '../source-items';

/** The machine the collector runs on. */
export const hostAdapter: SourceViewAdapter = {
  kind: 'host',
  group: HOST_GROUP,
  icon: 'vm',
  section: 'rw-host-row',
  label: () => 'Host',
  describe([s], { sample, host, fmt }) {
    if (s.state !== 'ready') return [notReadyItem('host', 'Host', s, fmt)];
    const h = hostReading(sample);
    const d = hostDetails(sample);
    const num = (k: string): number | null => seriesValue(sample, k);
    const children: ViewItem[] = [
      { key: 'host/cpu', label: 'CPU', description: `${fmt.percent(h.cpu)} · load ${fmt.number(num('host.load1_count'), 2)}`, icon: { id: 'pulse' } },
      {
        key: 'host/mem',
        label: 'Memory',
        description: `${fmt.usedTotal(h.memUsed, h.memTotal)}${num('host.swap_total_bytes') ? ` · swap ${fmt.bytes(num('host.swap_used_bytes'))}` : ''}`,
        icon: { id: 'server' },
      },
    ];
    for (const m of d?.mounts ?? []) {
      // As df computes it: blocks reserved for root are neither used nor available.
      const used = dfUsedRatio(m.usedBytes, m.availBytes);
      children.push({
        key: `host/mount/${m.mount}`,
        label: m.mount,
        description: `${fmt.percent(used)} · ${fmt.bytes(m.availBytes)} free`,
        icon: { id: 'database' },
        tooltip: `${fmt.markdown(m.device)} (${fmt.markdown(m.fsType)})`,
      });
    }
    return [
      {
        key: 'host',
        label: `Host${host ? `: ${host.hostname}` : ''}`,
        description: `CPU ${fmt.percent(h.cpu)} · RAM ${fmt.usedTotal(h.memUsed, h.memTotal)}`,
        tooltip: `**${fmt.markdown(host?.hostname ?? 'Host')}**${host?.cpuModel ? `\n\n${fmt.markdown(host.cpuModel)}` : ''}`,
        icon: sourceIcon(s, 'vm'),
        contextValue: 'rigwatch.host',
        children,
        expanded: false,
      },
    ];
  },
  charts: () => [
    { title: 'CPU busy', lines: [{ series: 'host.cpu_busy_ratio', label: 'CPU busy' }] },
    { title: 'Memory used', lines: [{ series: 'host.memory_used_bytes', label: 'Used' }] },
  ],
  status: {
    // Shown when no adapter before it (GPU) has a readout.
    readout({ sample }) {
      const h = hostReading(sample);
      return {
        text: `CPU ${formatPercent(h.cpu)} · RAM ${formatUsedTotal(h.memUsed, h.memTotal, true)}`,
        spoken: `CPU ${formatPercent(h.cpu)} busy, RAM ${formatUsedTotal(h.memUsed, h.memTotal, true)} used`,
      };
    },
    tooltip({ sample }) {
      const h = hostReading(sample);
      return [`Host CPU ${formatPercent(h.cpu)} · RAM ${formatUsedTotal(h.memUsed, h.memTotal)}`, ''];
    },
  },
};
