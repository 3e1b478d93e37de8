/** Redis source details for one instance. */
export interface RedisDetails {
  kind: 'redis';
  instance: string;
  /** Target with the password redacted. */
  target: string;
  version: string | null;
  role: string | null;
  /** Connection status as ioredis reports it (ready, reconnecting, …). */
  connection: string;
}
