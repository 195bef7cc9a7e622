// The Redis mute store without a server (src/adapters/redis-mutes.ts): its failures carry the error
// table's code, and stored JSON is checked field by field. Against a real Redis:
// test/integration/redis-mutes.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisMuteStore, parseMute, type RedisMuteStore } from '../../../src/adapters/redis-mutes.ts';
import { dispositionOf } from '../../../src/domain/errors.ts';
import { noopLogger } from '../../../src/ports/index.ts';

let store: RedisMuteStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('redis mute store', () => {
  it('fails with STORE_UNAVAILABLE (degrade), naming the store and operation', async () => {
    store = createRedisMuteStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'ln-test', logger: noopLogger });
    const calls: Array<[string, Promise<unknown>]> = [
      ['list', store.list(0)],
      ['add', store.add({ scope: 'listing', listingId: '1', by: 'ana', until: 1 })],
      ['remove', store.remove('x')],
    ];
    for (const [op, call] of calls) {
      const failure = await call.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { store: 'mutes', op } });
      expect(dispositionOf(failure)).toBe('degrade');
    }
    expect(store.connected()).toBe(false);
  });

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
