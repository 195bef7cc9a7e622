/**
 * Mute matching and mute durations as pure functions (src/domain/mute.ts): examples for each rule,
 * properties over generated mutes for the ones that must hold always.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reasonClass } from '../../../src/app/record-log.ts';
import {
  activeMutes,
  type Mute,
  maxMuteMs,
  muteFor,
  muteReason,
  muteSubject,
  mutesTarget,
  parseMuteDuration,
} from '../../../src/domain/mute.ts';

const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const HOUR = 3_600_000;

const listingMute = (overrides: Partial<Extract<Mute, { scope: 'listing' }>> = {}): Mute => ({
  scope: 'listing',
  listingId: '42',
  by: 'ana',
  until: NOW + HOUR,
  ...overrides,
});
const ruleMute = (overrides: Partial<Extract<Mute, { scope: 'rule' }>> = {}): Mute => ({
  scope: 'rule',
  rule: 'price-drops',
  by: 'ana',
  until: NOW + HOUR,
  ...overrides,
});

const muteArb: fc.Arbitrary<Mute> = fc.oneof(
  fc.record(
    {
      scope: fc.constant('listing' as const),
      listingId: fc.constantFrom('1', '2', '3'),
      channel: fc.constantFrom('#a', '#b'),
      by: fc.string(),
      until: fc.integer({ min: NOW - 10 * HOUR, max: NOW + 10 * HOUR }),
    },
    { requiredKeys: ['scope', 'listingId', 'by', 'until'] },
  ),
  fc.record(
    {
      scope: fc.constant('rule' as const),
      rule: fc.constantFrom('r1', 'r2'),
      channel: fc.constantFrom('#a', '#b'),
      by: fc.string(),
      until: fc.integer({ min: NOW - 10 * HOUR, max: NOW + 10 * HOUR }),
    },
    { requiredKeys: ['scope', 'rule', 'by', 'until'] },
  ),
);
const targetArb = fc.record(
  {
    listingId: fc.constantFrom('1', '2', '3'),
    rule: fc.constantFrom('r1', 'r2'),
    channel: fc.constantFrom('#a', '#b'),
  },
  { requiredKeys: [] },
);

describe('activeMutes', () => {
  it('drops the mutes whose end is at or before now', () => {
    const ended = listingMute({ until: NOW - 1 });
    const endsNow = listingMute({ until: NOW });
    const running = listingMute({ until: NOW + 1 });
    expect(activeMutes([ended, endsNow, running], NOW)).toEqual([running]);
    expect(activeMutes([], NOW)).toEqual([]);
  });
});

describe('muteFor', () => {
  it('a listing mute matches that listing in any channel, and no other listing', () => {
    const m = listingMute();
    expect(muteFor([m], { listingId: '42', channel: '#sales' }, NOW)).toBe(m);
    expect(muteFor([m], { listingId: '42', channel: '#ops' }, NOW)).toBe(m);
    expect(muteFor([m], { listingId: '42' }, NOW)).toBe(m);
    expect(muteFor([m], { listingId: '43', channel: '#sales' }, NOW)).toBeUndefined();
    expect(muteFor([m], { rule: 'price-drops', channel: '#sales' }, NOW)).toBeUndefined();
  });

  it('with a channel, only in that channel (and not where the channel is unknown)', () => {
    const m = listingMute({ channel: '#sales' });
    expect(muteFor([m], { listingId: '42', channel: '#sales' }, NOW)).toBe(m);
    expect(muteFor([m], { listingId: '42', channel: '#ops' }, NOW)).toBeUndefined();
    expect(muteFor([m], { listingId: '42' }, NOW)).toBeUndefined();
  });

  it('a rule mute matches the rule by name, whatever the listing', () => {
    const m = ruleMute();
    expect(muteFor([m], { rule: 'price-drops', listingId: '1' }, NOW)).toBe(m);
    expect(muteFor([m], { rule: 'price-drop', listingId: '1' }, NOW)).toBeUndefined();
    expect(muteFor([m], { listingId: '1' }, NOW)).toBeUndefined();
    const inSales = ruleMute({ channel: '#sales' });
    expect(muteFor([inSales], { rule: 'price-drops', channel: '#ops' }, NOW)).toBeUndefined();
  });

  it('an ended mute applies to nothing', () => {
    expect(muteFor([listingMute({ until: NOW })], { listingId: '42' }, NOW)).toBeUndefined();
    expect(muteFor([listingMute({ until: NOW })], { listingId: '42' }, NOW - 1)).toBeDefined();
  });

  it("of several, the one lasting longest; on a tie the first, or the listing's", () => {
    const short = listingMute({ until: NOW + HOUR, by: 'short' });
    const long = listingMute({ until: NOW + 2 * HOUR, by: 'long' });
    const tie = listingMute({ until: NOW + 2 * HOUR, by: 'tie' });
    expect(muteFor([short, long, tie], { listingId: '42' }, NOW)).toBe(long);
    const rule = ruleMute({ until: NOW + 3 * HOUR });
    const target = { listingId: '42', rule: 'price-drops' };
    expect(muteFor([short, rule], target, NOW)).toBe(rule);
    expect(muteFor([ruleMute({ until: NOW + HOUR }), short], target, NOW)).toBe(short);
  });

  it('a message of several rules is muted by rule only when each of them is, until the first ends', () => {
    const drops = ruleMute({ rule: 'price-drops', until: NOW + 2 * HOUR });
    const stock = ruleMute({ rule: 'stock', until: NOW + HOUR });
    const target = { listingId: '7', rule: ['price-drops', 'stock'], channel: '#sales' };
    expect(muteFor([drops], target, NOW)).toBeUndefined();
    expect(muteFor([drops, stock], target, NOW)).toBe(stock);
    expect(muteFor([drops, stock], target, NOW + HOUR)).toBeUndefined();
    expect(muteFor([drops], { ...target, rule: [] }, NOW)).toBeUndefined();
    expect(muteFor([drops], { ...target, rule: ['price-drops', 'price-drops'] }, NOW)).toBe(drops);
    // A listing mute needs no rule.
    const listing = listingMute({ listingId: '7', until: NOW + HOUR });
    expect(muteFor([drops, listing], target, NOW)).toBe(listing);
  });

  it('property: for one rule, the mute found is in force, names the target, and none in force ends later', () => {
    fc.assert(
      fc.property(fc.array(muteArb, { maxLength: 12 }), targetArb, (mutes, target) => {
        const found = muteFor(mutes, target, NOW);
        const applying = activeMutes(mutes, NOW).filter((m) => mutesTarget(m, target));
        if (found === undefined) expect(applying).toEqual([]);
        else {
          expect(applying).toContain(found);
          for (const m of applying) expect(m.until).toBeLessThanOrEqual(found.until);
        }
      }),
    );
  });

  it('property: several rules are muted when the listing is, or when each rule alone is', () => {
    fc.assert(
      fc.property(fc.array(muteArb, { maxLength: 12 }), targetArb, (mutes, target) => {
        const rules = ['r1', 'r2'];
        const muted = muteFor(mutes, { ...target, rule: rules }, NOW) !== undefined;
        const byListing =
          muteFor(
            mutes.filter((m) => m.scope === 'listing'),
            target,
            NOW,
          ) !== undefined;
        const eachRule = rules.every((rule) => muteFor(mutes, { ...target, rule }, NOW) !== undefined);
        const eachRuleByRule = rules.every(
          (rule) =>
            muteFor(
              mutes.filter((m) => m.scope === 'rule'),
              { ...target, rule },
              NOW,
            ) !== undefined,
        );
        expect(muted).toBe(byListing || eachRuleByRule);
        if (muted) expect(eachRule).toBe(true);
      }),
    );
  });

  it('property: only active mutes matter (filtering first changes nothing)', () => {
    fc.assert(
      fc.property(fc.array(muteArb, { maxLength: 12 }), targetArb, (mutes, target) => {
        expect(muteFor(activeMutes(mutes, NOW), target, NOW)).toBe(muteFor(mutes, target, NOW));
      }),
    );
  });
});

describe('muteReason', () => {
  it('says who muted until when, in UTC', () => {
    expect(muteReason(listingMute({ by: 'ana', until: NOW + 24 * HOUR }))).toBe(
      'muted: by @ana until 2026-01-02T00:00:00Z',
    );
    expect(muteReason(listingMute({ by: '@ana', until: NOW + 1500 }))).toBe(
      'muted: by @ana until 2026-01-01T00:00:01.500Z',
    );
    expect(muteReason(ruleMute({ reason: 'bulk import' }))).toBe(
      'muted: by @ana until 2026-01-01T01:00:00Z (bulk import)',
    );
  });

  it("is one outcome-metric label, 'muted', whoever muted until whenever", () => {
    fc.assert(
      fc.property(muteArb, (m) => {
        expect(reasonClass(muteReason(m))).toBe('muted');
      }),
    );
  });

  it('names its subject for people', () => {
    expect(muteSubject(listingMute())).toBe('listing 42');
    expect(muteSubject(ruleMute({ channel: '#sales' }))).toBe('rule price-drops in #sales');
  });
});

describe('parseMuteDuration', () => {
  it('takes a whole number and m, h or d', () => {
    expect(parseMuteDuration('30m')).toEqual({ ms: 30 * 60_000 });
    expect(parseMuteDuration('1h')).toEqual({ ms: HOUR });
    expect(parseMuteDuration('24h')).toEqual({ ms: 24 * HOUR });
    expect(parseMuteDuration('7d')).toEqual({ ms: 7 * 24 * HOUR });
    expect(parseMuteDuration('90d')).toEqual({ ms: maxMuteMs });
  });

  it('refuses anything else, naming the value', () => {
    for (const text of [
      '',
      '24',
      'h',
      '0h',
      '01h',
      '1.5h',
      '-1h',
      '1H',
      ' 1h',
      '1h ',
      '1d12h',
      '2w',
      '1s',
      'soon',
    ]) {
      const parsed = parseMuteDuration(text);
      expect(parsed).toEqual({
        error: `expected a duration like 30m, 1h, 24h or 7d (a whole number and m, h or d), got ${JSON.stringify(text)}`,
      });
    }
    expect(parseMuteDuration('91d')).toEqual({ error: 'expected at most 90d, got "91d"' });
    expect(parseMuteDuration('2161h')).toEqual({ error: 'expected at most 90d, got "2161h"' });
  });

  it('property: n and a unit is n units, up to 90 days', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200_000 }),
        fc.constantFrom(...(['m', 'h', 'd'] as const)),
        (n, u) => {
          const ms = n * { m: 60_000, h: HOUR, d: 24 * HOUR }[u];
          const parsed = parseMuteDuration(`${n}${u}`);
          expect(parsed).toEqual(
            ms <= maxMuteMs ? { ms } : { error: `expected at most 90d, got "${n}${u}"` },
          );
        },
      ),
    );
  });
});
