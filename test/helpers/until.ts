// The tests' one polling wait (the webview tests' `until`, the GPU source tests' `waitFor`).

/** Polls `fn` until it returns something truthy; on timeout, throws naming `what` and the last value or error. */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 10_000, pollMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
