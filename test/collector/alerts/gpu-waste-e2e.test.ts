// The three GPU waste rules end to end: the real collector process, the fake NVML steered per test,
// rule durations shortened through the config (as a user would override them). Each fires with a
// message naming the process and its owner, and resolves when the waste ends.

import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { AlertEvent, AlertMessage, ServerMessage } from '../../../protocol';
import { startCollector, stopAllCollectors, type RunningCollector, type WsClient } from '../../helpers/collector-process';
import { buildFakeNvml, makeFakeStateDir, writeFakeState } from '../../fakes/nvml/build';

const GIB = 1024 ** 3;
const GONE_PID = 4194000;

function isAlert(m: ServerMessage): m is AlertMessage {
  return m.type === 'alert';
}

describe('GPU waste rules end to end (fake NVML)', function () {
  this.timeout(60_000);
  let c: RunningCollector | undefined;
  let sleeper: ChildProcess;
  const state = makeFakeStateDir();

  before(() => {
    sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  });
  after(async () => {
    await c?.stop();
    sleeper.kill('SIGKILL');
    state.dispose();
    await stopAllCollectors();
  });

  async function waitTransition(ws: WsClient, id: string, transition: AlertEvent['transition']): Promise<AlertEvent> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const e = ws.messages
        .filter(isAlert)
        .flatMap((m) => m.events)
        .find((x) => x.alert.id === id && x.transition === transition);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no ${transition} event for ${id} within 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('gpu-idle-holder, gpu-orphaned-memory and gpu-idle-allocated fire naming who, and resolve', async () => {
    const pid = sleeper.pid!;
    // GPU 0 idle with a 3 GiB holder at 0 % SM and 2 GiB held by a pid that no longer exists; GPU 1 busy.
    writeFakeState(state.stateFile, {
      count: 2,
      'gpu.0.util': 0,
      'gpu.0.mem_used': 5 * GIB,
      'gpu.0.compute': `${pid}:${3 * GIB};${GONE_PID}:${2 * GIB}`,
      'gpu.0.putil': `${pid}:0`,
      'gpu.1.util': 90,
      'gpu.1.mem_used': GIB,
      'gpu.1.compute': `${process.pid}:${GIB}`,
      'gpu.1.putil': `${process.pid}:90`,
    });
    c = await startCollector({
      config: {
        gpu: { nvmlPath: buildFakeNvml(), backend: 'nvml' },
        postgres: false,
        redis: false,
        docker: false,
        models: false,
        alerts: {
          rules: [
            { id: 'gpu-idle-holder', for: '0.5s' },
            { id: 'gpu-orphaned-memory', for: '0.5s' },
            { id: 'gpu-idle-allocated', for: '0.5s' },
          ],
          disable: ['host-cpu', 'host-memory', 'host-disk'],
        },
      },
      env: { FAKE_NVML_STATE: state.stateFile },
      interval: 0.25,
    });
    const ws = await c.ws();
    const holder = await waitTransition(ws, 'gpu-idle-holder:gpu.0.idle_holder_memory_bytes', 'firing');
    assert.match(holder.alert.message, new RegExp(`^GPU 0: pid ${pid} sleep \\(\\w+(, [^)]+)?\\) holds 3 GiB of VRAM at 0 % SM for 0\\.5 s$`));
    const orphan = await waitTransition(ws, 'gpu-orphaned-memory:gpu.0.orphaned_memory_bytes', 'firing');
    assert.match(orphan.alert.message, new RegExp(`^GPU 0: 2 GiB of VRAM held without a live process for 0\\.5 s \\(pid ${GONE_PID} unknown, exited\\)$`));
    const alloc = await waitTransition(ws, 'gpu-idle-allocated:gpu.0.idle_processes_count', 'firing');
    assert.match(alloc.alert.message, new RegExp(`^GPU 0 at 0 % for 0\\.5 s with 1 process\\(es\\) on it: pid ${pid} sleep`));
    // The busy GPU 1 raises none of them.
    assert.equal(
      ws.messages
        .filter(isAlert)
        .flatMap((m) => m.events)
        .some((e) => e.alert.series.startsWith('gpu.1.')),
      false,
    );

    // The holder gets to work, the dead pid's memory is released: all three resolve.
    writeFakeState(state.stateFile, {
      count: 2,
      'gpu.0.util': 70,
      'gpu.0.mem_used': 3 * GIB,
      'gpu.0.compute': `${pid}:${3 * GIB}`,
      'gpu.0.putil': `${pid}:70`,
      'gpu.1.util': 90,
      'gpu.1.mem_used': GIB,
      'gpu.1.compute': `${process.pid}:${GIB}`,
      'gpu.1.putil': `${process.pid}:90`,
    });
    await waitTransition(ws, 'gpu-idle-holder:gpu.0.idle_holder_memory_bytes', 'resolved');
    await waitTransition(ws, 'gpu-orphaned-memory:gpu.0.orphaned_memory_bytes', 'resolved');
    await waitTransition(ws, 'gpu-idle-allocated:gpu.0.idle_processes_count', 'resolved');
  });
});
