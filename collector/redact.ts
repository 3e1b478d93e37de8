// Secret redaction shared by every source: connection URLs and error texts pass through here before
// they reach a log line, a status reason, a detail field or history. Passwords never leave a source.

/** What a redacted secret is replaced with. */
export const REDACTED = '***';

// Query parameters that carry credentials in database/cache URLs (libpq, node-postgres, ioredis).
const SECRET_PARAM_RE = /^(password|passwd|pass|pwd|secret|token|sslpassword|auth|access_token|api_key|apikey)$/i;

// `scheme://user:password@` anywhere in a text (also inside error messages and query text). The
// password runs to the LAST `@` before whitespace: an unencoded `@` or `/` in a password must not
// leave a tail of it visible (over-masking an odd URL is the safe side).
const URL_USERINFO_RE = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):(\S*)@/gi;

// `password=...` style key/value pairs (libpq keyword strings, query strings embedded in messages).
const KV_SECRET_RE = /\b(password|passwd|pwd|secret|token|sslpassword)=([^\s&;]+)/gi;

/**
 * A URL with its password (userinfo and credential query parameters) replaced by `***`.
 * Never throws; text that does not parse as a URL is scrubbed with the same patterns.
 */
export function redactUrl(url: string): string {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || !url.includes('://')) return scrubPatterns(url);
  let changed = false;
  if (parsed.password) {
    parsed.password = REDACTED;
    changed = true;
  }
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM_RE.test(key)) {
      parsed.searchParams.set(key, REDACTED);
      changed = true;
    }
  }
  // A password with an unencoded `/` can make the parser see no password at all: scrub anyway.
  if (!changed) return scrubPatterns(url);
  // URL encodes `*` in the password only sometimes; normalise so the output is predictable.
  return scrubPatterns(parsed.toString().replace(/%2A%2A%2A/gi, REDACTED));
}

/**
 * `text` with every occurrence of each secret (raw and URL-encoded) and every URL password or
 * `password=` pair replaced by `***`. Empty secrets are ignored.
 */
export function redactSecrets(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  const variants = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    variants.add(s);
    variants.add(encodeURIComponent(s));
    try {
      variants.add(decodeURIComponent(s));
    } catch {
      // not percent-encoded: the raw form is already in the set
    }
  }
  // Longest first so a secret that contains another is replaced whole.
  for (const v of [...variants].filter((v) => v.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(v).join(REDACTED);
  }
  return scrubPatterns(out);
}

/** The password part of a connection URL (decoded), or null; for feeding `redactSecrets`. */
export function urlPassword(url: string): string | null {
  // Userinfo by pattern first: the URL parser misreads passwords with an unencoded `/` or `@`.
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:(\S*)@/i.exec(url);
  if (m && m[1]) return safeDecode(m[1]);
  try {
    const u = new URL(url);
    return [...u.searchParams.entries()].find(([k]) => SECRET_PARAM_RE.test(k))?.[1] ?? null;
  } catch {
    return null;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function scrubPatterns(text: string): string {
  return text
    .replace(URL_USERINFO_RE, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(KV_SECRET_RE, (_m, key: string) => `${key}=${REDACTED}`);
}
