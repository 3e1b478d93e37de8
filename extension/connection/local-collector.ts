// Finds or starts the collector for this user on this machine. A running one is reused when its state
// file (`<dataDir>/collector.json`, mode 0600) names a live pid and `/healthz` accepts its token;
// otherwise the bundled `dist/collector.js` is started as a child process on a free loopback port with
// a fresh random token. Free of the vscode module.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { parseCollectorState, STATE_FILE_NAME, type CollectorState } from '../../protocol/state-file';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../../protocol/collector-node-flags';

/** Time allowed for a started collector to print its URL, in ms. */
export const LOCAL_START_TIMEOUT_MS = 20_000;
/** Time allowed for the reuse health check, in ms. */
const HEALTH_TIMEOUT_MS = 2_000;

/** Where a usable collector listens. */
export interface CollectorEndpoint {
  url: string;
  token: string | undefined;
  pid: number;
  /** True when this process started it (and must stop it). */
  owned: boolean;
}

/** Default data dir, as the collector computes it: `$XDG_STATE_HOME/rigwatch` or `~/.local/state/rigwatch`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'rigwatch');
}

function readState(file: string): CollectorState | undefined {
  try {
    return parseCollectorState(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined; // No state file: no collector to reuse.
  }
}

// Signal 0 probes without signalling; EPERM means the pid exists under another user.
function processExists(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A collector already running for this user, if its state file is current and it answers with its token. */
export async function discoverCollector(dataDir: string): Promise<CollectorEndpoint | undefined> {
  const st = readState(path.join(dataDir, STATE_FILE_NAME));
  if (!st || !processExists(st.pid)) return undefined;
  const headers: Record<string, string> = {};
  if (st.token) headers.authorization = `Bearer ${st.token}`;
  try {
    const res = await fetch(new URL('/healthz', st.url), { headers, signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await res.body?.cancel().catch(() => {});
    if (!res.ok) return undefined;
  } catch {
    return undefined;
  }
  return { url: st.url, token: st.token ?? undefined, pid: st.pid, owned: false };
}

/** How to start the bundled collector. */
export interface SpawnOptions {
  collectorJs: string;
  dataDir: string;
  /** Sample interval in seconds. */
  interval: number;
  configFile?: string;
  /** Receives every line the child prints (stdout and stderr). */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Environment for the child (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The command that runs a Node script from this process: Electron's own binary as Node inside VS Code desktop, else this Node. */
export function nodeCommand(env: NodeJS.ProcessEnv = process.env): { command: string; env: NodeJS.ProcessEnv } {
  // Inside VS Code desktop process.execPath is Electron; ELECTRON_RUN_AS_NODE makes it behave as node.
  // In code-server / VS Code Server it is already a Node binary.
  if (process.versions.electron) return { command: process.execPath, env: { ...env, ELECTRON_RUN_AS_NODE: '1' } };
  return { command: process.execPath, env: { ...env } };
}

/** A collector child process owned by the extension. */
export class LocalCollectorProcess {
  private child: ChildProcess | undefined;
  private exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
  private stopping = false;

  /** The child's pid while running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the child runs. */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Called when the child exits on its own (not through stop()). */
  onUnexpectedExit(l: (code: number | null, signal: string | null) => void): void {
    this.exitListeners.push(l);
  }

  /** Starts the child and resolves with its endpoint once it prints its URL. */
  start(o: SpawnOptions): Promise<CollectorEndpoint> {
    const token = randomBytes(24).toString('base64url');
    const args = [...COLLECTOR_NODE_FLAGS, o.collectorJs, '--port', '0', '--host', '127.0.0.1', '--data-dir', o.dataDir, '--interval', String(o.interval)];
    if (o.configFile) args.push('--config', o.configFile);
    const { command, env } = nodeCommand(o.env ?? process.env);
    // The child takes its configuration from our flags and config file only, not from stray RIGWATCH_* variables.
    for (const k of Object.keys(env)) if (k.startsWith('RIGWATCH_')) delete env[k];
    // The token goes through the environment, never argv: any user can read a command line (`ps`),
    // only this user can read /proc/<pid>/environ.
    env.RIGWATCH_TOKEN = token;
    Object.assign(env, COLLECTOR_ENV);
    this.stopping = false;
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    return new Promise<CollectorEndpoint>((resolve, reject) => {
      let settled = false;
      let tail = '';
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        child.kill('SIGKILL');
        reject(new Error(`the collector did not start within ${LOCAL_START_TIMEOUT_MS / 1000} s${tail ? `: ${tail.trim().split('\n').pop()}` : ''}`));
      }, LOCAL_START_TIMEOUT_MS);
      const lines = (stream: 'stdout' | 'stderr') => {
        let buf = '';
        return (d: Buffer): void => {
          buf += d.toString();
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            const m = /listening on (https?:\/\/\S+?)(#token=\S+)?$/.exec(line);
            // Never forward the token to logs.
            o.onLine(line.replace(/#token=\S+/, '#token=…'), stream);
            if (stream === 'stderr') tail = (tail + line + '\n').slice(-2000);
            if (m && !settled) {
              settled = true;
              clearTimeout(timer);
              resolve({ url: m[1], token, pid: child.pid!, owned: true });
            }
          }
        };
      };
      child.stdout!.on('data', lines('stdout'));
      child.stderr!.on('data', lines('stderr'));
      child.on('error', (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`cannot start the collector with ${command}: ${err.message}`));
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new Error(`the collector exited (${signal ?? `code ${code}`}) before listening${tail ? `: ${tail.trim().split('\n').pop()}` : ''}`));
          return;
        }
        if (!this.stopping) for (const l of this.exitListeners) l(code, signal);
      });
    });
  }

  /** Stops the child (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  async stop(graceMs = 3_000): Promise<void> {
    const child = this.child;
    this.stopping = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
