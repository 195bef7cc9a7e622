/**
 * The shared store's ports: what several replicas must agree on. Each has an in-process adapter
 * (src/delivery/pace-gate.ts, src/delivery/ledger.ts; the embedded default, one replica) and a Redis
 * adapter (src/adapters/redis-store.ts; config `store.url`).
 */
import type { KnownValues } from '../domain/known-values.ts';

/**
 * A pace bucket (GCRA, src/delivery/pace.ts): `cap` calls per `intervalMs` sustained, up to `burst`
 * at once after a quiet spell. `key` names it across replicas (e.g. "channel:#sales-alerts").
 */
export interface PaceBucket {
  key: string;
  cap: number;
  intervalMs: number;
  burst: number;
}

/**
 * Pace gates shared by everyone who sends to the same workspace. Every method is atomic over the
 * buckets it names: two replicas never both take the last slot.
 */
export interface PaceGate {
  /**
   * When every bucket allows a call now, takes one slot in each and resolves 0; otherwise takes
   * nothing and resolves the ms to wait before asking again.
   */
  acquire(buckets: readonly PaceBucket[]): Promise<number>;
  /**
   * The answer to a call through `bucket` arrived: the next call leaves no sooner than one emission
   * interval from now (Slack saw the call somewhere between send and answer; see send.ts).
   */
  answered(bucket: PaceBucket): Promise<void>;
  /** A 429 with Retry-After: no call through `bucket` for `ms`, and its bucket is empty afterwards. */
  block(bucket: PaceBucket, ms: number): Promise<void>;
}

/**
 * The delivery ledger: which (record, channel) pairs a chat message already carried, so that a record
 * read again after a crash or rebalance is not posted twice. Keys are `ledgerKey(origin, channel)`
 * (src/delivery/ledger.ts). Entries live at least as long as the topic keeps its records.
 */
export interface DeliveryLedger {
  /** Of `keys`, those recorded. A store that cannot answer rejects (the caller decides). */
  seen(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Just before a message carrying these goes out: each key neither recorded nor claimed by another
   * sender is claimed by this one for `ttlMs` ('mine'); the others are 'done' (recorded) or 'busy'
   * (another replica is sending it: after a rebalance, the old owner may still have it on the wire).
   */
  claim(keys: readonly string[], ttlMs: number): Promise<Map<string, ClaimState>>;
  /** A message carrying these records was accepted by the chat service; their claims end. */
  record(keys: readonly string[]): Promise<void>;
  /** The message was not sent after all (refused, given up): this sender's claims end. */
  release(keys: readonly string[]): Promise<void>;
  /**
   * A digest's message was accepted, its file and replies not yet (issue 16, item 4): these keys'
   * digest went out as the message `ts`. A sender that dies before recording them leaves this behind,
   * and the digest those records fold into when read again goes on in that message's thread instead
   * of posting it a second time. Optional: without it a digest is posted again after such a crash.
   */
  markHead?(keys: readonly string[], ts: string): Promise<void>;
  /** Of `keys`, the digest message each went out in (markHead) and was not recorded since. */
  heads?(keys: readonly string[]): Promise<Map<string, string>>;
  /**
   * Per partition ("topic/partition"), the highest offset any sender ever recorded (every `record`
   * raises it; it never falls). A record beyond its partition's reach was never delivered anywhere, so
   * src/app/ledger-filter.ts asks `seen` only for records at or below it: after a crash that is the few
   * read again, not every record of a bulk (one store round trip per record halved the fold path's
   * rate, issue 16). Optional: without it every record is looked up. Partitions never recorded are
   * absent.
   */
  reach?(partitions: readonly string[]): Promise<Map<string, bigint>>;
}

export type ClaimState = 'mine' | 'done' | 'busy';

/** Thread anchors: the `ts` of a listing's first message in a channel, for replies within a window. */
export interface ThreadAnchors {
  get(key: string): Promise<string | undefined>;
  /** Kept for `ttlMs` from now. */
  set(key: string, ts: string, ttlMs: number): Promise<void>;
}

/** The last stock alert announced per listing and field key (pipeline/filter.ts RememberedAlerts). */
export interface AlertMemory {
  get(listingId: string): Promise<Record<string, AlertEntry> | undefined>;
  set(listingId: string, alerts: Record<string, AlertEntry>): Promise<void>;
}

export interface AlertEntry {
  last: 'low' | 'recovered';
  /** What was remembered before `by` set `last`: a record read again is judged as the first time. */
  prev: 'low' | 'recovered' | null;
  /** The record (ledger.ts originOf) whose decision set `last`. */
  by: string;
}

/**
 * The last known values of the watched columns per listing (src/app/last-values.ts), for changes that
 * arrive without a before image (REPLICA IDENTITY DEFAULT, binlog_row_image=MINIMAL).
 */
export interface LastValuesStore {
  get(listingId: string): Promise<KnownValues | undefined>;
  /**
   * Keeps `entry` unless the stored one's position is at or past its own (an older or replayed record
   * never overwrites a newer value); resolves whether it was kept. Atomic per listing.
   */
  put(listingId: string, entry: KnownValues): Promise<boolean>;
}

/** What /readyz says of the store. */
export interface StoreStatus {
  /** "memory" (embedded, no shared store) or "redis". */
  kind: 'memory' | 'redis';
  /** Connected (always true for memory). */
  connected: boolean;
  /** Pace gates are on the local fallback share (store unreachable). */
  fallback: boolean;
}
