// End to end: the real collector process (dist/collector.js) with DOCKER_HOST pointing at a private engine.

import { strict as assert } from 'node:assert';
import type { AlertMessage, SampleMessage, ServerMessage, StatusMessage } from '../../../../protocol';
import type { DockerDetails } from '../../../../protocol/details/docker';
import { startCollector, type RunningCollector, type WsClient } from '../../../helpers/collector-process';
import { startDockerEngine, type DockerEngine } from '../../../helpers/docker-engine';

const isSample = (m: ServerMessage): m is SampleMessage => m.type === 'sample';

describe('docker source in the running collector', function () {
  this.timeout(90_000);
  let engine: DockerEngine | undefined;
  let collector: RunningCollector | undefined;
  let ws: WsClient | undefined;

  before(async () => {
    engine = await startDockerEngine();
    await Promise.all([
      engine.run('web'),
      engine.run('sick', { flags: ['--health-cmd', 'echo sick-output; false', '--health-interval', '1s', '--health-retries', '1'] }),
    ]);
    collector = await startCollector({
      env: { DOCKER_HOST: engine.host },
      // The default holds 30 s before firing; the test is about the health check reaching the alert.
      config: { docker: { statsIntervalMs: 1000 }, alerts: { rules: [{ id: 'containers-unhealthy', for: 0 }] } },
      interval: 0.25,
    });
    ws = await collector.ws();
  });

  after(async () => {
    await ws?.close();
    await collector?.stop();
    await engine?.dispose();
  });

  it('streams containers, an unhealthy health check, the default alert, and keeps the health timeline in history', async () => {
    const c = ws as WsClient;
    // The default rule: one unhealthy container is a warning.
    const alert = await c.waitFor<AlertMessage>(
      (x) => x.type === 'alert' && x.events.some((e) => e.alert.ruleId === 'containers-unhealthy' && e.transition === 'firing'),
      20_000,
      'the containers-unhealthy alert firing',
    );
    assert.ok(alert.events.some((e) => e.alert.severity === 'warning'));

    const m = await c.waitFor<SampleMessage>(
      (x) => isSample(x) && x.series['docker.sick.health_state'] === 2 && x.series['docker.web.cpu_ratio'] != null,
      20_000,
      'a sample with sick unhealthy and stats for web',
    );
    const d = m.details.docker as DockerDetails;
    assert.equal(d.kind, 'docker');
    assert.equal(d.endpoint, (engine as DockerEngine).host);
    assert.deepEqual(
      d.containers.map((x) => [x.name, x.state, x.health]),
      [
        ['sick', 'running', 'unhealthy'],
        ['web', 'running', null],
      ],
    );
    assert.equal(d.containers[0].lastHealthOutput, 'sick-output');
    assert.equal(m.series['docker.containers_unhealthy_count'], 1);
    assert.equal(m.series['collector.docker.up_state'], 1);

    const res = await (collector as RunningCollector).get(`/api/history?series=docker.sick.health_state&from=${Date.now() - 60_000}`);
    assert.equal(res.status, 200);
    const h = (await res.json()) as { series: { name: string; points: [number, number | null, number | null, number | null][] }[] };
    const pts = h.series.find((s) => s.name === 'docker.sick.health_state')?.points ?? [];
    assert.ok(
      pts.some((p) => p[3] === 2),
      `history holds the unhealthy state: ${JSON.stringify(pts.slice(-5))}`,
    );
  });

  it('marks the source down within two ticks of the engine stopping, and recovers when it restarts', async () => {
    const c = ws as WsClient;
    const e = engine as DockerEngine;
    await e.stopEngine();
    const stoppedAt = Date.now();
    // Ticks assembled after the engine is gone: the first may have sampled just before, the second may not.
    await c.waitFor((x) => isSample(x) && x.t >= stoppedAt, 5000, 'a tick after the stop');
    const second = await c.waitFor<SampleMessage>((x) => isSample(x), 5000, 'the second tick after the stop');
    assert.equal(second.series['collector.docker.up_state'], 0);
    const st = await c.waitFor<StatusMessage>(
      (x) => x.type === 'status' && x.sources.some((s) => s.id === 'docker' && s.state === 'down'),
      5000,
      'docker down in a status message',
    );
    assert.match(st.sources.find((s) => s.id === 'docker')?.reason ?? '', /docker/i);

    await e.startEngine();
    const back = await c.waitFor<SampleMessage>(
      (x) => isSample(x) && x.series['collector.docker.up_state'] === 1 && x.series['docker.web.running_state'] !== undefined,
      30_000,
      'docker up again',
    );
    // dockerd's shutdown stopped both containers (no restart policy), and the collector says so.
    const after = (back.details.docker as DockerDetails).containers;
    assert.deepEqual(
      after.map((x) => [x.name, x.state, x.health]),
      [
        ['sick', 'exited', null],
        ['web', 'exited', null],
      ],
    );
    // A stopped container is not "unhealthy", but why its checks failed stays readable.
    assert.equal(after[0].lastHealthOutput, 'sick-output');
    assert.equal(back.series['docker.containers_unhealthy_count'], 0);
    assert.equal(back.series['docker.containers_running_count'], 0);
  });
});
