import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  kafkaClientRetryPolicy,
  kafkajsRetry,
  type RetryPolicy,
  reconnectDelay,
  redisReconnectPolicy,
  slackClientRetryConfig,
  slackRetryPolicy,
  testRetryPolicy,
} from '../../../src/delivery/retry-policy.ts';

const middle = () => 0.5; // no jitter effect: 1 + j * (2 * 0.5 - 1) = 1

describe('backoffDelay', () => {
  it('doubles from minDelayMs and stops at maxDelayMs', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(slackRetryPolicy, n, middle));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('spreads the delay by ±jitter', () => {
    expect(backoffDelay(slackRetryPolicy, 1, () => 0)).toBe(800);
    expect(backoffDelay(slackRetryPolicy, 1, () => 0.999999)).toBe(1200);
  });

  it('never exceeds the cap, even with jitter at the cap', () => {
    expect(backoffDelay(slackRetryPolicy, 20, () => 0.999999)).toBe(30000);
    expect(backoffDelay(slackRetryPolicy, 20, () => 0)).toBe(24000);
  });

  it('is deterministic without jitter (testRetryPolicy)', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(testRetryPolicy, n, Math.random))).toEqual([
      10, 20, 40, 80, 100,
    ]);
  });

  it('stays finite and within [0, maxDelayMs] for any policy, attempt and random value', () => {
    const policy = fc.record<RetryPolicy>({
      minDelayMs: fc.integer({ min: 0, max: 10_000 }),
      maxDelayMs: fc.integer({ min: 0, max: 600_000 }),
      factor: fc.double({ min: 1, max: 10, noNaN: true }),
      jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        policy,
        fc.nat(10_000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, n, r) => {
          const d = backoffDelay(p, n, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(p.maxDelayMs);
        },
      ),
    );
  });

  it('never shrinks from one attempt to the next without jitter', () => {
    fc.assert(
      fc.property(fc.nat(200), (n) => {
        const p = { ...slackRetryPolicy, jitter: 0 };
        expect(backoffDelay(p, n + 1, middle)).toBeGreaterThanOrEqual(backoffDelay(p, n, middle));
      }),
    );
  });
});

describe('the policies libraries run themselves', () => {
  it('kafkajs: 0.3 s doubling to 10 s, ±20 %, 10 retries, in its own option names', () => {
    expect(kafkajsRetry(kafkaClientRetryPolicy)).toEqual({
      initialRetryTime: 300,
      maxRetryTime: 10_000,
      multiplier: 2, // kafkajs's default, as before it was spelled out
      factor: 0.2, // kafkajs's default randomization
      retries: 10,
    });
  });

  it('ioredis reconnects forever, 200 ms more each time, at most every 2 s', () => {
    expect([1, 2, 5, 10, 11, 1000].map((times) => reconnectDelay(redisReconnectPolicy, times))).toEqual([
      200, 400, 1000, 2000, 2000, 2000,
    ]);
  });

  it('@slack/web-api does not retry by itself (the scheduler does)', () => {
    expect(slackClientRetryConfig).toEqual({ retries: 0 });
  });
});
