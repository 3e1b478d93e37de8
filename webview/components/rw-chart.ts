// <rw-chart>: one chart.js line chart over store buffers. Live samples are appended to the buffers
// (shared arrays) and the chart is redrawn once per animation frame, without re-rendering the element;
// a text summary and an HTML legend make it readable without seeing the canvas.

import { Chart, Decimation, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration, type Scale } from 'chart.js';
import { html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { niceTicks, type AxisTicks } from '../../protocol';
import { fmtClock, fmtTick, has, NA, timeTicks, type Maybe } from '../format';
import type { ChartPoint, SeriesBuffer } from '../series-buffer';
import { RANGES, type DashboardStore } from '../state';
import { styleProps } from '../style-props';
import { chartFrameStyles, Y_AXIS_WIDTH_PX } from '../chart-frame';
import { alpha, chartTheme, onThemeChange, shared } from '../theme';

// Only what line charts need: no date adapter, no animations module, no legend plugin.
Chart.register(LineController, LineElement, PointElement, LinearScale, Decimation, Tooltip);

/** One line of a chart. */
export interface ChartLine {
  /** Series name. */
  name: string;
  label: string;
}

/** How often the screen-reader summary and legend values refresh. */
const SUMMARY_EVERY_MS = 5000;
/** How often a chart outside the viewport still redraws, in ms. */
const OFFSCREEN_REDRAW_MS = 5000;
/** Pixels per x tick label. */
const PX_PER_TICK = 90;
/**
 * Room kept right of every plot for the last time label's overhang, the same on every chart: chart.js
 * would otherwise shrink each plot by its own last label's overhang, so stacked time axes end apart.
 */
const X_AXIS_END_PAD_PX = 24;

let chartSeq = 0;

function snapshot(b: SeriesBuffer): ChartPoint[] {
  return Object.freeze(b.points.slice()) as ChartPoint[];
}

function lastValue(b: SeriesBuffer): number | null {
  for (let i = b.points.length - 1; i >= 0; i--) if (b.points[i].y !== null) return b.points[i].y;
  return null;
}

function lineKey(lines: ChartLine[]): string {
  return lines.map((l) => `${l.name}\u0000${l.label}`).join('\u0001');
}

/** A time-series line chart bound to the store. */
@customElement('rw-chart')
export class RwChart extends LitElement {
  static override styles = [shared, chartFrameStyles];

  @property({ attribute: false }) store!: DashboardStore;
  @property({ attribute: false, hasChanged: (a: ChartLine[], b?: ChartLine[]) => !b || lineKey(a) !== lineKey(b) }) lines: ChartLine[] = [];
  @property() heading = '';
  @property({ attribute: false }) fmt: (v: Maybe) => string = (v) => (has(v) ? String(v) : NA);
  @property({ type: Number }) yMin: number | undefined;
  @property({ type: Number }) yMax: number | undefined;
  /** The value axis of the last layout (ticks and their labels). */
  private yAxis: AxisTicks | undefined;
  @query('canvas') private canvas!: HTMLCanvasElement;
  @state() private summary = '';
  @state() private latest: (number | null)[] = [];
  @state() private empty = true;

  private chart: Chart<'line', ChartPoint[]> | undefined;
  private buffers: SeriesBuffer[] = [];
  private unwatch: (() => void) | undefined;
  private offData: (() => void) | undefined;
  private offTheme: (() => void) | undefined;
  private resizeObs: ResizeObserver | undefined;
  private visObs: IntersectionObserver | undefined;
  private visible = true;
  private dirty = false;
  private frame = 0;
  private lastSummaryAt = 0;
  private lastDrawAt = 0;
  private readonly summaryId = `rw-chart-sum-${++chartSeq}`;
  private colors: string[] = [];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated && !this.chart) this.setup();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.teardown();
  }

  protected override firstUpdated(): void {
    this.setup();
  }

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (!this.chart) return;
    if (changed.has('lines') && changed.get('lines') !== undefined) {
      this.teardown();
      this.setup();
    }
  }

  private setup(): void {
    if (!this.canvas || !this.store) return;
    const w = this.store.watch(this.lines.map((l) => l.name));
    this.buffers = w.buffers;
    this.unwatch = w.unwatch;
    this.chart = new Chart(this.canvas, this.config());
    this.offData = this.store.onData(() => this.schedule());
    this.offTheme = onThemeChange(() => this.applyTheme());
    this.resizeObs = new ResizeObserver((entries) => {
      const width = entries[0]?.contentRect.width ?? 0;
      if (width > 0) this.store.reportWidth(width);
    });
    this.resizeObs.observe(this);
    this.visObs = new IntersectionObserver((entries) => {
      this.visible = entries.some((e) => e.isIntersecting);
      if (this.visible && this.dirty) this.schedule();
    });
    this.visObs.observe(this);
    this.schedule();
  }

  private teardown(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.offData?.();
    this.offTheme?.();
    this.resizeObs?.disconnect();
    this.visObs?.disconnect();
    this.unwatch?.();
    this.chart?.destroy();
    this.chart = undefined;
    this.buffers = [];
  }

  /** The largest value the charted quantity can take, where known: 100 % for ratios, the memory total for memory. */
  private physicalMax(): number | null {
    const first = this.lines[0]?.name;
    if (!first) return null;
    if (first.endsWith('_ratio')) return 1;
    let top: number | null = null;
    for (const l of this.lines) {
      if (!l.name.endsWith('memory_used_bytes')) return null;
      const total = this.store.value(l.name.replace(/memory_used_bytes$/, 'memory_total_bytes'));
      if (!has(total)) return null;
      top = Math.max(top ?? 0, total);
    }
    return top;
  }

  private config(): ChartConfiguration<'line', ChartPoint[]> {
    const theme = chartTheme();
    this.colors = this.lines.map((_, i) => theme.palette[i % theme.palette.length]);
    const fmt = (v: unknown): string => this.fmt(typeof v === 'number' ? v : null);
    return {
      type: 'line',
      data: {
        datasets: this.lines.map((l, i) => ({
          label: l.label,
          data: snapshot(this.buffers[i]),
          borderColor: this.colors[i],
          backgroundColor: alpha(this.colors[i], 0.15),
          borderWidth: 1.5,
          pointRadius: 0,
          pointHitRadius: 4,
          spanGaps: false,
          fill: false,
          indexAxis: 'x',
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          decimation: { enabled: true, algorithm: 'min-max' },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? fmtClock(items[0].parsed.x ?? 0) : ''),
              label: (item) => `${item.dataset.label ?? ''}: ${fmt(item.parsed.y)}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            ticks: {
              color: theme.foreground,
              maxRotation: 0,
              autoSkip: false,
              font: { family: theme.font, size: 10 },
              callback: (v) => fmtTick(Number(v), this.store.windowMs),
            },
            afterBuildTicks: (scale: Scale) => {
              const max = Math.max(1, Math.floor(scale.width / PX_PER_TICK));
              scale.ticks = timeTicks(scale.min, scale.max, max).map((value) => ({ value }));
            },
            // The same end padding on every chart (see X_AXIS_END_PAD_PX); the first label's overhang
            // falls inside the fixed-width value axis.
            afterFit: (scale: Scale) => {
              scale.paddingLeft = 0;
              scale.paddingRight = X_AXIS_END_PAD_PX;
            },
            grid: { color: theme.grid, lineWidth: 0.5 },
          },
          y: {
            type: 'linear',
            min: this.yMin,
            max: this.yMax,
            beginAtZero: true,
            // Nice ticks in the axis's own unit and one prefix (0/20/40/60 GiB, whole connections),
            // ending at the physical maximum when one is known (VRAM total, 100 %).
            afterDataLimits: (scale: Scale) => {
              const a = niceTicks(this.lines[0]?.name ?? null, scale.min, scale.max, {
                physicalMax: this.yMax ?? this.physicalMax(),
                min: this.yMin,
                maxTicks: Math.max(2, Math.min(6, Math.floor(scale.height / 28) || 5)),
              });
              scale.min = a.min;
              scale.max = a.max;
              this.yAxis = a;
            },
            afterBuildTicks: (scale: Scale) => {
              if (this.yAxis) scale.ticks = this.yAxis.ticks.map((value) => ({ value }));
            },
            // A fixed label width lines up the time axes of stacked charts.
            afterFit: (scale: Scale) => {
              scale.width = Y_AXIS_WIDTH_PX;
            },
            ticks: {
              color: theme.foreground,
              font: { family: theme.font, size: 10 },
              callback: (v, i) => this.yAxis?.labels[i] ?? fmt(v),
            },
            grid: { color: theme.grid, lineWidth: 0.5 },
          },
        },
      },
    };
  }

  private applyTheme(): void {
    if (!this.chart) return;
    // Rebuild with the new colours; the buffers (and so the data) are shared, nothing is refetched.
    this.chart.destroy();
    this.chart = new Chart(this.canvas, this.config());
    this.schedule();
    this.requestUpdate();
  }

  private schedule(): void {
    this.dirty = true;
    if (this.frame) return;
    // Charts scrolled out of view redraw rarely (cheap, and never far behind when scrolled back).
    if (!this.visible && performance.now() - this.lastDrawAt < OFFSCREEN_REDRAW_MS) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const chart = this.chart;
    if (!chart || !this.dirty) return;
    this.dirty = false;
    this.lastDrawAt = performance.now();
    const now = this.store.now();
    const x = chart.options.scales?.x;
    if (x) {
      x.min = now - this.store.windowMs;
      x.max = now;
    }
    // chart.js patches push/splice on data arrays it is given and, with decimation on, those
    // listeners desynchronise its elements; a frozen copy per frame (a few thousand references at most)
    // keeps it away from our live buffers.
    chart.data.datasets.forEach((ds, i) => {
      if (this.buffers[i]) ds.data = snapshot(this.buffers[i]);
    });
    chart.update('none');
    const t = performance.now();
    this.latest = this.buffers.map(lastValue);
    const empty = this.buffers.every((b) => !b.points.some((p) => p.y !== null));
    if (empty !== this.empty || t - this.lastSummaryAt > SUMMARY_EVERY_MS) {
      this.lastSummaryAt = t;
      this.empty = empty;
      this.refreshSummary();
    }
  }

  private refreshSummary(): void {
    const range = RANGES.find((r) => r.id === this.store.ui.range);
    const span = range?.id === 'live' ? 'the last 2 minutes' : `the last ${range?.label ?? ''}`;
    const parts = this.lines.map((l, i) => {
      let min = Infinity;
      let max = -Infinity;
      for (const p of this.buffers[i]?.points ?? []) {
        if (p.y === null) continue;
        if (p.y < min) min = p.y;
        if (p.y > max) max = p.y;
      }
      if (min === Infinity) return `${l.label}: no data`;
      return `${l.label}: now ${this.fmt(this.latest[i])}, min ${this.fmt(min)}, max ${this.fmt(max)}`;
    });
    this.summary = `${this.heading} over ${span}. ${parts.join('; ')}.`;
  }

  /** Points held per line (diagnostics and tests). */
  get pointCounts(): number[] {
    return this.buffers.map((b) => b.points.length);
  }

  /** Time span of the x axis as drawn, or null before the first draw. */
  get xRange(): [number, number] | null {
    const x = this.chart?.scales.x;
    return x ? [x.min, x.max] : null;
  }

  /** The text summary (also what screen readers get). */
  get textSummary(): string {
    return this.summary;
  }

  override render() {
    return html`<figure>
      <figcaption>${this.heading}</figcaption>
      <div class="wrap">
        <canvas role="img" aria-label=${`Chart: ${this.heading}`} aria-describedby=${this.summaryId}></canvas>
        ${this.empty ? html`<div class="empty muted">no data</div>` : nothing}
      </div>
      ${
        this.lines.length > 1 || this.lines[0]?.label !== this.heading
          ? html`<ul class="legend" aria-hidden="true">
              ${this.lines.map(
                (l, i) =>
                  html`<li>
                    <span class="sw" .style=${styleProps({ background: this.colors[i] ?? 'currentColor' })}></span>${l.label}
                    <span class="num muted">${this.fmt(this.latest[i])}</span>
                  </li>`,
              )}
            </ul>`
          : nothing
      }
      <p class="sr-only" id=${this.summaryId}>${this.summary}</p>
    </figure>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-chart': RwChart;
  }
}
