import { describe, expect, it } from 'vitest';
import {
  CLAIM_TTL_MS,
  claimAnswer,
  createLedgerClaims,
  mostCommonHead,
} from '../../../../src/delivery/lane/ledger-claim.ts';
import {
  type ClaimState,
  type DeliveryLedger,
  noopLogger,
  noopMetrics,
} from '../../../../src/ports/index.ts';
import { createManualClock, settled } from '../../../support/fakes.ts';

const states = (...values: ClaimState[]) => new Map(values.map((v, i) => [`k${i}`, v]));

describe('claimAnswer', () => {
  it('is done when every key is recorded, waits while any is busy, sends otherwise', () => {
    expect(claimAnswer(states('done', 'done'))).toBe('done');
    expect(claimAnswer(states('done', 'busy', 'mine'))).toBe('busy');
    expect(claimAnswer(states('mine', 'done'))).toBe('send');
    expect(claimAnswer(states())).toBe('send');
  });
});

describe('mostCommonHead', () => {
  it('is the message most of the records went out in', () => {
    expect(
      mostCommonHead(
        new Map([
          ['a', '1.1'],
          ['b', '2.2'],
          ['c', '2.2'],
        ]),
      ),
    ).toBe('2.2');
    expect(mostCommonHead(new Map())).toBeUndefined();
  });
});

describe('createLedgerClaims', () => {
  const ledgerAnswering = (answers: ClaimState[][]): DeliveryLedger & { claims: number } => {
    const ledger = {
      claims: 0,
      seen: async () => new Set<string>(),
      claim: async (keys: readonly string[], ttlMs: number) => {
        expect(ttlMs).toBe(CLAIM_TTL_MS);
        const answer = answers[Math.min(ledger.claims, answers.length - 1)] ?? [];
        ledger.claims += 1;
        return new Map(keys.map((k, i) => [k, answer[i] ?? 'mine']));
      },
      record: async () => {},
      release: async () => {},
    };
    return ledger;
  };
  const claimsOn = (ledger: DeliveryLedger | undefined) => {
    const clock = createManualClock(0);
    const metrics = { ...noopMetrics, fallbacks: [] as string[] };
    metrics.storeFallback = (op) => metrics.fallbacks.push(op);
    const claims = createLedgerClaims({ ledger, channel: '#c', clock, metrics, logger: noopLogger });
    return { clock, claims, metrics };
  };

  it('asks again every 200 ms while another sender has the records on the wire', async () => {
    const ledger = ledgerAnswering([['busy'], ['busy'], ['done']]);
    const { clock, claims } = claimsOn(ledger);
    let answer: string | undefined;
    void claims.claim(['t/0/1'], new AbortController().signal).then((a) => {
      answer = a;
    });
    await settled(() => clock.sleeping() === 1, 'the first wait');
    await clock.advance(199);
    expect(ledger.claims).toBe(1);
    await clock.advance(1);
    expect(ledger.claims).toBe(2);
    await clock.advance(200);
    await settled(() => answer !== undefined, 'the claim answered');
    expect(answer).toBe('done');
  });

  it('gives up waiting when the item’s signal aborts', async () => {
    const { clock, claims } = claimsOn(ledgerAnswering([['busy']]));
    const controller = new AbortController();
    const claim = claims.claim(['t/0/1'], controller.signal);
    await settled(() => clock.sleeping() === 1, 'the wait');
    controller.abort(new Error('revoked'));
    await expect(claim).rejects.toThrow('revoked');
  });

  it('sends when the store fails (it costs the check, not the item), and without a ledger', async () => {
    const failing: DeliveryLedger = {
      ...ledgerAnswering([]),
      claim: async () => {
        throw new Error('ECONNREFUSED');
      },
    };
    const { claims, metrics } = claimsOn(failing);
    await expect(claims.claim(['t/0/1'], new AbortController().signal)).resolves.toBe('send');
    expect(metrics.fallbacks).toEqual(['ledger']);
    await expect(claimsOn(undefined).claims.claim(['t/0/1'], AbortSignal.abort())).resolves.toBe('send');
  });
});
