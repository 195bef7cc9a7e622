// The Redis mute store's stored JSON (src/adapters/redis-mutes.ts), checked field by field. Its failures:
// test/unit/adapters/redis-store.test.ts; against a real Redis: test/integration/redis-store.test.ts.
import { describe, expect, it } from 'vitest';
import { parseMute } from '../../../src/adapters/redis-mutes.ts';

describe('redis mute store', () => {
  it('reads back what it writes, and nothing malformed', () => {
    expect(parseMute('{"scope":"listing","listingId":"42","by":"ana","until":5,"channel":"#a"}')).toEqual({
      scope: 'listing',
      listingId: '42',
      by: 'ana',
      until: 5,
      channel: '#a',
    });
    expect(parseMute('{"scope":"rule","rule":"r","by":"ana","until":5,"reason":"bulk"}')).toEqual({
      scope: 'rule',
      rule: 'r',
      by: 'ana',
      until: 5,
      reason: 'bulk',
    });
    for (const text of [
      null,
      undefined,
      'not json',
      'null',
      '[]',
      '{"scope":"listing","by":"ana","until":5}',
      '{"scope":"rule","listingId":"1","by":"ana","until":5}',
      '{"scope":"listing","listingId":1,"by":"ana","until":5}',
      '{"scope":"listing","listingId":"1","by":"ana","until":"5"}',
      '{"scope":"listing","listingId":"1","until":5}',
      '{"scope":"listing","listingId":"1","by":"ana","until":5,"channel":7}',
      '{"scope":"other","listingId":"1","by":"ana","until":5}',
    ])
      expect(parseMute(text)).toBeUndefined();
  });
});
