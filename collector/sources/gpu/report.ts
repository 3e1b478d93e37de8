// The full device report: `nvidia-smi -q -i <pci bus id>` text, on demand (never in the sampling loop).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSmi } from './smi-backend';

/** Longest the report may take. */
export const REPORT_TIMEOUT_MS = 15_000;

/** The report answer. */
export interface GpuReport {
  index: number;
  pciBusId: string;
  text: string;
}

/** Finds an executable: a path with a slash is checked as is, a bare name is searched on PATH. */
export function findExecutable(cmd: string, env: NodeJS.ProcessEnv): string | null {
  const ok = (p: string): boolean => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return ok(cmd) ? cmd : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    if (ok(p)) return p;
  }
  return null;
}

/** Runs `nvidia-smi -q -i <busId>`; throws an Error with a clear message on failure. */
export async function fetchReport(smiPath: string, env: NodeJS.ProcessEnv, index: number, pciBusId: string): Promise<GpuReport> {
  const exe = findExecutable(smiPath, env);
  if (!exe) throw new Error(`${smiPath} not found; the full GPU report needs nvidia-smi`);
  const r = await runSmi(exe, ['-q', '-i', pciBusId], env, REPORT_TIMEOUT_MS);
  if (r.error && r.code === null)
    throw new Error(`nvidia-smi -q did not finish within ${REPORT_TIMEOUT_MS} ms or could not run: ${r.error.message.split('\n')[0]}`);
  if (r.code !== 0) throw new Error(`nvidia-smi -q -i ${pciBusId} failed (code ${r.code}): ${(r.out + r.err).trim().split('\n')[0] ?? ''}`);
  return { index, pciBusId, text: r.out };
}
