// Shared setup for GPU source tests: fake state dirs, a source built by the real factory, a log capture.

import { spawn, type ChildProcess } from 'node:child_process';
import { until } from '../../../helpers/until';
import { gpuFactory, type GpuSource } from '../../../../collector/sources/gpu';
import { createLogger, type Logger } from '../../../../collector/log';
import { makeFakeStateDir, writeFakeState, type FakeGpuState } from '../../../fakes/nvml/build';

/** A source under test with its state file and captured log lines. */
export interface GpuHarness {
  source: GpuSource;
  stateFile: string;
  logs: string[];
  setState(s: FakeGpuState): void;
  dispose(): Promise<void>;
}

/** Builds the GPU source through its factory; FAKE_NVML_STATE is set process-wide (the fake library reads getenv). */
export function gpuHarness(config: Record<string, unknown>, state: FakeGpuState, env: NodeJS.ProcessEnv = {}, intervalMs = 1000): GpuHarness {
  const dir = makeFakeStateDir();
  writeFakeState(dir.stateFile, state);
  process.env.FAKE_NVML_STATE = dir.stateFile;
  const logs: string[] = [];
  const log: Logger = createLogger('debug', (l) => logs.push(l));
  const [source] = gpuFactory.create({
    config,
    env: { PATH: process.env.PATH, ...env, FAKE_NVML_STATE: dir.stateFile },
    intervalMs,
    dataDir: dir.dir,
    log,
    latest: () => undefined,
  });
  return {
    source: source as GpuSource,
    stateFile: dir.stateFile,
    logs,
    setState: (s) => writeFakeState(dir.stateFile, s),
    dispose: async () => {
      await source.close();
      dir.dispose();
      delete process.env.FAKE_NVML_STATE;
    },
  };
}

/** A real process whose pid the fake reports, so /proc lookups of name and user work. */
export function spawnSleeper(): ChildProcess {
  return spawn('sleep', ['60'], { stdio: 'ignore' });
}

/** A signal that never aborts. */
export const NEVER = new AbortController().signal;

/** Waits until `fn` returns a truthy value or throws after `timeoutMs`. */
export function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  return until(what, fn, timeoutMs, 50);
}
