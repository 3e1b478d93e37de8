// "Show GPU Details": the collector's full device report (`nvidia-smi -q` style) in a read-only virtual
// document, `rigwatch-gpu:/<connection>/GPU <i>.txt?<connection id>#<index>`.

import * as vscode from 'vscode';
import type { ConnectionManager } from './connection-manager';

/** URI scheme of GPU report documents. */
export const GPU_SCHEME = 'rigwatch-gpu';

/** URI for the report of GPU `index` on a connection. */
export function gpuReportUri(connectionId: string, connectionName: string, index: number): vscode.Uri {
  const safe = connectionName.replace(/[^A-Za-z0-9._ -]/g, '_');
  return vscode.Uri.from({ scheme: GPU_SCHEME, path: `/${safe}/GPU ${index}.txt`, query: connectionId, fragment: String(index) });
}

/** Supplies report text; documents of a scheme with a content provider are read-only. */
export class GpuDetailsProvider implements vscode.TextDocumentContentProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly manager: ConnectionManager) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const conn = this.manager.get(uri.query);
    const index = Number(uri.fragment);
    if (!conn) return `The collector "${uri.query}" is not connected any more.`;
    try {
      const reply = await conn.request({ type: 'action', source: 'gpu', action: 'report', args: { index: String(index) } });
      if (reply.type !== 'result') return `Unexpected reply "${reply.type}" from ${conn.name}.`;
      if (!reply.ok) return `The collector could not produce the report for GPU ${index}: ${reply.error ?? 'unknown error'}`;
      return reportText(reply.data);
    } catch (e) {
      return `Cannot fetch the report for GPU ${index} from ${conn.name}: ${(e as Error).message}`;
    }
  }

  /** Re-fetches an open report. */
  refresh(uri: vscode.Uri): void {
    this.emitter.fire(uri);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** The report as text, whether the collector answered with text or a `{report}`/`{text}` object. */
export function reportText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (typeof data === 'object' && data !== null) {
    const o = data as Record<string, unknown>;
    for (const k of ['report', 'text']) if (typeof o[k] === 'string') return o[k] as string;
  }
  return JSON.stringify(data, null, 2);
}
