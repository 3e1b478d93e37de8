// ProcessEnergy on its own: the split of each tick's GPU energy by SM share, per process identity
// (pid as NVML reports it + start time), published every publishMs, forgotten when gone.

import { strict as assert } from 'node:assert';
import { ProcessEnergy } from '../../../../collector/sources/gpu/process-energy';
import type { GpuDetails, GpuProcess } from '../../../../protocol/details/gpu';

const BUS = '00000000:07:00.0';

function details(procs: Partial<GpuProcess>[]): GpuDetails {
  return {
    kind: 'gpu',
    backend: 'nvml',
    driverVersion: null,
    cudaVersion: null,
    devices: [{ index: 0, pciBusId: BUS } as GpuDetails['devices'][number]],
    processes: procs.map((p) => ({ name: null, user: null, gpuIndex: 0, usedMemoryBytes: null, smUtilRatio: null, type: 'compute', pid: 1, ...p })),
  };
}

describe('per-process GPU energy', () => {
  it('splits each tick by SM share, publishes every publishMs, and restarts a reused pid from nothing', () => {
    const e = new ProcessEnergy(0); // publish every tick
    const tick = (j: number, t: number, procs: Partial<GpuProcess>[]): GpuDetails => {
      const d = details(procs);
      e.apply('gpu', d, { 'gpu.0.energy_joules': j }, t);
      return d;
    };
    tick(1000, 0, [
      { pid: 10, startTime: 111, smUtilRatio: 0.75 },
      { pid: 20, startTime: 222, smUtilRatio: 0.25 },
    ]);
    const d = tick(1400, 1000, [
      { pid: 10, startTime: 111, smUtilRatio: 0.75 },
      { pid: 20, startTime: 222, smUtilRatio: 0.25 },
    ]);
    assert.deepEqual(
      d.processes.map((p) => p.energyJoules),
      [300, 100],
    );
    // pid 20 exits and its pid is reused by a new process (another start time): it starts from 0, not 100.
    const d2 = tick(1600, 2000, [
      { pid: 10, startTime: 111, smUtilRatio: 0.5 },
      { pid: 20, startTime: 999, smUtilRatio: 0.5 },
    ]);
    assert.deepEqual(
      d2.processes.map((p) => p.energyJoules),
      [400, 100],
    );
    // A process NVML maps from another pid namespace is keyed by NVML's pid.
    const d3 = tick(1800, 3000, [
      { pid: 10, startTime: 111, smUtilRatio: 0.5 },
      { pid: 5020, nvmlPid: 20, startTime: 999, smUtilRatio: 0.5 },
    ]);
    assert.deepEqual(
      d3.processes.map((p) => p.energyJoules),
      [500, 200],
    );
    // Gone for one tick: forgotten; back later it starts again from nothing.
    tick(2000, 4000, [{ pid: 10, startTime: 111, smUtilRatio: 1 }]);
    const d4 = tick(2200, 5000, [
      { pid: 10, startTime: 111, smUtilRatio: 0.5 },
      { pid: 5020, nvmlPid: 20, startTime: 999, smUtilRatio: 0.5 },
    ]);
    assert.deepEqual(
      d4.processes.map((p) => p.energyJoules),
      [800, 100],
    );
  });

  it('attributes nothing across a counter drop (driver reload) and gives null without per-process samples', () => {
    const e = new ProcessEnergy(0);
    const run = (j: number, t: number, sm: number | null): GpuDetails => {
      const d = details([{ pid: 10, startTime: 1, smUtilRatio: sm }]);
      e.apply('gpu', d, { 'gpu.0.energy_joules': j }, t);
      return d;
    };
    run(5000, 0, 1);
    assert.equal(run(100, 1000, 1).processes[0].energyJoules, 0, 'a drop attributes nothing');
    assert.equal(run(300, 2000, 1).processes[0].energyJoules, 200);
    assert.equal(details([{ pid: 11, smUtilRatio: null }]).processes[0].energyJoules, undefined);
    const d = details([{ pid: 11, smUtilRatio: null }]);
    e.apply('gpu', d, { 'gpu.0.energy_joules': 400 }, 3000);
    assert.equal(d.processes[0].energyJoules, null);
  });
});
