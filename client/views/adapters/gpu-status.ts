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

/** Most block glyphs in the compact form: 8 glyphs and the VRAM figure fit VS Code's item limit (40 % of a 420 px window). */
export const COMPACT_MAX_GLYPHS = 8;

/** The GPU whose VRAM is fullest (highest used/total), if any reports both. */
export function fullestGpu(gpus: GpuReading[]): GpuReading | undefined {
  let fullest: GpuReading | undefined;
  let best = -1;
  for (const g of gpus) {
    const r = g.memUsed !== null && g.memTotal ? g.memUsed / g.memTotal : -1;
    if (r > best) {
      best = r;
      fullest = g;
    }
  }
  return best >= 0 ? fullest : undefined;
}

/** GPUs per glyph in the compact form: 1 up to COMPACT_MAX_GLYPHS GPUs, more for bigger boxes. */
export function gpusPerGlyph(count: number): number {
  return Math.max(1, Math.ceil(count / COMPACT_MAX_GLYPHS));
}

/** VRAM used of one GPU, short: `79 GiB` (the prefix of its total, no decimals from 10 on). */
function usedShort(g: GpuReading): string {
  const [pair, unit] = formatUsedTotal(g.memUsed, g.memTotal, true).split(' ');
  return `${(pair ?? '').split('/')[0]} ${unit ?? ''}`.trim();
}

/**
 * "all" mode: numbers per GPU for a few GPUs; for many, one block glyph per GPU (the lowest utilisation
 * of each group of GPUs above 8, so an idle one still shows) and the VRAM used on the fullest GPU:
 * `▇▇▇▇▇▇██ 79 GiB` (≈ 120 px at 12 px: it fits the 162 px VS Code leaves an item in a 420 px window).
 */
export function allGpusText(gpus: GpuReading[]): string {
  if (gpus.length < COMPACT_ALL_MIN_GPUS) {
    return gpus.map((g) => `${g.index}: ${formatPercent(g.util)} ${formatUsedTotal(g.memUsed, g.memTotal, true)}`).join(' · ');
  }
  const per = gpusPerGlyph(gpus.length);
  const glyphs: string[] = [];
  for (let i = 0; i < gpus.length; i += per) {
    const utils = gpus
      .slice(i, i + per)
      .map((g) => g.util)
      .filter((u): u is number => hasValue(u));
    glyphs.push(utilGlyph(utils.length ? Math.min(...utils) : null));
  }
  const fullest = fullestGpu(gpus);
  return `${glyphs.join('')}${fullest ? ` ${usedShort(fullest)}` : ''}`;
}

/** The compact form in plain words, for screen readers. */
export function allGpusSpoken(gpus: GpuReading[]): string {
  const known = gpus.filter((g) => hasValue(g.util));
  const busiest = pickGpu(gpus, 'busiest');
  const utils = known.map((g) => g.util as number);
  const range = utils.length ? `busy ${formatPercent(Math.min(...utils))} to ${formatPercent(Math.max(...utils))}` : 'utilisation unknown';
  const fullest = fullestGpu(gpus);
  const mem = fullest ? `; fullest memory GPU ${fullest.index}, ${formatUsedTotal(fullest.memUsed, fullest.memTotal, true).replace('/', ' of ')} used` : '';
  return `${gpus.length} GPUs ${range}${busiest && utils.length ? `, busiest GPU ${busiest.index}` : ''}${mem}`;
}

/** The GPU source's part of the status bar. */
export const gpuStatus: StatusSpec = {
  readout({ sample, choice }) {
    const gpus = gpuReadings(sample);
    if (gpus.length === 0) return undefined;
    if (choice === 'all' && gpus.length > 1) {
      return {
        text: allGpusText(gpus),
        spoken:
          gpus.length < COMPACT_ALL_MIN_GPUS
            ? gpus
                .map((g) => `GPU ${g.index} ${formatPercent(g.util)} busy, ${formatUsedTotal(g.memUsed, g.memTotal, true).replace('/', ' of ')} memory`)
                .join('; ')
            : allGpusSpoken(gpus),
      };
    }
    const g = pickGpu(gpus, choice) as GpuReading;
    return {
      text: gpuText(g),
      spoken: `GPU ${g.index} ${formatPercent(g.util)} busy, ${formatUsedTotal(g.memUsed, g.memTotal, true).replace('/', ' of ')} memory used`,
    };
  },
  tooltip({ sample, sources, markdown, choice }) {
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
    if (choice === 'all' && gpus.length >= COMPACT_ALL_MIN_GPUS) {
      const per = gpusPerGlyph(gpus.length);
      const fullest = fullestGpu(gpus);
      lines.splice(
        0,
        0,
        `Status bar: ${per > 1 ? `one block per ${per} GPUs (the least busy of them)` : 'one block per GPU'}, ▁ idle … █ busy${
          fullest ? `; then VRAM used on the fullest GPU (GPU ${fullest.index})` : ''
        }.`,
        '',
      );
    }
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
