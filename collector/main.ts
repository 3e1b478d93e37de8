// The `rigwatch-collector` CLI: parse config, build sources, history, alerts and CSV, start the tick
// loop and the server, write the state file, and shut down cleanly on SIGINT/SIGTERM.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostInfo } from '../protocol';
import { runWorkerIfRequested } from './workers';
import { SOURCE_FACTORIES } from './sources/index';
import { stuckNvmlWorkers } from './sources/gpu';
import { HELP_TEXT, isLoopback, parseCli } from './config';
import { ConfigError } from './config-error';
import { createLogger } from './log';
import type { Source } from './source';
import { createSources } from './create-sources';
import { Collector } from './collector';
import { CollectorServer } from './server/server';
import { openParts } from './parts';
import { runSshCommand } from '../remote/cli';
import { hostInventory } from './sources/host';
import { STATE_FILE_NAME } from '../protocol/state-file';
import { acquireLock, readStateFile, releaseLock, removeStateFile, writeStateFile } from './state-file';
import { webviewCss, webviewJs } from 'rigwatch:webview-assets';

declare const RIGWATCH_VERSION: string;
/** The collector's version (from package.json at build time). */
export const VERSION = typeof RIGWATCH_VERSION === 'string' ? RIGWATCH_VERSION : '0.0.0-dev';

async function hostInfo(): Promise<HostInfo> {
  const inv = await hostInventory();
  return { ...inv, collectorVersion: VERSION, pid: process.pid, startedAt: Date.now() };
}

async function main(): Promise<void> {
  if (process.argv[2] === 'ssh') {
    try {
      process.exitCode = await runSshCommand(process.argv.slice(3), __filename);
    } catch (e) {
      fail(e);
    }
    return;
  }
  let req;
  try {
    req = parseCli(
      process.argv.slice(2),
      process.env,
      SOURCE_FACTORIES.map((f) => f.kind),
    );
  } catch (e) {
    fail(e);
  }
  if (req.kind === 'help') {
    process.stdout.write(HELP_TEXT + '\n');
    return;
  }
  if (req.kind === 'version') {
    process.stdout.write(VERSION + '\n');
    return;
  }
  const config = req.config;
  // Read once: processes the collector starts (workers, helpers) need not inherit the secret.
  delete process.env.RIGWATCH_TOKEN;
  const log = createLogger(config.logLevel);
  try {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    fail(
      new ConfigError(
        'dataDir',
        config.dataDir,
        `a directory that can be created (${(e as NodeJS.ErrnoException).code})`,
        config.configFile ?? 'configuration',
      ),
    );
  }
  checkWritable(config.dataDir);
  const stateFile = path.join(config.dataDir, STATE_FILE_NAME);
  const lockFile = path.join(config.dataDir, 'collector.lock');
  const lock = acquireLock(lockFile);
  if (!lock.ok) {
    const other = readStateFile(stateFile);
    const where = other && other.pid === lock.pid ? ` at ${other.url}` : '';
    fail(
      new Error(
        `another collector (pid ${Number.isNaN(lock.pid) ? 'unknown' : lock.pid}) is already running with data dir ${config.dataDir}${where}; reuse it, stop it, or pass a different --data-dir`,
      ),
    );
  }
  process.on('exit', () => releaseLock(lockFile));
  let collector: Collector | undefined;
  let sources: Source[];
  let parts;
  try {
    sources = createSources(config, log, () => collector?.latest());
    parts = await openParts(config, log);
  } catch (e) {
    fail(e);
  }
  collector = new Collector(sources, config.intervalMs, {
    history: parts.history,
    alerts: parts.alerts,
    csv: parts.csv,
    log,
    maxSeriesPerSource: config.limits.maxSeriesPerSource,
  });
  const info = await hostInfo();
  const server = new CollectorServer({
    collector,
    history: parts.history,
    alerts: parts.alerts,
    csv: parts.csv,
    hostInfo: info,
    policy: { token: config.token, loopbackOnly: isLoopback(config.host), allowedOrigins: config.allowedOrigins },
    log: log.child('server'),
    // Getters: the dashboard's text is made when a browser asks for it, not held for the collector's life.
    assets: {
      get js() {
        return webviewJs();
      },
      get css() {
        return webviewCss();
      },
    },
    limits: config.limits,
  });
  let port: number;
  try {
    port = await server.listen(config.port, config.host);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EADDRINUSE' ? ' (another collector may be running: see its state file, or pass --port 0)' : '';
    fail(new Error(`cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}${hint}`));
  }
  collector.start();
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const url = `http://${hostForUrl}:${port}/`;
  try {
    writeStateFile(stateFile, { pid: process.pid, port, host: config.host, url, token: config.token ?? null, version: VERSION, startedAt: info.startedAt });
  } catch (e) {
    log.warn(`cannot write state file ${stateFile}: ${(e as Error).message}`);
  }
  process.stdout.write(`Rigwatch collector ${VERSION} listening on ${url}${config.token ? '#token=' + config.token : ''}\n`);
  log.info(`sampling every ${config.intervalMs} ms; data in ${config.dataDir}`);

  let idleTimer: NodeJS.Timeout | undefined;
  if (config.idleTimeoutMs > 0) {
    idleTimer = setInterval(
      () => {
        if (server.idleForMs() >= config.idleTimeoutMs) {
          log.info(`no clients for ${config.idleTimeoutMs / 3600_000} h; stopping (idle timeout)`);
          void shutdown('idle timeout');
        }
      },
      Math.min(60_000, config.idleTimeoutMs),
    );
    idleTimer.unref();
  }

  let stopping = false;
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    if (idleTimer) clearInterval(idleTimer);
    await server.close();
    await collector!.stop();
    removeStateFile(stateFile, process.pid);
    // A GPU worker thread stuck in a driver call would block process.exit() (Node joins threads).
    if (stuckNvmlWorkers() > 0) {
      log.warn('an NVML call is still hung; exiting with SIGKILL');
      process.kill(process.pid, 'SIGKILL');
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
}

/** Exits with code 2 and one line naming the data dir when it cannot be written (read-only, not ours). */
function checkWritable(dir: string): void {
  const probe = path.join(dir, `.write-test-${process.pid}`);
  try {
    fs.writeFileSync(probe, '', { mode: 0o600 });
    fs.unlinkSync(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'EROFS'
        ? 'it is on a read-only filesystem'
        : err.code === 'EACCES' || err.code === 'EPERM'
          ? 'this user may not write in it'
          : err.code === 'ENOTDIR'
            ? 'it is not a directory'
            : err.code === 'ENOSPC'
              ? 'its disk is full'
              : 'it cannot be written';
    fail(new Error(`data dir ${dir} is not usable: ${why} (${err.code ?? err.message}); fix it or pass another with --data-dir`));
  }
}

function fail(e: unknown): never {
  const msg = e instanceof ConfigError ? `invalid configuration: ${e.message}` : (e as Error).message;
  process.stderr.write(`rigwatch-collector: ${msg}\n`);
  process.exit(2);
}

if (!runWorkerIfRequested() && require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`rigwatch-collector: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
