import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleMessage } from '../../../../protocol';
import type { GpuDetails, ModelsDetails } from '../../../../protocol';
import { containerPid } from '../../../../collector/sources/models/docker-pid';
import { listeningInodes, parseStatParent, pidsHoldingInodes, withDescendants } from '../../../../collector/sources/models/proc';
import { ServerProcessFinder, formatGb, joinVram } from '../../../../collector/sources/models/vram';
import { fixture, startFakeModelServer } from '../../../fakes/model-servers/fake-server';
import type { FakeModelServer } from '../../../fakes/model-servers/fake-server';
import { harness, signal } from './helpers';

function gpuSample(processes: GpuDetails['processes']): SampleMessage {
  const gpu: GpuDetails = { kind: 'gpu', backend: 'nvml', driverVersion: '550.54.15', cudaVersion: '12.4', devices: [], processes };
  return { type: 'sample', t: 0, series: {}, details: { gpu } };
}
const proc = (pid: number, gpuIndex: number, usedMemoryBytes: number | null): GpuDetails['processes'][number] => ({
  pid,
  name: 'python3',
  user: 'ml',
  gpuIndex,
  usedMemoryBytes,
  smUtilRatio: null,
  type: 'compute',
});

describe('VRAM attribution', () => {
  let fake: FakeModelServer | undefined;
  let child: ChildProcess | undefined;
  let tmp: string | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    if (child && child.exitCode === null) {
      const c = child;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    }
    child = undefined;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  it("finds the pid listening on a real server's port (this test process) through /proc", async () => {
    fake = await startFakeModelServer({ '/api/ps': { body: fixture('ollama-0.5-ps.json') } });
    const inodes = await listeningInodes(fake.port);
    assert.equal(inodes.size, 1, 'one listening socket for the port');
    assert.deepEqual(await pidsHoldingInodes(inodes), [process.pid]);
    const finder = new ServerProcessFinder({ url: fake.url }, { env: {}, timeoutMs: 500 });
    const found = await finder.lookup(0);
    assert.ok(found.pids?.includes(process.pid), `pids ${JSON.stringify(found)} include ${process.pid}`);
  });

  it('includes child processes of the server (vLLM workers, Ollama runners)', async () => {
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => child?.once('spawn', r));
    const all = await withDescendants([process.pid]);
    assert.ok(all.includes(process.pid));
    assert.ok(child.pid !== undefined && all.includes(child.pid), `descendants ${all.join(',')} include child ${child.pid}`);
  });

  it('reads the parent pid from a stat line whose command has spaces and parentheses', () => {
    assert.equal(parseStatParent('4242 (python3 (vllm) worker) S 4100 4242 4100 0 -1 4194560 ...'), 4100);
  });

  it('joins the server\'s pids with the GPU process list: "VRAM 14.2 GB on GPU 0"', async () => {
    fake = await startFakeModelServer({ '/api/ps': { body: fixture('ollama-0.5-ps.json') }, '/api/version': { body: fixture('ollama-0.5-version.json') } });
    const h = harness([{ name: 'ollama', url: fake.url, kind: 'ollama' }]);
    h.setLatest(gpuSample([proc(process.pid, 0, 14_200_000_000), proc(1, 1, 5_000_000_000)]));
    const [src] = h.sources();
    const r = await src.sample(signal());
    const server = (r.details as ModelsDetails).servers[0];
    assert.equal(server.vramSummary, 'VRAM 14.2 GB on GPU 0');
    assert.deepEqual(server.vram, [{ gpuIndex: 0, bytes: 14_200_000_000, pid: process.pid }]);
    assert.equal(server.vramNote, null);
    assert.equal(r.series['models.ollama.vram_bytes'], 14_200_000_000);
  });

  it('adds up several processes and GPUs', () => {
    const att = joinVram({ pids: [10, 11] }, gpuSample([proc(10, 0, 8e9), proc(11, 0, 2e9), proc(11, 1, 3.14e9), proc(12, 1, 7e9)]));
    assert.equal(att.summary, 'VRAM 10.0 GB on GPU 0 + 3.1 GB on GPU 1');
    assert.equal(att.bytes, 13.14e9);
  });

  it('says why when it cannot join, and never guesses', () => {
    assert.deepEqual(joinVram({ pids: [10] }, undefined), { vram: null, bytes: null, summary: null, note: 'no sample from the GPU source yet' });
    const noGpu: SampleMessage = { type: 'sample', t: 0, series: {}, details: {} };
    assert.match(joinVram({ pids: [10] }, noGpu).note ?? '', /^no GPU source/);
    assert.deepEqual(joinVram({ pids: null, note: 'x' }, gpuSample([])), { vram: null, bytes: null, summary: null, note: 'x' });
    assert.deepEqual(joinVram({ pids: [10] }, gpuSample([proc(99, 0, 1e9)])), {
      vram: [],
      bytes: 0,
      summary: 'no VRAM in use',
      note: 'no GPU process among pid 10',
    });
    assert.match(joinVram({ pids: [10] }, gpuSample([proc(10, 0, null)])).note ?? '', /does not report per-process memory/);
    assert.equal(formatGb(14_200_000_000), '14.2 GB');
  });

  it('a remote server gets a note, not a guess', async () => {
    const finder = new ServerProcessFinder({ url: 'http://gpu-box.example.com:8000' }, { env: {}, timeoutMs: 100 });
    assert.deepEqual(await finder.lookup(0), {
      pids: null,
      note: 'server is on another host (gpu-box.example.com); VRAM is attributed only for servers on this machine',
    });
  });

  it('a configured pid is used with its children; a dead one is reported', async () => {
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => child?.once('spawn', r));
    const ok = await new ServerProcessFinder({ url: 'http://10.0.0.9:8000', pid: process.pid }, { env: {}, timeoutMs: 100 }).lookup(0);
    assert.ok(ok.pids?.includes(child.pid as number));
    const dead = await new ServerProcessFinder({ url: 'http://10.0.0.9:8000', pid: 2 ** 22 + 1 }, { env: {}, timeoutMs: 100 }).lookup(0);
    assert.deepEqual(dead, { pids: null, note: `configured pid ${2 ** 22 + 1} is not running` });
  });

  it('a port held by docker-proxy asks for the container instead (synthetic /proc)', async () => {
    tmp = mkdtempSync(join(tmpdir(), 'rw-proc-'));
    mkdirSync(join(tmp, 'net'));
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    writeFileSync(
      join(tmp, 'net', 'tcp'),
      header + '   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777001 1 0000000000000000 100 0 0 10 0\n',
    );
    mkdirSync(join(tmp, '4100', 'fd'), { recursive: true });
    symlinkSync('socket:[777001]', join(tmp, '4100', 'fd', '5'));
    writeFileSync(join(tmp, '4100', 'comm'), 'docker-proxy\n');
    writeFileSync(join(tmp, '4100', 'stat'), '4100 (docker-proxy) S 1 4100 1 0 -1 0\n');
    const finder = new ServerProcessFinder({ url: 'http://127.0.0.1:8000' }, { env: {}, timeoutMs: 100, procRoot: tmp });
    assert.deepEqual(await finder.lookup(0), { pids: null, note: 'port 8000 is forwarded by docker-proxy; set container (or pid) for this endpoint' });
    const none = new ServerProcessFinder({ url: 'http://127.0.0.1:9000' }, { env: {}, timeoutMs: 100, procRoot: tmp });
    assert.deepEqual(await none.lookup(0), { pids: null, note: 'no listening socket for port 9000 in this network namespace' });
  });

  it("a container's pid comes from the Docker Engine API (fake API on a unix socket)", async () => {
    tmp = mkdtempSync(join(tmpdir(), 'rw-docker-'));
    const sock = join(tmp, 'docker.sock');
    const api: Server = createServer((req, res) => {
      if (req.url === '/containers/vllm/json')
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Id: 'abc', State: { Running: true, Pid: process.pid } }));
      else res.writeHead(404).end('{"message":"No such container"}');
    });
    await new Promise<void>((r) => api.listen(sock, r));
    try {
      assert.equal(await containerPid('vllm', sock, 500), process.pid);
      await assert.rejects(containerPid('nope', sock, 500), /container nope not found/);
      const finder = new ServerProcessFinder({ url: 'http://127.0.0.1:1', container: 'vllm' }, { env: { DOCKER_HOST: `unix://${sock}` }, timeoutMs: 500 });
      const found = await finder.lookup(0);
      assert.ok(found.pids?.includes(process.pid));
    } finally {
      await new Promise<void>((r) => api.close(() => r()));
    }
  });
});
