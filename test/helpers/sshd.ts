// Starts a real OpenSSH server on a loopback port for tests: its own host key, a throwaway user whose
// home is a temp dir, a key pair made here, and an ssh client config that pins the host key.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../remote/ssh';

/** A running test sshd. */
export interface TestSshd {
  port: number;
  user: string;
  home: string;
  /** ssh config file defining the host alias `rwtest`. */
  sshConfig: string;
  /** Host alias usable as destination with `-F sshConfig`. */
  alias: string;
  /** Writes `~/.ssh/environment` for the user (PermitUserEnvironment is on). */
  setUserEnvironment(lines: string[]): void;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

/** Starts sshd; fails with the install command when OpenSSH is missing. */
export async function startSshd(): Promise<TestSshd> {
  if (!fs.existsSync(SSHD) || !fs.existsSync('/usr/bin/ssh-keygen')) {
    throw new Error('sshd is not installed: apt-get install openssh-server openssh-client');
  }
  if (process.getuid?.() !== 0) throw new Error('the ssh tests create a throwaway user and need root');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rw-sshd-'));
  const user = `rwt${randomBytes(3).toString('hex')}`;
  const home = path.join(dir, 'home');
  // Password '*' (not '!'): an account with a locked password is refused by sshd without PAM.
  execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', '-p', '*', user]);
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client_key')]);
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(home, '.ssh', 'authorized_keys'));
  execFileSync('chown', ['-R', `${user}:${user}`, home]);
  fs.chmodSync(path.join(home, '.ssh', 'authorized_keys'), 0o600);
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'AuthorizedKeysFile .ssh/authorized_keys',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitUserEnvironment yes',
      'AllowTcpForwarding yes',
      `AllowUsers ${user}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const hostPub = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  const sshConfig = path.join(dir, 'ssh_config');
  fs.writeFileSync(
    sshConfig,
    [
      'Host rwtest',
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${path.join(dir, 'client_key')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitForPort(port, () => (proc.exitCode !== null ? `sshd exited: ${err}` : null));
  return {
    port,
    user,
    home,
    sshConfig,
    alias: 'rwtest',
    setUserEnvironment(lines) {
      const f = path.join(home, '.ssh', 'environment');
      if (lines.length === 0) fs.rmSync(f, { force: true });
      else fs.writeFileSync(f, lines.join('\n') + '\n');
    },
    async stop() {
      proc.kill('SIGTERM');
      try {
        execFileSync('pkill', ['-KILL', '-u', user]);
      } catch {
        // No processes left: fine.
      }
      await new Promise((r) => setTimeout(r, 200));
      try {
        execFileSync('userdel', [user]);
      } catch {
        // Already removed.
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, failed: () => string | null): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const f = failed();
    if (f) throw new Error(f);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}`);
}
