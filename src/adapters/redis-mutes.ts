/**
 * Mutes in the shared store (src/ports/mutes.ts) on Redis, so every replica and the `mute` command see
 * the same ones. Each mute is a key of its own, `<keyPrefix>:mute:<id>` holding the mute as JSON, that
 * Redis expires at the mute's end (SET PXAT: absolute, so no clock of ours is involved; Redis 6.2+,
 * which the ledger's ZADD GT needs already). An index, the sorted set `<keyPrefix>:mutes` (member id,
 * score until), saves `list` a SCAN; ended entries are trimmed from it on every list, and a
 * member whose key is gone (expired or removed) is simply not listed.
 *
 * On the shared store's connection (src/adapters/redis-store.ts `mutes`): nothing queued while
 * disconnected, commands time out, failures are STORE_UNAVAILABLE naming the store ("mutes") and the
 * operation.
 */
import type { Redis } from 'ioredis';
import type { Mute, StoredMute } from '../domain/mute.ts';
import type { MuteStore } from '../ports/mutes.ts';
import { newMuteId } from './memory-mutes.ts';

// KEYS: the mute's key, the index; ARGV: id, the mute's JSON, until (epoch ms). The key and its index
// entry are written together or not at all; 0 when the id is taken. Not trimmed here: that takes a now,
// and `list` (the service's, on every refresh) has one.
const ADD = `
if redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3], 'NX') == false then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`;

type Scripted = Redis & {
  lnAddMute(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

/**
 * The mute store on the shared store's client (src/adapters/redis-store.ts owns, codes the failures of
 * and closes it): one connection per replica for everything the store holds.
 */
export function muteStoreOn(client: Redis, keyPrefix: string, ids: () => string = newMuteId): MuteStore {
  const redis = client as Scripted;
  // defineCommand once per client: a second store on the same client reuses it.
  if (typeof redis.lnAddMute !== 'function') redis.defineCommand('lnAddMute', { lua: ADD });
  const index = `${keyPrefix}:mutes`;
  const keyOf = (id: string): string => `${keyPrefix}:mute:${id}`;
  const store: MuteStore = {
    async list(now) {
      const results = await redis.multi().zremrangebyscore(index, '-inf', now).zrange(index, 0, -1).exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('mute list discarded');
      const listed = (results[1]?.[1] ?? []) as string[];
      if (listed.length === 0) return [];
      const values = await redis.mget(...listed.map(keyOf));
      const found: StoredMute[] = [];
      for (const [i, id] of listed.entries()) {
        const mute = parseMute(values[i]);
        if (mute !== undefined && mute.until > now) found.push({ ...mute, id });
      }
      return found;
    },
    async add(mute) {
      const text = JSON.stringify(muteFields(mute));
      for (;;) {
        const id = ids();
        // 0: the id is taken (48 random bits: not in practice); drawn again, never overwritten.
        const added = await redis.lnAddMute(2, keyOf(id), index, id, text, Math.ceil(mute.until));
        if (Number(added) === 1) return id;
      }
    },
    async remove(id) {
      const results = await redis.multi().del(keyOf(id)).zrem(index, id).exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('mute removal discarded');
      // DEL counts only a key still there: an expired mute is gone already (false).
      return Number(results[0]?.[1]) === 1;
    },
  };
  return store;
}

/** The mute's own fields (no id: the key holds it), so a StoredMute handed to add is stored cleanly. */
function muteFields(mute: Mute): Mute {
  const common = {
    by: mute.by,
    until: mute.until,
    ...(mute.channel === undefined ? {} : { channel: mute.channel }),
    ...(mute.reason === undefined ? {} : { reason: mute.reason }),
  };
  return mute.scope === 'listing'
    ? { scope: 'listing', listingId: mute.listingId, ...common }
    : { scope: 'rule', rule: mute.rule, ...common };
}

/** A stored mute's JSON, checked field by field (another version may have written it); else undefined. */
export function parseMute(text: string | null | undefined): Mute | undefined {
  if (text === null || text === undefined) return undefined;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const str = (x: unknown): x is string => typeof x === 'string';
  if (!str(v.by) || typeof v.until !== 'number' || !Number.isFinite(v.until)) return undefined;
  if (v.channel !== undefined && !str(v.channel)) return undefined;
  if (v.reason !== undefined && !str(v.reason)) return undefined;
  const common = {
    by: v.by,
    until: v.until,
    ...(v.channel === undefined ? {} : { channel: v.channel }),
    ...(v.reason === undefined ? {} : { reason: v.reason }),
  };
  if (v.scope === 'listing' && str(v.listingId))
    return { scope: 'listing', listingId: v.listingId, ...common };
  if (v.scope === 'rule' && str(v.rule)) return { scope: 'rule', rule: v.rule, ...common };
  return undefined;
}
