// Starts a private Docker engine for tests: its own dockerd (and the containerd it manages) in a temp
// dir, no networking, a local busybox image made from busybox-static (nothing can be pulled here).
// `dispose()` removes containers, stops the daemons, kills leftovers, unmounts and deletes the dir.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

/** The message a test fails with when the engine cannot be started here. */
export const DOCKER_INSTALL_HINT = 'apt-get install docker.io busybox-static';

/** Tag of the image every engine gets. */
export const TEST_IMAGE = 'rw-busybox:test';

/** How long dockerd may take to answer /_ping after start, ms. */
const ENGINE_READY_TIMEOUT_MS = 30_000;
/** How long dockerd may take to exit after SIGTERM, ms (it stops containers within --shutdown-timeout). */
const ENGINE_STOP_TIMEOUT_MS = 15_000;
/** Seconds dockerd waits for containers on shutdown at most (each container's --stop-timeout applies first). */
const SHUTDOWN_TIMEOUT_S = 2;
/** Busybox applets linked into the image. */
const APPLETS = ['sh', 'sleep', 'true', 'false', 'echo', 'cat', 'ls', 'yes', 'dd', 'head', 'kill'];

/** Options of `docker run` for `engine.run`. */
export interface RunOptions {
  /** Extra `docker run` flags, e.g. ['--health-cmd', 'false', '--restart', 'always']. */
  flags?: string[];
  /** Command inside the container; default `sleep 100000`. */
  cmd?: string[];
}

/** A running private engine. */
export interface DockerEngine {
  readonly dir: string;
  readonly socketPath: string;
  /** `unix://<socketPath>`, for DOCKER_HOST. */
  readonly host: string;
  /** The local busybox image tag. */
  readonly image: string;
  /** Runs the docker CLI against this engine; resolves with trimmed stdout. */
  docker(args: string[]): Promise<string>;
  /** `docker run -d --network none --name <name> …`; resolves with the container id. */
  run(name: string, opts?: RunOptions): Promise<string>;
  /** Stops dockerd (its containers stop with it); the data dir stays for `startEngine`. */
  stopEngine(): Promise<void>;
  /** Starts dockerd again on the same dirs. */
  startEngine(): Promise<void>;
  /** Freezes dockerd (SIGSTOP) and resolves once it is stopped: its socket accepts connections but nothing answers. */
  freeze(): Promise<void>;
  /** Thaws a frozen dockerd (SIGCONT). */
  thaw(): void;
  /** Removes everything this engine started. Idempotent. */
  dispose(): Promise<void>;
}

function findBinary(name: string, extraDirs: string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...extraDirs].filter(Boolean);
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this dir
    }
  }
  return null;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pids of processes whose command line mentions `dir` (containerd and its shims after a crash). */
function processesUsing(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Mount points under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines.map((l) => l.split(' ')[4]).filter((p): p is string => !!p && (p === dir || p.startsWith(dir + '/')));
  return points.sort((a, b) => b.length - a.length);
}

/** A statically linked busybox: the image has no libc, so a dynamic one cannot run in it. */
function staticBusybox(): string | null {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    try {
      const head = fs.readFileSync(p).subarray(0, 8192).toString('latin1');
      if (!head.includes('ld-linux')) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Starts a private dockerd in a fresh temp dir and imports the busybox test image.
 * Fails with the apt-get command when docker.io or busybox-static is missing.
 */
export async function startDockerEngine(): Promise<DockerEngine> {
  const dockerd = findBinary('dockerd', ['/usr/sbin', '/usr/bin']);
  // Prefer the CLI from the docker.io package: it matches the engine's API version.
  const cli = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : findBinary('docker');
  const busybox = staticBusybox();
  if (!dockerd || !cli) throw new Error(`dockerd or the docker CLI is not installed: ${DOCKER_INSTALL_HINT}`);
  if (!busybox) throw new Error(`a static busybox is needed for the test image: ${DOCKER_INSTALL_HINT}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('a private dockerd needs root; run the Docker tests as root');

  // Short base path: containerd's socket lives under exec-root and unix socket paths max out at 108 bytes.
  const base = os.tmpdir().length > 40 ? '/tmp' : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, 'rw-docker-'));
  // Others (the permission test's unprivileged user) may traverse to the socket, whose own mode then decides.
  fs.chmodSync(dir, 0o755);
  const socketPath = path.join(dir, 'docker.sock');
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: path.join(dir, 'cli') };
  delete env.DOCKER_TLS_VERIFY;
  delete env.DOCKER_CONTEXT;
  delete env.DOCKER_CERT_PATH;

  let proc: ChildProcess | undefined;
  let disposed = false;
  const killOnExit = (): void => {
    if (proc?.pid && proc.exitCode === null) process.kill(proc.pid, 'SIGKILL');
  };
  process.on('exit', killOnExit);

  const startEngine = async (): Promise<void> => {
    const logFd = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
    const child = spawn(
      dockerd,
      [
        '--host',
        `unix://${socketPath}`,
        '--data-root',
        path.join(dir, 'data'),
        '--exec-root',
        path.join(dir, 'exec'),
        '--pidfile',
        path.join(dir, 'docker.pid'),
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        '--shutdown-timeout',
        String(SHUTDOWN_TIMEOUT_S),
      ],
      { stdio: ['ignore', logFd, logFd], env },
    );
    fs.closeSync(logFd);
    proc = child;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + ENGINE_READY_TIMEOUT_MS;
    while (!(await ping(socketPath))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
        throw new Error(`dockerd did not start (${child.exitCode === null ? 'timeout' : `exit ${child.exitCode}`}):\n${log}`);
      }
      await sleep(50);
    }
  };

  const stopEngine = async (): Promise<void> => {
    const child = proc;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ENGINE_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const docker = (args: string[]): Promise<string> => run(cli, args, env);

  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    // A frozen dockerd would ignore everything below until SIGKILL.
    if (proc?.pid && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGCONT');
    try {
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const ids = (await docker(['ps', '-aq']).catch(() => '')).split('\n').filter(Boolean);
        if (ids.length) await docker(['rm', '-f', ...ids]).catch(() => '');
      }
      await stopEngine();
    } finally {
      // A dockerd that died hard leaves containerd and shims behind; they carry our dir in their arguments.
      for (let i = 0; i < 20; i++) {
        const left = processesUsing(dir);
        if (left.length === 0) break;
        for (const pid of left) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        await sleep(100);
      }
      for (const m of mountsUnder(dir)) await run('umount', ['-l', m], process.env).catch(() => '');
      fs.rmSync(dir, { recursive: true, force: true });
      process.off('exit', killOnExit);
    }
  };

  try {
    await startEngine();
    const rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'tmp'));
    fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const a of APPLETS) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
    const tar = path.join(dir, 'rootfs.tar');
    await run('tar', ['-C', rootfs, '-cf', tar, '.'], process.env);
    await docker(['import', '--change', 'ENV PATH=/bin', tar, TEST_IMAGE]);
  } catch (err) {
    await dispose();
    throw err;
  }

  return {
    dir,
    socketPath,
    host: `unix://${socketPath}`,
    image: TEST_IMAGE,
    docker,
    run: (name, opts = {}) =>
      // --stop-timeout: busybox as PID 1 ignores SIGTERM; without it every stop (and an engine
      // shutdown) waits the default 10 s before SIGKILL.
      docker([
        'run',
        '-d',
        '--network',
        'none',
        '--stop-timeout',
        '1',
        '--name',
        name,
        ...(opts.flags ?? []),
        TEST_IMAGE,
        ...(opts.cmd ?? ['sleep', '100000']),
      ]),
    stopEngine,
    startEngine,
    freeze: async () => {
      const pid = proc?.pid;
      if (!pid) return;
      process.kill(pid, 'SIGSTOP');
      // Signal delivery is asynchronous: a request sent right away could still be answered.
      for (let i = 0; i < 100 && !/^State:\s+T/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); i++) await sleep(10);
    },
    thaw: () => {
      if (proc?.pid) process.kill(proc.pid, 'SIGCONT');
    },
    dispose,
  };
}
