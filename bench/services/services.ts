// Benchmark (prints, never asserts): collector CPU per tick with host + PostgreSQL + Redis + Docker
// (5 containers) at 1 Hz, against host alone and against no source at all, all in this run, on real
// servers started here (PostgreSQL 15, Redis 7, a private dockerd). Target (issue 4): the three
// services add less than 3× what the host source itself costs.
//
// Two measurements:
//   1. the real collector process (dist/collector.js) at 1 Hz: on-CPU time of all its threads
//      (schedstat) and children from /proc over a window, per tick; configurations interleaved over several rounds,
//      medians reported (the machine is shared, so same-run ratios, never absolute targets);
//   2. in-process CPU per sample of each Source object alone (host, postgres, redis, docker), for a
//      finer breakdown of where the per-tick cost goes.
// Run: node build.mjs && node -r esbuild-register bench/services/services.ts
// Knobs: BENCH_SECONDS (window per configuration, default 20), BENCH_ROUNDS (default 3).

import * as fs from 'node:fs';
import { startCollector } from '../../test/helpers/collector-process';
import { startPostgres, type PostgresServer } from '../../test/helpers/postgres-server';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server';
import { startDockerEngine, type DockerEngine } from '../../test/helpers/docker-engine';
import { hostFactory } from '../../collector/sources/host';
import { postgresFactory } from '../../collector/sources/postgres';
import { redisFactory } from '../../collector/sources/redis';
import { dockerFactory } from '../../collector/sources/docker';
import { silentLogger } from '../../collector/log';
import type { Source, SourceContext } from '../../collector/source';

const WINDOW_S = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_MS = 4000;
const INTERVAL_S = 1;
const CONTAINERS = 5;
const IN_PROCESS_SAMPLES = 200;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU ms of a process: every thread's on-CPU time in ns from /proc/<pid>/task/<tid>/schedstat (fine
 * grained, unlike utime/stime's 10 ms ticks), plus its waited-for children (cutime + cstime, ticks).
 */
function procCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // thread exited between readdir and read
    }
  }
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  const childTicks = Number(f[13]) + Number(f[14]);
  return ns / 1e6 + (childTicks * 1000) / CLOCK_TICKS_PER_SECOND;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (ms: number): string => `${ms.toFixed(3).padStart(8)} ms`;

interface Servers {
  pg: PostgresServer;
  redis: RedisServer;
  docker: DockerEngine | null;
  dockerReason: string | null;
}

async function startServers(): Promise<Servers> {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  // Some traffic-free but realistic content: a table and a few keys.
  await pg.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g');
  await redis.cli('DEBUG', 'POPULATE', '1000');
  let docker: DockerEngine | null = null;
  let dockerReason: string | null = null;
  try {
    docker = await startDockerEngine();
    for (let i = 0; i < CONTAINERS; i++) await docker.run(`bench-${i}`);
  } catch (err) {
    dockerReason = (err as Error).message.split('\n')[0];
    await docker?.dispose().catch(() => {});
    docker = null;
  }
  return { pg, redis, docker, dockerReason };
}

/** Collector CPU ms per tick at 1 Hz for one configuration. */
async function collectorCpuPerTick(config: Record<string, unknown>, env: Record<string, string>): Promise<number> {
  const c = await startCollector({ interval: INTERVAL_S, config, env, token: null });
  try {
    await sleep(WARMUP_MS);
    const pid = c.proc.pid as number;
    const cpu0 = procCpuMs(pid);
    const t0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const cpu1 = procCpuMs(pid);
    const ticks = (performance.now() - t0) / (INTERVAL_S * 1000);
    return (cpu1 - cpu0) / ticks;
  } finally {
    await c.stop();
  }
}

/** In-process CPU ms per `sample()` of one source (after probe and a warm-up sample). */
async function sourceCpuPerSample(source: Source, n: number, gapMs = 0): Promise<number | string> {
  const signal = new AbortController().signal;
  try {
    const p = await source.probe(signal);
    if (p.status !== 'ready') return `unavailable: ${p.reason}`;
    await source.sample(signal);
    let cpu = 0;
    for (let i = 0; i < n; i++) {
      const u0 = process.cpuUsage();
      await source.sample(signal);
      const u = process.cpuUsage(u0);
      cpu += (u.user + u.system) / 1000;
      if (gapMs) await sleep(gapMs);
    }
    return cpu / n;
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  } finally {
    await source.close();
  }
}

async function main(): Promise<void> {
  console.log(`collector CPU per tick at ${INTERVAL_S} s interval: window ${WINDOW_S} s × ${ROUNDS} rounds per configuration (medians)`);
  const servers = await startServers();
  const { pg, redis, docker } = servers;
  try {
    const env: Record<string, string> = docker ? { DOCKER_HOST: docker.host } : {};
    const off = { host: false, gpu: false, docker: false, models: false, postgres: false, redis: false };
    const pgRedis = { postgres: [{ name: 'main', url: pg.url() }], redis: [{ name: 'main', url: redis.url() }] };
    const configs: [string, Record<string, unknown>][] = [
      ['no sources (loop, server, history)', off],
      ['host alone', { ...off, host: {} }],
      ['host + postgres + redis', { ...off, host: {}, ...pgRedis }],
    ];
    if (docker) configs.push([`host + postgres + redis + docker (${CONTAINERS} containers)`, { ...off, host: {}, ...pgRedis, docker: {} }]);
    if (!docker) console.log(`NOTE: Docker engine unavailable (${servers.dockerReason}); measuring PostgreSQL + Redis only`);

    const results = configs.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < configs.length; i++) {
        const v = await collectorCpuPerTick(configs[i][1], env);
        results[i].push(v);
        console.log(`  round ${r + 1}: ${configs[i][0].padEnd(52)} ${fmt(v)} CPU/tick`);
      }
    }
    const med = results.map(median);
    const [none, host, pgr] = med;
    const all = med[med.length - 1];
    const hostCost = host - none;
    const servicesCost = all - host;
    const row = (label: string, v: string): void => console.log(`${label.padEnd(60)} ${v}`);
    console.log('\n-- collector process, medians');
    configs.forEach(([name], i) => row(name, `${fmt(med[i])} CPU/tick`));
    row("host source's own cost (host alone − no sources)", `${fmt(hostCost)} CPU/tick`);
    row('postgres + redis added (host+pg+redis − host alone)', `${fmt(pgr - host)} CPU/tick  = ${((pgr - host) / hostCost).toFixed(2)}× host`);
    if (docker) row('docker added (all − host+pg+redis)', `${fmt(all - pgr)} CPU/tick  = ${((all - pgr) / hostCost).toFixed(2)}× host`);
    row(`services added (${docker ? 'all three' : 'postgres + redis only'})`, `${fmt(servicesCost)} CPU/tick`);
    row('RATIO services / host source', `${(servicesCost / hostCost).toFixed(2)}×   (target < 3×)`);
    console.log('  (per-thread schedstat, ns resolution; spread between rounds is the shared machine)');

    console.log(`\n-- in-process CPU per sample of each source object (n=${IN_PROCESS_SAMPLES})`);
    const ctx = (config: unknown, extraEnv: Record<string, string> = {}): SourceContext => ({
      config,
      env: { ...extraEnv },
      intervalMs: INTERVAL_S * 1000,
      dataDir: '/tmp',
      log: silentLogger,
      latest: () => undefined,
    });
    const rows: [string, Source | null][] = [
      ['host', hostFactory.create(ctx({}))[0]],
      ['postgres', postgresFactory.create(ctx([{ name: 'main', url: pg.url() }]))[0]],
      ['redis', redisFactory.create(ctx([{ name: 'main', url: redis.url() }]))[0]],
      [`docker (${CONTAINERS} containers; stats on their own cadence)`, docker ? dockerFactory.create(ctx({}, { DOCKER_HOST: docker.host }))[0] : null],
    ];
    for (const [name, src] of rows) {
      if (!src) {
        console.log(`${name.padEnd(56)} not measured (no Docker engine)`);
        continue;
      }
      // Docker's stats cadence is wall-clock based: space its samples like ticks would be (shorter, 50 ms).
      const v = await sourceCpuPerSample(src, name.startsWith('docker') ? 60 : IN_PROCESS_SAMPLES, name.startsWith('docker') ? 50 : 0);
      console.log(`${name.padEnd(56)} ${typeof v === 'number' ? `${fmt(v)} CPU/sample` : v}`);
    }
  } finally {
    await Promise.all([pg.dispose(), redis.dispose(), docker?.dispose()]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
