// `rigwatch-collector ssh [user@]host[:port]`: deploy, start (or reuse), tunnel, print the local
// dashboard URL, and keep the tunnel up (reconnecting with backoff) until interrupted.

import { parseTarget, SshRemote } from './ssh';

/** Help for the ssh verb. */
export const SSH_HELP = `Usage: rigwatch-collector ssh [user@]host[:port] [options]

Copies this collector to ~/.cache/rigwatch/ on the remote box when it is missing or different, starts it
on the remote loopback with a fresh token (or reuses the one already running), forwards a local port to
it over one ssh connection, and prints the local dashboard URL. Uses the system ssh: your keys, agent,
~/.ssh/config, ProxyJump and known_hosts apply; passwords are never asked for or stored.

Options:
  --local-port N        local port for the tunnel (default: a free one)
  --idle-timeout HOURS  the remote collector exits after HOURS without clients (default 0 = never)
  --interval SECONDS    remote sample interval (default 1)
  --ssh-option OPT      extra "-o OPT" for ssh (repeatable), e.g. --ssh-option IdentityFile=~/.ssh/gpu
  --ssh-config FILE     use this ssh config file (ssh -F)
  --stop                stop the remote collector instead and exit`;

/** Runs the ssh verb; resolves with an exit code when done (never, while the tunnel is up). */
export async function runSshCommand(argv: string[], bundlePath: string): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
    process.stdout.write(SSH_HELP + '\n');
    return argv.length === 0 ? 2 : 0;
  }
  const sshArgs: string[] = [];
  let targetText: string | undefined;
  let localPort: number | undefined;
  let idle = 0;
  let interval = 1;
  let stop = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--local-port') {
      localPort = Number(val());
      if (!Number.isInteger(localPort) || localPort < 1 || localPort > 65535)
        throw new Error(`--local-port: expected a port from 1 to 65535, got "${argv[i]}"`);
    } else if (a === '--idle-timeout') {
      idle = Number(val());
      if (!(idle >= 0)) throw new Error(`--idle-timeout: expected hours, 0 or more, got "${argv[i]}"`);
    } else if (a === '--interval') {
      interval = Number(val());
      if (!(interval >= 0.25 && interval <= 60)) throw new Error(`--interval: expected seconds from 0.25 to 60, got "${argv[i]}"`);
    } else if (a === '--ssh-option') {
      sshArgs.push('-o', val());
    } else if (a === '--ssh-config') {
      sshArgs.push('-F', val());
    } else if (a === '--stop') {
      stop = true;
    } else if (a.startsWith('-')) {
      throw new Error(`unknown option ${a} (see rigwatch-collector ssh --help)`);
    } else if (targetText === undefined) {
      targetText = a;
    } else {
      throw new Error(`unexpected argument "${a}": give one host`);
    }
  }
  if (!targetText) throw new Error('no host given (see rigwatch-collector ssh --help)');
  const target = parseTarget(targetText);
  const remote = new SshRemote({
    target,
    bundlePath,
    sshArgs,
    localPort,
    idleTimeoutHours: idle,
    interval,
    log: (l) => process.stderr.write(`rigwatch ssh: ${l}\n`),
  });
  if (stop) {
    try {
      const stopped = await remote.stopRemote();
      process.stdout.write(stopped ? `stopped the collector on ${target.destination}\n` : `no collector was running on ${target.destination}\n`);
      return 0;
    } finally {
      await remote.close();
    }
  }
  const r = await remote.connect().catch(async (e: Error) => {
    await remote.close();
    throw e;
  });
  process.stdout.write(
    `Rigwatch remote collector on ${target.destination} (${r.reused ? 'reused' : 'started'}${r.copied ? ', bundle copied' : ''}, Node ${r.nodeVersion}) listening on ${r.url}#token=${r.token}\n`,
  );
  remote.on('up', (u: typeof r) => process.stderr.write(`rigwatch ssh: tunnel to ${target.destination} is back on ${u.url}\n`));
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await remote.close();
  process.stderr.write(`rigwatch ssh: tunnel closed; the collector keeps running on ${target.destination} (stop it with --stop)\n`);
  return 0;
}
