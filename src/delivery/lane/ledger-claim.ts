/**
 * The cross-replica delivery ledger as the sender uses it (port DeliveryLedger, src/ports/store.ts):
 * claim an item's (record, channel) keys before sending, record them once the chat service accepted
 * it, release them when it was not sent, and a digest's head message (issue 16, item 4). Without a
 * ledger every call is a no-op that says "send". A store that fails costs the check, not the item
 * (store-failure.ts).
 */
import type { ClaimState, Clock, DeliveryLedger } from '../../ports/index.ts';
import { ledgerKey } from '../ledger.ts';
import { type RetryPolicy, retrying } from '../retry-policy.ts';
import { type StoreFailureDeps, storeFailed } from './store-failure.ts';

/**
 * A claim outlives the longest a lane holds an item between claiming and its answer (the pace wait and
 * the call; a lane whose partition was revoked gives up its retries at once). A crashed sender's claims
 * are taken over after it; Kafka's session timeout (30 s) hands its partitions over later than that.
 */
export const CLAIM_TTL_MS = 15_000;

/** How often a sender asks again about records another sender has on the wire: every 200 ms, no jitter. */
export const claimPollPolicy: RetryPolicy = { minDelayMs: 200, maxDelayMs: 200, factor: 1, jitter: 0 };

/** 'busy': another sender has some of them on the wire and none is ours to send yet. */
export type ClaimAnswer = 'send' | 'done' | 'busy';

/** Every key recorded: done; any busy: wait; otherwise (all mine, or mine and done): send. */
export function claimAnswer(states: ReadonlyMap<string, ClaimState>): ClaimAnswer {
  const values = [...states.values()];
  if (values.length > 0 && values.every((v) => v === 'done')) return 'done';
  return values.includes('busy') ? 'busy' : 'send';
}

/** The head message most of the records went out in (ledger.heads), if any. */
export function mostCommonHead(heads: ReadonlyMap<string, string>): string | undefined {
  const counts = new Map<string, number>();
  for (const ts of heads.values()) counts.set(ts, (counts.get(ts) ?? 0) + 1);
  let best: string | undefined;
  for (const [ts, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = ts;
  return best;
}

export interface LedgerClaims {
  /**
   * Claims the records' keys before sending. 'busy' (another replica has them on the wire, e.g. the
   * partition's owner before a rebalance) waits until that sender recorded them ('done': nothing to
   * send) or gave them up. Rejects with the signal's reason when it aborts while waiting.
   */
  claim(origins: readonly string[], signal: AbortSignal): Promise<'send' | 'done'>;
  /** Records what the accepted item carried. */
  remember(origins: readonly string[]): Promise<void>;
  /** The item was not sent after all: this sender's claims end. Never rejects. */
  release(origins: readonly string[]): Promise<void>;
  /**
   * The message an earlier sender posted for these records' digest and died before finishing (no file
   * or replies yet, nothing recorded): the one most of them went out in.
   */
  headBefore(origins: readonly string[]): Promise<string | undefined>;
  /** The digest's message was accepted: remembered until its records are, in case this sender dies. */
  markHead(origins: readonly string[], ts: string): Promise<void>;
}

export interface LedgerClaimsDeps extends StoreFailureDeps {
  ledger: DeliveryLedger | undefined;
  channel: string;
  clock: Clock;
}

/** retrying()'s failure for "ask again": the keys are still on another sender's wire. */
const stillBusy = new Error('claimed by another sender');

export function createLedgerClaims(deps: LedgerClaimsDeps): LedgerClaims {
  const { ledger, channel, clock } = deps;
  const keysOf = (origins: readonly string[]): string[] =>
    origins.map((origin) => ledgerKey(origin, channel));

  const claimOnce = async (store: DeliveryLedger, keys: string[]): Promise<'send' | 'done'> => {
    let states: Map<string, ClaimState>;
    try {
      states = await store.claim(keys, CLAIM_TTL_MS);
    } catch (error) {
      storeFailed(deps, 'ledger', error, { channel }, 'delivery ledger claim failed; sending');
      return 'send';
    }
    const answer = claimAnswer(states);
    if (answer === 'busy') throw stillBusy;
    return answer;
  };

  return {
    async claim(origins, signal) {
      if (ledger === undefined || origins.length === 0) return 'send';
      const keys = keysOf(origins);
      return retrying(() => claimOnce(ledger, keys), {
        policy: claimPollPolicy,
        random: () => 0.5,
        sleep: (ms) => clock.sleep(ms, signal),
        verdict: (error) => (error === stillBusy ? 'backoff' : 'throw'),
      });
    },
    async remember(origins) {
      if (ledger === undefined || origins.length === 0) return;
      try {
        await ledger.record(keysOf(origins));
      } catch (error) {
        storeFailed(
          deps,
          'ledger',
          error,
          { channel, records: origins.length },
          'delivery ledger write failed: these records could be posted again if read again',
        );
      }
    },
    async release(origins) {
      if (ledger === undefined || origins.length === 0) return;
      await ledger.release(keysOf(origins)).catch(() => {});
    },
    async headBefore(origins) {
      if (ledger?.heads === undefined || origins.length === 0) return undefined;
      try {
        return mostCommonHead(await ledger.heads(keysOf(origins)));
      } catch (error) {
        storeFailed(deps, 'ledger', error, { channel }, 'digest head lookup failed; posting');
        return undefined;
      }
    },
    async markHead(origins, ts) {
      if (ledger?.markHead === undefined || origins.length === 0) return;
      try {
        await ledger.markHead(keysOf(origins), ts);
      } catch (error) {
        storeFailed(
          deps,
          'ledger',
          error,
          { channel },
          'digest head write failed: a crash before its file would post the digest again',
        );
      }
    },
  };
}
