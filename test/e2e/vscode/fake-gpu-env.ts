// Builds the fake NVML/nvidia-smi and returns the settings and environment that point the extension's
// local collector (and collectors the suite starts) at them.

import * as fs from 'node:fs';
import { buildFakeNvidiaSmi, buildFakeNvml, makeFakeStateDir, writeFakeState } from '../../fakes/nvml/build';

/** What a run needs for a fake-GPU collector. */
export interface FakeGpuEnv {
  env: Record<string, string>;
  settings: Record<string, unknown>;
  dispose(): void;
}

/** Builds the fakes (cached by source hash) and a state file with two idle GPUs. */
export function fakeGpuEnv(intervalSeconds = 0.5): FakeGpuEnv {
  const nvml = buildFakeNvml();
  const smi = buildFakeNvidiaSmi();
  const state = makeFakeStateDir();
  writeFakeState(state.stateFile, { count: 2 });
  if (!fs.existsSync(nvml)) throw new Error(`fake NVML was not built at ${nvml}`);
  return {
    env: { FAKE_NVML_STATE: state.stateFile, RIGWATCH_FAKE_NVML_PATH: nvml, RIGWATCH_FAKE_NVIDIA_SMI: smi },
    settings: {
      'rigwatch.interval': intervalSeconds,
      // The alerts suite heats GPU 0 near its slowdown temperature (fake: 87 °C) and wants the alert at once.
      'rigwatch.localCollector.config': {
        gpu: { nvmlPath: nvml, nvidiaSmiPath: smi },
        docker: false,
        alerts: { rules: [{ id: 'gpu-temperature', for: 0, criticalFor: 0 }] },
      },
    },
    dispose: state.dispose,
  };
}
