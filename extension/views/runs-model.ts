// The "Runs" group of the Services tree: one row per training run (state, elapsed, last step, loss,
// throughput, GPUs), its tooltip listing every scalar. Pure; reads only the runs source's details.

import type { SourceStatus } from '../../protocol';
import type { RunInfo, RunsDetails } from '../../protocol/details/runs';
import { escapeMarkdown, formatBytes, formatNumber } from '../format';
import type { ConnectionSnapshot } from './snapshot';
import type { TreeNode } from './tree-node';

const STATE_ICON: Record<RunInfo['state'], TreeNode['icon']> = {
  running: { id: 'play-circle', color: 'testing.iconPassed' },
  stalled: { id: 'debug-pause', color: 'list.warningForeground' },
  finished: { id: 'pass', color: 'disabledForeground' },
  gone: { id: 'error', color: 'list.errorForeground' },
};

/** The runs of a snapshot (every runs source), newest first. */
export function runsOf(c: Pick<ConnectionSnapshot, 'latest'>): RunInfo[] {
  const out: RunInfo[] = [];
  for (const d of Object.values(c.latest?.details ?? {})) if (d.kind === 'runs') out.push(...(d as RunsDetails).runs);
  return out.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
}

/** "3 h 12 min", "4 min", "12 s". */
export function formatElapsedSeconds(s: number | null): string {
  if (s === null) return '–';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** One run's row text: "running · 3 h 12 min · step 5000 · loss 0.41 · 1.2k tok/s · GPU 0,1". */
export function runDescription(r: RunInfo): string {
  const parts: string[] = [r.state === 'gone' && r.exit ? `ended (${r.exit})` : r.state, formatElapsedSeconds(r.elapsedSeconds)];
  if (r.lastStep !== null) parts.push(`step ${formatNumber(r.lastStep, 0)}`);
  if (r.loss) parts.push(`loss ${r.loss.text}`);
  if (r.throughput?.value != null) parts.push(`${formatNumber(r.throughput.value, r.throughput.value >= 100 ? 0 : 1)} ${/tok/i.test(r.throughput.tag) ? 'tok/s' : '/s'}`);
  if (r.gpus.length) parts.push(`GPU ${r.gpus.map((g) => g.index).join(',')}`);
  return parts.join(' · ');
}

function runTooltip(r: RunInfo): string {
  const lines = [
    `**${escapeMarkdown(r.name)}** — ${r.state}${r.exit ? ` (${escapeMarkdown(r.exit)})` : ''}`,
    r.command ? `\`${r.command.replace(/`/g, "'")}\`` : '',
    [r.cwd ? `in ${escapeMarkdown(r.cwd)}` : '', r.user ? `user ${escapeMarkdown(r.user)}` : '', r.container ? `container ${escapeMarkdown(r.container)}` : '', r.pids.length ? `pid ${r.pids.slice(0, 8).join(', ')}${r.pids.length > 8 ? '…' : ''}` : ''].filter(Boolean).join(' · '),
    r.gpus.length ? r.gpus.map((g) => `GPU ${g.index}: ${formatBytes(g.memoryBytes)}`).join(' · ') : '',
    r.scalars.length ? r.scalars.map((s) => `- ${escapeMarkdown(s.tag)}: ${s.text}${s.step !== null ? ` (step ${s.step})` : ''}`).join('\n') : 'No metrics found yet',
    r.files.some((f) => f.problem) ? r.files.filter((f) => f.problem).map((f) => `${escapeMarkdown(f.path)}: ${escapeMarkdown(f.problem as string)}`).join('\n\n') : '',
  ];
  return lines.filter(Boolean).join('\n\n');
}

/** The "Runs" group for the runs source(s) of a connection; null when there is nothing to show. */
export function runsNode(c: ConnectionSnapshot, base: string, sources: SourceStatus[]): TreeNode | null {
  const runs = runsOf(c);
  if (runs.length === 0) return null;
  const children = runs.map((r): TreeNode => ({
    id: `${base}/run/${r.id}`,
    label: r.name,
    description: runDescription(r),
    tooltip: runTooltip(r),
    icon: STATE_ICON[r.state],
    contextValue: `rigwatch.run.${r.state}`,
  }));
  const active = runs.filter((r) => r.state === 'running' || r.state === 'stalled').length;
  return { id: `${base}/runs`, label: 'Runs', icon: { id: 'beaker' }, children, expanded: true, description: `${active} active${sources.some((s) => s.state === 'down') ? ' · source down' : ''}` };
}

/**
 * A run alert's notification text from the run's details: `run-ended` becomes the run's summary
 * ("Run train.py finished after 3 h 12 min — step 5000, loss 0.41"); other run rules name the script
 * instead of the series id. Other alerts, and runs no longer listed, keep the engine's message.
 */
export function runAlertMessage(ruleId: string, series: string, message: string, runs: RunInfo[]): string {
  if (!ruleId.startsWith('run-') || !series.startsWith('run.')) return message;
  const id = series.slice(4, series.lastIndexOf('.'));
  const r = runs.find((x) => x.id === id);
  if (!r) return message;
  if (ruleId === 'run-ended') return r.summary;
  return message.split(`Run ${id}`).join(`Run ${r.name}`);
}
