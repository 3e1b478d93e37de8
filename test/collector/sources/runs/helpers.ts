// Shared by the runs tests: the real training loop, and reading runs out of a sample.

import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SampleMessage } from '../../../../protocol';
import type { RunInfo, RunsDetails } from '../../../../protocol/details/runs';

/** Debian's interpreter (has python3-torch); the first python3 on PATH may not. */
export const PYTHON = '/usr/bin/python3';
/** The training loop. */
export const TRAIN_PY = path.join(__dirname, '..', '..', '..', 'fixtures', 'runs', 'train_torch.py');

/** Fails with the install command when torch is missing (no silent skip). */
export function requireTorch(): void {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} not found: apt-get install python3 python3-torch`);
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'pipe' });
  if (r.status !== 0) throw new Error(`PyTorch is not importable by ${PYTHON}: apt-get install python3-torch`);
}

/** The runs details of a sample. */
export function runsOf(m: SampleMessage | undefined): RunInfo[] {
  const d = m?.details.runs as RunsDetails | undefined;
  return d?.runs ?? [];
}

/** Waits for a line on a child's stdout. */
export function waitReady(child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`training did not start: ${err}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes('ready')) reject(new Error(`training exited with ${code} before starting: ${err}`));
    });
  });
}
