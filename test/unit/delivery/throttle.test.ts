import { describe, expect, it } from 'vitest';
import { createThrottleCounter } from '../../../src/delivery/throttle.ts';
import type { MessageThrottle, RuleThrottle } from '../../../src/domain/message.ts';

const HOUR = 3_600_000;
const limit = (overrides: Partial<RuleThrottle> = {}): RuleThrottle => ({
  rule: 'price moved',
  perListing: 3,
  windowMs: HOUR,
  ...overrides,
});
const throttleOf = (limits: RuleThrottle[] = [limit()], binding = true): MessageThrottle => ({
  limits,
  binding,
});

/** Counts `n` messages of the listing, one a minute from `from`. */
function countMany(
  counter: ReturnType<typeof createThrottleCounter>,
  listing: string,
  n: number,
  throttle = throttleOf(),
  from = 0,
): void {
  for (let i = 0; i < n; i += 1) counter.count(listing, throttle, from + i * 60_000, {});
}

describe('createThrottleCounter', () => {
  it('lets a listing have perListing messages in the window, and holds back the next one', () => {
    const counter = createThrottleCounter();
    const t = throttleOf();
    countMany(counter, '1', 2);
    expect(counter.over('1', t, 3 * 60_000)).toBe(false);
    countMany(counter, '1', 1, t, 2 * 60_000);
    expect(counter.over('1', t, 3 * 60_000)).toBe(true);
  });

  it('lets the listing through again once its oldest counted message left the sliding window', () => {
    const counter = createThrottleCounter();
    const t = throttleOf();
    countMany(counter, '1', 3); // at 0, 1 min, 2 min
    expect(counter.over('1', t, HOUR - 1)).toBe(true);
    // The message at 0 is out of the window at HOUR: two left in it.
    expect(counter.over('1', t, HOUR)).toBe(false);
    counter.count('1', t, HOUR, {});
    // At 1 min + 1 h the second leaves too, but three are again within the hour before 1 min + 1 h.
    expect(counter.over('1', t, HOUR + 30_000)).toBe(true);
    expect(counter.over('1', t, HOUR + 60_000)).toBe(false);
  });

  it('counts each listing on its own', () => {
    const counter = createThrottleCounter();
    countMany(counter, '1', 3);
    expect(counter.over('1', throttleOf(), 200_000)).toBe(true);
    expect(counter.over('2', throttleOf(), 200_000)).toBe(false);
  });

  it('counts each rule on its own: the same listing under another rule is not past that rule', () => {
    const counter = createThrottleCounter();
    countMany(counter, '1', 3, throttleOf([limit({ rule: 'a' })]));
    expect(counter.over('1', throttleOf([limit({ rule: 'a' })]), 200_000)).toBe(true);
    expect(counter.over('1', throttleOf([limit({ rule: 'b' })]), 200_000)).toBe(false);
  });

  it('throttles a message of several rules only when every rule is past its limit', () => {
    const counter = createThrottleCounter();
    const both = throttleOf([limit({ rule: 'a', perListing: 2 }), limit({ rule: 'b', perListing: 4 })]);
    countMany(counter, '1', 2, both);
    expect(counter.over('1', both, 200_000)).toBe(false); // b has 2 of 4
    countMany(counter, '1', 2, both, 120_000);
    expect(counter.over('1', both, 200_000)).toBe(true);
  });

  it('never throttles a message one of whose rules has no throttle (binding false), but still counts it', () => {
    const counter = createThrottleCounter();
    const partly = throttleOf([limit()], false);
    countMany(counter, '1', 5, partly);
    expect(counter.over('1', partly, 300_000)).toBe(false);
    // The rule with the throttle counted those messages: alone it is past its limit.
    expect(counter.over('1', throttleOf(), 300_000)).toBe(true);
  });

  it('never throttles without a throttle', () => {
    const counter = createThrottleCounter();
    counter.count('1', undefined, 0, {});
    expect(counter.over('1', undefined, 0)).toBe(false);
    expect(counter.size()).toBe(0);
  });

  it('takes back a count whose message was never sent', () => {
    const counter = createThrottleCounter();
    const t = throttleOf();
    countMany(counter, '1', 2);
    const cancelled = {};
    counter.count('1', t, 150_000, cancelled);
    expect(counter.over('1', t, 160_000)).toBe(true);
    counter.uncount(cancelled);
    expect(counter.over('1', t, 160_000)).toBe(false);
    // Twice is once.
    counter.uncount(cancelled);
    counter.count('1', t, 170_000, {});
    expect(counter.over('1', t, 180_000)).toBe(true);
  });

  it('keeps at most perListing times per listing, however often it is counted', () => {
    const counter = createThrottleCounter();
    const t = throttleOf([limit({ perListing: 2 })]);
    // 1,000 messages: only the last two decide, so the listing is free once those two left the window.
    for (let i = 0; i < 1000; i += 1) counter.count('1', t, i, {});
    expect(counter.over('1', t, 998 + HOUR - 1)).toBe(true);
    expect(counter.over('1', t, 999 + HOUR - 1)).toBe(false);
  });

  it('holds at most maxEntries (rule, listing) pairs, forgetting the one counted longest ago first', () => {
    const counter = createThrottleCounter(3);
    const t = throttleOf([limit({ perListing: 1 })]);
    for (const listing of ['1', '2', '3']) counter.count(listing, t, 0, {});
    counter.count('1', t, 10, {}); // 1 is now the most recently counted
    counter.count('4', t, 20, {}); // over the bound: 2 goes
    expect(counter.size()).toBe(3);
    expect(counter.over('2', t, 30)).toBe(false);
    for (const listing of ['1', '3', '4']) expect(counter.over(listing, t, 30)).toBe(true);
  });

  it('stays within its bound through a stream of distinct listings', () => {
    const counter = createThrottleCounter(100);
    for (let i = 0; i < 10_000; i += 1) counter.count(String(i), throttleOf(), i, {});
    expect(counter.size()).toBe(100);
  });

  it('forgets a pair whose window has passed when it is asked about it', () => {
    const counter = createThrottleCounter();
    countMany(counter, '1', 1);
    expect(counter.size()).toBe(1);
    expect(counter.over('1', throttleOf(), HOUR * 2)).toBe(false);
    expect(counter.size()).toBe(0);
  });
});
