import { strict as assert } from 'node:assert';
import { CompactDecoder, CompactEncoder, isCompactMessage, type SampleMessage } from '../../protocol';

function s(t: number, series: Record<string, number | null>, details: SampleMessage['details'] = {}): SampleMessage {
  return { type: 'sample', t, series, details };
}

describe('compact sample stream', () => {
  it('round-trips samples with new, changed, unchanged, null and vanished series and details', () => {
    const enc = new CompactEncoder();
    const dec = new CompactDecoder();
    const host = { kind: 'host' as const, cores: 2, mounts: [], interfaces: [], disks: [] };
    const samples = [
      s(1, { 'a.x_ratio': 0.5, 'b.y_bytes': 10 }, { host }),
      s(2, { 'a.x_ratio': 0.5, 'b.y_bytes': 11, 'c.z_count': null }, { host }),
      s(3, { 'a.x_ratio': 0.7, 'c.z_count': 3 }, {}),
      s(4, { 'a.x_ratio': 0.7, 'c.z_count': 3, 'b.y_bytes': 12 }, { host: { ...host, cores: 4 } }),
    ];
    dec.reset(undefined);
    for (const sample of samples) {
      const delta = enc.encode(sample);
      assert.ok(isCompactMessage(delta));
      const out = dec.apply(JSON.parse(JSON.stringify(delta)));
      assert.deepEqual(out, sample);
    }
  });

  it('sends only what changed', () => {
    const enc = new CompactEncoder();
    enc.encode(s(1, { 'a.x_ratio': 1, 'b.y_bytes': 2 }));
    const d = enc.encode(s(2, { 'a.x_ratio': 1, 'b.y_bytes': 3 }));
    assert.deepEqual(d.v, [1, 3]);
    assert.equal(d.k, undefined);
    assert.equal(d.d, undefined);
  });

  it('a late client seeded from hello and the keys dictionary decodes the next delta', () => {
    const enc = new CompactEncoder();
    const first = s(1, { 'a.x_ratio': 1, 'b.y_bytes': 2 });
    enc.encode(first);
    const late = new CompactDecoder();
    late.reset(first);
    late.apply(enc.keys());
    const second = s(2, { 'a.x_ratio': 1, 'b.y_bytes': 5 });
    assert.deepEqual(late.apply(enc.encode(second)), second);
  });

  it('names an unknown key instead of inventing a series', () => {
    const dec = new CompactDecoder();
    assert.throws(() => dec.apply({ type: 'delta', t: 1, v: [42, 1] }), /unknown series key 42/);
  });
});
