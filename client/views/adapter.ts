// The view-adapter seam: how one source kind shows up in every view (Services tree, dashboard). A view
// reads adapters from the one list in ./index.ts and never switches on a source kind itself.
// View-neutral: no vscode, DOM or Node; text is formatted by the formatter the view passes in.

import type { AlertInstance, HostInfo, SampleMessage, SourceDetails, SourceStatus } from '../../protocol';

/** A codicon id with an optional theme colour id (`testing.iconPassed`). */
export interface ViewIcon {
  id: string;
  color?: string;
}

/** One row a view shows for a source: a tree item, or a line in a dashboard card. */
export interface ViewItem {
  /** Stable id, unique within the connection (`gpu/0`, `src/postgres.main`). */
  key: string;
  label: string;
  description?: string;
  /** Markdown (escaped with the formatter's `markdown`). */
  tooltip?: string;
  icon: ViewIcon;
  /** Drives tree menus (`view/item/context` when-clauses). */
  contextValue?: string;
  /** What the row refers to, for commands; the view adds the connection. */
  ref?: { gpuIndex?: number; pid?: number; runId?: string };
  children?: ViewItem[];
  /** Initial expansion when it has children. */
  expanded?: boolean;
}

/** A line of a chart: a series and its legend label. */
export interface ChartLineSpec {
  series: string;
  label: string;
}

/** A chart a view may draw for a source; the unit comes from the series names. */
export interface ChartSpec {
  title: string;
  lines: ChartLineSpec[];
}

/** The text formatter a view passes to adapters (one house formatter; views choose none of the rules). */
export interface ViewFormat {
  /** A value in a unit or a series' unit (`celsius`, `gpu.0.power_watts`), by protocol/format. */
  value(seriesOrUnit: string, v: number | null | undefined): string;
  /** A 0..1 ratio as a percentage. */
  percent(ratio: number | null | undefined): string;
  /** A plain number with at most `digits` decimals and an optional unit suffix. */
  number(v: number | null | undefined, digits?: number, unit?: string): string;
  /** A byte size. */
  bytes(v: number | null | undefined): string;
  /** A duration in seconds. */
  seconds(v: number | null | undefined): string;
  /** "used/total" memory; `compact` drops decimals from 10 on (`71/80 GiB`). */
  usedTotal(used: number | null | undefined, total: number | null | undefined, compact?: boolean): string;
  /** Escapes plain text (names, reasons from someone else) for Markdown. */
  markdown(text: string): string;
}

/** What an adapter reads: one connection's latest state. */
export interface ViewContext {
  /** The collector's machine, when connected. */
  host?: HostInfo;
  /** The latest sample. */
  sample?: SampleMessage;
  alerts: readonly AlertInstance[];
  fmt: ViewFormat;
}

/** The user's choice of status-bar readout (`rigwatch.statusBar.gpu`): the busiest GPU, all, or one index. */
export type StatusChoice = 'busiest' | 'all' | number;

/** What the status bar hands an adapter: one live connection's latest sample. */
export interface StatusContext {
  sample: SampleMessage;
  sources: readonly SourceStatus[];
  choice: StatusChoice;
  /** Escapes plain text for the Markdown tooltip. */
  markdown(text: string): string;
}

/** A kind's status-bar readout: short text (no icon) and the same in plain words for screen readers. */
export interface StatusReadout {
  text: string;
  spoken: string;
}

/**
 * How a kind contributes to the status bar: the first adapter in the list with a readout is shown;
 * every adapter's tooltip lines are joined in list order.
 */
export interface StatusSpec {
  readout?(ctx: StatusContext): StatusReadout | undefined;
  /** Markdown lines for the tooltip (each block ends with an empty line). */
  tooltip?(ctx: StatusContext): string[];
}

/** A group of sources in the views (GPUs, Databases, …), ordered by `order`. */
export interface ViewGroup {
  id: string;
  order: number;
  /**
   * Present when the group is a node of its own holding its sources' items (Databases); absent when each
   * source's items stand at the top level (Host, Containers).
   */
  node?: {
    label: string;
    icon: ViewIcon;
    /** A short summary next to the group label ("2/3 up"). */
    summary?(sources: readonly SourceStatus[], items: readonly ViewItem[]): string | undefined;
    /** Initial expansion; views decide when absent. */
    expanded?: boolean;
  };
}

/** How one source kind appears in every view. */
export interface SourceViewAdapter {
  /** The source kind it describes (`SourceStatus.kind`). */
  kind: string;
  group: ViewGroup;
  /** Codicon shown for a ready source. */
  icon: string;
  /** Display name of one source of this kind (`PostgreSQL main`). */
  label(source: SourceStatus): string;
  /** The rows for every source of this kind on one connection (state already known per source). */
  describe(sources: readonly SourceStatus[], ctx: ViewContext): ViewItem[];
  /** Charts for one source. */
  charts(source: SourceStatus, ctx: ViewContext): ChartSpec[];
  /**
   * The dashboard element that draws this kind (`rw-gpu-row`); absent: the dashboard draws a generic
   * card from `label`, `describe` and `charts`.
   */
  section?: string;
  /** What this kind shows in the status bar; absent: nothing. */
  status?: StatusSpec;
}

/** Reads a numeric series from a sample: null when absent or not a number. */
export function seriesValue(sample: SampleMessage | undefined, name: string): number | null {
  const v = sample?.series[name];
  return typeof v === 'number' ? v : null;
}

/** The details a source published in a sample, if any. */
export function detailsOf(sample: SampleMessage | undefined, sourceId: string): SourceDetails | undefined {
  return sample?.details[sourceId];
}
