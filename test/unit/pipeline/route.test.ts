import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { type Signal, significance } from '../../../src/pipeline/filter.ts';
import { route } from '../../../src/pipeline/route.ts';
import { dec, makeEvent, makeListingRow, makeUpdate, withChanges } from '../../support/events.ts';

const defaults = parseConfig('', 'defaults');

function routed(event: ChangeEvent, config: Config = defaults) {
  const { changes } = withChanges(event);
  const verdict = significance(event, changes, config);
  if (!verdict.significant) throw new Error(verdict.reason);
  const { routes, unmatched } = route(event, verdict.signals, config);
  const name = (s: Signal) => `${s.field ?? 'listing'} ${s.condition}`;
  return {
    routes: routes.map((r) => ({ channel: r.channel, signals: r.signals.map(name), rules: r.rules })),
    unmatched: unmatched.map(name),
  };
}

describe('the default rules (the seeds)', () => {
  it.each([
    [
      'price -> #sales-alerts',
      makeUpdate({ prc_amt: dec('17.99') }),
      [['#sales-alerts', ['price decreased'], ['price moved']]],
      [],
    ],
    [
      'stock low -> #inventory-warnings',
      makeUpdate({ prod_stk_qty: 2 }),
      [['#inventory-warnings', ['stock low'], ['stock low or recovered']]],
      [],
    ],
    [
      'stock recovered -> #inventory-warnings',
      makeUpdate({ prod_stk_qty: 9 }, { prod_stk_qty: 1 }),
      [['#inventory-warnings', ['stock recovered'], ['stock low or recovered']]],
      [],
    ],
    [
      'unpublished -> #support-heads-up and #marketing-updates',
      makeUpdate({ LST_STAT_CD: 'U' }),
      [
        ['#support-heads-up', ['status changed'], ['unpublished']],
        ['#marketing-updates', ['status changed'], ['unpublished']],
      ],
      [],
    ],
    [
      'back to draft counts as unpublished',
      makeUpdate({ LST_STAT_CD: 'D' }, { LST_STAT_CD: 'S' }),
      [
        ['#support-heads-up', ['status changed'], ['unpublished']],
        ['#marketing-updates', ['status changed'], ['unpublished']],
      ],
      [],
    ],
    [
      'sold out -> #inventory-warnings',
      makeUpdate({ LST_STAT_CD: 'S' }),
      [['#inventory-warnings', ['status changed'], ['sold out']]],
      [],
    ],
    ['republished: no rule', makeUpdate({ LST_STAT_CD: 'A' }, { LST_STAT_CD: 'U' }), [], ['status changed']],
    ['description: no rule', makeUpdate({ description: 'New words.' }), [], ['description changed']],
    [
      'deleted -> #support-heads-up and #marketing-updates',
      makeEvent({ op: 'delete', after: null }),
      [
        ['#support-heads-up', ['listing deleted'], ['deleted']],
        ['#marketing-updates', ['listing deleted'], ['deleted']],
      ],
      [],
    ],
    [
      'created: no rule',
      makeEvent({ op: 'create', before: null, beforeComplete: false }),
      [],
      ['listing created'],
    ],
    [
      'price and unpublished at once: each channel gets its own part',
      makeUpdate({ prc_amt: dec('9.99'), LST_STAT_CD: 'U' }),
      [
        ['#sales-alerts', ['price decreased'], ['price moved']],
        ['#support-heads-up', ['status changed'], ['unpublished']],
        ['#marketing-updates', ['status changed'], ['unpublished']],
      ],
      [],
    ],
  ] as const)('%s', (_name, event, expected, unmatched) => {
    const result = routed(event);
    expect(result.routes.map((r) => [r.channel, r.signals, r.rules])).toEqual(expected);
    expect(result.unmatched).toEqual(unmatched);
  });

  it('an unknown previous status matches no `from` (nothing is guessed)', () => {
    const event = makeEvent({
      before: null,
      beforeComplete: false,
      after: makeListingRow({ LST_STAT_CD: 'U' }),
    });
    expect(routed(event).routes.map((r) => r.channel)).toEqual(['#sales-alerts']);
  });
});

describe('rule criteria and unmatched handling', () => {
  const config = parseConfig(
    `
channels: { a: "#a", b: C0123ABCD, fallback: "#fallback" }
rules:
  - { name: drops, match: { field: price, condition: decreased, op: update }, channels: [a, b] }
  - { name: any price, match: { field: price }, channels: a }
  - { name: stock via op, match: { op: delete }, channels: b }
  - { name: from draft, match: { field: status, from: D }, channels: b }
unmatched: { action: send, channel: fallback }
`,
    'x',
  );

  it('sends one message per channel even when several rules pick it, listing every rule', () => {
    expect(routed(makeUpdate({ prc_amt: dec('9.99') }), config).routes).toEqual([
      { channel: '#a', signals: ['price decreased'], rules: ['drops', 'any price'] },
      { channel: 'C0123ABCD', signals: ['price decreased'], rules: ['drops'] },
    ]);
  });

  it('sends what no rule matched to the fallback channel', () => {
    expect(routed(makeUpdate({ LST_STAT_CD: 'U' }), config)).toEqual({
      routes: [{ channel: '#fallback', signals: ['status changed'], rules: ['unmatched'] }],
      unmatched: [],
    });
    expect(routed(makeUpdate({ LST_STAT_CD: 'A' }, { LST_STAT_CD: 'D' }), config).routes[0]?.rules).toEqual([
      'from draft',
    ]);
  });

  it('matches on op', () => {
    expect(routed(makeEvent({ op: 'delete', after: null }), config).routes[0]).toEqual({
      channel: 'C0123ABCD',
      signals: ['listing deleted'],
      rules: ['stock via op'],
    });
  });
});

describe('throttles (config rules[].throttle)', () => {
  const config = parseConfig(
    `
channels: { a: "#a", b: "#b" }
rules:
  - { name: drops, match: { field: price, condition: decreased }, channels: [a, b], throttle: { perListing: 3 } }
  - { name: any price, match: { field: price }, channels: a, throttle: { perListing: 5, windowMs: 60000 } }
  - { name: unthrottled, match: { field: price, condition: decreased }, channels: b }
  - { name: stock, match: { field: stock }, channels: a }
`,
    'throttles',
  );
  const throttles = (event: ChangeEvent) => {
    const { changes } = withChanges(event);
    const verdict = significance(event, changes, config);
    if (!verdict.significant) throw new Error(verdict.reason);
    return route(event, verdict.signals, config).routes.map((r) => [r.channel, r.throttle]);
  };

  it("carries each rule's throttle (windowMs 1 h by default), binding when every rule that sent it has one", () => {
    expect(throttles(makeUpdate({ prc_amt: dec('9.99') }))).toEqual([
      [
        '#a',
        {
          limits: [
            { rule: 'drops', perListing: 3, windowMs: 3_600_000 },
            { rule: 'any price', perListing: 5, windowMs: 60_000 },
          ],
          binding: true,
        },
      ],
      // A rule without a throttle sends it to #b too: counted under "drops", never held back.
      ['#b', { limits: [{ rule: 'drops', perListing: 3, windowMs: 3_600_000 }], binding: false }],
    ]);
  });

  it('carries none when no rule that sent it has one', () => {
    expect(throttles(makeUpdate({ prod_stk_qty: 2 }, { prod_stk_qty: 10 }))).toEqual([['#a', undefined]]);
  });
});
