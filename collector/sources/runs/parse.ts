// Pure parsers for the plain-text metric formats training code writes. Each returns points
// (tag, value, step, time); non-finite values (NaN, ±Inf) are kept — they are what a divergence
// looks like. Input is bounded by the caller; parsing is linear.

/** One logged scalar. */
export interface MetricPoint {
  tag: string;
  value: number;
  step: number | null;
  /** Epoch ms when the file says so, else null (the reader stamps it). */
  t: number | null;
}

/** Keys that give the step of a JSON line / CSV row, most specific first. */
export const STEP_KEYS = ['global_step', 'step', 'iteration', 'iter', 'it', '_step', 'epoch'] as const;
/** Keys that are times, not metrics. */
const TIME_KEYS = new Set(['time', 'timestamp', 'wall_time', 'walltime', '_timestamp', '_runtime', 'datetime', 'date']);
const STEP_SET = new Set<string>(STEP_KEYS);

/** A JSON-ish value as a number: numbers, and Python's NaN/Infinity spellings (see `parseJsonLine`). */
function numeric(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
  }
  return null;
}

// Python's json.dumps writes NaN, Infinity and -Infinity as bare tokens, which JSON.parse rejects:
// quote them where they stand as values so the line still parses (and the NaN is seen).
const BARE_NONFINITE_RE = /([:,[]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g;

/** Parses one JSON line into points; null when it is not an object with at least one number. */
export function parseJsonLine(line: string): MetricPoint[] | null {
  const s = line.trim();
  if (s.length === 0 || s[0] !== '{') return null;
  let obj: unknown;
  try {
    obj = JSON.parse(s);
  } catch {
    try {
      obj = JSON.parse(s.replace(BARE_NONFINITE_RE, '$1"$2"'));
    } catch {
      return null;
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
  return pointsOfObject(obj as Record<string, unknown>, '');
}

/** Points of a flat record (JSON line, HF log_history entry); nested objects one level deep as `a/b`. */
export function pointsOfObject(o: Record<string, unknown>, prefix: string): MetricPoint[] | null {
  let step: number | null = null;
  for (const k of STEP_KEYS) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v)) {
      step = v;
      break;
    }
  }
  let t: number | null = null;
  for (const k of ['timestamp', 'time', '_timestamp', 'wall_time']) {
    const v = o[k];
    // Seconds since the epoch (after 2001 and before 2286) or ms.
    if (typeof v === 'number' && v > 1e9) {
      t = v < 1e11 ? v * 1000 : v;
      break;
    }
  }
  const out: MetricPoint[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (STEP_SET.has(k) && k !== 'epoch') continue;
    if (TIME_KEYS.has(k)) continue;
    const n = numeric(v);
    if (n !== null) out.push({ tag: prefix + k, value: n, step, t });
    else if (prefix === '' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const inner = pointsOfObject(v as Record<string, unknown>, `${k}/`);
      if (inner) for (const p of inner) out.push({ ...p, step, t });
    }
  }
  return out.length > 0 ? out : null;
}

/** Parses a CSV line into cells (RFC 4180 quotes; no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (q) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = false;
      } else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      cells.push(cur);
      cur = '';
    } else cur += c;
  }
  cells.push(cur);
  return cells;
}

/** Points of one metrics.csv row (Lightning CSVLogger: empty cells are "not logged this row"). */
export function parseCsvRow(header: readonly string[], line: string): MetricPoint[] {
  const cells = splitCsvLine(line.replace(/\r$/, ''));
  let step: number | null = null;
  const stepIdx = header.indexOf('step');
  if (stepIdx >= 0) {
    const v = Number(cells[stepIdx]);
    if (cells[stepIdx] !== '' && Number.isFinite(v)) step = v;
  }
  const out: MetricPoint[] = [];
  for (let i = 0; i < header.length; i++) {
    const k = header[i] as string;
    const raw = (cells[i] ?? '').trim();
    if (raw === '' || k === 'step' || TIME_KEYS.has(k)) continue;
    const v =
      raw === 'nan' || raw === 'NaN' ? NaN : raw === 'inf' || raw === 'Infinity' ? Infinity : raw === '-inf' || raw === '-Infinity' ? -Infinity : Number(raw);
    if (Number.isNaN(v) && raw !== 'nan' && raw !== 'NaN') continue;
    out.push({ tag: k, value: v, step, t: null });
  }
  return out;
}

/** One MLflow file-store metric line: "timestamp_ms value step" (step absent in old files). */
export function parseMlflowLine(tag: string, line: string): MetricPoint | null {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2) return null;
  const t = Number(parts[0]);
  const raw = parts[1] as string;
  const value = /^-?inf(inity)?$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(raw) ? NaN : Number(raw);
  if (!Number.isFinite(t) || (Number.isNaN(value) && !/^nan$/i.test(raw))) return null;
  const step = parts.length >= 3 && Number.isFinite(Number(parts[2])) ? Number(parts[2]) : null;
  return { tag, value, step, t };
}

/**
 * Points from a Hugging Face `trainer_state.json` (the whole file, rewritten at each save): each
 * `log_history` entry with `step` > `afterStep`.
 */
export function parseTrainerState(text: string, afterStep: number): { points: MetricPoint[]; lastStep: number } | null {
  let obj: unknown;
  try {
    obj = JSON.parse(text.replace(BARE_NONFINITE_RE, '$1"$2"'));
  } catch {
    return null;
  }
  if (typeof obj !== 'object' || obj === null) return null;
  const hist = (obj as Record<string, unknown>).log_history;
  if (!Array.isArray(hist)) return null;
  const points: MetricPoint[] = [];
  let lastStep = afterStep;
  for (const e of hist) {
    if (typeof e !== 'object' || e === null) continue;
    const step = (e as Record<string, unknown>).step;
    if (typeof step !== 'number' || step <= afterStep) continue;
    const ps = pointsOfObject(e as Record<string, unknown>, '');
    if (ps) points.push(...ps);
    if (step > lastStep) lastStep = step;
  }
  return { points, lastStep };
}

/** A tag as a series metric segment: lower case, `[a-z0-9_]`, starting with a letter, at most 64 chars. */
export function sanitizeTag(tag: string): string {
  let s = tag
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (s === '') s = 'value';
  if (!/^[a-z]/.test(s)) s = `m_${s}`;
  return s.slice(0, 64);
}

/** True for tags that name a loss (`loss`, `train/loss`, `val_loss`, `loss_epoch`, `nll`…). */
export function isLossTag(tag: string): boolean {
  return /(^|[^a-z])(loss|nll|perplexity|ppl)([^a-z]|$)/i.test(tag) || /loss/i.test(tag);
}

/** True for tags that are a throughput (`tokens_per_sec`, `train_samples_per_second`, `samples/s`, `tok/s`, `throughput`). */
export function isThroughputTag(tag: string): boolean {
  return /(tokens?|tok|samples?|examples?|images?)[\s_/-]*(per[\s_/-]*)?(s|sec|second)$/i.test(tag) || /throughput/i.test(tag);
}
