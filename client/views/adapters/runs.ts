// Training runs (collector/sources/runs): a "Runs" group with one row per run (state, elapsed, last
// step, loss, throughput, GPUs; the tooltip lists every scalar) and charts that compare runs by tag.

import type { RunsDetails, SampleMessage } from '../../../protocol';
import type { RunInfo } from '../../../protocol/details/runs';
import type { SourceViewAdapter, ViewFormat, ViewGroup, ViewIcon, ViewItem } from '../adapter';
import { notReadyItem } from '../source-items';

const STATE_ICON: Record<RunInfo['state'], ViewIcon> = {
  running: { id: 'play-circle', color: 'testing.iconPassed' },
  stalled: { id: 'debug-pause', color: 'list.warningForeground' },
  finished: { id: 'pass', color: 'disabledForeground' },
  gone: { id: 'error', color: 'list.errorForeground' },
};

/** Runs sit right after the GPUs they use. */
export const RUNS_GROUP: ViewGroup = {
  id: 'runs',
  order: 15,
  node: {
    label: 'Runs',
    icon: { id: 'beaker' },
    summary: (_sources, items) => `${items.filter((i) => /^(running|stalled)/.test(i.description ?? '')).length} active`,
    expanded: true,
  },
};

/** The runs of a sample (every runs source), newest first. */
export function runsInSample(sample: SampleMessage | undefined): RunInfo[] {
  const out: RunInfo[] = [];
  for (const d of Object.values(sample?.details ?? {})) if (d.kind === 'runs') out.push(...(d as RunsDetails).runs);
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

/** One run's row text: "running · 3 h 12 min · step 5000 · loss 0.41 · 1234 tok/s · GPU 0,1". */
export function runDescription(r: RunInfo, fmt: Pick<ViewFormat, 'number'>): string {
  const parts: string[] = [r.state === 'gone' && r.exit ? `ended (${r.exit})` : r.state, formatElapsedSeconds(r.elapsedSeconds)];
  if (r.lastStep !== null) parts.push(`step ${fmt.number(r.lastStep, 0)}`);
  if (r.loss) parts.push(`loss ${r.loss.text}`);
  const tput = r.throughput?.value;
  if (tput !== null && tput !== undefined) parts.push(`${fmt.number(tput, tput >= 100 ? 0 : 1)} ${/tok/i.test(r.throughput?.tag ?? '') ? 'tok/s' : '/s'}`);
  if (r.gpus.length) parts.push(`GPU ${r.gpus.map((g) => g.index).join(',')}`);
  return parts.join(' · ');
}

function runTooltip(r: RunInfo, fmt: ViewFormat): string {
  const where = [
    r.cwd ? `in ${fmt.markdown(r.cwd)}` : '',
    r.user ? `user ${fmt.markdown(r.user)}` : '',
    r.container ? fmt.markdown(r.container) : '',
    r.pids.length ? `pid ${r.pids.slice(0, 8).join(', ')}${r.pids.length > 8 ? '…' : ''}` : '',
  ];
  return [
    `**${fmt.markdown(r.name)}** — ${r.state}${r.exit ? ` (${fmt.markdown(r.exit)})` : ''}`,
    r.command ? fmt.markdown(r.command) : '',
    where.filter(Boolean).join(' · '),
    r.gpus.length ? r.gpus.map((g) => `GPU ${g.index}: ${fmt.bytes(g.memoryBytes)}`).join(' · ') : '',
    r.scalars.length
      ? r.scalars.map((s) => `- ${fmt.markdown(s.tag)}: ${s.text}${s.step !== null ? ` (step ${s.step})` : ''}`).join('\n')
      : 'No metrics found yet',
    r.files
      .filter((f) => f.problem)
      .map((f) => `${fmt.markdown(f.path)}: ${fmt.markdown(f.problem as string)}`)
      .join('\n\n'),
  ]
    .filter(Boolean)
    .join('\n\n');
}

/**
 * A run alert's notification text from the run's details: `run-ended` becomes the run's summary
 * ("Run train.py finished after 3 h 12 min — step 5000, loss 0.41"); other run rules name the script
 * instead of the series id. Other alerts, and runs no longer listed, keep the engine's message.
 */
export function runAlertMessage(ruleId: string, series: string, message: string, runs: readonly RunInfo[]): string {
  if (!ruleId.startsWith('run-') || !series.startsWith('run.')) return message;
  const id = series.slice(4, series.lastIndexOf('.'));
  const r = runs.find((x) => x.id === id);
  if (!r) return message;
  if (ruleId === 'run-ended') return r.summary;
  return message.split(`Run ${id}`).join(`Run ${r.name}`);
}

/** Training runs. */
export const runsAdapter: SourceViewAdapter = {
  kind: 'runs',
  group: RUNS_GROUP,
  icon: 'beaker',
  label: () => 'Runs',
  describe(sources, { sample, fmt }) {
    const items: ViewItem[] = sources.filter((s) => s.state !== 'ready').map((s) => notReadyItem(`src/${s.id}`, 'Runs', s, fmt));
    for (const r of runsInSample(sample)) {
      items.push({
        key: `run/${r.id}`,
        label: r.name,
        description: runDescription(r, fmt),
        tooltip: runTooltip(r, fmt),
        icon: STATE_ICON[r.state],
        contextValue: `rigwatch.run.${r.state}`,
        ref: { runId: r.id },
      });
    }
    if (items.length === 0) {
      items.push({
        key: 'runs/none',
        label: 'No training runs',
        description: 'found on GPUs or by rigwatch.runs',
        tooltip:
          'Runs are found among GPU processes running Python or a launcher (torchrun, accelerate, deepspeed), and by command pattern or log directory in `runs.watch` (the `rigwatch.runs` setting). See docs/runs.md.',
        icon: { id: 'info' },
      });
    }
    return items;
  },
  // Runs compared by tag: one chart per common tag, a line per run; then each run's GPUs.
  charts(_s, { sample }) {
    const runs = runsInSample(sample).slice(0, 8);
    const line = (pick: (r: RunInfo) => { key: string } | null, title: string) => ({
      title,
      lines: runs.flatMap((r) => {
        const s = pick(r);
        return s ? [{ series: s.key, label: r.name }] : [];
      }),
    });
    const charts = [line((r) => r.loss, 'Loss'), line((r) => r.throughput, 'Throughput')];
    const gpus = [...new Set(runs.filter((r) => r.state === 'running' || r.state === 'stalled').flatMap((r) => r.gpus.map((g) => g.index)))].sort(
      (a, b) => a - b,
    );
    if (gpus.length) {
      charts.push({ title: 'Run GPUs: utilisation', lines: gpus.map((i) => ({ series: `gpu.${i}.utilization_ratio`, label: `GPU ${i}` })) });
      charts.push({ title: 'Run GPUs: VRAM', lines: gpus.map((i) => ({ series: `gpu.${i}.memory_used_bytes`, label: `GPU ${i}` })) });
      charts.push({ title: 'Run GPUs: power', lines: gpus.map((i) => ({ series: `gpu.${i}.power_watts`, label: `GPU ${i}` })) });
    }
    return charts.filter((c) => c.lines.length > 0);
  },
};
