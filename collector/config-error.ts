/** A bad config value: names the file, key, the value given and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly expected: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${key}: expected ${expected}, got ${formatValue(value)}`);
    this.name = 'ConfigError';
  }
}

function formatValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 80) + '…' : s;
  } catch {
    return String(v);
  }
}
