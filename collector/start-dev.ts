// `npm start`: the built collector (dist/collector.js) started the way every launcher starts it, with
// COLLECTOR_NODE_FLAGS and COLLECTOR_ENV (protocol/collector-node-flags.ts); arguments pass through.
// Run with esbuild-register (a development dependency): node -r esbuild-register collector/start-dev.ts [flags]

import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../protocol/collector-node-flags';

const child = spawn(process.execPath, [...COLLECTOR_NODE_FLAGS, path.join(__dirname, '..', 'dist', 'collector.js'), ...process.argv.slice(2)], {
  env: { ...process.env, ...COLLECTOR_ENV },
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
