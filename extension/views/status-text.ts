// The status-bar readout, computed from a connection snapshot. Pure: the vscode wrapper only copies
// text/tooltip/colour onto a StatusBarItem when they changed.

import { runsOf } from './runs-model';
import { escapeMarkdown, formatGiB, formatGiBTotal, formatNumber, formatPercent, formatUsedTotal } from '../format';
import { gpuReadings, hostReading, worstSeverity, type ConnectionSnapshot, type GpuReading } from './snapshot';

/** Which GPU the status bar shows: the busiest, all of them compactly, or one index. */
export type GpuChoice = 'busiest' | 'all' | number;

/** What the status bar item should display. */
export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  /** Worst firing alert severity (drives the background colour). */
  severity: 'warning' | 'critical' | undefined;
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

/** Status text for one GPU: `GPU 42% · 10.2/80 GB`. */
export function gpuText(g: GpuReading): string {
  return `GPU ${formatPercent(g.util)} · ${formatUsedTotal(g.memUsed, g.memTotal)}`;
}

/** Computes the status bar view; `undefined` snapshot means no connection at all. */
export function statusView(snap: ConnectionSnapshot | undefined, choice: GpuChoice): StatusView {
  if (!snap) {
    return { text: '$(pulse) Rigwatch', tooltip: 'Rigwatch: no collector connected. Click to open the System Monitor.', severity: undefined };
  }
  const live = snap.state === 'live' || snap.state === 'polling';
  const sample = snap.latest;
  const severity = live ? worstSeverity(snap.alerts) : undefined;
  let text: string;
  if (!live || !sample) {
    text = STATE_TEXT[snap.state] ?? '$(loading~spin) Rigwatch: waiting for data…';
  } else {
    const gpus = gpuReadings(sample);
    if (gpus.length === 0) {
      const h = hostReading(sample);
      text = `$(pulse) CPU ${formatPercent(h.cpu)} · RAM ${formatUsedTotal(h.memUsed, h.memTotal)}`;
    } else if (choice === 'all' && gpus.length > 1) {
      text = '$(pulse) ' + gpus.map((g) => `${g.index}: ${formatPercent(g.util)} ${formatGiB(g.memUsed)}/${formatGiBTotal(g.memTotal)}`).join(' · ') + ' GB';
    } else {
      text = `$(pulse) ${gpuText(pickGpu(gpus, choice)!)}`;
    }
    if (snap.state === 'polling') text += ' $(warning)';
  }
  return { text, tooltip: statusTooltip(snap), severity };
}

/** The Markdown tooltip: every GPU, host CPU/RAM, active alerts and the connection state. */
export function statusTooltip(snap: ConnectionSnapshot): string {
  const lines: string[] = [];
  const host = snap.hello?.host.hostname;
  lines.push(`**Rigwatch** — ${escapeMarkdown(snap.name)}${host ? ` (${escapeMarkdown(host)})` : ''}`, '');
  const sample = snap.latest;
  const gpus = gpuReadings(sample);
  if (sample && gpus.length > 0) {
    lines.push('| GPU | Util | VRAM | Temp | Power |', '|---|---:|---:|---:|---:|');
    for (const g of gpus) {
      const power = g.power === null ? '–' : `${formatNumber(g.power, 0)}${g.powerLimit !== null ? `/${formatNumber(g.powerLimit, 0)}` : ''} W`;
      lines.push(`| ${g.index}${g.name ? ' ' + escapeMarkdown(g.name) : ''} | ${formatPercent(g.util)} | ${formatUsedTotal(g.memUsed, g.memTotal)} | ${formatNumber(g.temp, 0, ' °C')} | ${power} |`);
    }
    lines.push('');
    // Runs on the shown GPUs, with their last loss.
    const shown = new Set(gpus.map((g) => g.index));
    const onGpus = runsOf(snap).filter((r) => (r.state === 'running' || r.state === 'stalled') && r.gpus.some((g) => shown.has(g.index)));
    for (const r of onGpus.slice(0, 5)) {
      lines.push(`$(beaker) ${escapeMarkdown(r.name)} on GPU ${r.gpus.map((g) => g.index).join(',')}: ${r.state}${r.loss ? ` · loss ${r.loss.text}` : ''}${r.lastStep !== null ? ` · step ${r.lastStep}` : ''}`, '');
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
    lines.push(`$(warning) ${active.length} alert${active.length > 1 ? 's' : ''} firing: ${active.slice(0, 3).map((a) => escapeMarkdown(a.message)).join('; ')}`, '');
  }
  const state = snap.state === 'live' ? 'live' : `${snap.state}${snap.reason ? ' — ' + escapeMarkdown(snap.reason) : ''}`;
  lines.push(`Connection: ${state}`, '', 'Click to open the System Monitor.');
  return lines.join('\n');
}
