// How the collector's Node is started: every launcher (the extension, the SSH start script, the
// benchmarks and tests, `npm start`) passes these flags before dist/collector.js and these variables in
// its environment. V8 reads heap sizes only at start-up (v8.setFlagsFromString in main.ts is too late),
// and glibc reads its malloc settings when the process starts, so neither can be set from inside.

/**
 * Node flags for the collector (docs/performance.md, "Collector RSS"):
 * - `--max-semi-space-size=1` caps V8's young generation at 1 MiB per semi-space (default: grows to
 *   8–16 MiB): a 1 Hz sampler allocates little per tick, and the larger nursery was ~10 MB of RSS for nothing.
 * - `--no-opt --no-sparkplug`: bytecode only, no optimizing (TurboFan) or baseline (Sparkplug) compiler.
 *   The first optimized function pulls ~4 MB of TurboFan's own machine code into RSS (pages of the node
 *   binary), Sparkplug ~1.5 MB more; a collector doing ~10 ms of work a second gains nothing from them
 *   (same CPU time over 5 min within noise; the hostile-page tick and history streaming benches unchanged).
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-opt', '--no-sparkplug'];

/**
 * glibc malloc settings for the collector's environment (docs/performance.md, "Collector RSS"):
 * - `MALLOC_ARENA_MAX=1`: one malloc arena. By default every thread that allocates (the libuv pool,
 *   V8's platform threads) gets its own arena, each keeping freed memory; ~5 MB for a process that
 *   allocates a little once a second.
 * - `MALLOC_MMAP_THRESHOLD_=131072`: a fixed 128 KiB mmap threshold. glibc raises the threshold each
 *   time a large block is freed (start-up frees a few MB), after which the history rings (~190 KB per
 *   series at 1 s) came from the heap, where calloc zero-fills them: all resident from the first tick.
 *   Mapped on their own they are fresh zero pages that count only as history fills them.
 * Only these names and constant values: the SSH start script writes them on a shell command line.
 */
export const COLLECTOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** `NAME=value NAME=value` for a POSIX shell command line (the values are constants: no quoting needed). */
export function collectorEnvAssignments(): string {
  return Object.entries(COLLECTOR_ENV)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
