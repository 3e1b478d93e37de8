/** One database of a Redis keyspace. */
export interface RedisDb {
  db: number;
  keys: number;
  /** Keys with a TTL. */
  expires: number;
}

/** Redis source details for one instance. */
export interface RedisDetails {
  kind: 'redis';
  instance: string;
  /** Target with the password redacted. */
  target: string;
  /** Where the instance came from: `redis[0]`, `REDIS_URL` or `auto-detected`. */
  origin?: string;
  version: string | null;
  role: string | null;
  /** Connection status as ioredis reports it (ready, reconnecting, …). */
  connection: string;
  /** Reconnect attempts since the connection was last ready (0 when ready). */
  reconnectAttempts?: number;
  /** The last connection error, redacted; null when none since the last ready. */
  lastError?: string | null;
  uptimeSeconds?: number | null;
  /** On a master: replicas connected. */
  connectedReplicas?: number | null;
  /** On a replica: `up` or `down`. */
  masterLinkStatus?: string | null;
  /** Non-empty databases. */
  keyspace?: RedisDb[];
}
