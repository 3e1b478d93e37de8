import type { ProcessOwner } from './gpu';

/** Where a run stands: alive and advancing, alive but stuck, ended normally (or unknown), ended badly / lost. */
export type RunState = 'running' | 'stalled' | 'finished' | 'gone';

/** The latest value of one scalar a run logs. */
export interface RunScalar {
  /** The tag as the run wrote it (plain text; shown as is). */
  tag: string;
  /** Its series: `run.<id>.<key>`. */
  key: string;
  /** Null when not finite (see `text`). */
  value: number | null;
  /** `NaN`, `Infinity`, `-Infinity` or the number as text. */
  text: string;
  step: number | null;
  /** Epoch ms of the value. */
  t: number;
}

/** A metric file the run is read from. */
export interface RunFile {
  path: string;
  format: 'tensorboard' | 'jsonl' | 'csv' | 'mlflow' | 'hf-trainer-state' | 'prometheus';
  /** E.g. "2 corrupt record(s) skipped". */
  problem: string | null;
}

/** One training run (a process tree, or a configured log directory). */
export interface RunInfo {
  /** Series instance: `run.<id>.*`, e.g. `train-4242`. */
  id: string;
  /** Display name: the script (`train.py`), module, or configured name. */
  name: string;
  state: RunState;
  /** How it was found. */
  origin: 'gpu' | 'config';
  /** Command line of the run's root process (bounded), null for a log-directory-only watch. */
  command: string | null;
  cwd: string | null;
  user: string | null;
  /** What the run runs in, as `ownerLabel` writes it (`container trainer (pytorch:2.3)`, `pod ns/web`, `unit x.service`); null on the host. */
  container: string | null;
  /** The owner behind that label (from the GPU source's attribution when a process is on a GPU). */
  owner?: ProcessOwner | null;
  /** Root pid first, then the other processes of the tree. */
  pids: number[];
  /** Epoch ms. */
  startedAt: number | null;
  endedAt: number | null;
  elapsedSeconds: number | null;
  /** "exit code 0", "killed by signal 9", or null when Rigwatch cannot know. */
  exit: string | null;
  /** GPUs the run's processes use, with their VRAM. */
  gpus: { index: number; memoryBytes: number | null }[];
  lastStep: number | null;
  /** The loss-like scalar shown on the run's row. */
  loss: RunScalar | null;
  /** Tokens/s or samples/s. */
  throughput: RunScalar | null;
  /** Seconds without progress (GPU busy or new metrics); null when it cannot be told. */
  stalledSeconds: number | null;
  scalars: RunScalar[];
  files: RunFile[];
  /** One line for notifications: "Run train.py finished after 3 h 12 min — loss 0.41". */
  summary: string;
}

/** Runs source details. */
export interface RunsDetails {
  kind: 'runs';
  runs: RunInfo[];
  /** Bounds hit, unreadable files and the like, in plain words. */
  notes: string[];
}
