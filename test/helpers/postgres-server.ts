// Starts a real PostgreSQL 15 (Debian package `postgresql`) on a free loopback port in a temp dir,
// for tests. One initdb per test process (a template), copied per server; fsync off. As root the
// server runs as the `postgres` user through runuser (postgres refuses to run as root).
// pg_hba: the `postgres` superuser is trusted (also for replication, so a test can start a streaming
// replica with pg_basebackup); every other role must give its password
// (scram-sha-256), so tests can create a role with a password and try a wrong one.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

/** Where Debian's PostgreSQL 15 binaries live. */
export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
const INSTALL_HINT = 'install them with: apt-get update && apt-get install -y postgresql';

/** A running (or stopped) test PostgreSQL. */
export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Data directory (also the unix socket directory). */
  readonly dataDir: string;
  /** A connection URL; the superuser `postgres` needs no password. */
  url(opts?: { user?: string; password?: string; database?: string }): string;
  /** Runs SQL as the superuser on a fresh connection and returns the rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** The postmaster pid while running, else null. */
  pid(): number | null;
  /** Stops the server (fast shutdown), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its directory. Idempotent. */
  dispose(): Promise<void>;
}

let templateDir: string | null = null;

/** Starts a fresh PostgreSQL on a free loopback port. */
export async function startPostgres(): Promise<PostgresServer> {
  checkBinaries();
  const template = await ensureTemplate();
  const base = mkdtempSync(path.join(os.tmpdir(), 'rigwatch-pg-'));
  const dataDir = path.join(base, 'data');
  await run('cp', ['-a', template, dataDir], false);
  chownToPostgres(base);
  return launch(base, dataDir);
}

/**
 * Starts a streaming replica of `primary` (pg_basebackup -R: standby.signal + primary_conninfo; fast checkpoint, else it waits for the next one) on its
 * own free port; hot standby, so it answers read-only queries and `pg_is_in_recovery()` is true.
 */
export async function startPostgresReplica(primary: PostgresServer): Promise<PostgresServer> {
  checkBinaries();
  const base = mkdtempSync(path.join(os.tmpdir(), 'rigwatch-pg-replica-'));
  chownToPostgres(base);
  const dataDir = path.join(base, 'data');
  try {
    await run(
      path.join(PG_BIN_DIR, 'pg_basebackup'),
      ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
      true,
    );
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    throw err;
  }
  return launch(base, dataDir);
}

function checkBinaries(): void {
  for (const bin of ['initdb', 'pg_ctl', 'pg_basebackup']) {
    if (!existsSync(path.join(PG_BIN_DIR, bin))) {
      throw new Error(`PostgreSQL 15 binary ${path.join(PG_BIN_DIR, bin)} not found — ${INSTALL_HINT}`);
    }
  }
}

async function launch(base: string, dataDir: string): Promise<PostgresServer> {
  const port = await freePort();
  let disposed = false;

  const server: PostgresServer = {
    host: '127.0.0.1',
    port,
    dataDir,
    url({ user = 'postgres', password, database = 'postgres' } = {}) {
      const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
      return `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
    },
    async query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
      const c = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', application_name: 'rigwatch-test' });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows as R[];
      } finally {
        await c.end();
      }
    },
    pid() {
      const file = path.join(dataDir, 'postmaster.pid');
      if (!existsSync(file)) return null;
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && isAlive(pid) ? pid : null;
    },
    async stop() {
      if (server.pid() === null) return;
      await run(path.join(PG_BIN_DIR, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], true);
    },
    async start() {
      const opts = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off`;
      await run(path.join(PG_BIN_DIR, 'pg_ctl'), ['-D', dataDir, '-l', path.join(base, 'server.log'), '-w', '-o', opts, 'start'], true);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        await server.stop();
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
  try {
    await server.start();
  } catch (err) {
    const log = path.join(base, 'server.log');
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    rmSync(base, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${tail}`);
  }
  return server;
}

/** True when a process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function ensureTemplate(): Promise<string> {
  if (templateDir && existsSync(templateDir)) return templateDir;
  const base = mkdtempSync(path.join(os.tmpdir(), 'rigwatch-pg-template-'));
  const dir = path.join(base, 'data');
  mkdirSync(dir, { mode: 0o700 });
  chownToPostgres(base);
  await run(path.join(PG_BIN_DIR, 'initdb'), ['-D', dir, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions'], true);
  writeFileSync(
    path.join(dir, 'pg_hba.conf'),
    [
      'local all all trust',
      'host all postgres 127.0.0.1/32 trust',
      'host replication postgres 127.0.0.1/32 trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  chownToPostgres(base);
  templateDir = dir;
  process.once('exit', () => rmSync(base, { recursive: true, force: true }));
  return dir;
}

function chownToPostgres(p: string): void {
  if (!isRoot()) return;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!entry) throw new Error(`no postgres user on this machine — ${INSTALL_HINT}`);
  const [, , uid, gid] = entry.split(':');
  // One `chown -R` process instead of thousands of syscalls from JS.
  execFileSync('chown', ['-R', `${uid}:${gid}`, p], { stdio: 'ignore' });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function run(cmd: string, args: string[], asPostgres: boolean): Promise<string> {
  const [file, argv] = asPostgres && isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}
