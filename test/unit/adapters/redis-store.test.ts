// The Redis store's failures carry the error table's code (STORE_UNAVAILABLE: degrade), naming the store
// and the operation. A client with nothing listening behind its URL: commands are not queued while
// disconnected, so each fails at once. (Behaviour against a real Redis: test/integration/redis-store.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../../src/adapters/redis-store.ts';
import { dispositionOf } from '../../../src/domain/errors.ts';
import { noopLogger } from '../../../src/ports/index.ts';

let store: RedisStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

describe('redis store failures', () => {
  it('are STORE_UNAVAILABLE, which the table says to degrade, naming store and operation', async () => {
    store = createRedisStore({
      url: 'redis://127.0.0.1:1', // nothing listens on port 1
      keyPrefix: 'ln-test',
      ledgerRetentionMs: 60_000,
      logger: noopLogger,
    });
    const calls: Array<[string, string, Promise<unknown>]> = [
      ['ledger', 'seen', store.ledger.seen(['t/0/1:#a'])],
      ['pace', 'acquire', store.pace.acquire([{ key: 'channel:#a', cap: 1, intervalMs: 1000, burst: 1 }])],
      ['alert memory', 'get', store.alerts.get('7')],
      ['last-values', 'get', store.lastValues.get('7')],
      ['thread anchor', 'set', store.anchors.set('#a:7', '1.2', 1000)],
      ['mutes', 'list', store.mutes.list(0)],
      ['mutes', 'add', store.mutes.add({ scope: 'listing', listingId: '1', by: 'ana', until: 1 })],
      ['mutes', 'remove', store.mutes.remove('x')],
    ];
    for (const [name, op, call] of calls) {
      const failure = await call.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { store: name, op } });
      expect(dispositionOf(failure)).toBe('degrade');
    }
    expect(store.connected()).toBe(false);
  });
});
