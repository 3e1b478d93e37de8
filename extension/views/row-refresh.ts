// When to refresh tree rows whose values changed, so that their tooltips can be read. VS Code rebuilds
// a row's hover whenever the row is re-rendered: that closes an open tooltip and cancels one about to
// open (after `workbench.hover.delay`). So changed rows are refreshed at most every `minRowIntervalMs`
// (longer than the hover delay: a hover started between two refreshes opens), and a row whose tooltip
// opened (resolveTreeItem is VS Code's "hover opening" signal) keeps its text for `holdMs`, so the
// tooltip stays up while it is read. Pure (no vscode): the clock and timers are passed in.

/** How often changed rows may be refreshed, and how long an opened tooltip holds its row. */
export interface TreeRefreshPolicy {
  /** Least time between two refreshes of rows whose values changed, in ms (structure changes are immediate). */
  minRowIntervalMs: number;
  /** How long a row whose tooltip opened keeps its text, in ms. */
  holdMs: number;
}

/** VS Code's default hover delay outside macOS (`workbench.hover.delay`), in ms. */
export const DEFAULT_HOVER_DELAY_MS = 500;

/**
 * The policy for a hover delay: rows refresh at least 3 s apart (hover delay + 2.5 s on macOS's 1.5 s).
 * VS Code arms a row's hover only when the mouse enters it; a refresh within the delay disarms it until the
 * mouse moves across the row again, so the chance a hover fails to open is delay / interval (1 in 6 here).
 */
export function refreshPolicy(hoverDelayMs: unknown = DEFAULT_HOVER_DELAY_MS): TreeRefreshPolicy {
  const delay = typeof hoverDelayMs === 'number' && Number.isFinite(hoverDelayMs) && hoverDelayMs >= 0 ? hoverDelayMs : DEFAULT_HOVER_DELAY_MS;
  return { minRowIntervalMs: Math.max(3000, delay + 2500), holdMs: 10_000 };
}

/** The clock and timers the scheduler uses (real ones by default; tests pass a fake). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** What a row shows (its signature) and the tooltip that goes with it. */
interface Shown {
  signature: string;
  tooltip: string | undefined;
}

/** Decides which rows to refresh and when. */
export class RowRefresher<N extends { id: string; tooltip?: string }> {
  /** What the view was last given per row id. */
  private readonly shown = new Map<string, Shown>();
  /** Rows whose tooltip opened, and until when (epoch ms) they keep their text. */
  private readonly held = new Map<string, number>();
  private lastRefresh = -Infinity;
  private timer: unknown;
  private timerAt = 0;

  constructor(
    /** The current model's rows by id. */
    private readonly rows: () => ReadonlyMap<string, N>,
    /** What a row shows without hovering (label, description, icon…). */
    private readonly signature: (n: N) => string,
    /** Tells the view to re-read these rows. */
    private readonly fire: (rows: N[]) => void,
    public policy: TreeRefreshPolicy = refreshPolicy(),
    private readonly clock: Clock = REAL_CLOCK,
  ) {}

  /** The view read this row (getTreeItem). */
  rendered(n: N): void {
    this.shown.set(n.id, { signature: this.signature(n), tooltip: n.tooltip });
  }

  /** The row's hover is opening: it keeps its text for `holdMs`; returns the tooltip that goes with what it shows. */
  hoverOpened(n: N): string | undefined {
    this.held.set(n.id, this.clock.now() + this.policy.holdMs);
    return this.shown.has(n.id) ? this.shown.get(n.id)!.tooltip : n.tooltip;
  }

  /** Whether the row is held by an open tooltip. */
  isHeld(id: string): boolean {
    return (this.held.get(id) ?? -Infinity) > this.clock.now();
  }

  /** The whole tree was refreshed: forget rows that are gone. */
  reset(): void {
    const rows = this.rows();
    for (const id of [...this.shown.keys()]) if (!rows.has(id)) this.shown.delete(id);
  }

  /** Refreshes the rows shown with text other than the model's, as the policy allows; schedules the rest. */
  flush(): void {
    const now = this.clock.now();
    const rows = this.rows();
    const stale: N[] = [];
    let nextHoldEnd = Infinity;
    for (const [id, until] of this.held) if (until <= now) this.held.delete(id);
    for (const [id, shown] of this.shown) {
      const n = rows.get(id);
      if (!n || shown.signature === this.signature(n)) continue;
      const until = this.held.get(id);
      if (until !== undefined) nextHoldEnd = Math.min(nextHoldEnd, until);
      else stale.push(n);
    }
    let next = Infinity;
    if (stale.length > 0) {
      const allowedAt = this.lastRefresh + this.policy.minRowIntervalMs;
      if (allowedAt <= now) {
        for (const n of stale) this.rendered(n);
        this.lastRefresh = now;
        this.fire(stale);
      } else next = allowedAt;
    }
    if (nextHoldEnd !== Infinity) next = Math.min(next, Math.max(nextHoldEnd, this.lastRefresh + this.policy.minRowIntervalMs));
    if (next !== Infinity) this.scheduleAt(next);
  }

  /** Runs flush at `at` (epoch ms) unless one is already due by then. */
  private scheduleAt(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
