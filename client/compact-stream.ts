// Client side of the compact sample stream (protocol/compact.ts) for one WebSocket: turns each text
// frame back into an ordinary ServerMessage, so a client in compact mode hands the rest of its program
// the same messages as in full mode. One instance per socket (the key dictionary is per connection).

import { CompactDecoder, isCompactMessage } from '../protocol/compact';
import { parseServerMessage, ProtocolError } from '../protocol/guards';
import type { ServerMessage } from '../protocol/messages';

/** Query parameter that asks a collector for the compact stream. */
export const COMPACT_PARAM = 'compact';

/** Adds the compact opt-in to a WebSocket URL. */
export function withCompact(u: URL): URL {
  u.searchParams.set(COMPACT_PARAM, '1');
  return u;
}

/** Decodes the frames of one compact-mode socket. */
export class CompactStream {
  private readonly decoder = new CompactDecoder();

  /** A full message, a rebuilt sample for a delta, or undefined for the key dictionary. Throws on a malformed frame. */
  decode(text: string): ServerMessage | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ProtocolError('message', `is not valid JSON (${(e as Error).message})`);
    }
    if (isCompactMessage(raw)) return this.decoder.apply(raw);
    const msg = parseServerMessage(raw);
    // The server's encoder starts from the sample carried in hello.
    if (msg.type === 'hello') this.decoder.reset(msg.latest);
    return msg;
  }
}
