// Which (rule, series) pairs the engine evaluates each tick. Matching every series name against every
// rule is the expensive part, so names are classified once and re-scanned only at a discovery scan
// (first tick, new names, source changes, every DISCOVERY_INTERVAL_MS); matched pairs are evaluated on
// every tick through their watch item.

import type { SeriesMap } from '../../protocol';
import type { RollingMedian } from './baseline';
import { expandCaptures } from './selector';
import type { Instance, RuleEntry } from './state-machine';

/** Cap on remembered series names (names come and go, e.g. containers); beyond it the memo restarts. */
const CLASSIFIED_MAX = 50_000;

/** One (rule, series) pair evaluated on every tick. */
export interface WatchItem {
  name: string;
  id: string;
  entry: RuleEntry;
  captures: string[];
  /** Denominator series name for ratio rules. */
  denominator: string | null;
  /** Companion series that must be null/absent for the rule to apply. */
  requireMissing: string | null;
  /** Companion series the value is compared relative to (`value - companion`). */
  offset: string | null;
  /** Recent [t, value] samples while beyond a level, for `growingOver` rules. */
  trail: number[] | null;
  baseline: RollingMedian | null;
  /** Linked instance while one exists (it is created on the first breach). */
  inst: Instance | undefined;
  /** Discovery scan that last saw the name (items gone from the map are dropped at a scan). */
  seenScan: number;
  /** `increase` rules: the previous raw value (undefined before the first). */
  prev?: number;
}

/** What a watch list needs from the engine when it adds an item. */
export interface WatchDeps {
  /** The rolling baseline of instance `id` (created with a window of `windowMs` if new) for a baseline rule. */
  baselineFor(id: string, windowMs: number): RollingMedian;
  /** The existing instance of `id`, if any. */
  instanceFor(id: string): Instance | undefined;
}

/** The watch items of real series (found by discovery scans) and of virtual ones (source states). */
export class WatchList {
  /** Items of series in the tick's map. */
  items: WatchItem[] = [];
  /** Items of virtual series (`collector.<source>.down_state`), added as sources appear. */
  readonly virtualItems: WatchItem[] = [];
  /** Tick time of the last discovery scan. */
  lastScanAt = -Infinity;
  /** Names already matched against the rules (true when at least one rule matched). */
  private readonly classified = new Map<string, boolean>();
  private readonly byName = new Map<string, WatchItem[]>();
  private scanCount = 0;

  constructor(
    private readonly entries: readonly RuleEntry[],
    private readonly deps: WatchDeps,
  ) {}

  /** Scans every name of this tick for rules it matches; drops items whose series is gone. `tick` counts evaluations from 1. */
  discover(series: SeriesMap, t: number, tick: number): void {
    this.scanCount++;
    this.lastScanAt = t;
    if (this.classified.size > CLASSIFIED_MAX) {
      // Rebuild from this tick's names; items kept alive by an instance are re-added when seen.
      this.classified.clear();
      this.byName.clear();
      for (const w of this.items) {
        const list = this.byName.get(w.name);
        if (list) list.push(w);
        else this.byName.set(w.name, [w]);
        this.classified.set(w.name, true);
      }
    }
    const scan = this.scanCount;
    for (const name in series) {
      const known = this.classified.get(name);
      if (known === undefined) this.classified.set(name, this.add(name, false, tick));
      else if (known) this.markSeen(name, scan);
    }
    this.items = this.items.filter((w) => {
      const keep = w.seenScan === scan || (w.inst !== undefined && !w.inst.deleted);
      // Forget the name too, so it is matched afresh if the series comes back.
      if (!keep) {
        this.classified.delete(w.name);
        this.byName.delete(w.name);
      }
      return keep;
    });
  }

  /** Adds items for every rule matching `name`; returns whether any matched. */
  add(name: string, virtual: boolean, tick: number): boolean {
    let any = false;
    for (const entry of this.entries) {
      const captures = entry.sel.match(name);
      if (!captures) continue;
      any = true;
      const id = `${entry.rule.id}:${name}`;
      const item: WatchItem = {
        name,
        id,
        entry,
        captures,
        baseline: entry.rule.baseline ? this.deps.baselineFor(id, entry.rule.baseline.windowMs) : null,
        inst: this.deps.instanceFor(id),
        seenScan: this.scanCount,
        // A counter present from the first tick is a baseline; one appearing later counts from 0.
        prev: entry.rule.increase && tick > 1 ? 0 : undefined,
        denominator: entry.rule.ratioTo ? expandCaptures(entry.rule.ratioTo, captures) : null,
        requireMissing: entry.rule.whenMissing ? expandCaptures(entry.rule.whenMissing, captures) : null,
        offset: entry.rule.relativeTo ? expandCaptures(entry.rule.relativeTo, captures) : null,
        trail: entry.rule.growingOverMs > 0 ? [] : null,
      };
      (virtual ? this.virtualItems : this.items).push(item);
      if (!virtual) {
        const list = this.byName.get(name);
        if (list) list.push(item);
        else this.byName.set(name, [item]);
      }
    }
    return any;
  }

  /** Links a newly created instance to the items watching its series (an instance made by a mute). */
  link(inst: Instance): void {
    for (const w of this.items) if (w.id === inst.id) w.inst = inst;
    for (const w of this.virtualItems) if (w.id === inst.id) w.inst = inst;
  }

  private markSeen(name: string, scan: number): void {
    const items = this.byName.get(name);
    if (items) for (const w of items) w.seenScan = scan;
  }
}
