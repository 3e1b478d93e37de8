// "Show GPU Details": the collector's full device report (`nvidia-smi -q` style) in a read-only virtual
// document, `rigwatch-gpu:/<connection>/GPU <i>.txt?<connection id>#<index>`. Without nvidia-smi on the
// collector's machine (or when it fails) the report is built from the collector's NVML readings.

import * as vscode from 'vscode';
import type { Connection } from './connection/connection';
import type { ConnectionManager } from './connection-manager';
import { noGpuDataText, nvmlReportText, smiReportText } from './gpu-report';

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
    let smiError: string;
    try {
      const reply = await conn.request({ type: 'action', source: 'gpu', action: 'report', args: { index: String(index) } });
      if (reply.type === 'result' && reply.ok) return smiReportText(reportText(reply.data));
      smiError = reply.type === 'result' ? (reply.error ?? 'unknown error') : `unexpected reply "${reply.type}"`;
    } catch (e) {
      smiError = (e as Error).message;
    }
    return fromReadings(conn, index, smiError);
  }

  /** Re-fetches an open report. */
  refresh(uri: vscode.Uri): void {
    this.emitter.fire(uri);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** The report from the connection's latest sample (NVML readings), when nvidia-smi's is unavailable. */
function fromReadings(conn: Connection, index: number, smiError: string): string {
  const latest = conn.model.latest;
  const details = latest?.details.gpu;
  const text =
    latest && details?.kind === 'gpu' ? nvmlReportText({ series: latest.series, details, t: latest.t, connectionName: conn.name, smiError }, index) : null;
  return text ?? noGpuDataText(index, conn.name, smiError);
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
