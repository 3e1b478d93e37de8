// Pod namespace/name by pod UID from the kubelet's read-only API (`/pods`, port 10255 by default;
// many clusters disable it). Read lazily — only while a GPU process belongs to a pod — at most once per
// refresh interval, bounded in size and time; when it cannot be read, the owner says what is missing.

import * as http from 'node:http';

/** Default kubelet read-only endpoint. */
export const KUBELET_READONLY_URL = 'http://127.0.0.1:10255/pods';
/** How often the pod list is re-read while pods hold GPUs, in ms. */
export const KUBELET_REFRESH_MS = 60_000;
/** Time one read may take, in ms. */
export const KUBELET_TIMEOUT_MS = 2000;
/** Largest /pods answer read, in bytes (bigger answers are refused). */
export const KUBELET_MAX_BYTES = 16 * 1024 * 1024;

/** Pod UID → namespace/name from a kubelet `/pods` JSON answer (a v1 PodList). */
export function parsePodList(text: string): Map<string, { namespace: string; name: string }> {
  const out = new Map<string, { namespace: string; name: string }>();
  const doc = JSON.parse(text) as { items?: unknown };
  if (!Array.isArray(doc.items)) throw new Error('not a PodList (no items)');
  for (const item of doc.items as unknown[]) {
    const md = (item as { metadata?: { uid?: unknown; namespace?: unknown; name?: unknown } } | null)?.metadata;
    if (md && typeof md.uid === 'string' && typeof md.namespace === 'string' && typeof md.name === 'string') {
      out.set(md.uid, { namespace: md.namespace.slice(0, 253), name: md.name.slice(0, 253) });
    }
  }
  return out;
}

/** Lazily refreshed pod names. */
export class KubeletPods {
  private pods = new Map<string, { namespace: string; name: string }>();
  private missing: string | null = null;
  private fetchedAt = -Infinity;
  private inflight = false;

  constructor(
    private readonly url: string = KUBELET_READONLY_URL,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Namespace/name of a pod, or a note saying why it is unknown. Starts a background refresh when due. */
  lookup(uid: string): { namespace: string; name: string } | { missing: string } {
    this.refreshIfDue();
    const hit = this.pods.get(uid);
    if (hit) return hit;
    return {
      missing:
        this.missing ?? (this.fetchedAt === -Infinity || this.inflight ? 'pod name not read yet from the kubelet' : `pod ${uid} not in the kubelet's pod list`),
    };
  }

  /** Resolves once any refresh in flight has finished (tests). */
  async settle(): Promise<void> {
    for (let i = 0; i < 100 && this.inflight; i++) await new Promise((r) => setTimeout(r, 20));
  }

  private refreshIfDue(): void {
    if (this.inflight || this.now() - this.fetchedAt < KUBELET_REFRESH_MS) return;
    this.inflight = true;
    this.fetchedAt = this.now();
    fetchBounded(this.url)
      .then(
        (text) => {
          try {
            this.pods = parsePodList(text);
            this.missing = null;
          } catch (e) {
            this.missing = `pod name unknown: the kubelet at ${this.url} answered something else (${(e as Error).message})`;
          }
        },
        (e: Error) => {
          this.missing = `pod name unknown: kubelet read-only API at ${this.url} not readable (${e.message}); the CRI socket is not queried`;
        },
      )
      .finally(() => {
        this.inflight = false;
      });
  }
}

function fetchBounded(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: KUBELET_TIMEOUT_MS }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode}`));
      }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > KUBELET_MAX_BYTES) req.destroy(new Error(`answer over ${KUBELET_MAX_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${KUBELET_TIMEOUT_MS} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
  });
}
