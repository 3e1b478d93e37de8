/** PostgreSQL source details for one instance. */
export interface PostgresDetails {
  kind: 'postgres';
  instance: string;
  /** The URL with the password redacted. */
  target: string;
  /** Where the instance came from: `postgres[0]`, `DATABASE_URL` or `auto-detected`. */
  origin?: string;
  serverVersion: string | null;
  isReplica: boolean | null;
  /** Database the rates, cache hit ratio and size cover; null = every database (server-wide). */
  statsDatabase?: string | null;
  /** Age in seconds of the longest running query (other than Rigwatch's own); null when none. */
  longestQuerySeconds?: number | null;
  /** Text of the longest running query, only when config allows it (`showQueryText`), truncated, passwords masked. */
  longestQuery: string | null;
}
