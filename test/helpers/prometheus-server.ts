// Starts a real Prometheus (Debian package) on a free loopback port with a given scrape config.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../remote/ssh';

/** A running Prometheus. */
export interface TestPrometheus {
  url: string;
  stop(): Promise<void>;
  log(): string;
}

const PROMETHEUS = '/usr/bin/prometheus';

/** Starts Prometheus with `configYaml`; resolves when /-/ready answers. */
export async function startPrometheus(configYaml: string): Promise<TestPrometheus> {
  if (!fs.existsSync(PROMETHEUS)) throw new Error('prometheus is not installed: apt-get install prometheus');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-prom-'));
  const cfg = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(cfg, configYaml);
  const port = await freePort();
  const proc: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${cfg}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited: ${log.slice(-1000)}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 200) throw new Error(`prometheus not ready after 20 s: ${log.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
