// The status-bar readout, computed from a connection snapshot. Pure: the vscode wrapper only copies
// text/tooltip/colour onto a StatusBarItem when they changed.

import { runsOf } from './runs-model';
import { formatPercent, formatUsedTotal, formatValue, hasValue, type AlertInstance } from '../../protocol';
import { escapeMarkdown } from '../format';
import { gpuReadings, hostReading, needsAttention, severityRank, worstSeverity, type ConnectionSnapshot, type GpuReading } from './snapshot';

/** Which GPU the status bar shows: the busiest, all of them compactly, or one index. */
export type GpuChoice = 'busiest' | 'all' | number;

/** What the status bar item should display. */
export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  /** Worst severity among alerts that need attention (drives the background colour). */
  severity: 'warning' | 'critical' | undefined;
  /** What a screen reader says: plain words, no Markdown or icon syntax. */
  accessibilityLabel: string;
}

/** Parses the `rigwatch.statusBar.gpu` setting ("busiest", "all", or an index as number or string). */
export function parseGpuChoice(v: unknown): GpuChoice {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    if (/^\d+$/.test(v.trim())) return Number(v.trim());
    if (v === 'all') return 'all';
  }
  return 'busiest';
}

/** The GPU the choice points at (busiest = highest utilisation, ties → lowest index). */
export function pickGpu(gpus: GpuReading[], choice: GpuChoice): GpuReading | undefined {
  if (gpus.length === 0) return undefined;
  if (typeof choice === 'number') return gpus.find((g) => g.index === choice) ?? pickGpu(gpus, 'busiest');
  let best = gpus[0];
  for (const g of gpus) if ((g.util ?? -1) > (best.util ?? -1)) best = g;
  return best;
}

const STATE_TEXT: Record<string, string> = {
  connecting: '$(loading~spin) Rigwatch: connecting…',
  reconnecting: '$(debug-disconnect) Rigwatch: reconnecting…',
  failed: '$(error) Rigwatch: not connected',
  disconnected: '$(debug-disconnect) Rigwatch: disconnected',
};

/** From this many GPUs on, "all" uses one block glyph per GPU instead of numbers. */
export const COMPACT_ALL_MIN_GPUS = 5;
const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

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
  // Fits VS Code's status item limit (40 % of the window) at 420 px: the glyphs and the fullest VRAM share;
  // which GPU that is, and every number, are in the tooltip's table.
  const vram = fullest && fullest.memUsed !== null && fullest.memTotal ? ` VRAM ${formatPercent(fullest.memUsed / fullest.memTotal)}` : '';
  return `${gpus.map((g) => utilGlyph(g.util)).join('')}${vram}`;
}

/** What is wrong, in a few words, for a firing alert: `GPU3 91 °C`, or its message cut short. */
export function alertShortText(a: AlertInstance): string {
  const m = /^gpu\.(\d+)\./.exec(a.series);
  if (m && a.value !== null) return `GPU${m[1]} ${formatValue(a.unit ?? a.series, a.value)}`;
  return a.message.length > 40 ? `${a.message.slice(0, 39)}…` : a.message;
}

/** Computes the status bar view; `undefined` snapshot means no connection at all. */
export function statusView(snap: ConnectionSnapshot | undefined, choice: GpuChoice, now = Date.now()): StatusView {
  if (!snap) {
    return {
      text: '$(pulse) Rigwatch',
      tooltip: 'Rigwatch: no collector connected. Click to open the System Monitor.',
      severity: undefined,
      accessibilityLabel: 'Rigwatch: no collector connected',
    };
  }
  const live = snap.state === 'live' || snap.state === 'polling';
  const sample = snap.latest;
  const severity = live ? worstSeverity(snap.alerts, now) : undefined;
  let text: string;
  let spoken: string;
  if (!live || !sample) {
    text = STATE_TEXT[snap.state] ?? '$(loading~spin) Rigwatch: waiting for data…';
    spoken = plainWords(text);
  } else {
    const gpus = gpuReadings(sample);
    if (gpus.length === 0) {
      const h = hostReading(sample);
      text = `$(pulse) CPU ${formatPercent(h.cpu)} · RAM ${formatUsedTotal(h.memUsed, h.memTotal, true)}`;
      spoken = `CPU ${formatPercent(h.cpu)} busy, RAM ${formatUsedTotal(h.memUsed, h.memTotal, true)} used`;
    } else if (choice === 'all' && gpus.length > 1) {
      text = `$(pulse) ${allGpusText(gpus)}`;
      spoken = gpus.map((g) => `GPU ${g.index} ${formatPercent(g.util)} busy, ${formatUsedTotal(g.memUsed, g.memTotal, true)} memory`).join('; ');
    } else {
      const g = pickGpu(gpus, choice) as GpuReading;
      text = `$(pulse) ${gpuText(g)}`;
      spoken = `GPU ${g.index} ${formatPercent(g.util)} busy, ${formatUsedTotal(g.memUsed, g.memTotal, true)} memory used`;
    }
    if (severity) {
      // Coloured: the text says what is wrong, not only the usual readout.
      const worst = snap.alerts.filter((a) => needsAttention(a, now)).sort((x, y) => severityRank(y, now) - severityRank(x, now))[0] as AlertInstance;
      const more = snap.alerts.filter((a) => needsAttention(a, now)).length - 1;
      text = `$(${severity === 'critical' ? 'error' : 'warning'}) ${alertShortText(worst)}${more > 0 ? ` +${more}` : ''}`;
      spoken = `${severity} alert: ${worst.message}${more > 0 ? `, and ${more} more` : ''}. ${spoken}`;
    }
    if (snap.state === 'polling') {
      text += ' $(warning)';
      spoken += '. Polling over HTTP, the live stream is unavailable';
    }
  }
  return { text, tooltip: statusTooltip(snap), severity, accessibilityLabel: `Rigwatch: ${spoken}` };
}

/** Text without codicon syntax (`$(pulse)`) or Markdown, for screen readers. */
export function plainWords(text: string): string {
  return text
    .replace(/\$\([^)]*\)\s*/g, '')
    .replace(/[*_`|\\]/g, '')
    .trim();
}

/** The Markdown tooltip: every GPU, host CPU/RAM, active alerts and the connection state. */
export function statusTooltip(snap: ConnectionSnapshot): string {
  const lines: string[] = [];
  const host = snap.hello?.host.hostname;
  lines.push(`**Rigwatch** — ${escapeMarkdown(snap.name)}${host ? ` (${escapeMarkdown(host)})` : ''}`, '');
  const sample = snap.latest;
  const gpus = gpuReadings(sample);
  if (sample && gpus.length > 0) {
    // "Kernel time" is NVML utilisation (share of time a kernel ran); SM activity (GPM) is how much of the GPU it used.
    const gpm = gpus.some((g) => g.smActivity !== null);
    lines.push(
      gpm ? '| GPU | Kernel time | SM active | VRAM | Temp | Power |' : '| GPU | Kernel time | VRAM | Temp | Power |',
      gpm ? '|---|---:|---:|---:|---:|---:|' : '|---|---:|---:|---:|---:|',
    );
    for (const g of gpus) {
      const power = `${formatValue('watts', g.power)}${g.powerLimit !== null && g.power !== null ? ` / ${formatValue('watts', g.powerLimit)}` : ''}`;
      const sm = gpm ? ` ${formatPercent(g.smActivity)} |` : '';
      lines.push(
        `| ${g.index}${g.name ? ' ' + escapeMarkdown(g.name) : ''} | ${formatPercent(g.util)} |${sm} ${formatUsedTotal(g.memUsed, g.memTotal)} | ${formatValue('celsius', g.temp)} | ${power} |`,
      );
    }
    lines.push('');
    // Runs on the shown GPUs, with their last loss.
    const shown = new Set(gpus.map((g) => g.index));
    const onGpus = runsOf(snap).filter((r) => (r.state === 'running' || r.state === 'stalled') && r.gpus.some((g) => shown.has(g.index)));
    for (const r of onGpus.slice(0, 5)) {
      lines.push(
        `$(beaker) ${escapeMarkdown(r.name)} on GPU ${r.gpus.map((g) => g.index).join(',')}: ${r.state}${r.loss ? ` · loss ${r.loss.text}` : ''}${r.lastStep !== null ? ` · step ${r.lastStep}` : ''}`,
        '',
      );
    }
  } else if (sample) {
    const gpuSource = snap.sources.find((s) => s.kind === 'gpu');
    lines.push(`No GPU${gpuSource?.reason ? ': ' + escapeMarkdown(gpuSource.reason) : ''}`, '');
  }
  if (sample) {
    const h = hostReading(sample);
    lines.push(`Host CPU ${formatPercent(h.cpu)} · RAM ${formatUsedTotal(h.memUsed, h.memTotal)}`, '');
  }
  const active = snap.alerts.filter((a) => a.state === 'firing');
  if (active.length > 0) {
    lines.push(
      `$(warning) ${active.length} alert${active.length > 1 ? 's' : ''} firing: ${active
        .slice(0, 3)
        .map((a) => escapeMarkdown(a.message) + (a.acknowledged ? ' (acknowledged)' : ''))
        .join('; ')}`,
      '',
    );
  }
  const state = snap.state === 'live' ? 'live' : `${snap.state}${snap.reason ? ' — ' + escapeMarkdown(snap.reason) : ''}`;
  lines.push(`Connection: ${state}`, '', 'Click to open the System Monitor.');
  return lines.join('\n');
}
