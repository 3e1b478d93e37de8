// Second fallback for GPUs whose NVML events cannot be registered and whose /dev/kmsg is unreadable:
// `NVRM: Xid` lines from the systemd journal's kernel messages. One long-lived `journalctl -k -f`
// child (no shell, no process per poll), started at the collector's start time so older records are
// skipped; its output is bounded per line and per second. Owned by the GPU source, killed at close.

import { spawn, type ChildProcess } from 'node:child_process';
import { parseKernelXid, type KernelXid } from './kernel-xid';

/** Longest line kept, bytes; a longer one (not an Xid line) is dropped. */
const JOURNAL_LINE_BYTES_MAX = 8192;
/** Most lines parsed per second; beyond it lines are dropped until the next second (a kernel log flood). */
const JOURNAL_LINES_PER_SECOND_MAX = 5000;
/** Most stderr kept for the failure message, bytes. */
const JOURNAL_STDERR_BYTES_MAX = 2048;

/** The journal pattern: only NVRM Xid lines leave journalctl. */
const JOURNAL_PATTERN = 'NVRM: Xid';

/** Arguments of the journalctl child (exported for tests and docs). */
export function journalArgs(sinceEpochMs: number, grep: boolean): string[] {
  const args = ['-k', '-f', '-o', 'cat', '--no-pager', '-q', `--since=@${Math.floor(sinceEpochMs / 1000)}`];
  if (grep) args.push(`--grep=${JOURNAL_PATTERN}`);
  return args;
}

/** Follows the kernel journal for Xid lines. */
export class JournalXidWatcher {
  private child: ChildProcess | null = null;
  private closed = false;
  private partial = '';
  private stderr = '';
  private second = 0;
  private linesThisSecond = 0;
  /** Why the journal is not being read (journalctl exited), or null while it runs. */
  failure: string | null = null;

  private constructor(
    private readonly journalctl: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly onXid: (x: KernelXid) => void,
    private readonly sinceEpochMs: number,
  ) {}

  /** Starts following the journal with `journalctl` (a path), from `sinceEpochMs` on. */
  static start(journalctl: string, env: NodeJS.ProcessEnv, onXid: (x: KernelXid) => void, sinceEpochMs = Date.now()): JournalXidWatcher {
    const w = new JournalXidWatcher(journalctl, env, onXid, sinceEpochMs);
    w.spawn(true);
    return w;
  }

  private spawn(grep: boolean): void {
    this.stderr = '';
    this.partial = '';
    let child: ChildProcess;
    try {
      child = spawn(this.journalctl, journalArgs(this.sinceEpochMs, grep), { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
    } catch (e) {
      this.failure = `${this.journalctl} could not be started (${(e as Error).message})`;
      return;
    }
    this.child = child;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onData(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.stderr.length < JOURNAL_STDERR_BYTES_MAX) this.stderr = (this.stderr + chunk).slice(0, JOURNAL_STDERR_BYTES_MAX);
    });
    child.on('error', (e) => {
      this.failure = `${this.journalctl} could not be started (${e.message})`;
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.closed) return;
      // A journalctl built without pattern matching rejects --grep: follow without it and filter here.
      if (grep && /pattern|grep|pcre/i.test(this.stderr)) {
        this.spawn(false);
        return;
      }
      const why = this.stderr.trim().split('\n')[0] ?? '';
      this.failure = `journalctl -k exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`;
    });
  }

  private onData(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > JOURNAL_LINE_BYTES_MAX) this.partial = '';
    const sec = Math.floor(Date.now() / 1000);
    if (sec !== this.second) {
      this.second = sec;
      this.linesThisSecond = 0;
    }
    for (const line of lines) {
      if (++this.linesThisSecond > JOURNAL_LINES_PER_SECOND_MAX) return;
      if (line.length > JOURNAL_LINE_BYTES_MAX) continue;
      const x = parseKernelXid(line);
      if (x) this.onXid(x);
    }
  }

  /** Stops the child. Idempotent. */
  close(): void {
    this.closed = true;
    this.child?.kill('SIGTERM');
    this.child = null;
  }
}
