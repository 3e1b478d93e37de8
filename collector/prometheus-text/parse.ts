// The one Prometheus text-format (0.0.4) parser, shared by every source that reads a /metrics page.
// Pure: text in, families out. Tolerant the way scrapers are: OpenMetrics exemplars (`# {…} v t`),
// sample timestamps, `# EOF` and unknown comments are accepted; a line that cannot be read is
// recorded in `errors` (with its line number) and skipped, so one odd line never loses a page.
// Written as a char-code scanner, not regexes, because a vLLM page is thousands of lines per tick.

/** Metric family types of the text format. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** Label name → value, unescaped. */
export type Labels = Record<string, string>;

/** One sample line. */
export interface Sample {
  /** Full sample name, e.g. `vllm:e2e_request_latency_seconds_bucket`. */
  name: string;
  labels: Labels;
  /** NaN, +Inf and -Inf are kept as the JS values. */
  value: number;
  /** Optional sample timestamp (ms since epoch) as given on the line. */
  timestampMs?: number;
}

/** One family: the samples sharing a `# TYPE` name (histogram/summary include `_bucket`, `_sum`, `_count`). */
export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

/** A line that could not be read. */
export interface ParseIssue {
  /** 1-based line number. */
  line: number;
  message: string;
}

/** Everything read from one page. */
export interface ParsedMetrics {
  /** Families by name, in order of first appearance. */
  families: Map<string, MetricFamily>;
  /** Number of samples read. */
  sampleCount: number;
  /** Lines that were skipped (at most MAX_ISSUES are kept; `issueCount` has the total). */
  issues: ParseIssue[];
  issueCount: number;
  /** Families that went over the label-set cap (empty when none). */
  truncated: TruncatedFamily[];
}

/** How many unreadable lines are described in `issues` (the rest are only counted). */
export const MAX_ISSUES = 10;

const TYPES: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
  // OpenMetrics spellings seen on mixed pages: read as their closest 0.0.4 type.
  unknown: 'untyped',
  gaugehistogram: 'histogram',
  info: 'gauge',
  stateset: 'gauge',
};

const C_CR = 13,
  C_SP = 32,
  C_TAB = 9,
  C_HASH = 35,
  C_LBRACE = 123,
  C_RBRACE = 125;
const C_EQ = 61,
  C_QUOTE = 34,
  C_BSLASH = 92,
  C_COMMA = 44;

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

/** Parses a number as the text format writes it (`NaN`, `+Inf`, `-Inf`, Go/Python float syntax). */
export function parseValue(s: string): number {
  if (s.length === 0) return NaN;
  const c = s.charCodeAt(0);
  // Fast path: plain decimal numbers are what most lines carry.
  if ((c >= 48 && c <= 57) || c === 45 || c === 46) {
    const n = Number(s);
    if (n === n) return n;
  }
  switch (s) {
    case '+Inf':
    case 'Inf':
    case '+inf':
    case 'inf':
      return Infinity;
    case '-Inf':
    case '-inf':
      return -Infinity;
    case 'NaN':
    case 'nan':
      return NaN;
  }
  return Number(s);
}

function isValidNumberToken(s: string, v: number): boolean {
  return v === v || s === 'NaN' || s === 'nan';
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Plain decimals (`-12`, `3.25`) without a substring: digits accumulate into an integer below 2^53
 * divided by an exact power of ten ≤ 10^22, which IEEE division rounds exactly as Number() would
 * (Clinger's fast path). Anything else (exponents, NaN, Inf, long mantissas) answers NaN → slow path.
 */
function fastDecimal(text: string, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && text.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  if (i >= end) return NaN;
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 && frac < 0) {
      frac = 0;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15 || frac > 22) return NaN;
  const v = frac > 0 ? m / POW10[frac] : m;
  return neg ? -v : v;
}

/** Default cap on distinct label sets per family (`le`/`quantile` not counted): a page beyond it is someone else's bug or attack. */
export const DEFAULT_MAX_LABEL_SETS_PER_METRIC = 1000;

/** Limits for one page. */
export interface ParseOptions {
  /** Distinct label sets kept per family, ignoring `le` and `quantile` (default DEFAULT_MAX_LABEL_SETS_PER_METRIC). */
  maxLabelSetsPerMetric?: number;
}

/** A family that had more label sets than the cap: the samples of the extra sets were dropped. */
export interface TruncatedFamily {
  family: string;
  /** Label sets kept (the first ones on the page). */
  kept: number;
  /** Distinct label sets dropped. */
  dropped: number;
}

/**
 * The label-set cap of one page: at most `max` label sets per family (`le`/`quantile` not counted); what is
 * dropped is counted per family for the once-only warning. `unlabelledFree`: a sample whose only labels are
 * `le`/`quantile` (or none) is always admitted and not counted.
 */
export class LabelSetCap {
  private readonly sets = new Map<MetricFamily, Set<string>>();
  private readonly dropped = new Map<MetricFamily, Set<string>>();

  constructor(
    private readonly max: number,
    private readonly unlabelledFree = false,
  ) {}

  /** Whether a sample with `labels` may join family `f`. */
  admit(f: MetricFamily, labels: Labels): boolean {
    let key = '';
    for (const k in labels) if (k !== 'le' && k !== 'quantile') key += k + '\u0001' + labels[k] + '\u0002';
    if (key === '' && this.unlabelledFree) return true;
    let seen = this.sets.get(f);
    if (seen === undefined) {
      seen = new Set();
      this.sets.set(f, seen);
    }
    if (seen.has(key)) return true;
    if (seen.size < this.max) {
      seen.add(key);
      return true;
    }
    let d = this.dropped.get(f);
    if (d === undefined) {
      d = new Set();
      this.dropped.set(f, d);
    }
    d.add(key);
    return false;
  }

  /** The families that lost label sets: kept and dropped counts. */
  truncated(): TruncatedFamily[] {
    const out: TruncatedFamily[] = [];
    for (const [f, d] of this.dropped) out.push({ family: f.name, kept: this.sets.get(f)?.size ?? 0, dropped: d.size });
    return out;
  }
}

/** Lines parsed between yields by the async parser (a few ms of work). */
const LINES_PER_SLICE = 20_000;

/** Parses a Prometheus text-format page. Never throws for bad content; see `issues`. */
export function parsePrometheusText(text: string, opts: ParseOptions = {}): ParsedMetrics {
  const p = new PageParser(text, opts);
  p.run(Infinity);
  return p.result();
}

/**
 * The same parse in slices of LINES_PER_SLICE lines with a macrotask between them, so a huge page
 * never holds the event loop (signals, timers, clients) for long; `signal` aborting stops it with
 * the signal's reason. Linear in the page size.
 */
export async function parsePrometheusTextAsync(text: string, opts: ParseOptions & { signal?: AbortSignal } = {}): Promise<ParsedMetrics> {
  const p = new PageParser(text, opts);
  for (;;) {
    opts.signal?.throwIfAborted();
    if (p.run(LINES_PER_SLICE)) return p.result();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

class PageParser {
  private readonly families = new Map<string, MetricFamily>();
  private readonly issues: ParseIssue[] = [];
  private issueCount = 0;
  private sampleCount = 0;
  private lineNo = 0;
  private pos = 0;
  // The family the previous sample went to: samples of one family are contiguous, so this
  // avoids a suffix search on nearly every line.
  private last: MetricFamily | undefined;
  private lastName = '';
  private readonly cap: LabelSetCap;

  constructor(
    private readonly text: string,
    opts: ParseOptions,
  ) {
    this.cap = new LabelSetCap(opts.maxLabelSetsPerMetric ?? DEFAULT_MAX_LABEL_SETS_PER_METRIC);
  }

  result(): ParsedMetrics {
    return { families: this.families, sampleCount: this.sampleCount, issues: this.issues, issueCount: this.issueCount, truncated: this.cap.truncated() };
  }

  private issue(message: string): void {
    this.issueCount++;
    if (this.issues.length < MAX_ISSUES) this.issues.push({ line: this.lineNo, message });
  }

  private familyFor(name: string): MetricFamily {
    const last = this.last;
    if (last !== undefined && (last.name === name || (last.type !== 'untyped' && belongs(last, name)))) return last;
    let f = this.families.get(name);
    if (f === undefined) {
      const base = baseName(name);
      if (base !== null) {
        const b = this.families.get(base);
        if (b !== undefined && belongs(b, name)) f = b;
      }
    }
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      this.families.set(name, f);
    }
    return f;
  }

  private declare(name: string): MetricFamily {
    let f = this.families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      this.families.set(name, f);
    }
    return f;
  }

  /** Parses up to `maxLines` more lines; true when the page is done. */
  run(maxLines: number): boolean {
    const text = this.text;
    const len = text.length;
    let pos = this.pos;
    let budget = maxLines;
    while (pos < len && budget-- > 0) {
      this.lineNo++;
      let end = text.indexOf('\n', pos);
      if (end === -1) end = len;
      let lineEnd = end;
      if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === C_CR) lineEnd--;
      const i = pos;
      pos = end + 1;
      this.line(i, lineEnd);
    }
    this.pos = pos;
    return pos >= len;
  }

  private line(start: number, lineEnd: number): void {
    const text = this.text;
    let i = start;
    // Leading whitespace is allowed by the format.
    while (i < lineEnd && (text.charCodeAt(i) === C_SP || text.charCodeAt(i) === C_TAB)) i++;
    if (i >= lineEnd) return;
    const c0 = text.charCodeAt(i);

    if (c0 === C_HASH) {
      // `# HELP name text`, `# TYPE name type`; any other comment is ignored.
      let j = i + 1;
      while (j < lineEnd && text.charCodeAt(j) === C_SP) j++;
      const isHelp = text.startsWith('HELP', j) && (text.charCodeAt(j + 4) === C_SP || text.charCodeAt(j + 4) === C_TAB);
      const isType = !isHelp && text.startsWith('TYPE', j) && (text.charCodeAt(j + 4) === C_SP || text.charCodeAt(j + 4) === C_TAB);
      if (!isHelp && !isType) return;
      j += 5;
      while (j < lineEnd && text.charCodeAt(j) === C_SP) j++;
      const ns = j;
      while (j < lineEnd && isNameChar(text.charCodeAt(j))) j++;
      if (j === ns) {
        this.issue(`${isHelp ? 'HELP' : 'TYPE'} without a metric name`);
        return;
      }
      const name = text.slice(ns, j);
      while (j < lineEnd && (text.charCodeAt(j) === C_SP || text.charCodeAt(j) === C_TAB)) j++;
      const rest = text.slice(j, lineEnd);
      const f = this.declare(name);
      this.lastName = '';
      this.last = undefined;
      if (isHelp) {
        f.help = rest.indexOf('\\') === -1 ? rest : rest.replace(/\\(\\|n)/g, (_m, e: string) => (e === 'n' ? '\n' : '\\'));
      } else {
        const t = TYPES[rest.trim().toLowerCase()];
        if (t === undefined) this.issue(`unknown metric type "${rest.trim()}" for ${name}`);
        else f.type = t;
      }
      return;
    }

    // A sample: name [labels] value [timestamp] [# exemplar]
    if (!isNameStart(c0)) {
      this.issue('expected a metric name');
      return;
    }
    let j: number;
    let name: string;
    // Consecutive lines usually repeat the previous sample name: reuse it instead of slicing.
    if (this.lastName !== '' && text.startsWith(this.lastName, i) && !isNameChar(text.charCodeAt(i + this.lastName.length))) {
      name = this.lastName;
      j = i + this.lastName.length;
    } else {
      j = i + 1;
      while (j < lineEnd && isNameChar(text.charCodeAt(j))) j++;
      name = text.slice(i, j);
    }
    let labels: Labels = {};
    let labelled = false;
    if (j < lineEnd && text.charCodeAt(j) === C_LBRACE) {
      const r = readLabels(text, j + 1, lineEnd);
      if (typeof r === 'string') {
        this.issue(`${name}: ${r}`);
        return;
      }
      labels = r.labels;
      labelled = true;
      j = r.next;
    }
    // Value.
    const ws = j;
    while (j < lineEnd && (text.charCodeAt(j) === C_SP || text.charCodeAt(j) === C_TAB)) j++;
    if (j === ws || j >= lineEnd) {
      this.issue(`${name}: missing value`);
      return;
    }
    const vs = j;
    while (j < lineEnd && text.charCodeAt(j) !== C_SP && text.charCodeAt(j) !== C_TAB) j++;
    let value = fastDecimal(text, vs, j);
    if (value !== value) {
      const vtext = text.slice(vs, j);
      value = parseValue(vtext);
      if (!isValidNumberToken(vtext, value)) {
        this.issue(`${name}: bad value "${vtext.slice(0, 20)}"`);
        return;
      }
    }
    const sample: Sample = { name, labels, value };
    // Optional timestamp, then an optional exemplar introduced by `#`; both tolerated.
    while (j < lineEnd && (text.charCodeAt(j) === C_SP || text.charCodeAt(j) === C_TAB)) j++;
    if (j < lineEnd && text.charCodeAt(j) !== C_HASH) {
      const ts = j;
      while (j < lineEnd && text.charCodeAt(j) !== C_SP && text.charCodeAt(j) !== C_TAB) j++;
      const t = Number(text.slice(ts, j));
      if (!Number.isFinite(t)) {
        this.issue(`${name}: bad timestamp "${text.slice(ts, j).slice(0, 20)}"`);
        return;
      }
      sample.timestampMs = t;
      while (j < lineEnd && (text.charCodeAt(j) === C_SP || text.charCodeAt(j) === C_TAB)) j++;
    }
    if (j < lineEnd && text.charCodeAt(j) !== C_HASH) {
      this.issue(`${name}: unexpected text after value`);
      return;
    }
    const f = name === this.lastName && this.last !== undefined ? this.last : this.familyFor(name);
    if (labelled && !this.cap.admit(f, labels)) return;
    f.samples.push(sample);
    this.last = f;
    this.lastName = name;
    this.sampleCount++;
  }
}

const SUFFIXES = ['_bucket', '_count', '_sum', '_total', '_created', '_gcount', '_gsum'];

function baseName(name: string): string | null {
  for (const s of SUFFIXES) if (name.endsWith(s)) return name.slice(0, -s.length);
  return null;
}

/** Whether sample `name` belongs to family `f` (the family name itself or a typed suffix of it). */
function belongs(f: MetricFamily, name: string): boolean {
  if (name === f.name) return true;
  if (!name.startsWith(f.name)) return false;
  const suffix = name.slice(f.name.length);
  switch (f.type) {
    case 'histogram':
      return suffix === '_bucket' || suffix === '_sum' || suffix === '_count' || suffix === '_created' || suffix === '_gcount' || suffix === '_gsum';
    case 'summary':
      return suffix === '_sum' || suffix === '_count' || suffix === '_created';
    case 'counter':
      return suffix === '_total' || suffix === '_created';
    default:
      return false;
  }
}

function readLabels(text: string, start: number, end: number): { labels: Labels; next: number } | string {
  const labels: Labels = {};
  let j = start;
  for (;;) {
    while (j < end && (text.charCodeAt(j) === C_SP || text.charCodeAt(j) === C_TAB)) j++;
    if (j >= end) return 'unterminated label set';
    if (text.charCodeAt(j) === C_RBRACE) return { labels, next: j + 1 };
    const ns = j;
    while (j < end && isNameChar(text.charCodeAt(j))) j++;
    if (j === ns) return `bad label name at column ${j + 1 - start}`;
    const lname = text.slice(ns, j);
    while (j < end && text.charCodeAt(j) === C_SP) j++;
    if (text.charCodeAt(j) !== C_EQ) return `expected = after label ${lname}`;
    j++;
    while (j < end && text.charCodeAt(j) === C_SP) j++;
    if (text.charCodeAt(j) !== C_QUOTE) return `expected " to open the value of label ${lname}`;
    j++;
    const vs = j;
    let escaped = false;
    while (j < end) {
      const c = text.charCodeAt(j);
      if (c === C_QUOTE) break;
      if (c === C_BSLASH) {
        escaped = true;
        j += 2;
        continue;
      }
      j++;
    }
    if (j >= end) return `unterminated value of label ${lname}`;
    labels[lname] = escaped ? unescapeLabel(text.slice(vs, j)) : text.slice(vs, j);
    j++;
    while (j < end && text.charCodeAt(j) === C_SP) j++;
    const c = text.charCodeAt(j);
    if (c === C_COMMA) {
      j++;
      continue;
    }
    if (c === C_RBRACE) return { labels, next: j + 1 };
    return `expected , or } after label ${lname}`;
  }
}

function unescapeLabel(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === C_BSLASH && i + 1 < s.length) {
      const n = s[i + 1];
      out += n === 'n' ? '\n' : n; // `\\` → `\`, `\"` → `"`, any other escape keeps its character
      i++;
    } else {
      out += s[i];
    }
  }
  return out;
}
