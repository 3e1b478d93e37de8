// Helpers for suites running inside the extension host: the extension's API, polling, and UI checks
// performed by the Playwright runner (file handshake, see test/e2e/vscode/ui-protocol.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RigwatchApi } from '../../extension/api';
import { UI_DIR_ENV, type UiRequest, type UiResponse } from '../e2e/vscode/ui-protocol';

/** The extension's id (publisher.name). */
export const EXTENSION_ID = 'rigwatch.rigwatch';

/** Activates Rigwatch (if VS Code has not yet) and returns its API. */
export async function rigwatch(): Promise<RigwatchApi> {
  const ext = vscode.extensions.getExtension<RigwatchApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded (extensionDevelopmentPath wrong?)`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** Polls `fn` until it returns a truthy value; the error names `what` and the last value seen. */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20_000, describe?: () => string): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${describe ? `; last: ${describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when a Playwright runner answers UI requests (code-server runs; not plain @vscode/test-electron). */
export function uiAvailable(): boolean {
  return !!process.env[UI_DIR_ENV];
}

/** Asks the runner to do something in the workbench page and waits for the answer. */
export async function ui(req: UiRequest, timeoutMs = 60_000): Promise<UiResponse> {
  const dir = process.env[UI_DIR_ENV];
  if (!dir) throw new Error(`${UI_DIR_ENV} is not set: UI checks need the code-server runner (test/e2e/vscode)`);
  // Unique and time-ordered across the separately bundled suite files.
  const n = `${String(Date.now()).padStart(15, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const reqFile = path.join(dir, `${n}.request.json`);
  fs.writeFileSync(`${reqFile}.tmp`, JSON.stringify(req));
  fs.renameSync(`${reqFile}.tmp`, reqFile);
  const resFile = path.join(dir, `${n}.response.json`);
  await waitFor(`the runner's answer to ${req.op}`, () => fs.existsSync(resFile), timeoutMs);
  const res = JSON.parse(fs.readFileSync(resFile, 'utf8')) as UiResponse;
  fs.unlinkSync(resFile);
  return res;
}

/** Records a number for the results file (benchmarks print these). */
export function report(key: string, value: unknown): void {
  const extra = (globalThis as { __rigwatchExtra?: Record<string, unknown> }).__rigwatchExtra;
  if (extra) extra[key] = value;
  console.log(`[result] ${key} = ${JSON.stringify(value)}`);
}
