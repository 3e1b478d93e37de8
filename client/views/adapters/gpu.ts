// GPUs: one row per device with utilisation, VRAM and temperature; its processes as children.

import type { SourceViewAdapter, ViewItem } from '../adapter';
import { GPU_GROUP } from '../groups';
import { gpuDetails, gpuReadings } from '../readings';
import { notReadyItem, sourceIcon } from '../source-items';

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
      const desc = `${fmt.percent(g.util)} · ${fmt.usedTotal(g.memUsed, g.memTotal)}${g.temp !== null ? ` · ${fmt.number(g.temp, 0)} °C` : ''}`;
      return {
        key: `gpu/${g.index}`,
        label: `GPU ${g.index}${g.name ? `: ${g.name}` : ''}`,
        description: desc,
        tooltip: [
          `**GPU ${g.index}${g.name ? ` — ${fmt.markdown(g.name)}` : ''}**`,
          `Utilisation ${fmt.percent(g.util)} · VRAM ${fmt.usedTotal(g.memUsed, g.memTotal)}`,
          `Temperature ${fmt.number(g.temp, 0, ' °C')} · Power ${fmt.number(g.power, 0)}${g.powerLimit !== null ? `/${fmt.number(g.powerLimit, 0)}` : ''} W`,
          dev ? `${fmt.markdown(dev.pciBusId)}${dev.pstate ? ` · ${dev.pstate}` : ''}${dev.throttleReasons.length ? ` · throttled: ${fmt.markdown(dev.throttleReasons.join(', '))}` : ''}` : '',
          det?.driverVersion ? `Driver ${fmt.markdown(det.driverVersion)}${det.cudaVersion ? ` · CUDA ${fmt.markdown(det.cudaVersion)}` : ''}` : '',
        ]
          .filter(Boolean)
          .join('\n\n'),
        icon: firing ? { id: 'circuit-board', color: 'list.warningForeground' } : { id: 'circuit-board', color: 'testing.iconPassed' },
        contextValue: 'rigwatch.gpu',
        ref: { gpuIndex: g.index },
        children: procs.length
          ? procs.map((p) => ({
              key: `gpu/${g.index}/pid/${p.pid}`,
              label: `${p.name ?? 'process'} (${p.pid})`,
              description: `${fmt.bytes(p.usedMemoryBytes)}${p.user ? ` · ${p.user}` : ''}`,
              icon: { id: 'symbol-event' },
            }))
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
};
