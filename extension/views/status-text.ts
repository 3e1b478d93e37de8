// The status-bar readout, computed from a connection snapshot. Pure: the vscode wrapper only copies
// text/tooltip/colour onto a StatusBarItem when they changed.

import { formatValue, type AlertInstance } from '../../protocol';
import { VIEW_ADAPTERS, type StatusChoice, type StatusContext } from '../../client/views';
import { escapeMarkdown } from '../format';
import { needsAttention, severityRank, worstSeverity, type ConnectionSnapshot } from './snapshot';

export { allGpusSpoken, allGpusText, COMPACT_ALL_MIN_GPUS, fullestGpu, gpuText, pickGpu, utilGlyph } from '../../client/views/adapters/gpu-status';

/** Which GPU the status bar shows: the busiest, all of them compactly, or one index. */
export type GpuChoice = StatusChoice;

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

const STATE_TEXT: Record<string, string> = {
  connecting: '$(loading~spin) Rigwatch: connecting…',
  reconnecting: '$(debug-disconnect) Rigwatch: reconnecting…',
  failed: '$(error) Rigwatch: not connected',
  disconnected: '$(debug-disconnect) Rigwatch: disconnected',
};

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
    // The first adapter with a readout (GPU before host) speaks for the machine.
    const ctx: StatusContext = { sample, sources: snap.sources, choice, markdown: escapeMarkdown };
    let readout = { text: '', spoken: '' };
    for (const a of VIEW_ADAPTERS) {
      const r = a.status?.readout?.(ctx);
      if (r) {
        readout = r;
        break;
      }
    }
    text = `$(pulse) ${readout.text}`;
    spoken = readout.spoken;
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
  return { text, tooltip: statusTooltip(snap, choice), severity, accessibilityLabel: `Rigwatch: ${spoken}` };
}

/** Text without codicon syntax (`$(pulse)`) or Markdown, for screen readers. */
export function plainWords(text: string): string {
  return text
    .replace(/\$\([^)]*\)\s*/g, '')
    .replace(/[*_`|\\]/g, '')
    .trim();
}

/** The Markdown tooltip: each adapter's lines (every GPU, host CPU/RAM), active alerts and the connection state. */
export function statusTooltip(snap: ConnectionSnapshot, choice: GpuChoice = 'busiest'): string {
  const lines: string[] = [];
  const host = snap.hello?.host.hostname;
  lines.push(`**Rigwatch** — ${escapeMarkdown(snap.name)}${host ? ` (${escapeMarkdown(host)})` : ''}`, '');
  const sample = snap.latest;
  if (sample) {
    const ctx: StatusContext = { sample, sources: snap.sources, choice, markdown: escapeMarkdown };
    for (const a of VIEW_ADAPTERS) lines.push(...(a.status?.tooltip?.(ctx) ?? []));
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
