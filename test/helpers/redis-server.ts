// Starts a real Redis 7 (Debian package `redis-server`) on a free loopback port in a temp dir, for
// tests: no persistence, daemonized with a pidfile, DEBUG allowed from loopback (for `DEBUG SLEEP`).

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, isAlive } from './postgres-server';

const INSTALL_HINT = 'install it with: apt-get update && apt-get install -y redis-server';
const STOP_WAIT_MS = 5000;

/** A running (or stopped) test Redis. */
export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  /** `redis://[:password@]127.0.0.1:port[/db]`. */
  url(opts?: { password?: string; db?: number }): string;
  /** Runs one command through redis-cli and returns its raw output (trimmed). */
  cli(...args: string[]): Promise<string>;
  /** The server pid while running, else null. */
  pid(): number | null;
  /** Stops the server (SHUTDOWN NOSAVE, then waits for the process to go). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its directory. Idempotent. */
  dispose(): Promise<void>;
}

/** Starts a fresh Redis; `password` sets `requirepass`, `args` are extra server options (e.g. `--replicaof`). */
export async function startRedis(opts: { password?: string; args?: string[] } = {}): Promise<RedisServer> {
  const bin = findRedisServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rigwatch-redis-'));
  const port = await freePort();
  const pidfile = path.join(dir, 'redis.pid');
  const authArgs = opts.password ? ['-a', opts.password, '--no-auth-warning'] : [];
  let disposed = false;

  const server: RedisServer = {
    port,
    dir,
    url({ password, db } = {}) {
      const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
      return `redis://${auth}127.0.0.1:${port}${db === undefined ? '' : `/${db}`}`;
    },
    cli(...args: string[]) {
      return new Promise((resolve, reject) => {
        execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...authArgs, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || err.message}`));
          else resolve(stdout.trim());
        });
      });
    },
    pid() {
      if (!existsSync(pidfile)) return null;
      const pid = Number(readFileSync(pidfile, 'utf8').trim());
      return Number.isInteger(pid) && isAlive(pid) ? pid : null;
    },
    async stop() {
      const pid = server.pid();
      if (pid === null) return;
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + STOP_WAIT_MS;
      while (isAlive(pid)) {
        if (Date.now() > deadline) {
          process.kill(pid, 'SIGKILL');
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      rmSync(pidfile, { force: true });
    },
    async start() {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'yes',
        '--pidfile',
        pidfile,
        '--logfile',
        path.join(dir, 'redis.log'),
        '--enable-debug-command',
        'local',
        ...(opts.password ? ['--requirepass', opts.password] : []),
        ...(opts.args ?? []),
      ];
      execFileSync(bin, args, { stdio: 'ignore', timeout: 10_000 });
      // Daemonized: ready once it answers PING.
      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          if ((await server.cli('PING')) === 'PONG') return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await server.start();
  } catch (err) {
    await server.dispose();
    throw err;
  }
  return server;
}

function findRedisServer(): string {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(p)) return p;
  }
  throw new Error(`redis-server not found — ${INSTALL_HINT}`);
}
