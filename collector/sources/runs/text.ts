// The words a run is reported in: the run-ended alert (`{subject}` of `run.<id>.ended_state`) and the
// run's one-line summary. Numbers and durations go through the one formatter (protocol/format.ts).

import { formatDecimal, formatSeconds } from '../../../protocol';

/** Longest command shown in a message, characters (more: cut, with "…"). */
export const COMMAND_SHORT_CHARS = 60;

/** What the text of a run needs. */
export interface RunTextInput {
  name: string;
  command: string | null;
  ended: boolean;
  /** "exit code 0", "killed by signal 9", or null when Rigwatch cannot know. */
  exit: string | null;
  elapsedMs: number | null;
  lastStep: number | null;
  /** The loss-like scalar, else the run's main metric; null when it logs none. */
  metric: { tag: string; value: number; isLoss: boolean } | null;
}

/** A command line made short: programs without their directories, cut at COMMAND_SHORT_CHARS. */
export function shortCommand(command: string | null): string | null {
  if (command === null || command.trim() === '') return null;
  const words = command.trim().split(/\s+/);
  // The interpreter and the script (or launcher) read better without their paths.
  for (let i = 0; i < Math.min(2, words.length); i++) if (!(words[i] as string).startsWith('-')) words[i] = (words[i] as string).replace(/^.*\//, '');
  const s = words.join(' ');
  return s.length > COMMAND_SHORT_CHARS ? `${s.slice(0, COMMAND_SHORT_CHARS - 1)}…` : s;
}

/** A scalar's value: NaN and ±Infinity by name, otherwise the formatter's decimal. */
export function scalarText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return formatDecimal(v, 1);
}

/** How a run ended, in words: `finished (exit code 0)`, `ended (exit code 1)`, `ended (exit status unknown)`. */
export function endedWords(exit: string | null): string {
  if (exit === 'exit code 0') return 'finished (exit code 0)';
  return `ended (${exit ?? 'exit status unknown'})`;
}

/**
 * The run-ended text: `train.py (python3 train.py --lr 3e-4) ended (exit code 1) after 3 h 12 min —
 * step 5000, loss 0.412`. The rule's message is `Run {subject}`.
 */
export function runEndedText(r: RunTextInput): string {
  const cmd = shortCommand(r.command);
  const head = `${r.name}${cmd !== null && cmd !== r.name ? ` (${cmd})` : ''} ${endedWords(r.exit)}`;
  return withTail(`${head}${r.elapsedMs === null ? '' : ` after ${elapsedText(r.elapsedMs)}`}`, r);
}

/** The run's one line for the tree and notifications: `Run train.py running for 12 min 5 s — step 120, loss 0.5`. */
export function runSummaryText(r: RunTextInput, state: string): string {
  if (r.ended) return `Run ${runEndedText(r)}`;
  return withTail(`Run ${r.name} ${state}${r.elapsedMs === null ? '' : ` for ${elapsedText(r.elapsedMs)}`}`, r);
}

/** A run's elapsed time, to the second: `12 s`, `4 min 5 s`, `3 h 12 min`. */
export function elapsedText(ms: number): string {
  return formatSeconds(Math.round(ms / 1000));
}

function withTail(head: string, r: RunTextInput): string {
  const tail: string[] = [];
  if (r.lastStep !== null) tail.push(`step ${r.lastStep}`);
  if (r.metric !== null) {
    const label = r.metric.isLoss && /^(train[/_])?loss$/i.test(r.metric.tag) ? 'loss' : r.metric.tag;
    tail.push(`${label} ${scalarText(r.metric.value)}`);
  } else tail.push('no metrics logged');
  return `${head} — ${tail.join(', ')}`;
}
