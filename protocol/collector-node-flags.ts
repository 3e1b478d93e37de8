// How the collector's Node is started: every launcher (the extension, the SSH start script, the
// benchmarks and tests) passes these flags before dist/collector.js. V8 reads heap sizes only at
// start-up (v8.setFlagsFromString in main.ts is too late), so they cannot be set from inside.

/**
 * Node flags for the collector. `--max-semi-space-size=1` caps V8's young generation at 1 MiB per
 * semi-space (default: grows to 8–16 MiB): a 1 Hz sampler allocates little per tick, and the larger
 * nursery was ~10 MB of RSS for nothing (docs/performance.md).
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
