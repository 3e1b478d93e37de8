// A model server's /metrics page read as it arrives: the body is decoded and parsed in slices of
// whole lines (never one multi-MB string), with the event loop free between slices, under a byte
// cap past which the read stops and what was parsed is kept. Each slice goes through the one
// text-format parser (prometheus-text); this file only stitches the slices together: families are
// merged by name, the label-set cap is kept across slices, and a family cut by a slice boundary
// gets its `# TYPE` line carried into the next slice so its samples join it as they would in one pass.

import type { MetricFamily, ParseIssue, ParsedMetrics } from '../../prometheus-text';
import { LabelSetCap, MAX_ISSUES, parsePrometheusText } from '../../prometheus-text';

/** Characters parsed per slice before the event loop gets a turn (about a millisecond or two of work). */
export const SLICE_CHARS = 16 * 1024;

/** Characters of the page kept verbatim for error messages ("unexpected response from …: <head>"). */
export const PAGE_HEAD_CHARS = 256;

/** Lets timers, sockets and signal handlers run between slices. */
const yieldToLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Incremental page parser: `push` bytes as they arrive, then `end`. */
export class PageStream {
  private readonly decoder = new TextDecoder('utf-8');
  /** Text after the last whole slice (at most about one slice plus one line). */
  private pending = '';
  /** The last `# TYPE` line seen, carried in front of the next slice (its samples may continue there). */
  private header = '';
  private readonly families = new Map<string, MetricFamily>();
  /** The page-wide label-set cap, as the one-pass parser applies it. */
  private readonly cap: LabelSetCap;
  private readonly issues: ParseIssue[] = [];
  private issueCount = 0;
  private sampleCount = 0;
  /** Lines parsed so far (for issue line numbers). */
  private lines = 0;
  /** The first PAGE_HEAD_CHARS characters of the page. */
  head = '';
  /** Bytes pushed so far. */
  bytes = 0;

  constructor(
    maxLabelSetsPerMetric: number,
    /** Slice size (tests use small ones to cut families in many places). */
    private readonly sliceChars = SLICE_CHARS,
  ) {
    this.cap = new LabelSetCap(maxLabelSetsPerMetric, true);
  }

  /** Adds bytes of the body and parses the whole slices among them, yielding between slices. */
  async push(chunk: Uint8Array, signal?: AbortSignal): Promise<void> {
    this.bytes += chunk.byteLength;
    const decoded = this.decoder.decode(chunk, { stream: true });
    if (this.head.length < PAGE_HEAD_CHARS) this.head += decoded.slice(0, PAGE_HEAD_CHARS - this.head.length);
    const text = this.pending + decoded;
    let start = 0;
    while (text.length - start >= this.sliceChars) {
      let cut = text.lastIndexOf('\n', start + this.sliceChars - 1);
      if (cut < start) {
        // One line longer than a slice: parse up to its end once it has arrived.
        cut = text.indexOf('\n', start + this.sliceChars);
        if (cut === -1) break;
      }
      this.parseSlice(text.slice(start, cut + 1));
      start = cut + 1;
      await yieldToLoop();
      signal?.throwIfAborted();
    }
    this.pending = text.slice(start);
  }

  /**
   * Parses what is left and returns the page. `cut`: the read stopped early (byte cap), so a last
   * line without its newline is incomplete and left out rather than read as a wrong value.
   */
  end(cut = false): ParsedMetrics {
    let rest = this.pending + this.decoder.decode();
    this.pending = '';
    if (cut) rest = rest.slice(0, rest.lastIndexOf('\n') + 1);
    if (rest !== '') this.parseSlice(rest);
    return { families: this.families, sampleCount: this.sampleCount, issues: this.issues, issueCount: this.issueCount, truncated: this.cap.truncated() };
  }

  private parseSlice(text: string): void {
    const carried = this.header === '' ? 0 : 1;
    // The slice's own parse keeps every label set: the cap is applied below, across the whole page.
    const p = parsePrometheusText(this.header + text, { maxLabelSetsPerMetric: Infinity });
    for (const [name, f] of p.families) {
      let into = this.families.get(name);
      if (into === undefined) {
        into = { name, type: f.type, help: f.help, samples: [] };
        this.families.set(name, into);
      } else {
        if (f.type !== 'untyped') into.type = f.type;
        if (f.help !== '') into.help = f.help;
      }
      for (const s of f.samples) {
        if (!this.cap.admit(into, s.labels)) continue;
        into.samples.push(s);
        this.sampleCount++;
      }
    }
    for (const i of p.issues) {
      if (this.issues.length < MAX_ISSUES) this.issues.push({ line: this.lines + i.line - carried, message: i.message });
    }
    this.issueCount += p.issueCount;
    for (let k = text.indexOf('\n'); k !== -1; k = text.indexOf('\n', k + 1)) this.lines++;
    let t = text.lastIndexOf('# TYPE ');
    while (t > 0 && text.charCodeAt(t - 1) !== 10) t = text.lastIndexOf('# TYPE ', t - 1);
    if (t >= 0) {
      const e = text.indexOf('\n', t);
      this.header = (e === -1 ? text.slice(t) : text.slice(t, e)) + '\n';
    }
  }
}
