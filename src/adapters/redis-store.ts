/**
 * The shared store on Redis (ioredis): the pace gates every replica paces against, the delivery
 * ledger, thread anchors, stock alert memory and the listings' last values (ports in src/ports/store.ts).
 *
 * Pace: the same GCRA as src/delivery/pace.ts, one value per bucket (its theoretical arrival time,
 * TAT), run as Lua so each step is atomic over all the buckets it names (Redis runs a script alone:
 * https://redis.io/docs/latest/develop/interact/programmability/eval-intro/). Time is Redis's own
 * (TIME), so replicas on hosts with skewed clocks still agree. A 429's block is folded into the TAT
 * (blocked until U = TAT at least U + tolerance: pace.ts blockUntil), so one value holds everything.
 * Keys expire once their bucket is full again (TAT + tolerance), which is the same as absent.
 *
 * Why not rate-limiter-flexible: its Redis limiters count fixed windows, which let 2 x cap through
 * around a window boundary and send bursts every window under steady load; Slack warns bursts may not
 * be stored, and pace.ts deliberately spaces calls evenly. The script below is that algorithm, 20 lines.
 *
 * Failures: commands are not queued while disconnected (enableOfflineQueue false) and time out after
 * `commandTimeoutMs`, so a store that is gone answers at once with an error, STORE_UNAVAILABLE (the
 * error table's 'degrade', src/domain/errors.ts); callers fall back (src/delivery/pace-gate.ts) or go
 * on without the check (src/app/ledger-filter.ts). ioredis keeps reconnecting in the background.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { reachOf } from '../delivery/ledger.ts';
import { reconnectDelay, redisReconnectPolicy } from '../delivery/retry-policy.ts';
import { asStoreFailure } from '../domain/errors.ts';
import { entryText, parseEntry } from '../pipeline/before-image.ts';
import type {
  AlertEntry,
  AlertMemory,
  ClaimState,
  DeliveryLedger,
  LastValuesStore,
  Logger,
  PaceBucket,
  PaceGate,
  ThreadAnchors,
} from '../ports/index.ts';
import type { MuteStore } from '../ports/mutes.ts';
import { muteStoreOn } from './redis-mutes.ts';

// ARGV: per key, emission (ms per call) and tolerance ((burst - 1) * emission). Returns the ms to wait
// (0: a slot was taken in every bucket).
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait = 0
local tats = {}
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  tats[i] = tat
  local d = tat - tonumber(ARGV[2 * i]) - now
  if d > wait then wait = d end
end
if wait > 0 then return math.ceil(wait) end
for i = 1, #KEYS do
  local emission = tonumber(ARGV[2 * i - 1])
  local tat = math.max(tats[i], now) + emission
  redis.call('SET', KEYS[i], tostring(tat), 'PX', math.ceil(tat - now + tonumber(ARGV[2 * i])) + 1)
end
return 0
`;

// ARGV: emission, tolerance, offset (ms from now). TAT = max(TAT, now + offset): "answered" passes
// offset = emission, "block" passes offset = Retry-After + tolerance.
const PUSH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now + tonumber(ARGV[3]))
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now + tonumber(ARGV[2])) + 1)
return 0
`;

// KEYS: pairs (ledger key, claim key); ARGV: owner, ttl ms. Per pair: 'done', 'busy' or 'mine'.
const CLAIM = `
local out = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    out[#out + 1] = 'done'
  else
    local holder = redis.call('GET', KEYS[i + 1])
    if holder and holder ~= ARGV[1] then
      out[#out + 1] = 'busy'
    else
      redis.call('SET', KEYS[i + 1], ARGV[1], 'PX', ARGV[2])
      out[#out + 1] = 'mine'
    end
  end
end
return out
`;

// KEYS: claim keys; ARGV: owner. Deletes the claims this owner holds.
const RELEASE = `
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 0
`;

// KEYS[1]: a listing's last values; ARGV: position, the entry's text (position TAB values), ttl ms.
// Keeps the entry unless the stored one's position (the text before its tab) is at or past it.
// Positions are fixed-width text (pipeline/before-image.ts), so Lua's string order is their order.
const PUT_LAST = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local tab = string.find(cur, '\t', 1, true)
  if tab and string.sub(cur, 1, tab - 1) >= ARGV[1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

export interface RedisStoreOptions {
  /** redis://host:port[/db] (config store.url). */
  url: string;
  /** Prefix of every key (config store.keyPrefix), so services can share a Redis. */
  keyPrefix: string;
  /** How long ledger entries are kept (config store.ledger.retentionMs). */
  ledgerRetentionMs: number;
  /** How long a listing's last values are kept after their last write (config store.lastValues.ttlMs). */
  lastValuesTtlMs?: number;
  /** A command that has no answer within this is an error. Default 1000. */
  commandTimeoutMs?: number;
  /** The AUTH password (store.passwordEnv / passwordFile); overrides one inline in the URL. */
  password?: string;
  /** The ids of new mutes; default: 8 random characters (memory-mutes.ts newMuteId). */
  muteIds?: () => string;
  logger: Logger;
}

export interface RedisStore {
  alerts: AlertMemory;
  pace: PaceGate;
  ledger: DeliveryLedger;
  anchors: ThreadAnchors;
  lastValues: LastValuesStore;
  /** The mutes every replica honours and `listing-notifier mute` edits (redis-mutes.ts). */
  mutes: MuteStore;
  connected(): boolean;
  /** Resolves true once Redis accepts commands (at once if it does), false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

type Scripted = Redis & {
  lnAcquire(numKeys: number, ...args: Array<string | number>): Promise<number>;
  lnClaim(numKeys: number, ...args: Array<string | number>): Promise<string[]>;
  lnRelease(numKeys: number, ...args: Array<string | number>): Promise<number>;
  lnPush(key: string, ...args: Array<string | number>): Promise<number>;
  lnPutLast(key: string, ...args: Array<string | number>): Promise<number>;
};

const emissionOf = (b: PaceBucket): number => b.intervalMs / b.cap;
const toleranceOf = (b: PaceBucket): number => (Math.max(1, b.burst) - 1) * emissionOf(b);

export function createRedisStore(o: RedisStoreOptions): RedisStore {
  let wasReady = false;
  const redis = new Redis(o.url, {
    enableOfflineQueue: false,
    commandTimeout: o.commandTimeoutMs ?? 1000,
    maxRetriesPerRequest: 0,
    // Reconnect forever, at most every 2 s: the store coming back ends the fallback.
    retryStrategy: (times) => reconnectDelay(redisReconnectPolicy, times),
    lazyConnect: false,
    ...(o.password === undefined ? {} : { password: o.password }),
  }) as Scripted;
  redis.defineCommand('lnAcquire', { lua: ACQUIRE });
  redis.defineCommand('lnPush', { lua: PUSH, numberOfKeys: 1 });
  redis.defineCommand('lnClaim', { lua: CLAIM });
  redis.defineCommand('lnRelease', { lua: RELEASE });
  redis.defineCommand('lnPutLast', { lua: PUT_LAST, numberOfKeys: 1 });
  // Names this process as the holder of its claims.
  const owner = randomUUID();
  redis.on('ready', () => {
    wasReady = true;
    o.logger.info({ store: 'redis' }, 'shared store connected');
  });
  redis.on('error', (error: Error) => {
    // ioredis emits one per failed reconnect; log the first of a spell only.
    if (wasReady) o.logger.warn({ store: 'redis', error: error.message }, 'shared store connection lost');
    wasReady = false;
  });
  const key = (...parts: string[]): string => [o.keyPrefix, ...parts].join(':');
  const bucketKey = (b: PaceBucket): string => key('pace', b.key);

  const pace: PaceGate = {
    async acquire(buckets) {
      const args = buckets.flatMap((b) => [emissionOf(b), toleranceOf(b)]);
      return Number(await redis.lnAcquire(buckets.length, ...buckets.map(bucketKey), ...args));
    },
    async answered(b) {
      await redis.lnPush(bucketKey(b), emissionOf(b), toleranceOf(b), emissionOf(b));
    },
    async block(b, ms) {
      await redis.lnPush(bucketKey(b), emissionOf(b), toleranceOf(b), ms + toleranceOf(b));
    },
  };

  const ledger: DeliveryLedger = {
    async seen(keys) {
      if (keys.length === 0) return new Set();
      const values = await redis.mget(...keys.map((k) => key('ledger', k)));
      return new Set(keys.filter((_, i) => values[i] !== null));
    },
    async claim(keys, ttlMs) {
      if (keys.length === 0) return new Map();
      const pairs = keys.flatMap((k) => [key('ledger', k), key('claim', k)]);
      const states = await redis.lnClaim(pairs.length, ...pairs, owner, Math.max(1, Math.ceil(ttlMs)));
      return new Map(keys.map((k, i): [string, ClaimState] => [k, (states[i] ?? 'mine') as ClaimState]));
    },
    async release(keys) {
      if (keys.length === 0) return;
      await redis.lnRelease(keys.length, ...keys.map((k) => key('claim', k)), owner);
    },
    async record(keys) {
      if (keys.length === 0) return;
      const batch = redis.multi();
      for (const k of keys) batch.set(key('ledger', k), '1', 'PX', o.ledgerRetentionMs);
      batch.del(...keys.map((k) => key('claim', k)));
      // The reach only rises (GT, Redis 6.2): a score is a double, exact for offsets below 2^53.
      for (const [partition, offset] of reachOf(keys))
        batch.zadd(key('reach'), 'GT', offset.toString(), partition);
      const results = await batch.exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('ledger write discarded');
    },
    // Left to expire rather than deleted on record: a recorded key is filtered before it folds
    // (ledger-filter.ts), so a head outliving it is never read for it.
    async markHead(keys, ts) {
      if (keys.length === 0) return;
      const batch = redis.multi();
      for (const k of keys) batch.set(key('head', k), ts, 'PX', o.ledgerRetentionMs);
      const results = await batch.exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined)
        throw failed?.[0] ?? new Error('digest head write discarded');
    },
    async reach(partitions) {
      if (partitions.length === 0) return new Map();
      const scores = await redis.zmscore(key('reach'), ...partitions);
      const found = new Map<string, bigint>();
      for (const [i, p] of partitions.entries()) {
        const score = scores[i];
        if (score !== null && score !== undefined) found.set(p, BigInt(Math.trunc(Number(score))));
      }
      return found;
    },
    async heads(keys) {
      if (keys.length === 0) return new Map();
      const values = await redis.mget(...keys.map((k) => key('head', k)));
      const found = new Map<string, string>();
      for (const [i, k] of keys.entries()) {
        const ts = values[i];
        if (ts !== null && ts !== undefined) found.set(k, ts);
      }
      return found;
    },
  };

  const anchors: ThreadAnchors = {
    async get(k) {
      return (await redis.get(key('thread', k))) ?? undefined;
    },
    async set(k, ts, ttlMs) {
      await redis.set(key('thread', k), ts, 'PX', ttlMs);
    },
  };

  const alerts: AlertMemory = {
    async get(listingId) {
      const text = await redis.get(key('alert', listingId));
      if (text === null) return undefined;
      const parsed = JSON.parse(text) as Record<string, Partial<AlertEntry> | null>;
      const out: Record<string, AlertEntry> = {};
      const state = (v: unknown) => (v === 'low' || v === 'recovered' ? v : null);
      for (const [field, entry] of Object.entries(parsed)) {
        const last = state(entry?.last);
        if (last !== null) out[field] = { last, prev: state(entry?.prev), by: String(entry?.by ?? '') };
      }
      return out;
    },
    async set(listingId, value) {
      // A listing untouched for 90 days starts from the stateless rule again.
      await redis.set(key('alert', listingId), JSON.stringify(value), 'PX', 90 * 24 * 3600 * 1000);
    },
  };

  const lastValuesTtlMs = o.lastValuesTtlMs ?? 30 * 24 * 3600 * 1000;
  const lastValues: LastValuesStore = {
    async get(listingId) {
      const text = await redis.get(key('last', listingId));
      return text === null ? undefined : parseEntry(text);
    },
    async put(listingId, entry) {
      const kept = await redis.lnPutLast(
        key('last', listingId),
        entry.position,
        entryText(entry),
        lastValuesTtlMs,
      );
      return Number(kept) === 1;
    },
  };

  return {
    alerts: coded('alert memory', alerts),
    lastValues: coded('last-values', lastValues),
    pace: coded('pace', pace),
    ledger: coded('ledger', ledger),
    anchors: coded('thread anchor', anchors),
    mutes: coded('mutes', muteStoreOn(redis, o.keyPrefix, o.muteIds)),
    connected: () => redis.status === 'ready',
    whenReady: (timeoutMs) =>
      redis.status === 'ready'
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const onReady = (): void => {
              clearTimeout(timer);
              resolve(true);
            };
            const timer = setTimeout(() => {
              redis.off('ready', onReady);
              resolve(false);
            }, timeoutMs);
            redis.once('ready', onReady);
          }),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** `port` with every call's failure a STORE_UNAVAILABLE naming the store and the operation. */
function coded<T extends object>(store: string, port: T): T {
  const out: Record<string, unknown> = {};
  for (const [op, call] of Object.entries(port) as Array<
    [string, (...args: unknown[]) => Promise<unknown>]
  >) {
    out[op] = (...args: unknown[]) =>
      call(...args).catch((error: unknown) => {
        throw asStoreFailure(error, store, op);
      });
  }
  return out as T;
}
