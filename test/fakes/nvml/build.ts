// Builds the fake libnvidia-ml.so.1 and the fake nvidia-smi with gcc (once per source version, cached
// under the OS temp dir), and writes the key=value state file both read (see fake-state.h).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const NVML_DIR = __dirname;
const SMI_DIR = path.join(__dirname, '..', 'nvidia-smi');

/** Which fake driver to build: current (550-like) or 470 (no _v3 / _v2 memory / event-reason entry points). */
export type FakeNvmlVariant = 'current' | '470';

function sourceHash(files: string[], extra: string): string {
  const h = createHash('sha256');
  for (const f of files) h.update(fs.readFileSync(f));
  h.update(extra);
  return h.digest('hex').slice(0, 12);
}

function gcc(args: string[]): void {
  try {
    execFileSync('gcc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('gcc not found: the GPU fakes are C; install it with `apt-get install gcc`');
    throw new Error(`gcc failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

function buildOnce(name: string, files: string[], extra: string, output: string, args: (out: string) => string[]): string {
  const dir = path.join(os.tmpdir(), `rigwatch-fake-${name}-${sourceHash(files, extra)}`);
  const target = path.join(dir, output);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(dir, { recursive: true });
  // Build to a unique name, then rename: parallel test processes never see a half-written file.
  const tmp = `${target}.${process.pid}.${Date.now()}`;
  gcc(args(tmp));
  fs.renameSync(tmp, target);
  return target;
}

/** Path of a built fake `libnvidia-ml.so.1` (pass it as RIGWATCH_NVML_PATH / gpu.nvmlPath). */
export function buildFakeNvml(variant: FakeNvmlVariant = 'current'): string {
  const files = [path.join(NVML_DIR, 'fake-nvml.c'), path.join(NVML_DIR, 'fake-state.h')];
  const defs = variant === '470' ? ['-DFAKE_DRIVER_470'] : [];
  return buildOnce(`nvml-${variant}`, files, defs.join(' '), 'libnvidia-ml.so.1', (out) => [
    '-shared',
    '-fPIC',
    '-O2',
    '-Wall',
    '-Wno-unused-parameter',
    ...defs,
    '-I',
    NVML_DIR,
    '-o',
    out,
    files[0],
    '-lpthread',
  ]);
}

/** Path of a built fake `nvidia-smi` executable. */
export function buildFakeNvidiaSmi(): string {
  const files = [path.join(SMI_DIR, 'fake-nvidia-smi.c'), path.join(NVML_DIR, 'fake-state.h')];
  return buildOnce('nvidia-smi', files, '', 'nvidia-smi', (out) => ['-O2', '-Wall', '-I', NVML_DIR, '-o', out, files[0]]);
}

/** State of the fakes: top-level keys (count, driver, hang, smi_silent…) and per-GPU `gpu.<i>.<field>` keys. */
export type FakeGpuState = Record<string, string | number>;

/** Writes the state file atomically (the fakes re-read it when it changes, within ~20 ms). */
export function writeFakeState(file: string, state: FakeGpuState): void {
  const text =
    Object.entries(state)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n';
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** A temp dir with a state file; `dispose()` removes it. */
export function makeFakeStateDir(): { dir: string; stateFile: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-gpu-'));
  return { dir, stateFile: path.join(dir, 'state'), dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
