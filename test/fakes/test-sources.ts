// Test doubles for in-process collector tests: scripted sources and a raw-only history.

import { matchesSelector, type HistoryQuery, type SeriesMap } from '../../protocol';
import type { ColumnAnswer, HistoryAnswer, HistoryStore } from '../../collector/contracts';
import { toColumns } from '../../collector/export';
import type { ProbeResult, SampleResult, Source } from '../../collector/source';
import { SourceError } from '../../collector/source';

/** A source whose probe and sample behaviour the test scripts. */
export class ScriptedSource implements Source {
  readonly kind: string;
  probeResult: ProbeResult = { status: 'ready', description: 'scripted' };
  /** What the next samples do: return values, throw, or hang until released. */
  mode: 'ok' | 'fail' | 'fatal' | 'hang' | 'slow' = 'ok';
  /** Delay of a `slow` sample, in ms. */
  slowMs = 150;
  value = 1;
  samples = 0;
  probes = 0;
  closed = 0;
  private release: (() => void)[] = [];

  constructor(
    readonly id: string,
    readonly sampleTimeoutMs?: number,
  ) {
    this.kind = id.split('.')[0];
  }

  async probe(): Promise<ProbeResult> {
    this.probes++;
    return this.probeResult;
  }

  async sample(signal: AbortSignal): Promise<SampleResult> {
    this.samples++;
    if (this.mode === 'fail') throw new SourceError(`${this.id} refused`, true);
    if (this.mode === 'fatal') throw new SourceError(`${this.id} bad password`, false);
    if (this.mode === 'slow') await new Promise((r) => setTimeout(r, this.slowMs));
    if (this.mode === 'hang') {
      await new Promise<void>((resolve) => {
        this.release.push(resolve);
        signal.addEventListener('abort', () => undefined);
      });
    }
    return { series: { [`${this.id}.value_count`]: this.value } };
  }

  /** Lets hung samples finish. */
  unhang(): void {
    for (const r of this.release.splice(0)) r();
  }

  close(): void {
    this.closed++;
    this.unhang();
  }
}

/** A history that keeps raw samples only (enough for tick-loop and server tests). */
export class MemoryHistory implements HistoryStore {
  readonly rows: { t: number; series: SeriesMap }[] = [];
  flushes = 0;
  failFlush: Error | null = null;

  record(t: number, series: SeriesMap): void {
    this.rows.push({ t, series: { ...series } });
  }

  queryColumns(q: HistoryQuery, now: number): ColumnAnswer {
    const a = this.query(q, now);
    return { from: a.from, to: a.to, series: a.series.map(toColumns) };
  }

  query(q: HistoryQuery, now: number): HistoryAnswer {
    const to = q.to ?? now;
    const from = q.since !== undefined ? q.since + 1 : (q.from ?? to - 3600_000);
    const names = this.seriesNames().filter((n) => q.series.some((s) => matchesSelector(n, s)));
    return {
      from,
      to,
      series: names.map((name) => ({
        name,
        stepMs: 0,
        points: this.rows.filter((r) => r.t >= from && r.t <= to && name in r.series).map((r) => [r.t, r.series[name], r.series[name], r.series[name]]),
      })),
    };
  }

  seriesNames(): string[] {
    return [...new Set(this.rows.flatMap((r) => Object.keys(r.series)))];
  }

  async flush(): Promise<void> {
    this.flushes++;
    if (this.failFlush) throw this.failFlush;
  }
}
