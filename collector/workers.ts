// Worker threads from a single-file bundle: the bundle (dist/collector.js) is also the worker script.
// A worker kind registers its entry function; `startWorker` launches the current bundle with
// `workerData.rigwatchWorker` set, and main.ts calls `runWorkerIfRequested()` before anything else.
// Under ts (tests with esbuild-register) the worker runs collector/worker-main.ts instead.

import { Worker, isMainThread, workerData } from 'node:worker_threads';
import * as path from 'node:path';

type WorkerEntry = (data: unknown) => void;
const registry = new Map<string, WorkerEntry>();

/** Registers a worker kind; call at module top level so the bundle knows it in every thread. */
export function registerWorker(name: string, entry: WorkerEntry): void {
  registry.set(name, entry);
}

/** Starts a worker of a registered kind with `data` (structured-cloneable). */
export function startWorker(name: string, data: unknown): Worker {
  const payload = { rigwatchWorker: name, data };
  if (__filename.endsWith('.ts')) {
    return new Worker(path.join(__dirname, 'worker-main.ts'), { workerData: payload, execArgv: ['--require', 'esbuild-register'] });
  }
  return new Worker(__filename, { workerData: payload });
}

/** In a worker started by startWorker: runs its entry and returns true. In the main thread: false. */
export function runWorkerIfRequested(): boolean {
  if (isMainThread) return false;
  const wd = workerData as { rigwatchWorker?: string; data?: unknown } | null;
  if (!wd || typeof wd.rigwatchWorker !== 'string') return false;
  const entry = registry.get(wd.rigwatchWorker);
  if (!entry) throw new Error(`unknown worker kind ${wd.rigwatchWorker}`);
  entry(wd.data);
  return true;
}
