// The GPU readout of the status bar: the busiest GPU, one chosen index, or all of them (numbers for a
// few, one block glyph each for many), and the per-GPU table of its tooltip. Pure.

import { formatPercent, formatUsedTotal, formatValue, hasValue } from '../../../protocol';
import type { StatusChoice, StatusSpec } from '../adapter';
import { gpuReadings, type GpuReading } from '../readings';
import { runsInSample } from './runs';

/** From this many GPUs on, "all" uses one block glyph per GPU instead of numbers. */
export const COMPACT_ALL_MIN_GPUS = 5;
const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The GPU the choice points at (busiest = highest utilisation, ties → lowest index). */
export function pickGpu(gpus: GpuReading[], choice: StatusChoice): GpuReading | undefined {
  if (gpus.length === 0) return undefined;
  if (typeof choice === 'number') return gpus.find((g) => g.index === choice) ?? pickGpu(gpus, 'busiest');
  let best = gpus[0];
  for (const g of gpus) if ((g.util ?? -1) > (best.util ?? -1)) best = g;
  return best;
}

/** Status text for one GPU, naming it: `GPU3 98 % · 71/80 GiB`. */
export function gpuText(g: GpuReading): string {
  return `GPU${g.index} ${formatPercent(g.util)} · ${formatUsedTotal(g.memUsed, g.memTotal, true)}`;
}

/** A utilisation as a block glyph (▁ idle … █ full), `·` when unknown. */
export function utilGlyph(util: number | null): string {
  if (!hasValue(util)) return '·';
  return BLOCKS[Math.min(BLOCKS.length - 1, Math.max(0, Math.round(util * (BLOCKS.length - 1))))] as string;
}

/** "all" mode: numbers per GPU for a few GPUs; block glyphs plus the fullest VRAM for many. */
export function allGpusText(gpus: GpuReading[]): string {
  if (gpus.length < COMPACT_ALL_MIN_GPUS) {
    return gpus.map((g) => `${g.index}: ${formatPercent(g.util)} ${formatUsedTotal(g.memUsed, g.memTotal, true)}`).join(' · ');
  }
  let fullest: GpuReading | undefined;
  for (const g of gpus) {
    const r = g.memUsed !== null && g.memTotal ? g.memUsed / g.memTotal : -1;
    const f = fullest && fullest.memUsed !== null && fullest.memTotal ? fullest.memUsed / fullest.memTotal : -1;
    if (r > f) fullest = g;
  }
  const vram =
    fullest && fullest.memUsed !== null && fullest.memTotal ? ` · VRAM max ${formatPercent(fullest.memUsed / fullest.memTotal)} (GPU${fullest.index})` : '';
  return `GPU ${gpus.map((g) => utilGlyph(g.util)).join('')}${vram}`;
}

/** The GPU source's part of the status bar. */
export const gpuStatus: StatusSpec = {
  readout({ sample, choice }) {
    const gpus = gpuReadings(sample);
    if (gpus.length === 0) return undefined;
    if (choice === 'all' && gpus.length > 1) {
      return {
        text: allGpusText(gpus),
        spoken: gpus.map((g) => `GPU ${g.index} ${formatPercent(g.util)} busy, ${formatUsedTotal(g.memUsed, g.memTotal, true)} memory`).join('; '),
      };
    }
    const g = pickGpu(gpus, choice) as GpuReading;
    return { text: gpuText(g), spoken: `GPU ${g.index} ${formatPercent(g.util)} busy, ${formatUsedTotal(g.memUsed, g.memTotal, true)} memory used` };
  },
  tooltip({ sample, sources, markdown }) {
    const gpus = gpuReadings(sample);
    if (gpus.length === 0) {
      const gpuSource = sources.find((s) => s.kind === 'gpu');
      return [`No GPU${gpuSource?.reason ? ': ' + markdown(gpuSource.reason) : ''}`, ''];
    }
    // "Kernel time" is NVML utilisation (share of time a kernel ran); SM activity (GPM) is how much of the GPU it used.
    const gpm = gpus.some((g) => g.smActivity !== null);
    const lines = [
      gpm ? '| GPU | Kernel time | SM active | VRAM | Temp | Power |' : '| GPU | Kernel time | VRAM | Temp | Power |',
      gpm ? '|---|---:|---:|---:|---:|---:|' : '|---|---:|---:|---:|---:|',
    ];
    for (const g of gpus) {
      const power = `${formatValue('watts', g.power)}${g.powerLimit !== null && g.power !== null ? ` / ${formatValue('watts', g.powerLimit)}` : ''}`;
      const sm = gpm ? ` ${formatPercent(g.smActivity)} |` : '';
      lines.push(
        `| ${g.index}${g.name ? ' ' + markdown(g.name) : ''} | ${formatPercent(g.util)} |${sm} ${formatUsedTotal(g.memUsed, g.memTotal)} | ${formatValue('celsius', g.temp)} | ${power} |`,
      );
    }
    lines.push('');
    // Runs on the shown GPUs, with their last loss.
    const shown = new Set(gpus.map((g) => g.index));
    const onGpus = runsInSample(sample).filter((r) => (r.state === 'running' || r.state === 'stalled') && r.gpus.some((g) => shown.has(g.index)));
    for (const r of onGpus.slice(0, 5)) {
      lines.push(
        `$(beaker) ${markdown(r.name)} on GPU ${r.gpus.map((g) => g.index).join(',')}: ${r.state}${r.loss ? ` · loss ${r.loss.text}` : ''}${r.lastStep !== null ? ` · step ${r.lastStep}` : ''}`,
        '',
      );
    }
    return lines;
  },
};
