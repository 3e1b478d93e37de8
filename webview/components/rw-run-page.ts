// <rw-run-page>: one training run — what it is (command, user, container, state, elapsed, last step and
// loss, GPUs), each scalar it logs on the same time axis as its GPUs' utilisation, VRAM and power, in the
// dashboard's time range; and "Compare": one tag for several runs on one chart, by time or by step.

import { css, html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { formatElapsedSeconds, runsInSample } from '../../client/views/adapters/runs';
import type { SampleMessage } from '../../protocol';
import type { RunInfo, RunScalar } from '../../protocol/details/runs';
import { fmtBytes, fmtClock, fmtNumber, fmtPercent, fmtWatts, NA } from '../format';
import { fmtScalar, orderedScalars, tagKey } from '../run-series';
import { shared } from '../theme';
import type { ChartLine } from './rw-chart';
import type { StepLine } from './rw-step-chart';
import { StoreElement } from './store-element';
import './rw-chart';
import './rw-step-chart';

/** Scalars charted by default (the loss-like and throughput ones first); the picker shows the rest. */
const DEFAULT_TAGS = 6;
/** Most runs on one compare chart (the palette's distinct colours). */
const MAX_COMPARE_RUNS = 8;
/** Longest command line shown, in characters (the collector bounds it too). */
const MAX_COMMAND_CHARS = 1000;

const STATE_DOT: Record<RunInfo['state'], string> = { running: 'ok', stalled: 'warn', finished: 'off', gone: 'bad' };

/** The run page. */
@customElement('rw-run-page')
export class RwRunPage extends StoreElement {
  static override styles = [
    shared,
    css`
      :host {
        display: block;
        margin-top: 10px;
      }
      .top {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 6px 14px;
      }
      h2 {
        margin: 0;
        font-size: 1.3em;
        font-weight: 600;
        overflow-wrap: anywhere;
      }
      .cmd {
        font-family: var(--vscode-editor-font-family, monospace);
        font-size: 0.95em;
        margin: 6px 0 0;
        overflow-wrap: anywhere;
        white-space: pre-wrap;
      }
      .facts {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 150px), 1fr));
        gap: 8px 14px;
        margin: 10px 0 0;
      }
      .facts div {
        min-width: 0;
      }
      .facts dt {
        color: var(--vscode-descriptionForeground);
        font-size: 0.9em;
      }
      .facts dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
        overflow-wrap: anywhere;
      }
      .facts dd.wide {
        grid-column: 1 / -1;
      }
      .problem {
        color: var(--vscode-editorWarning-foreground);
        margin: 6px 0 0;
        overflow-wrap: anywhere;
      }
      .bar {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px 10px;
        margin-top: 14px;
      }
      .bar .label {
        color: var(--vscode-descriptionForeground);
      }
      .seg {
        display: inline-flex;
        flex-wrap: wrap;
        gap: 4px;
      }
      .chip {
        font: inherit;
        color: var(--vscode-foreground);
        background: transparent;
        border: 1px solid var(--vscode-contrastBorder, var(--vscode-widget-border, var(--vscode-panel-border, #8886)));
        border-radius: 10px;
        padding: 1px 9px;
        cursor: pointer;
        max-width: 100%;
        overflow-wrap: anywhere;
        text-align: left;
      }
      .chip[aria-pressed='true'] {
        background: var(--vscode-button-background);
        color: var(--vscode-button-foreground);
        border-color: var(--vscode-contrastActiveBorder, var(--vscode-button-background));
        outline: 1px solid var(--vscode-contrastActiveBorder, transparent);
      }
      select {
        font: inherit;
        color: var(--vscode-dropdown-foreground, var(--vscode-foreground));
        background: var(--vscode-dropdown-background, var(--vscode-editor-background));
        border: 1px solid var(--vscode-dropdown-border, var(--vscode-contrastBorder, #8886));
        border-radius: 2px;
        padding: 2px 4px;
        max-width: 100%;
      }
      .stack {
        display: grid;
        gap: 12px;
        margin-top: 12px;
      }
      .stack h3 {
        margin: 8px 0 0;
        font-size: 0.85em;
        text-transform: uppercase;
        letter-spacing: 0.06em;
        color: var(--vscode-descriptionForeground);
      }
      .note {
        margin: 12px 0 0;
      }
      /* The compare view is one chart: give it the room. */
      [data-charts='compare'] > * {
        --rw-chart-height: 260px;
      }
    `,
  ];

  /** The run shown (`RunInfo.id`). */
  @property() runId = '';
  @state() private view: 'run' | 'compare' = 'run';
  /** Tags (series key after `run.<id>.`) the user picked; null: the default ones. */
  @state() private picked: Set<string> | null = null;
  @state() private compareTag: string | null = null;
  /** Runs picked for compare; null: every run with the tag (up to MAX_COMPARE_RUNS). */
  @state() private compareRuns: Set<string> | null = null;
  @state() private compareBy: 'time' | 'step' = 'time';
  /** GPUs the run has been seen on (a run that ended has none left in its details). */
  private seenGpus = new Set<number>();
  private seenFor = '';

  private runs(): RunInfo[] {
    const sample: SampleMessage = { type: 'sample', t: this.store.lastSampleT, series: {}, details: Object.fromEntries(this.store.details) };
    return runsInSample(sample);
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    super.willUpdate(changed);
    if (changed.has('runId')) {
      this.picked = null;
      this.compareTag = null;
      this.compareRuns = null;
    }
  }

  private back(): void {
    this.store.openRun(null);
  }

  private facts(r: RunInfo): TemplateResult {
    const fact = (label: string, value: string | TemplateResult, attr = ''): TemplateResult =>
      html`<div data-fact=${attr || label.toLowerCase()}>
        <dt>${label}</dt>
        <dd>${value}</dd>
      </div>`;
    const tput = r.throughput;
    return html`<dl class="facts">
      ${fact('State', html`<span class="state"><span class="dot ${STATE_DOT[r.state]}" aria-hidden="true"></span>${r.state}${r.exit ? ` (${r.exit})` : ''}</span>`)}
      ${fact('Elapsed', formatElapsedSeconds(r.elapsedSeconds))} ${fact('Started', r.startedAt ? fmtClock(r.startedAt) : NA)}
      ${fact('Step', r.lastStep === null ? NA : fmtNumber(r.lastStep))}
      ${fact('Loss', r.loss ? `${r.loss.text === 'NaN' || /Infinity/.test(r.loss.text) ? r.loss.text : fmtScalar(r.loss.value)} (${r.loss.tag})` : NA)}
      ${fact('Throughput', tput ? `${fmtScalar(tput.value)} (${tput.tag})` : NA)}
      ${fact('GPUs', r.gpus.length ? r.gpus.map((g) => `GPU ${g.index} ${fmtBytes(g.memoryBytes)}`).join(', ') : 'none')} ${fact('User', r.user ?? NA)}
      ${fact('Container', r.container ?? 'host')} ${fact('Directory', r.cwd ?? NA, 'cwd')}
      ${fact('Found', r.origin === 'gpu' ? 'on a GPU' : 'by configuration', 'origin')}
      ${fact('Processes', r.pids.length ? `${r.pids.length} (pid ${r.pids[0]})` : 'none', 'pids')}
    </dl>`;
  }

  private selectedTags(r: RunInfo, ordered: RunScalar[]): Set<string> {
    return this.picked ?? new Set(ordered.slice(0, DEFAULT_TAGS).map((s) => tagKey(r.id, s.key)));
  }

  private toggleTag(r: RunInfo, ordered: RunScalar[], tag: string): void {
    const next = new Set(this.selectedTags(r, ordered));
    if (next.has(tag)) next.delete(tag);
    else next.add(tag);
    this.picked = next;
  }

  private runView(r: RunInfo): TemplateResult {
    const ordered = orderedScalars(r);
    const sel = this.selectedTags(r, ordered);
    const gpus = [...this.seenGpus].sort((a, b) => a - b);
    const gl = (metric: string, label: string): ChartLine[] => gpus.map((i) => ({ name: `gpu.${i}.${metric}`, label: gpus.length > 1 ? `GPU ${i}` : label }));
    const vram: ChartLine[] = [...gl('memory_used_bytes', `GPU ${gpus[0]} used`), { name: `run.${r.id}.gpu_memory_used_bytes`, label: `${r.name} processes` }];
    return html`
      ${
        ordered.length
          ? html`<div class="bar" role="group" aria-label="Scalars to chart">
              <span class="label">Scalars</span>
              <span class="seg">
                ${ordered.map((s) => {
                  const t = tagKey(r.id, s.key);
                  return html`<button class="chip" data-tag=${t} aria-pressed=${sel.has(t) ? 'true' : 'false'} @click=${() => this.toggleTag(r, ordered, t)}>
                    ${s.tag}
                  </button>`;
                })}
              </span>
            </div>`
          : html`<p class="note muted" data-note="no-scalars">
              No metrics found yet: Rigwatch looks for TensorBoard event files, *.jsonl, metrics.csv, MLflow and trainer_state.json under the run's directory
              and log-dir arguments (see docs/runs.md).
            </p>`
      }
      <div class="stack" data-charts="run">
        ${ordered
          .filter((s) => sel.has(tagKey(r.id, s.key)))
          .map(
            (s) =>
              html`<rw-chart
                data-tag=${tagKey(r.id, s.key)}
                .store=${this.store}
                heading=${s.tag}
                .lines=${[{ name: s.key, label: s.tag }]}
                .fmt=${fmtScalar}
              ></rw-chart>`,
          )}
        ${
          gpus.length
            ? html`<h3>GPUs</h3>
                <rw-chart
                  data-gpu="util"
                  .store=${this.store}
                  heading="GPU utilisation"
                  .lines=${gl('utilization_ratio', 'Utilisation')}
                  .fmt=${fmtPercent}
                  .yMax=${1}
                ></rw-chart>
                <rw-chart data-gpu="vram" .store=${this.store} heading="VRAM" .lines=${vram} .fmt=${fmtBytes}></rw-chart>
                <rw-chart data-gpu="power" .store=${this.store} heading="GPU power" .lines=${gl('power_watts', 'Power')} .fmt=${fmtWatts}></rw-chart>`
            : html`<p class="note muted" data-note="no-gpu">No GPU: this run's processes are not on a GPU Rigwatch can see.</p>`
        }
      </div>
    `;
  }

  private compareView(r: RunInfo, runs: RunInfo[]): TemplateResult {
    // Tags by their series key, so `loss` of one run meets `loss` of another; labelled as first written.
    const tags = new Map<string, string>();
    for (const x of [r, ...runs]) for (const s of orderedScalars(x)) if (!tags.has(tagKey(x.id, s.key))) tags.set(tagKey(x.id, s.key), s.tag);
    if (tags.size === 0) return html`<p class="note muted" data-note="no-scalars">No run logs a scalar yet.</p>`;
    const tag = this.compareTag !== null && tags.has(this.compareTag) ? this.compareTag : r.loss ? tagKey(r.id, r.loss.key) : [...tags.keys()][0];
    // This run first (the first colour), then the others newest first.
    const having = [r, ...runs.filter((x) => x !== r)].filter((x) => x.scalars.some((s) => tagKey(x.id, s.key) === tag));
    const chosen = this.compareRuns ?? new Set(having.map((x) => x.id).slice(0, MAX_COMPARE_RUNS));
    const shown = having.filter((x) => chosen.has(x.id)).slice(0, MAX_COMPARE_RUNS);
    const names = new Map<string, number>();
    for (const x of shown) names.set(x.name, (names.get(x.name) ?? 0) + 1);
    const label = (x: RunInfo): string => ((names.get(x.name) ?? 0) > 1 ? `${x.name} (${x.id})` : x.name);
    const toggleRun = (id: string): void => {
      const next = new Set(chosen);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      this.compareRuns = next;
    };
    const title = tags.get(tag) ?? tag;
    return html`
      <div class="bar">
        <label class="label" for="cmp-tag">Tag</label>
        <select id="cmp-tag" data-control="compare-tag" @change=${(e: Event) => (this.compareTag = (e.target as HTMLSelectElement).value)}>
          ${[...tags].map(([k, t]) => html`<option value=${k} ?selected=${k === tag}>${t}</option>`)}
        </select>
        <span class="label">by</span>
        <span class="seg" role="group" aria-label="Horizontal axis">
          ${(['time', 'step'] as const).map(
            (b) =>
              html`<button class="chip" data-by=${b} aria-pressed=${this.compareBy === b ? 'true' : 'false'} @click=${() => (this.compareBy = b)}>
                ${b === 'time' ? 'Time' : 'Step'}
              </button>`,
          )}
        </span>
      </div>
      <div class="bar" role="group" aria-label="Runs to compare">
        <span class="label">Runs</span>
        <span class="seg">
          ${having.map(
            (x) =>
              html`<button class="chip" data-run=${x.id} aria-pressed=${chosen.has(x.id) ? 'true' : 'false'} @click=${() => toggleRun(x.id)}>
                ${label(x)} · ${x.state}
              </button>`,
          )}
        </span>
      </div>
      <div class="stack" data-charts="compare">
        ${
          this.compareBy === 'time'
            ? html`<rw-chart
                .store=${this.store}
                heading=${title}
                .lines=${shown.map((x): ChartLine => ({ name: `run.${x.id}.${tag}`, label: label(x) }))}
                .fmt=${fmtScalar}
              ></rw-chart>`
            : html`<rw-step-chart
                .store=${this.store}
                heading=${title}
                .lines=${shown.map((x): StepLine => ({ value: `run.${x.id}.${tag}`, step: `run.${x.id}.step_count`, label: label(x) }))}
                .fmt=${fmtScalar}
              ></rw-step-chart>`
        }
      </div>
    `;
  }

  override render() {
    const runs = this.runs();
    const r = runs.find((x) => x.id === this.runId);
    const back = html`<button class="link" data-control="back" @click=${() => this.back()}>← Dashboard</button>`;
    if (!r) {
      return html`<section aria-label="Run" data-run-page=${this.runId}>
        ${back}
        <p class="note" role="status" data-note="missing">
          ${this.store.lastSampleT ? `Run ${this.runId} is not listed by this collector (ended runs stay listed for an hour).` : 'Waiting for the collector…'}
        </p>
      </section>`;
    }
    if (this.seenFor !== r.id) {
      this.seenFor = r.id;
      this.seenGpus = new Set();
    }
    for (const g of r.gpus) this.seenGpus.add(g.index);
    const problems = r.files.filter((f) => f.problem);
    return html`<section aria-label=${`Run ${r.name}`} data-run-page=${r.id} data-state=${r.state}>
      ${back}
      <div class="top">
        <h2>${r.name}</h2>
        <span class="muted">${r.id}</span>
      </div>
      ${r.command ? html`<p class="cmd" data-fact="command">${r.command.slice(0, MAX_COMMAND_CHARS)}</p>` : nothing} ${this.facts(r)}
      ${problems.map((f) => html`<p class="problem">${f.path}: ${f.problem}</p>`)}
      <div class="bar">
        <span class="seg" role="group" aria-label="Run view">
          <button class="chip" data-view="run" aria-pressed=${this.view === 'run' ? 'true' : 'false'} @click=${() => (this.view = 'run')}>This run</button>
          <button class="chip" data-view="compare" aria-pressed=${this.view === 'compare' ? 'true' : 'false'} @click=${() => (this.view = 'compare')}>
            Compare runs
          </button>
        </span>
      </div>
      ${this.view === 'run' ? this.runView(r) : this.compareView(r, runs)}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'rw-run-page': RwRunPage;
  }
}
