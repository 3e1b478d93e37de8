// The real collector process (dist/collector.js) with the GPU source on the fake NVML library and
// the fake nvidia-smi: samples, history, nulls, 8 GPUs, processes, a hung call, recovery, the report.

import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SampleMessage, ServerMessage, SourceStatus } from '../../../../protocol';
import type { GpuDetails } from '../../../../protocol/details/gpu';
import { SOURCE_FACTORIES } from '../../../../collector/sources/index';
import { COLLECTOR_JS, startCollector, type RunningCollector } from '../../../helpers/collector-process';
import { buildFakeNvidiaSmi, buildFakeNvml, makeFakeStateDir, writeFakeState, type FakeGpuState } from '../../../fakes/nvml/build';
import { spawnSleeper } from './helpers';

/** Only host and gpu sample: the others are switched off to keep the run lean. */
function config(gpu: Record<string, unknown> = {}): Record<string, unknown> {
  const c: Record<string, unknown> = { gpu };
  for (const f of SOURCE_FACTORIES) if (f.kind !== 'host' && f.kind !== 'gpu') c[f.kind] = false;
  return c;
}

function isSample(m: ServerMessage): m is SampleMessage {
  return m.type === 'sample';
}

function gpuStatus(m: ServerMessage): SourceStatus | undefined {
  return m.type === 'status' ? m.sources.find((s) => s.id === 'gpu') : undefined;
}

describe('gpu in the real collector process (fake NVML / nvidia-smi)', function () {
  this.timeout(60_000);
  let lib: string;
  let smi: string;
  let c: RunningCollector | undefined;
  let state: ReturnType<typeof makeFakeStateDir>;
  let sleeper: ChildProcess | undefined;

  before(() => {
    lib = buildFakeNvml();
    smi = buildFakeNvidiaSmi();
  });
  beforeEach(() => {
    state = makeFakeStateDir();
  });
  afterEach(async () => {
    await c?.stop();
    c = undefined;
    sleeper?.kill('SIGKILL');
    sleeper = undefined;
    state.dispose();
  });

  const start = (s: FakeGpuState, gpu: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<RunningCollector> => {
    writeFakeState(state.stateFile, s);
    return startCollector({
      config: config(gpu),
      env: { RIGWATCH_NVML_PATH: lib, RIGWATCH_NVIDIA_SMI: smi, FAKE_NVML_STATE: state.stateFile, ...env },
      interval: 0.25,
    });
  };

  it('8 GPUs: exact values in samples and history, unsupported fields null, processes with names', async () => {
    sleeper = spawnSleeper();
    const s: FakeGpuState = {
      count: 8,
      'gpu.5.unsupported': 'fan,temp',
      'gpu.2.compute': `${sleeper.pid}:${5 * 1024 ** 3}`,
      'gpu.2.putil': `${sleeper.pid}:81`,
    };
    for (let i = 0; i < 8; i++) {
      s[`gpu.${i}.busid`] = `00000000:${(0x90 - i * 0x10).toString(16).toUpperCase()}:00.0`; // enumerated in reverse PCI order
      s[`gpu.${i}.util`] = 10 * i;
      s[`gpu.${i}.temp`] = 30 + i;
    }
    c = await start(s);
    const ws = await c.ws();
    const m = await ws.waitFor<SampleMessage>((x) => isSample(x) && x.series['gpu.7.temperature_celsius'] !== undefined, 20_000, 'a sample with 8 GPUs');
    // PCI order reverses NVML's order here: series index i is fake GPU 7 - i.
    for (let i = 0; i < 8; i++) {
      const fake = 7 - i;
      assert.equal(m.series[`gpu.${i}.utilization_ratio`], (10 * fake) / 100, `gpu.${i}.utilization_ratio`);
      if (fake !== 5) assert.equal(m.series[`gpu.${i}.temperature_celsius`], 30 + fake, `gpu.${i}.temperature_celsius`);
    }
    assert.equal(m.series['gpu.2.temperature_celsius'], null, 'unsupported → null in the sample');
    assert.ok('gpu.2.fan_ratio' in m.series && m.series['gpu.2.fan_ratio'] === null);
    assert.equal(m.series['collector.gpu.up_state'], 1);
    const d = m.details.gpu as GpuDetails;
    assert.equal(d.devices.length, 8);
    assert.equal(d.devices[0].pciBusId, '00000000:20:00.0');
    assert.deepEqual(
      d.processes.map((p) => [p.pid, p.name, p.gpuIndex, p.usedMemoryBytes, p.smUtilRatio]),
      [[sleeper.pid, 'sleep', 5, 5 * 1024 ** 3, 0.81]],
    );
    // The status says which backend (from the hello or a later status message).
    const statuses = ws.messages.map((x) => (x.type === 'hello' ? x.sources.find((y) => y.id === 'gpu') : gpuStatus(x))).filter((x) => x?.state === 'ready');
    assert.equal(statuses[0]?.description, '8 × NVIDIA A100-SXM4-80GB via NVML');

    // Heat GPU 0 (fake 7) and find both values in history.
    writeFakeState(state.stateFile, { ...s, 'gpu.7.temp': 88 });
    await ws.waitFor((x) => isSample(x) && x.series['gpu.0.temperature_celsius'] === 88, 10_000, 'the new temperature');
    const res = await c.get(`/api/history?series=gpu.0.temperature_celsius&from=${Date.now() - 60_000}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { series: { name: string; points: [number, number | null, number | null, number | null][] }[] };
    const pts = body.series.find((x) => x.name === 'gpu.0.temperature_celsius')!.points.filter((p) => p[2] !== null);
    assert.ok(pts.length >= 2, JSON.stringify(body));
    assert.equal(Math.min(...pts.map((p) => p[1]!)), 37);
    assert.equal(Math.max(...pts.map((p) => p[3]!)), 88);
    await ws.close();
  });

  it('a hung NVML call marks gpu down while host samples keep arriving; it recovers', async () => {
    c = await start({ count: 2 }, { callTimeoutMs: 500 });
    const ws = await c.ws();
    await ws.waitFor((x) => isSample(x) && x.series['collector.gpu.up_state'] === 1, 20_000, 'gpu up');
    const hungAt = Date.now();
    writeFakeState(state.stateFile, { count: 2, hang: 'nvmlDeviceGetTemperature' });
    const down = gpuStatus(await ws.waitFor((x) => gpuStatus(x)?.state === 'down', 10_000, 'gpu down'))!;
    assert.match(down.reason ?? '', /did not return within 500 ms/);
    // Other sources keep sampling while GPU calls hang.
    const before = ws.messages.length;
    const hostSamples: SampleMessage[] = [];
    while (hostSamples.length < 6) {
      const m = await ws.waitFor<SampleMessage>((x) => isSample(x), 5000, 'samples during the hang');
      if (typeof m.series['host.cpu_busy_ratio'] === 'number' && m.series['collector.gpu.up_state'] === 0) hostSamples.push(m);
    }
    assert.ok(ws.messages.length > before);
    assert.ok(hostSamples.every((m) => m.t >= hungAt && m.details.gpu === undefined));
    // The driver answers again: the re-probe starts a fresh worker.
    writeFakeState(state.stateFile, { count: 2, 'gpu.1.temp': 64 });
    const back = await ws.waitFor<SampleMessage>((x) => isSample(x) && x.series['gpu.1.temperature_celsius'] === 64, 30_000, 'gpu recovered');
    assert.equal(back.series['collector.gpu.up_state'], 1);
    await ws.close();
  });

  it('SIGTERM while an NVML call is still hung: the collector still exits', async () => {
    c = await start({ count: 1 }, { callTimeoutMs: 300 });
    const ws = await c.ws();
    await ws.waitFor((x) => isSample(x) && x.series['collector.gpu.up_state'] === 1, 20_000, 'gpu up');
    writeFakeState(state.stateFile, { count: 1, hang: 'nvmlDeviceGetTemperature' });
    await ws.waitFor((x) => gpuStatus(x)?.state === 'down', 10_000, 'gpu down');
    await ws.close();
    const proc = c.proc;
    const t0 = Date.now();
    proc.kill('SIGTERM');
    const exited = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 8000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    // Let the stuck thread go either way, so nothing is left behind.
    writeFakeState(state.stateFile, { count: 1 });
    assert.ok(
      exited,
      `collector did not exit within 8 s of SIGTERM with a hung NVML call (Node joins worker threads at exit; main.ts must exit hard when stuckNvmlWorkers() > 0). stderr:\n${c.stderr().slice(-1500)}`,
    );
    assert.ok(Date.now() - t0 < 8000);
  });

  it('full device report over HTTP and WebSocket', async () => {
    c = await start({ count: 2, 'gpu.1.name': 'NVIDIA L4' });
    const ws = await c.ws();
    await ws.waitFor((x) => isSample(x) && x.series['collector.gpu.up_state'] === 1, 20_000, 'gpu up');
    const res = await c.get('/api/gpu/1/report');
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /NVSMI LOG/);
    assert.match(text, /Product Name\s+: NVIDIA L4/);
    const reply = await ws.request({ type: 'action', id: 'r1', source: 'gpu', action: 'report', args: { index: '0' } });
    assert.equal(reply.type, 'result');
    assert.ok(reply.type === 'result' && reply.ok && typeof reply.data === 'string' && /GPU 00000000:07:00\.0/.test(reply.data), JSON.stringify(reply));
    const bad = await c.get('/api/gpu/9/report');
    assert.notEqual(bad.status, 200);
    assert.match(((await bad.json()) as { error: string }).error, /index: expected 0\.\.1, got 9/);
    await ws.close();
  });

  it('the bare bundle copied elsewhere (no koffi next to it) falls back to nvidia-smi and says why', async () => {
    // Like a remote box that got only dist/collector.js: require('koffi') cannot resolve.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rigwatch-bare-'));
    const bundle = path.join(dir, 'collector.js');
    fs.copyFileSync(COLLECTOR_JS, bundle);
    writeFakeState(state.stateFile, { count: 1, 'gpu.0.temp': 48 });
    const cfg = path.join(dir, 'config.json');
    fs.writeFileSync(cfg, JSON.stringify(config()));
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      RIGWATCH_NVML_PATH: lib,
      RIGWATCH_NVIDIA_SMI: smi,
      FAKE_NVML_STATE: state.stateFile,
    };
    delete env.NODE_PATH;
    const proc = spawn(process.execPath, [bundle, '--port', '0', '--host', '127.0.0.1', '--data-dir', dir, '--interval', '0.25', '--config', cfg], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const t = setTimeout(() => reject(new Error(`bare bundle did not start; stderr:\n${err}`)), 15_000);
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/(?:#token=(\w+))?/.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(m[2] ? `${m[1]}|${m[2]}` : m[1]);
          }
        });
      });
      const [base, token] = url.split('|');
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const gpu = await (async () => {
        const end = Date.now() + 20_000;
        for (;;) {
          const hello = (await (await fetch(`${base}/api/current`, { headers })).json()) as { sources: SourceStatus[]; latest?: SampleMessage };
          const st = hello.sources.find((x) => x.id === 'gpu');
          if (st?.state === 'ready' && hello.latest?.series['gpu.0.temperature_celsius'] === 48) return st;
          if (Date.now() > end) throw new Error(`gpu not ready via nvidia-smi: ${JSON.stringify(st)}\n${err}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      assert.match(gpu.description ?? '', /via nvidia-smi \(NVML unavailable: koffi could not be loaded/);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without NVML it streams from nvidia-smi; without either the source is unavailable and the rest works', async () => {
    c = await start({ count: 1, 'gpu.0.temp': 59 }, {}, { RIGWATCH_NVML_PATH: '/nonexistent/libnvidia-ml.so.1' });
    let ws = await c.ws();
    const m = await ws.waitFor<SampleMessage>((x) => isSample(x) && x.series['gpu.0.temperature_celsius'] === 59, 20_000, 'nvidia-smi sample');
    assert.equal((m.details.gpu as GpuDetails).backend, 'nvidia-smi');
    await ws.close();
    await c.stop();

    c = await startCollector({ config: config(), interval: 0.25 });
    ws = await c.ws();
    const st = await ws.waitFor(
      (x) => gpuStatus(x)?.state === 'unavailable' || (x.type === 'hello' && x.sources.some((s) => s.id === 'gpu' && s.state === 'unavailable')),
      20_000,
      'gpu unavailable',
    );
    const gpu = st.type === 'hello' ? st.sources.find((s) => s.id === 'gpu') : gpuStatus(st);
    assert.equal(gpu?.reason, 'libnvidia-ml.so.1 not found and nvidia-smi not on PATH');
    const s = await ws.waitFor<SampleMessage>((x) => isSample(x) && typeof x.series['host.cpu_busy_ratio'] === 'number', 10_000, 'host sample');
    assert.equal(s.series['collector.gpu.up_state'], 0);
    await ws.close();
  });
});
