// Jittered exponential backoff: one module for everything that retries (client reconnects, source
// re-probes, the SSH launcher, nvidia-smi restarts). Pure (the random source is injectable for tests).

/** Backoff tuning. */
export interface BackoffOptions {
  /** First delay, in ms. */
  initialMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = "full jitter"). */
  jitter: number;
}

/** Defaults for collector reconnects: 0.5 s, 1 s, 2 s … up to 30 s, up to 50 % shorter at random. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/** Counts attempts and hands out the next delay; `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly opts: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt, in ms. Randomised so many clients do not reconnect in lockstep. */
  next(): number {
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * this.opts.factor ** this.attempt);
    this.attempt++;
    // Delay is uniform in [base·(1−jitter), base], so it never exceeds maxMs.
    return Math.max(0, Math.round(base - this.random() * base * this.opts.jitter));
  }

  /** Starts over after a successful connection. */
  reset(): void {
    this.attempt = 0;
  }
}
