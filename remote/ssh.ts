// Deploys, starts and tunnels to a collector on a remote box over the system `ssh`, so the user's keys,
// agent, ProxyJump and known_hosts apply. One ControlMaster connection per host carries every command and
// the port forward. Host names and paths are passed to ssh as arguments, never through a local shell; the
// remote scripts are fixed text plus values this module generates (hex hashes, numbers, hex tokens).

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import { parseCollectorState, type CollectorState } from '../protocol/state-file';
import { Backoff, type BackoffOptions } from '../client/backoff';

/** Oldest Node the collector bundle runs on. */
export const MIN_REMOTE_NODE_MAJOR = 18;
/** Time allowed for one ssh command (connect + run), in ms. */
export const SSH_COMMAND_TIMEOUT_MS = 30_000;
/** Time the remote collector has to write its state file after start, in ms. */
export const REMOTE_START_TIMEOUT_MS = 15_000;
/** Reconnect backoff bounds for a dropped connection, in ms. */
export const RECONNECT_MIN_MS = 1000;
/** Longest reconnect delay, in ms. */
export const RECONNECT_MAX_MS = 60_000;
/** Reconnect backoff: 1 s doubling to 60 s, up to 20 % shorter at random. */
export const RECONNECT_BACKOFF: BackoffOptions = { initialMs: RECONNECT_MIN_MS, maxMs: RECONNECT_MAX_MS, factor: 2, jitter: 0.2 };

/** Where a remote host is. */
export interface SshTarget {
  /** `host`, `user@host`, or an alias from ~/.ssh/config. */
  destination: string;
  port?: number;
}

const HOST_RE = /^(?:[A-Za-z0-9._-]{1,64}@)?(?:[A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/;

/**
 * Parses `user@host[:port]` (or an ssh config alias). Refuses anything that could be read as an ssh
 * option or carry shell syntax — the name is later passed as one argv entry, but a leading `-` would
 * still be an option to ssh.
 */
export function parseTarget(text: string): SshTarget {
  const t = text.trim();
  let destination = t;
  let port: number | undefined;
  const m = /^(.*?):(\d{1,5})$/.exec(t);
  if (m && !t.startsWith('[')) {
    destination = m[1];
    port = Number(m[2]);
    if (port < 1 || port > 65535) throw new Error(`invalid SSH port ${m[2]} in "${text}": expected 1 to 65535`);
  }
  if (destination.startsWith('-') || !HOST_RE.test(destination)) {
    throw new Error(`invalid SSH host "${text}": expected [user@]host[:port] with letters, digits, ".", "_" and "-" only`);
  }
  return port === undefined ? { destination } : { destination, port };
}

/** Options of a remote deploy. */
export interface SshOptions {
  target: SshTarget;
  /** The collector bundle to deploy (dist/collector.js). */
  bundlePath: string;
  /** Extra ssh arguments placed before the destination (e.g. `-F`, `-i`, `-o UserKnownHostsFile=…`). */
  sshArgs?: string[];
  /** ssh binary (default `ssh` on PATH). */
  sshPath?: string;
  /** Local port for the forward (default: a free one). */
  localPort?: number;
  /** Remote collector's idle timeout in hours (0 = never). */
  idleTimeoutHours?: number;
  /** Remote sample interval in seconds. */
  interval?: number;
  log?: (line: string) => void;
}

/** What a deploy found and did. */
export interface RemoteCollector {
  nodeVersion: string;
  /** True when the bundle was copied this time (absent or different hash). */
  copied: boolean;
  /** True when an already running collector was reused. */
  reused: boolean;
  remotePid: number;
  remotePort: number;
  token: string;
  localPort: number;
  /** Local URL of the forwarded collector (without the token). */
  url: string;
}

/** Second argument of the `down` event: whether and when the connection is tried again. */
export interface DownInfo {
  retry: boolean;
  /** Delay until the next attempt, in ms (null when there is none). */
  delayMs: number | null;
}

/** A failure with a message for users (no secrets). */
export class RemoteError extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** sha256 of a file, hex. */
export function fileHash(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A free loopback TCP port (released before use; ssh binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

// The remote side. `$HOME/.cache/rigwatch` holds the bundle, its state dir and its log.
const PROBE_SCRIPT = `
D="$HOME/.cache/rigwatch"
if ! command -v node >/dev/null 2>&1; then echo "RW_NO_NODE"; exit 0; fi
echo "RW_NODE $(node -v)"
mkdir -p "$D/state" && chmod 700 "$D" "$D/state"
if [ -f "$D/collector.js" ]; then
  echo "RW_HASH $(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$D/collector.js")"
fi
if [ -f "$D/state/collector.json" ]; then
  PID=$(node -e 'try{process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).pid))}catch(e){}' "$D/state/collector.json")
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then echo "RW_STATE $(tr -d '\\n' < "$D/state/collector.json")"; fi
fi
echo "RW_END"
`;

const UPLOAD_SCRIPT = `
D="$HOME/.cache/rigwatch"
umask 077
cat > "$D/collector.js.tmp" && mv -f "$D/collector.js.tmp" "$D/collector.js" && echo "RW_UPLOADED"
`;

function startScript(token: string, idleHours: number, interval: number, stopPid: number | null): string {
  // Values are generated here: a hex token and numbers. The token goes through the environment so it
  // never shows in the remote `ps`.
  if (!/^[0-9a-f]+$/.test(token) || !Number.isFinite(idleHours) || !Number.isFinite(interval)) throw new Error('bad start parameters');
  // One start at a time per remote user (two editor windows may connect at once); after taking the
  // lock, a collector another start just launched is reused instead of starting a second one.
  return `
D="$HOME/.cache/rigwatch"
n=0; until mkdir "$D/start.lock" 2>/dev/null; do n=$((n+1)); [ $n -gt 100 ] && rm -rf "$D/start.lock"; sleep 0.2; done
trap 'rmdir "$D/start.lock" 2>/dev/null' EXIT
if [ -f "$D/state/collector.json" ]; then
  P=$(node -e 'try{process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).pid))}catch(e){}' "$D/state/collector.json")
  if [ -n "$P" ] && [ "$P" != "${stopPid ?? ''}" ] && kill -0 "$P" 2>/dev/null; then echo "RW_STATE $(tr -d '\\n' < "$D/state/collector.json")"; exit 0; fi
fi
${stopPid ? `kill ${stopPid} 2>/dev/null; for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 ${stopPid} 2>/dev/null || break; sleep 0.2; done` : ''}
rm -f "$D/state/collector.json"
RIGWATCH_TOKEN=${token} nohup node "$D/collector.js" --port 0 --host 127.0.0.1 --data-dir "$D/state" --idle-timeout ${idleHours} --interval ${interval} > "$D/collector.log" 2>&1 < /dev/null &
i=0
while [ $i -lt ${Math.ceil(REMOTE_START_TIMEOUT_MS / 200)} ]; do
  if [ -s "$D/state/collector.json" ]; then echo "RW_STATE $(tr -d '\\n' < "$D/state/collector.json")"; exit 0; fi
  sleep 0.2; i=$((i+1))
done
echo "RW_START_FAILED $(tail -c 400 "$D/collector.log" | tr '\\n' ' ')"
`;
}

const STOP_SCRIPT = `
D="$HOME/.cache/rigwatch"
if [ -f "$D/state/collector.json" ]; then
  PID=$(node -e 'try{process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).pid))}catch(e){}' "$D/state/collector.json")
  if [ -n "$PID" ] && kill "$PID" 2>/dev/null; then echo "RW_STOPPED $PID"; exit 0; fi
fi
echo "RW_NOT_RUNNING"
`;

function parseState(line: string | undefined): CollectorState | null {
  return (line && parseCollectorState(line)) || null;
}

/**
 * One remote host: a ControlMaster ssh connection that carries the deploy commands and the forward,
 * re-established with backoff when it drops. Events: `up` (RemoteCollector), `down` (reason, DownInfo), `log`.
 */
export class SshRemote extends EventEmitter {
  private master: ChildProcess | null = null;
  private readonly controlDir: string;
  private readonly controlPath: string;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff(RECONNECT_BACKOFF);
  private reconnectDelayMs = 0;
  private current: RemoteCollector | null = null;

  constructor(private readonly opts: SshOptions) {
    super();
    // Control sockets need a short path (sun_path is ~100 bytes).
    this.controlDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-ssh-'));
    this.controlPath = path.join(this.controlDir, 'c');
  }

  /** The last successful deploy. */
  get remote(): RemoteCollector | null {
    return this.current;
  }

  private log(line: string): void {
    this.opts.log?.(line);
    this.emit('log', line);
  }

  private baseArgs(): string[] {
    const a = ['-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3', '-o', 'ConnectTimeout=15', '-S', this.controlPath];
    if (this.opts.target.port) a.push('-p', String(this.opts.target.port));
    return [...a, ...(this.opts.sshArgs ?? [])];
  }

  /** Runs `ssh … destination sh -s` with `script` (then `stdin`, if any) on standard input. */
  private run(script: string, stdin?: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const args = [...this.baseArgs(), '--', this.opts.target.destination, stdin ? `/bin/sh -c '${UPLOAD_SCRIPT_INLINE}'` : '/bin/sh -s'];
      const p = spawn(this.opts.sshPath ?? 'ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => {
        p.kill('SIGKILL');
        reject(new RemoteError(`ssh ${this.opts.target.destination}: no answer within ${SSH_COMMAND_TIMEOUT_MS / 1000} s`, true));
      }, SSH_COMMAND_TIMEOUT_MS);
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', (e) => {
        clearTimeout(timer);
        reject(new RemoteError(`cannot run ssh: ${e.message}`, false));
      });
      p.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(sshFailure(this.opts.target.destination, code, err));
      });
      p.stdin.on('error', () => undefined);
      if (stdin) p.stdin.end(stdin);
      else p.stdin.end(script);
    });
  }

  /** Starts the control master (one authenticated connection for everything else). */
  private startMaster(): Promise<void> {
    // A master killed hard leaves its socket behind; a stale socket would look "ready" at once.
    fs.rmSync(this.controlPath, { force: true });
    return new Promise((resolve, reject) => {
      const args = [...this.baseArgs(), '-M', '-N', '-o', 'ControlPersist=no', '-o', 'ExitOnForwardFailure=yes', '--', this.opts.target.destination];
      const p = spawn(this.opts.sshPath ?? 'ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      this.master = p;
      let err = '';
      let settled = false;
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const poll = setInterval(() => {
        if (fs.existsSync(this.controlPath)) {
          clearInterval(poll);
          settled = true;
          resolve();
        }
      }, 50);
      p.on('error', (e) => {
        clearInterval(poll);
        if (!settled) reject(new RemoteError(`cannot run ssh: ${e.message}`, false));
      });
      p.on('exit', (code) => {
        clearInterval(poll);
        if (this.master === p) this.master = null;
        if (!settled) {
          settled = true;
          reject(sshFailure(this.opts.target.destination, code, err));
          return;
        }
        if (!this.closed) this.dropped(`SSH connection to ${this.opts.target.destination} closed${err.trim() ? `: ${lastLine(err)}` : ''}`);
      });
    });
  }

  private dropped(reason: string): void {
    this.log(reason);
    const delayMs = this.scheduleReconnect();
    this.emit('down', reason, { retry: delayMs !== null, delayMs } satisfies DownInfo);
  }

  /** Schedules a reconnect; returns its delay in ms, or null when none will happen. */
  private scheduleReconnect(): number | null {
    if (this.closed) return null;
    if (this.reconnectTimer) return this.reconnectDelayMs;
    const wait = (this.reconnectDelayMs = this.backoff.next());
    this.log(`reconnecting to ${this.opts.target.destination} in ${Math.round(wait / 100) / 10} s`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch((e: Error) => {
        this.log(e.message);
        const delayMs = !(e instanceof RemoteError) || e.retry ? this.scheduleReconnect() : null;
        this.emit('down', e.message, { retry: delayMs !== null, delayMs } satisfies DownInfo);
      });
    }, wait);
    return wait;
  }

  /** Connects (or reconnects): master, deploy if needed, start or reuse, forward. */
  async connect(): Promise<RemoteCollector> {
    if (this.closed) throw new RemoteError('this remote connection was closed', false);
    if (!this.master) await this.startMaster();
    const probe = await this.run(PROBE_SCRIPT);
    const lines = probe.split('\n');
    const get = (tag: string): string | undefined => lines.find((l) => l.startsWith(tag + ' '))?.slice(tag.length + 1).trim();
    if (lines.some((l) => l.trim() === 'RW_NO_NODE')) {
      throw new RemoteError(`Node.js is not installed on ${this.opts.target.destination} (or not on its PATH for non-interactive ssh). Install Node ${MIN_REMOTE_NODE_MAJOR} or newer there, e.g. "sudo apt-get install nodejs" or from https://nodejs.org, then connect again.`, false);
    }
    const nodeVersion = get('RW_NODE') ?? '';
    const major = Number(/^v(\d+)/.exec(nodeVersion)?.[1] ?? 0);
    if (major < MIN_REMOTE_NODE_MAJOR) {
      throw new RemoteError(`Node.js on ${this.opts.target.destination} is ${nodeVersion || 'unknown'}; Rigwatch needs ${MIN_REMOTE_NODE_MAJOR} or newer. Upgrade it there and connect again.`, false);
    }
    const ourHash = fileHash(this.opts.bundlePath);
    const theirHash = get('RW_HASH');
    let copied = false;
    if (theirHash !== ourHash) {
      this.log(`copying the collector bundle to ${this.opts.target.destination} (${theirHash ? 'outdated' : 'absent'})`);
      const out = await this.run('', fs.readFileSync(this.opts.bundlePath));
      if (!out.includes('RW_UPLOADED')) throw new RemoteError(`copying the collector to ${this.opts.target.destination} failed: ${out.slice(0, 200)}`, true);
      copied = true;
    }
    let state = parseState(get('RW_STATE'));
    let reused = false;
    if (state && !copied && state.token) {
      reused = true;
    } else {
      const token = randomBytes(24).toString('hex');
      const out = await this.run(startScript(token, this.opts.idleTimeoutHours ?? 0, this.opts.interval ?? 1, state?.pid ?? null));
      const started = parseState(out.split('\n').find((l) => l.startsWith('RW_STATE '))?.slice(9));
      if (!started) {
        const why = out.split('\n').find((l) => l.startsWith('RW_START_FAILED'))?.slice(16) ?? out.slice(0, 200);
        throw new RemoteError(`the collector did not start on ${this.opts.target.destination}: ${why.trim()}`, true);
      }
      state = started;
    }
    if (!state.token) throw new RemoteError(`the collector on ${this.opts.target.destination} runs without a token; stop it and connect again`, false);
    const localPort = this.current?.localPort ?? this.opts.localPort ?? (await freePort());
    // The collector restarted on another port while this master lived on: drop the old forward first.
    if (this.current && this.current.remotePort !== state.port) {
      await this.forward(localPort, this.current.remotePort, 'cancel').catch(() => undefined);
    }
    await this.forward(localPort, state.port);
    this.backoff.reset();
    this.current = {
      nodeVersion, copied, reused, remotePid: state.pid, remotePort: state.port, token: state.token, localPort,
      url: `http://127.0.0.1:${localPort}/`,
    };
    this.emit('up', this.current);
    return this.current;
  }

  private forward(localPort: number, remotePort: number, op: 'forward' | 'cancel' = 'forward'): Promise<void> {
    return new Promise((resolve, reject) => {
      const args = [...this.baseArgs(), '-O', op, '-L', `127.0.0.1:${localPort}:127.0.0.1:${remotePort}`, '--', this.opts.target.destination];
      const p = spawn(this.opts.sshPath ?? 'ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', (e) => reject(new RemoteError(`cannot run ssh: ${e.message}`, false)));
      p.on('close', (code) => (code === 0 ? resolve() : reject(new RemoteError(`cannot forward local port ${localPort} to ${this.opts.target.destination}: ${lastLine(err)}`, true))));
    });
  }

  /** Stops the remote collector (an explicit user action; disconnecting leaves it running). */
  async stopRemote(): Promise<boolean> {
    if (!this.master) await this.startMaster();
    const out = await this.run(STOP_SCRIPT);
    return out.includes('RW_STOPPED');
  }

  /** pid of the local ssh master (tests kill it to simulate a dropped link). */
  get masterPid(): number | undefined {
    return this.master?.pid;
  }

  /** Closes the tunnel and the connection; the remote collector keeps running. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const m = this.master;
    this.master = null;
    if (m && m.exitCode === null) {
      m.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          m.kill('SIGKILL');
          r();
        }, 3000);
        m.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    fs.rmSync(this.controlDir, { recursive: true, force: true });
  }
}

// The upload runs `sh -c '<this>'` so that the bundle itself can be standard input.
const UPLOAD_SCRIPT_INLINE = UPLOAD_SCRIPT.trim().replace(/\n/g, '; ').replace(/; ;/g, ';');

function lastLine(s: string): string {
  const lines = s.trim().split('\n').filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

function sshFailure(dest: string, code: number | null, stderr: string): RemoteError {
  const msg = lastLine(stderr);
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    return new RemoteError(`ssh ${dest}: host key verification failed. Connect once with "ssh ${dest}" in a terminal to check and accept its key; Rigwatch never disables host-key checking.`, false);
  }
  if (/Permission denied/.test(stderr)) {
    return new RemoteError(`ssh ${dest}: permission denied (${msg}). Rigwatch uses your ssh keys and agent and never asks for passwords; make sure "ssh ${dest}" works without a prompt.`, false);
  }
  if (/Could not resolve hostname/.test(stderr)) return new RemoteError(`ssh ${dest}: ${msg}`, false);
  return new RemoteError(`ssh ${dest} failed (exit ${code}): ${msg || 'no message'}`, true);
}
