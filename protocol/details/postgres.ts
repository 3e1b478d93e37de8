/** PostgreSQL source details for one instance. */
export interface PostgresDetails {
  kind: 'postgres';
  instance: string;
  /** The URL with the password redacted. */
  target: string;
  serverVersion: string | null;
  isReplica: boolean | null;
  /** Text of the longest running query, only when config allows it. */
  longestQuery: string | null;
}
