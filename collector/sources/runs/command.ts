// What a command line says about a training run: is it Python or a known launcher, what is its
// display name (the script or module), and which directories do its arguments name for logs.

import { basename, isAbsolute, join } from 'node:path';

/** Launchers whose workers belong to the same run. */
export const LAUNCHERS = ['torchrun', 'accelerate', 'deepspeed', 'torch.distributed.run', 'torch.distributed.launch'] as const;

/** Arguments naming a directory where a run writes logs or checkpoints. */
export const LOG_DIR_ARGS = [
  '--logdir',
  '--log_dir',
  '--log-dir',
  '--logging_dir',
  '--logging-dir',
  '--output_dir',
  '--output-dir',
  '--default_root_dir',
  '--default-root-dir',
  '--save_dir',
  '--save-dir',
  '--tensorboard_dir',
  '--tb_dir',
  '--out_dir',
  '--out-dir',
  '--run_dir',
  '--exp_dir',
] as const;

const LOG_DIR_SET = new Set<string>(LOG_DIR_ARGS);
const PYTHON_RE = /^python(\d+(\.\d+)?)?[a-z]?$/;
// Serving, not training: these Python programs hold GPUs too but are model servers.
const SERVER_RE = /vllm|sglang|text-generation-server|tritonserver|ipykernel_launcher|jupyter|tensorboard/;

/** True when argv[0] is a Python interpreter. */
export function isPython(argv: readonly string[]): boolean {
  return argv.length > 0 && PYTHON_RE.test(basename(argv[0] as string));
}

/** The launcher this command is (torchrun, accelerate, deepspeed, python -m torch.distributed.run), or null. */
export function launcherOf(argv: readonly string[]): string | null {
  const first = basename(argv[0] ?? '');
  for (const l of LAUNCHERS) if (first === l) return l;
  if (isPython(argv)) {
    const second = argv[1] ?? '';
    const b = basename(second);
    for (const l of LAUNCHERS) if (b === l) return l;
    const m = argv.indexOf('-m');
    if (m >= 0 && m + 1 < argv.length) {
      const mod = argv[m + 1] as string;
      for (const l of LAUNCHERS) if (mod === l) return l;
      if (mod === 'accelerate.commands.launch') return 'accelerate';
      if (mod === 'deepspeed.launcher.runner' || mod === 'deepspeed.launcher.launch') return 'deepspeed';
    }
  }
  return null;
}

/** True for a command that may be a training process (Python or a known launcher, not a known server). */
export function isTrainingCandidate(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  if (!isPython(argv) && launcherOf(argv) === null) return false;
  return !SERVER_RE.test(argv.slice(0, 4).join(' '));
}

/** A short display name: the script's file name (`train.py`), `-m module`, or the launcher. */
export function runName(argv: readonly string[]): string {
  const script = argv.find((a, i) => i > 0 && /\.py$/.test(a));
  if (script) return basename(script);
  const m = argv.indexOf('-m');
  if (m >= 0 && m + 1 < argv.length) {
    const mod = argv[m + 1] as string;
    if (!(LAUNCHERS as readonly string[]).includes(mod)) return mod;
  }
  const l = launcherOf(argv);
  if (l) return l;
  return basename(argv[0] ?? 'run');
}

/** Directories named by log-dir arguments (`--logdir DIR`, `--logdir=DIR`), resolved against `cwd`. */
export function logDirsOf(argv: readonly string[], cwd: string | null): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (eq > 0 && LOG_DIR_SET.has(a.slice(0, eq))) v = a.slice(eq + 1);
    else if (LOG_DIR_SET.has(a)) v = argv[i + 1];
    if (v === undefined || v === '' || v.startsWith('-')) continue;
    if (isAbsolute(v)) out.push(v);
    else if (cwd !== null) out.push(join(cwd, v));
  }
  return [...new Set(out)];
}

/** A run id segment from a name: `train.py` → `train`, safe for a series name. */
export function idStem(name: string): string {
  const s = name
    .replace(/\.py$/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return (s || 'run').slice(0, 40);
}
