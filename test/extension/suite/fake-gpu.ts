// Steering the fake NVML library the runner built: the collector under test reads FAKE_NVML_STATE.

import { writeFakeState, type FakeGpuState } from '../../fakes/nvml/build';

/** Bytes in one GiB. */
export const GIB = 1024 ** 3;

/** Baseline fake state: two 80 GB GPUs, cool and idle-ish. */
export const BASE_STATE: FakeGpuState = {
  count: 2,
  'gpu.0.util': 37,
  'gpu.0.mem_used': 12 * GIB,
  'gpu.0.temp': 50,
  'gpu.1.util': 5,
  'gpu.1.mem_used': 1 * GIB,
  'gpu.1.temp': 45,
};

/** Writes the fake state (merged over BASE_STATE); the fake re-reads it within ~20 ms. */
export function setFakeGpu(over: FakeGpuState = {}): void {
  const file = process.env.FAKE_NVML_STATE;
  if (!file) throw new Error('FAKE_NVML_STATE is not set: the runner must build the fake NVML and pass its state file');
  writeFakeState(file, { ...BASE_STATE, ...over });
}
