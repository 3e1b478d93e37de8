// <rw-step-chart>: a scalar of several runs against their training step (runs started at different
// times line up by progress, not by clock). Each line pairs a run's `run.<id>.<tag>` buffer with its
// `run.<id>.step_count` buffer from the same ticks; the dashboard's time range picks which ticks.

import { Chart, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration, type Scale } from 'chart.js';
import { html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { niceTicks, type AxisTicks } from '../../protocol';
import { has, NA, type Maybe } from '../format';
import { chartFrameStyles, Y_AXIS_WIDTH_PX } from '../chart-frame';
import { stepPoints } from '../run-series';
import type { ChartPoint, SeriesBuffer } from '../series-buffer';
import type { DashboardStore } from '../state';
import { styleProps } from '../style-props';
import { alpha, chartTheme, onThemeChange, shared } from '../theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip);

/** One run's line: its scalar series and its step series. */
export interface StepLine {
  value: string;
  step: string;
  label: string;
}

/** Pixels per step-axis label. */
const PX_PER_TICK = 90;

function key(lines: StepLine[]): string {
  return lines.map((l) => `${l.value}\u0000${l.step}\u0000${l.label}`).join('\u0001');
}

/** A by-step line chart of run scalars. */
@customElement('rw-step-chart')
export class RwStepChart extends LitElement {
  static override styles = [shared, chartFrameStyles];

  @property({ attribute: false }) store!: DashboardStore;
  @property({ attribute: false, hasChanged: (a: StepLine[], b?: StepLine[]) => !b || key(a) !== key(b) }) lines: StepLine[] = [];
  @property() heading = '';
  @property({ attribute: false }) fmt: (v: Maybe) => string = (v) => (has(v) ? String(v) : NA);
  @query('canvas') private canvas!: HTMLCanvasElement;
  @state() private empty = true;
  @state() private summary = '';

  private chart: Chart<'line', ChartPoint[]> | undefined;
  private valueBufs: SeriesBuffer[] = [];
  private stepBufs: SeriesBuffer[] = [];
  private unwatch: (() => void) | undefined;
  private offData: (() => void) | undefined;
  private offTheme: (() => void) | undefined;
  private frame = 0;
  private colors: string[] = [];
  private yAxis: AxisTicks | undefined;
  private xAxis: AxisTicks | undefined;
  /** Points per line as last drawn (tests). */
  drawnPoints: ChartPoint[][] = [];

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
    if (this.chart && changed.has('lines') && changed.get('lines') !== undefined) {
      this.teardown();
      this.setup();
    }
  }

  private setup(): void {
    if (!this.canvas || !this.store) return;
    const w = this.store.watch(this.lines.flatMap((l) => [l.value, l.step]));
    this.valueBufs = w.buffers.filter((_, i) => i % 2 === 0);
    this.stepBufs = w.buffers.filter((_, i) => i % 2 === 1);
    this.unwatch = w.unwatch;
    this.chart = new Chart(this.canvas, this.config());
    this.offData = this.store.onData(() => this.schedule());
    this.offTheme = onThemeChange(() => {
      this.chart?.destroy();
      this.chart = new Chart(this.canvas, this.config());
      this.schedule();
      this.requestUpdate();
    });
    this.schedule();
  }

  private teardown(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.offData?.();
    this.offTheme?.();
    this.unwatch?.();
    this.chart?.destroy();
    this.chart = undefined;
  }

  private config(): ChartConfiguration<'line', ChartPoint[]> {
    const theme = chartTheme();
    this.colors = this.lines.map((_, i) => theme.palette[i % theme.palette.length]);
    const fmt = (v: unknown): string => this.fmt(typeof v === 'number' ? v : null);
    const tick = { color: theme.foreground, font: { family: theme.font, size: 10 } };
    return {
      type: 'line',
      data: {
        datasets: this.lines.map((l, i) => ({
          label: l.label,
          data: [],
          borderColor: this.colors[i],
          backgroundColor: alpha(this.colors[i], 0.15),
          borderWidth: 1.5,
          pointRadius: 0,
          pointHitRadius: 4,
          fill: false,
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
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? `step ${items[0].parsed.x ?? ''}` : ''),
              label: (item) => `${item.dataset.label ?? ''}: ${fmt(item.parsed.y)}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            afterDataLimits: (scale: Scale) => {
              const a = niceTicks(this.lines[0]?.step ?? 'count', scale.min, scale.max, {
                min: Number.isFinite(scale.min) ? scale.min : 0,
                maxTicks: Math.max(2, Math.min(8, Math.floor(scale.width / PX_PER_TICK) || 5)),
              });
              scale.min = a.min;
              scale.max = a.max;
              this.xAxis = a;
            },
            afterBuildTicks: (scale: Scale) => {
              if (this.xAxis) scale.ticks = this.xAxis.ticks.map((value) => ({ value }));
            },
            ticks: { ...tick, maxRotation: 0, autoSkip: false, callback: (v, i) => this.xAxis?.labels[i] ?? String(v) },
            grid: { color: theme.grid, lineWidth: 0.5 },
            title: { display: true, text: 'step', color: theme.foreground, font: { family: theme.font, size: 10 }, padding: 0 },
          },
          y: {
            type: 'linear',
            afterDataLimits: (scale: Scale) => {
              const a = niceTicks(this.lines[0]?.value ?? null, scale.min, scale.max, {
                maxTicks: Math.max(2, Math.min(6, Math.floor(scale.height / 28) || 5)),
              });
              scale.min = a.min;
              scale.max = a.max;
              this.yAxis = a;
            },
            afterBuildTicks: (scale: Scale) => {
              if (this.yAxis) scale.ticks = this.yAxis.ticks.map((value) => ({ value }));
            },
            afterFit: (scale: Scale) => {
              scale.width = Y_AXIS_WIDTH_PX;
            },
            ticks: { ...tick, callback: (v) => fmt(v) },
            grid: { color: theme.grid, lineWidth: 0.5 },
          },
        },
      },
    };
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const chart = this.chart;
    if (!chart) return;
    this.drawnPoints = this.valueBufs.map((b, i) => stepPoints(b.points, this.stepBufs[i]?.points ?? []));
    chart.data.datasets.forEach((ds, i) => {
      ds.data = this.drawnPoints[i] ?? [];
    });
    chart.update('none');
    const empty = this.drawnPoints.every((p) => p.length === 0);
    const summary = `${this.heading} by step. ${this.lines
      .map((l, i) => {
        const pts = this.drawnPoints[i] ?? [];
        const last = pts[pts.length - 1];
        return last ? `${l.label}: ${this.fmt(last.y)} at step ${last.x}` : `${l.label}: no data`;
      })
      .join('; ')}.`;
    if (empty !== this.empty) this.empty = empty;
    if (summary !== this.summary) this.summary = summary;
  }

  /** The text summary (also what screen readers get). */
  get textSummary(): string {
    return this.summary;
  }

  override render() {
    return html`<figure>
      <figcaption>${this.heading}</figcaption>
      <div class="wrap">
        <canvas role="img" aria-label=${`Chart: ${this.heading} by step`}></canvas>
        ${this.empty ? html`<div class="empty muted">no data</div>` : nothing}
      </div>
      <ul class="legend" aria-hidden="true">
        ${this.lines.map((l, i) => html`<li><span class="sw" .style=${styleProps({ background: this.colors[i] ?? 'currentColor' })}></span>${l.label}</li>`)}
      </ul>
      <p class="sr-only">${this.summary}</p>
    </figure>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-step-chart': RwStepChart;
  }
}
