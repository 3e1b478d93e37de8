// A real process in a real container (the tests' private dockerd) listed as a GPU process by the fake
// NVML: the collector process, with its Docker source on that engine, names the container and image.

import * as assert from 'node:assert/strict';
import type { SampleMessage, ServerMessage } from '../../../../protocol';
import type { GpuDetails } from '../../../../protocol/details/gpu';
import { SOURCE_FACTORIES } from '../../../../collector/sources/index';
import { startCollector, type RunningCollector } from '../../../helpers/collector-process';
import { startDockerEngine, type DockerEngine } from '../../../helpers/docker-engine';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../../../fakes/nvml/build';

describe('attribution: a GPU process inside a real Docker container', function () {
  this.timeout(120_000);
  let engine: DockerEngine;
  let c: RunningCollector | undefined;
  const state = makeFakeStateDir();

  before(async () => {
    engine = await startDockerEngine();
  });
  after(async () => {
    await c?.stop();
    await engine?.dispose();
    state.dispose();
  });

  it('carries the container name and image (joined with the Docker source), pid, command and start time', async () => {
    const id = await engine.run('rw-trainer', { cmd: ['sleep', '100000'] });
    const pid = Number(await engine.docker(['inspect', '-f', '{{.State.Pid}}', id]));
    assert.ok(pid > 0, `container pid ${pid}`);
    writeFakeState(state.stateFile, { count: 1, 'gpu.0.compute': `${pid}:${2 * 1024 ** 3}`, 'gpu.0.putil': `${pid}:0` });
    const config: Record<string, unknown> = { gpu: {}, docker: {} };
    for (const f of SOURCE_FACTORIES) if (!['host', 'gpu', 'docker'].includes(f.kind)) config[f.kind] = false;
    c = await startCollector({
      config,
      env: { RIGWATCH_NVML_PATH: buildFakeNvml(), FAKE_NVML_STATE: state.stateFile, DOCKER_HOST: engine.host },
      interval: 0.25,
    });
    const ws = await c.ws();
    const m = await ws.waitFor<SampleMessage>(
      (x: ServerMessage) => {
        if (x.type !== 'sample') return false;
        const g = x.details.gpu as GpuDetails | undefined;
        return g?.processes.some((p) => p.owner?.containerName !== undefined) ?? false;
      },
      30_000,
      'a GPU process with its container name',
    );
    const p = (m.details.gpu as GpuDetails).processes.find((x) => x.pid === pid)!;
    assert.equal(p.owner?.kind, 'container');
    assert.equal(p.owner?.runtime, 'docker');
    assert.equal(p.owner?.containerId, id);
    assert.equal(p.owner?.containerName, 'rw-trainer');
    assert.equal(p.owner?.image, engine.image);
    assert.equal(p.command, 'sleep 100000');
    assert.equal(p.usedMemoryBytes, 2 * 1024 ** 3);
    assert.ok(typeof p.startTime === 'number' && Math.abs(p.startTime - Date.now()) < 120_000);
  });
});
