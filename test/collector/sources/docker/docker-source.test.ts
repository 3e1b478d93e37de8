// The Docker source against a real, private Docker engine (docker.io 20.10) started by the test.

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { SampleMessage } from '../../../../protocol';
import type { DockerDetails } from '../../../../protocol/details/docker';
import { silentLogger } from '../../../../collector/log';
import { SourceError, type SampleResult, type Source } from '../../../../collector/source';
import { dockerFactory } from '../../../../collector/sources/docker';
import { DockerSource, LIST_INTERVAL_MS } from '../../../../collector/sources/docker/docker-source';
import { createEngineClient, type DockerApi } from '../../../../collector/sources/docker/engine-client';
import { startDockerEngine, type DockerEngine } from '../../../helpers/docker-engine';

const ROOT = path.resolve(__dirname, '../../../..');
const signal = (): AbortSignal => new AbortController().signal;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function createSource(engine: DockerEngine, config: Record<string, unknown> = {}): Source {
  const [src] = dockerFactory.create({
    config: { socket: engine.host, statsIntervalMs: 1000, ...config },
    env: {},
    intervalMs: 1000,
    dataDir: engine.dir,
    log: silentLogger,
    latest: (): SampleMessage | undefined => undefined,
  });
  return src;
}

function details(r: SampleResult): DockerDetails {
  assert.equal(r.details?.kind, 'docker');
  return r.details as DockerDetails;
}

/** Samples every 250 ms until `pred` holds; fails with the last sample when it never does. */
async function sampleUntil(src: Source, pred: (r: SampleResult) => boolean, what: string, timeoutMs = 15_000): Promise<SampleResult> {
  const deadline = Date.now() + timeoutMs;
  let last: SampleResult | undefined;
  while (Date.now() < deadline) {
    last = await src.sample(signal());
    if (pred(last)) return last;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}; last series: ${JSON.stringify(last?.series)}`);
}

describe('docker source against a real engine', function () {
  this.timeout(90_000);
  let engine: DockerEngine;
  const sources: Source[] = [];
  const track = <T extends Source>(s: T): T => {
    sources.push(s);
    return s;
  };

  before(async () => {
    engine = await startDockerEngine();
    await Promise.all([
      engine.run('web'),
      engine.run('sick', { flags: ['--health-cmd', 'echo sick-output; false', '--health-interval', '1s', '--health-retries', '1'] }),
      engine.run('fine', { flags: ['--health-cmd', 'echo fine-output', '--health-interval', '1s'] }),
      engine.run('crashy', { flags: ['--restart', 'always'], cmd: ['sh', '-c', 'exit 3'] }),
      // Half a core of busy loop under a CFS quota: CPU must read about 0.5, the limit exactly 64 MiB.
      engine.run('burn', { flags: ['--cpus', '0.5', '--memory', '64m'], cmd: ['sh', '-c', 'while :; do :; done'] }),
    ]);
    await engine.docker(['run', '--network', 'none', '--name', 'finished', engine.image, 'true']);
  });

  after(async () => {
    for (const s of sources) await s.close();
    if (engine) await engine.dispose();
  });

  it('probes ready and describes the engine', async () => {
    const src = track(createSource(engine));
    const r = await src.probe(signal());
    assert.equal(r.status, 'ready');
    assert.match(r.status === 'ready' ? (r.description ?? '') : '', /^Docker Engine 20\.10\.\S+ \(API 1\.41\) at unix:\/\/.*docker\.sock$/);
  });

  it('lists containers with the names, images and states the engine reports', async () => {
    const src = track(createSource(engine));
    const r = await src.sample(signal());
    const d = details(r);
    const cli = (await engine.docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}}'])).split('\n');
    const fromCli = cli
      .map((l) => l.split(' '))
      .map(([id, name, image]) => ({ id, name, image }))
      .sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      d.containers.map((c) => ({ id: c.id, name: c.name, image: c.image })),
      fromCli,
    );
    const byName = new Map(d.containers.map((c) => [c.name, c]));
    assert.equal(byName.get('web')?.state, 'running');
    assert.equal(byName.get('finished')?.state, 'exited');
    assert.equal(byName.get('finished')?.exitCode, 0);
    assert.equal(r.series['docker.web.running_state'], 1);
    assert.equal(r.series['docker.finished.running_state'], 0);
    assert.equal(r.series['docker.finished.uptime_seconds'], null);
    assert.equal(r.series['docker.web.health_state'], null, 'no health check → null, not 0');
    assert.equal(r.series['docker.containers_count'], 6);
    const uptime = r.series['docker.web.uptime_seconds'];
    const started = Date.parse(await engine.docker(['inspect', '-f', '{{.State.StartedAt}}', 'web']));
    assert.ok(uptime !== null && Math.abs(uptime - (Date.now() - started) / 1000) < 2, `uptime ${uptime}`);
  });

  it('shows a container whose health check fails as unhealthy, with the check output', async () => {
    const src = track(createSource(engine));
    const r = await sampleUntil(
      src,
      (x) => x.series['docker.sick.health_state'] === 2 && x.series['docker.fine.health_state'] === 0,
      'sick unhealthy and fine healthy',
    );
    const sick = details(r).containers.find((c) => c.name === 'sick');
    assert.equal(sick?.health, 'unhealthy');
    assert.equal(sick?.lastHealthOutput, 'sick-output');
    assert.equal(sick?.lastHealthExitCode, 1);
    assert.equal(details(r).containers.find((c) => c.name === 'fine')?.lastHealthOutput, 'fine-output');
    assert.equal(r.series['docker.containers_unhealthy_count'], 1);
  });

  it("counts a crash-looping container as restarting, with the engine's restart count", async () => {
    const src = track(createSource(engine));
    const r = await sampleUntil(
      src,
      (x) => (x.series['docker.crashy.restart_count'] ?? 0) >= 2 && x.series['docker.containers_restarting_count'] === 1,
      'crashy restarted twice and counted as restarting',
    );
    const count = Number(await engine.docker(['inspect', '-f', '{{.RestartCount}}', 'crashy']));
    const seen = r.series['docker.crashy.restart_count'] ?? -1;
    assert.ok(seen >= 2 && seen <= count, `restart_count ${seen}, engine now says ${count}`);
    assert.equal(details(r).containers.find((c) => c.name === 'crashy')?.restartCount, seen);
    assert.equal(r.series['docker.web.restart_count'], 0);
  });

  it('reads CPU and memory from stats in the background, matching the container limits', async () => {
    const src = track(createSource(engine));
    const r = await sampleUntil(src, (x) => x.series['docker.burn.cpu_ratio'] != null && x.series['docker.web.cpu_ratio'] != null, 'stats for burn and web');
    const cpu = r.series['docker.burn.cpu_ratio'] as number;
    // --cpus 0.5 caps the busy loop at half a core (a percent or a whole-machine ratio would break
    // this bound); how much of that it gets depends on the load of this shared 2-core machine.
    assert.ok(cpu > 0.02 && cpu <= 0.6, `burn cpu_ratio ${cpu}`);
    assert.ok((r.series['docker.web.cpu_ratio'] as number) < 0.01, 'sleep is idle');
    assert.equal(r.series['docker.burn.memory_limit_bytes'], 64 * 1024 * 1024);
    const used = r.series['docker.burn.memory_used_bytes'] as number;
    assert.ok(used > 0 && used < 64 * 1024 * 1024, `memory used ${used}`);
    assert.equal(r.series['docker.finished.cpu_ratio'], null, 'a stopped container has no CPU value');
  });

  it('never waits for stats: sample() resolves while every stats request is held open', async () => {
    const real = createEngineClient({ kind: 'unix', socketPath: engine.socketPath, display: engine.host });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const events: string[] = [];
    let statsStarted = 0;
    const api: DockerApi = {
      endpoint: real.endpoint,
      get: (p, o) => real.get(p, o),
      stream: (p, h) => real.stream(p, h),
      getStats: async (p, o) => {
        statsStarted++;
        await gate;
        const v = await real.getStats(p, o);
        events.push('stats-done');
        return v;
      },
      close: () => real.close(),
    };
    const src = track(new DockerSource({ api, origin: 'config', statsIntervalMs: 1000, filter: () => true, log: silentLogger }));
    assert.equal((await src.probe(signal())).status, 'ready');
    const first = await src.sample(signal());
    events.push('sample-1-done');
    // The first sample started a stats request per running container and returned without them.
    const runningNow = details(first).containers.filter((c) => c.state === 'running').length;
    assert.ok(runningNow >= 4, 'web, sick, fine, burn are running');
    assert.equal(statsStarted, runningNow);
    assert.equal(src.statsPending, runningNow);
    assert.equal(first.series['docker.burn.cpu_ratio'], null);
    const second = await src.sample(signal());
    events.push('sample-2-done');
    assert.equal(second.series['docker.burn.cpu_ratio'], null);
    assert.deepEqual(events, ['sample-1-done', 'sample-2-done']);
    release();
    const r = await sampleUntil(src, (x) => x.series['docker.burn.cpu_ratio'] != null, 'stats after release');
    assert.ok(events.indexOf('stats-done') > 1);
    assert.ok((r.series['docker.burn.cpu_ratio'] as number) > 0);
  });

  it('applies the containers filter', async () => {
    const src = track(createSource(engine, { containers: ['s*', 'f*', '!finished'] }));
    const d = details(await src.sample(signal()));
    assert.deepEqual(
      d.containers.map((c) => c.name),
      ['fine', 'sick'],
    );
  });

  it('answers "permission denied … docker group or DOCKER_HOST" to a user who may not open the socket', async function () {
    const st = fs.statSync(engine.socketPath);
    assert.equal(st.mode & 0o007, 0, 'the engine socket is not open to others');
    // Permissions do not apply to root, so an unprivileged user runs the real source's probe.
    const script = path.join(engine.dir, 'probe-as-user.js');
    await build({
      stdin: {
        contents: `
          import { dockerFactory } from './collector/sources/docker';
          import { silentLogger } from './collector/log';
          const [src] = dockerFactory.create({ config: undefined, env: { DOCKER_HOST: process.argv[2] }, intervalMs: 1000, dataDir: '/tmp', log: silentLogger, latest: () => undefined });
          src.probe(new AbortController().signal).then(
            (r) => { console.log(JSON.stringify(r)); return src.close(); },
            (e) => { console.log(JSON.stringify({ threw: String(e && e.message) })); return src.close(); });`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: script,
      logLevel: 'silent',
    });
    fs.chmodSync(script, 0o644);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('runuser', ['-u', 'nobody', '--', process.execPath, script, engine.host], { timeout: 20_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
      ),
    );
    assert.deepEqual(JSON.parse(out), {
      status: 'unavailable',
      reason: `permission denied on ${engine.socketPath}: add your user to the docker group or set DOCKER_HOST`,
      retry: true,
    });
  });

  it('a hung engine fails the sample when the tick gives up, and serves again when it wakes', async () => {
    const src = track(createSource(engine));
    assert.equal((await src.probe(signal())).status, 'ready');
    await src.sample(signal());
    await engine.freeze();
    try {
      // Ticks of 300 ms, each aborted at its end as the tick loop does: a tick that only reads the
      // cache may pass, but by the list interval the source must fail the tick instead of hanging on.
      let failedAfterMs = -1;
      const t0 = Date.now();
      while (Date.now() - t0 < LIST_INTERVAL_MS + 2000) {
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(), 300);
        const tick = Date.now();
        try {
          await src.sample(ac.signal);
        } catch (e) {
          assert.ok(e instanceof SourceError && /aborted/.test(e.message), String(e));
          assert.ok(Date.now() - tick < 1000, 'gave up at the abort');
          failedAfterMs = Date.now() - t0;
          break;
        } finally {
          clearTimeout(timer);
        }
        await sleep(Math.max(0, 300 - (Date.now() - tick)));
      }
      assert.ok(failedAfterMs >= 0 && failedAfterMs <= LIST_INTERVAL_MS + 1000, `failed after ${failedAfterMs} ms`);
    } finally {
      engine.thaw();
    }
    const r = await src.sample(signal());
    assert.equal(r.series['docker.web.running_state'], 1);
  });

  // Last: stops the engine under the source.
  it('goes down on the first sample after the engine stops, and recovers when it is back', async () => {
    const src = track(createSource(engine));
    assert.equal((await src.probe(signal())).status, 'ready');
    await src.sample(signal());
    await engine.stopEngine();
    await assert.rejects(
      src.sample(signal()),
      (e: unknown) => e instanceof SourceError && e.retry && /no Docker engine socket|connection refused|closed the connection/.test(e.message),
    );
    // Seen before, so a vanished socket is "down, retry soon", not the quiet "no Docker here".
    await assert.rejects(src.probe(signal()), (e: unknown) => e instanceof SourceError && e.retry);
    await engine.startEngine();
    assert.equal((await src.probe(signal())).status, 'ready');
    const r = await src.sample(signal());
    assert.deepEqual(
      details(r).containers.map((c) => c.name),
      ['burn', 'crashy', 'fine', 'finished', 'sick', 'web'],
    );
  });

  it('the test engine leaves nothing behind: no dockerd, containerd or shim, no mounts, no dir', async () => {
    for (const s of sources.splice(0)) await s.close();
    const dir = engine.dir;
    await engine.dispose();
    const mentioning = fs
      .readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
        } catch {
          return false;
        }
      });
    assert.deepEqual(mentioning, []);
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'no mounts left under the engine dir');
    assert.ok(!fs.existsSync(dir));
  });
});
