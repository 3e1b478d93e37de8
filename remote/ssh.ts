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
import { COLLECTOR_NODE_FLAGS, collectorEnvAssignments } from '../protocol/collector-node-flags';
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
  /** Extra folders searched for koffi prebuilts (`<dir>/<platform>_<arch>/koffi.node`), before the defaults. */
  koffiSearchDirs?: string[];
  log?: (line: string) => void;
}

/** What a deploy found and did. */
export interface RemoteCollector {
  nodeVersion: string;
  /** `process.platform-process.arch` of the remote node, e.g. `linux-arm64`. */
  platform: string;
  /** True when anything was copied this time (absent or different hash). */
  copied: boolean;
  /** Names of the files copied this time (`collector.js`, `koffi-linux-x64.node`). */
  copiedFiles: string[];
  /** True when koffi's native module for the remote platform was deployed (NVML instead of nvidia-smi). */
  nvmlNative: boolean;
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
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
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

// The remote side. `$HOME/.cache/rigwatch` holds the bundle, its state dir and its log. Every script
// first runs the guard below (plain node, so it works wherever the collector can): the cache must be a
// real directory (not a symlink) owned by this user with mode 0700, inside a parent nobody else can
// write to; it is created so when missing, and refused with the exact reason otherwise.
// `RW_JS cache` checks/creates the cache; `RW_JS hash FILE` prints a sha256; `RW_JS pid` prints the
// state file's pid only when that process is a Rigwatch collector of this user started with this
// cache (its cmdline names our bundle and data dir, its start time matches the state file's startedAt).
const GUARD_JS = [
  'const fs=require("fs"),path=require("path"),crypto=require("crypto");',
  'const H=process.env.HOME,D=path.join(H,".cache","rigwatch"),uid=process.getuid(),[verb,arg]=process.argv.slice(1);',
  'const fail=(m)=>{process.stdout.write("RW_UNSAFE "+m+"\\n");process.exit(0)};',
  'if(verb==="cache"){',
  ' const P=path.dirname(D);',
  ' try{fs.mkdirSync(P,{recursive:true,mode:0o700})}catch(e){fail("cannot create "+P+": "+e.code)}',
  ' const ps=fs.lstatSync(P);',
  ' if(!ps.isDirectory())fail(P+" is not a directory");',
  ' if(ps.uid!==uid&&ps.uid!==0)fail(P+" is owned by uid "+ps.uid+", not by you (uid "+uid+")");',
  ' if((ps.mode&0o022)&&!(ps.mode&0o1000))fail(P+" is writable by other users (mode "+(ps.mode&0o7777).toString(8)+"); run chmod go-w "+P);',
  ' let st;try{st=fs.lstatSync(D)}catch(e){if(e.code!=="ENOENT")fail("cannot inspect "+D+": "+e.code);fs.mkdirSync(D,{mode:0o700});st=fs.lstatSync(D)}',
  ' if(st.isSymbolicLink())fail(D+" is a symbolic link (to "+fs.readlinkSync(D)+"); remove it and connect again");',
  ' if(!st.isDirectory())fail(D+" is not a directory; remove it and connect again");',
  ' if(st.uid!==uid)fail(D+" is owned by uid "+st.uid+", not by you (uid "+uid+"); remove it and connect again");',
  ' if((st.mode&0o777)!==0o700)fail(D+" has mode "+(st.mode&0o777).toString(8)+", expected 700; run chmod 700 "+D);',
  ' const S=path.join(D,"state");try{fs.mkdirSync(S,{mode:0o700})}catch(e){if(e.code!=="EEXIST")fail("cannot create "+S+": "+e.code)}',
  ' const ss=fs.lstatSync(S);if(!ss.isDirectory()||ss.isSymbolicLink()||ss.uid!==uid)fail(S+" is not a directory of yours");fs.chmodSync(S,0o700);',
  ' process.stdout.write("RW_CACHE_OK\\n");',
  '}else if(verb==="hash"){',
  ' try{process.stdout.write(crypto.createHash("sha256").update(fs.readFileSync(arg)).digest("hex"))}catch(e){}',
  '}else if(verb==="pid"){',
  ' let s;try{s=JSON.parse(fs.readFileSync(path.join(D,"state","collector.json"),"utf8"))}catch(e){process.exit(0)}',
  ' const pid=s.pid;if(!Number.isInteger(pid)||pid<2||typeof s.startedAt!=="number")process.exit(0);',
  ' try{',
  '  if(fs.statSync("/proc/"+pid).uid!==uid)process.exit(0);',
  '  const argv=fs.readFileSync("/proc/"+pid+"/cmdline","utf8").split("\\0");',
  '  if(!argv.includes(path.join(D,"collector.js"))||!argv.includes(path.join(D,"state")))process.exit(0);',
  '  const st=fs.readFileSync("/proc/"+pid+"/stat","utf8");const f=st.slice(st.lastIndexOf(")")+2).split(" ");',
  '  const bt=Number(/^btime\\s+(\\d+)/m.exec(fs.readFileSync("/proc/stat","utf8"))[1]);',
  '  const started=bt*1000+Number(f[19])*10;',
  // The state file is written after start: the process began at most 2 min before it, and not after (1 s of rounding).
  '  if(started>s.startedAt+1000||started<s.startedAt-120000)process.exit(0);',
  '  process.stdout.write(String(pid));',
  ' }catch(e){}',
  '}',
].join('');

/** Shell lines that define `rwjs` (the guard above) and stop the script unless the cache is safe. */
const GUARD = `
D="$HOME/.cache/rigwatch"
umask 077
rwjs() { node -e '${GUARD_JS}' "$@"; }
G=$(rwjs cache)
case "$G" in RW_CACHE_OK*) ;; *) echo "$G"; [ -n "$G" ] || echo "RW_UNSAFE cannot check $D"; exit 0;; esac
`;

const PROBE_SCRIPT = `
if ! command -v node >/dev/null 2>&1; then echo "RW_NO_NODE"; exit 0; fi
echo "RW_NODE $(node -v)"
echo "RW_PLATFORM $(node -p 'process.platform+"-"+process.arch')"
${GUARD}
if [ -f "$D/collector.js" ]; then echo "RW_HASH $(rwjs hash "$D/collector.js")"; fi
for f in "$D"/koffi-*.node; do [ -f "$f" ] && echo "RW_FILE_HASH $(basename "$f") $(rwjs hash "$f")"; done
PID=$(rwjs pid)
if [ -n "$PID" ]; then echo "RW_STATE $(tr -d '\\n' < "$D/state/collector.json")"; fi
echo "RW_END"
`;

/** File names the deploy may write into the cache. */
const UPLOAD_NAME_RE = /^(collector\.js|koffi-[a-z0-9]+-[a-z0-9]+\.node)$/;

/**
 * Script run as `sh -c '<script>'` with the file on standard input: written to a temp file inside the
 * checked cache, its sha256 compared with the expected one, then renamed into place.
 */
function uploadScript(name: string, hash: string): string {
  if (!UPLOAD_NAME_RE.test(name) || !/^[0-9a-f]{64}$/.test(hash)) throw new Error('bad upload parameters');
  return `${GUARD}
T=$(mktemp "$D/.upload.XXXXXX") || { echo "RW_UNSAFE cannot create a temp file in $D"; exit 0; }
cat > "$T"
H=$(rwjs hash "$T")
if [ "$H" != "${hash}" ]; then rm -f "$T"; echo "RW_HASH_MISMATCH $H"; exit 0; fi
chmod 700 "$T" && mv -f "$T" "$D/${name}" && echo "RW_UPLOADED"
`;
}

function startScript(token: string, idleHours: number, interval: number, deployId: string): string {
  // Values are generated here: a hex token and numbers. The token goes through the environment so it
  // never shows in the remote `ps`.
  if (!/^[0-9a-f]+$/.test(token) || !/^[0-9a-f]{64}$/.test(deployId) || !Number.isFinite(idleHours) || !Number.isFinite(interval))
    throw new Error('bad start parameters');
  // One start at a time per remote user (two editor windows may connect at once); after taking the
  // lock, a collector another start just launched is reused instead of starting a second one. Only a
  // pid that `rwjs pid` verified (a collector of this user from this cache) is ever signalled.
  return `${GUARD}
n=0; until mkdir "$D/start.lock" 2>/dev/null; do n=$((n+1)); [ $n -gt 100 ] && rm -rf "$D/start.lock"; sleep 0.2; done
trap 'rmdir "$D/start.lock" 2>/dev/null' EXIT
P=$(rwjs pid)
if [ -n "$P" ]; then
  if [ "$(cat "$D/state/deploy.id" 2>/dev/null)" = "${deployId}" ]; then echo "RW_STATE $(tr -d '\\n' < "$D/state/collector.json")"; exit 0; fi
  kill "$P" 2>/dev/null; for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$P" 2>/dev/null || break; sleep 0.2; done
fi
rm -f "$D/state/collector.json" "$D/collector.log"
echo "${deployId}" > "$D/state/deploy.id"
RIGWATCH_TOKEN=${token} ${collectorEnvAssignments()} nohup node ${COLLECTOR_NODE_FLAGS.join(' ')} "$D/collector.js" --port 0 --host 127.0.0.1 --data-dir "$D/state" --idle-timeout ${idleHours} --interval ${interval} > "$D/collector.log" 2>&1 < /dev/null &
i=0
while [ $i -lt ${Math.ceil(REMOTE_START_TIMEOUT_MS / 200)} ]; do
  if [ -s "$D/state/collector.json" ]; then echo "RW_STATE $(tr -d '\\n' < "$D/state/collector.json")"; exit 0; fi
  sleep 0.2; i=$((i+1))
done
echo "RW_START_FAILED $(tail -c 400 "$D/collector.log" | tr '\\n' ' ')"
`;
}

const STOP_SCRIPT = `${GUARD}
PID=$(rwjs pid)
if [ -n "$PID" ] && kill "$PID" 2>/dev/null; then echo "RW_STOPPED $PID"; exit 0; fi
echo "RW_NOT_RUNNING"
`;

/** The message for an `RW_UNSAFE` line (the cache or a file in it is not safe to use). */
function unsafeError(dest: string, out: string): RemoteError | null {
  const line = out.split('\n').find((l) => l.startsWith('RW_UNSAFE '));
  return line ? new RemoteError(`refusing the remote cache on ${dest}: ${line.slice(10).trim()}`, false) : null;
}

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

  /**
   * Runs `script` remotely: on standard input (`sh -s`), or — when `stdin` carries a file — as the
   * argument of `sh -c` (quoted for the remote login shell) with the file on standard input.
   */
  private run(script: string, stdin?: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const args = [...this.baseArgs(), '--', this.opts.target.destination, stdin ? `/bin/sh -c ${shellQuote(script)}` : '/bin/sh -s'];
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
    const get = (tag: string): string | undefined =>
      lines
        .find((l) => l.startsWith(tag + ' '))
        ?.slice(tag.length + 1)
        .trim();
    if (lines.some((l) => l.trim() === 'RW_NO_NODE')) {
      throw new RemoteError(
        `Node.js is not installed on ${this.opts.target.destination} (or not on its PATH for non-interactive ssh). Install Node ${MIN_REMOTE_NODE_MAJOR} or newer there, e.g. "sudo apt-get install nodejs" or from https://nodejs.org, then connect again.`,
        false,
      );
    }
    const nodeVersion = get('RW_NODE') ?? '';
    const major = Number(/^v(\d+)/.exec(nodeVersion)?.[1] ?? 0);
    if (major < MIN_REMOTE_NODE_MAJOR) {
      throw new RemoteError(
        `Node.js on ${this.opts.target.destination} is ${nodeVersion || 'unknown'}; Rigwatch needs ${MIN_REMOTE_NODE_MAJOR} or newer. Upgrade it there and connect again.`,
        false,
      );
    }
    const dest = this.opts.target.destination;
    const unsafe = unsafeError(dest, probe);
    if (unsafe) throw unsafe;
    const platform = get('RW_PLATFORM') ?? '';
    // What goes into the cache: the bundle, and koffi's native module for the box's platform (NVML).
    const files: { name: string; path: string; hash: string; what: string }[] = [
      { name: 'collector.js', path: this.opts.bundlePath, hash: fileHash(this.opts.bundlePath), what: 'the collector bundle' },
    ];
    const native = findKoffiPrebuilt(path.dirname(this.opts.bundlePath), platform, this.opts.koffiSearchDirs);
    if (native) files.push({ name: koffiRemoteName(platform), path: native, hash: fileHash(native), what: `koffi's native module for ${platform}` });
    else this.log(`no koffi prebuilt for ${platform || 'this platform'} ships with Rigwatch: the remote GPU source will use nvidia-smi`);
    const theirs = new Map<string, string>();
    for (const l of lines) {
      const m = /^RW_FILE_HASH (\S+) ([0-9a-f]{64})$/.exec(l.trim());
      if (m) theirs.set(m[1], m[2]);
    }
    const theirBundle = get('RW_HASH');
    if (theirBundle) theirs.set('collector.js', theirBundle);
    const copiedFiles: string[] = [];
    for (const f of files) {
      if (theirs.get(f.name) === f.hash) continue;
      this.log(`copying ${f.what} to ${dest} (${theirs.has(f.name) ? 'outdated' : 'absent'})`);
      const out = await this.run(uploadScript(f.name, f.hash), fs.readFileSync(f.path));
      const refused = unsafeError(dest, out);
      if (refused) throw refused;
      if (!out.includes('RW_UPLOADED')) throw new RemoteError(`copying ${f.what} to ${dest} failed: ${out.slice(0, 200)}`, true);
      copiedFiles.push(f.name);
    }
    const copied = copiedFiles.length > 0;
    // One id for everything deployed: a collector started from other files is replaced.
    const deployId = createHash('sha256')
      .update(files.map((f) => `${f.name}=${f.hash}`).join('\n'))
      .digest('hex');
    let state = parseState(get('RW_STATE'));
    let reused = false;
    if (state && !copied && state.token) {
      reused = true;
    } else {
      const token = randomBytes(24).toString('hex');
      const out = await this.run(startScript(token, this.opts.idleTimeoutHours ?? 0, this.opts.interval ?? 1, deployId));
      const refused = unsafeError(dest, out);
      if (refused) throw refused;
      const started = parseState(
        out
          .split('\n')
          .find((l) => l.startsWith('RW_STATE '))
          ?.slice(9),
      );
      if (!started) {
        const why =
          out
            .split('\n')
            .find((l) => l.startsWith('RW_START_FAILED'))
            ?.slice(16) ?? out.slice(0, 200);
        throw new RemoteError(`the collector did not start on ${dest}: ${why.trim()}`, true);
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
      nodeVersion,
      platform,
      copied,
      copiedFiles,
      nvmlNative: native !== null,
      reused,
      remotePid: state.pid,
      remotePort: state.port,
      token: state.token,
      localPort,
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
      p.on('close', (code) =>
        code === 0 ? resolve() : reject(new RemoteError(`cannot forward local port ${localPort} to ${this.opts.target.destination}: ${lastLine(err)}`, true)),
      );
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

/** Quotes `s` as one single-quoted word for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Name of koffi's native module in the remote cache for a `platform-arch`. */
export function koffiRemoteName(platform: string): string {
  return `koffi-${platform}.node`;
}

/**
 * koffi's prebuilt native module for a remote `platform-arch` (e.g. `linux-arm64`), or null when none
 * ships: `dist/koffi/<platform>_<arch>/koffi.node` next to the bundle (copied there by build.mjs), then
 * the installed `@koromix/koffi-<platform-arch>` package.
 */
export function findKoffiPrebuilt(bundleDir: string, platform: string, extraDirs: string[] = []): string | null {
  const m = /^([a-z0-9]+)-([a-z0-9]+)$/.exec(platform);
  if (!m) return null;
  const triplet = `${m[1]}_${m[2]}`;
  const roots = [
    ...extraDirs,
    path.join(bundleDir, 'koffi'),
    path.join(bundleDir, '..', 'node_modules', '@koromix', `koffi-${platform}`),
    path.join(__dirname, '..', 'node_modules', '@koromix', `koffi-${platform}`),
  ];
  for (const r of roots) {
    const f = path.join(r, triplet, 'koffi.node');
    if (fs.existsSync(f)) return f;
  }
  return null;
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n').filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

function sshFailure(dest: string, code: number | null, stderr: string): RemoteError {
  const msg = lastLine(stderr);
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    return new RemoteError(
      `ssh ${dest}: host key verification failed. Connect once with "ssh ${dest}" in a terminal to check and accept its key; Rigwatch never disables host-key checking.`,
      false,
    );
  }
  if (/Permission denied/.test(stderr)) {
    return new RemoteError(
      `ssh ${dest}: permission denied (${msg}). Rigwatch uses your ssh keys and agent and never asks for passwords; make sure "ssh ${dest}" works without a prompt.`,
      false,
    );
  }
  if (/Could not resolve hostname/.test(stderr)) return new RemoteError(`ssh ${dest}: ${msg}`, false);
  return new RemoteError(`ssh ${dest} failed (exit ${code}): ${msg || 'no message'}`, true);
}
