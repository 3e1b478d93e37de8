// Selector matching with captures, so a rule can name a companion series of each match
// (`gpu.*.power_watts` with `ratioTo: "gpu.$1.power_limit_watts"`).

/** A compiled selector: `match` returns the wildcard captures, or null when the name does not match. */
export interface CompiledSelector {
  readonly selector: string;
  match(name: string): string[] | null;
}

/**
 * Compiles a selector. Semantics follow `matchesSelector` in protocol/series.ts (exact name; a single
 * trailing `*` is a prefix; otherwise each `*` matches within one dot-separated segment), plus `**`,
 * which matches one or more whole segments (source ids such as `postgres.main` contain dots).
 */
export function compileSelector(selector: string): CompiledSelector {
  if (!selector.includes('*')) {
    return { selector, match: (name) => (name === selector ? [] : null) };
  }
  if (selector.endsWith('*') && selector.indexOf('*') === selector.length - 1) {
    const prefix = selector.slice(0, -1);
    return { selector, match: (name) => (name.startsWith(prefix) ? [name.slice(prefix.length)] : null) };
  }
  const parts = selector.split(/(\*\*|\*)/);
  let src = '^';
  for (const p of parts) {
    if (p === '**') src += '([^.]+(?:\\.[^.]+)*)';
    else if (p === '*') src += '([^.]*)';
    else src += escapeRe(p);
  }
  const re = new RegExp(src + '$');
  return {
    selector,
    match: (name) => {
      const m = re.exec(name);
      return m ? m.slice(1) : null;
    },
  };
}

/** Replaces `$1`…`$9` in `template` with the captures (1-based); a missing capture becomes empty. */
export function expandCaptures(template: string, captures: readonly string[]): string {
  return template.replace(/\$([1-9])/g, (_, d: string) => captures[Number(d) - 1] ?? '');
}

/** Number of wildcards (`*` or `**`) in a selector, i.e. how many captures it yields. */
export function captureCount(selector: string): number {
  if (!selector.includes('*')) return 0;
  return selector.split(/\*\*|\*/).length - 1;
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
