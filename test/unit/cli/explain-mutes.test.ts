/** `explain` shows the mutes that make the service drop a record's messages (issue 17, item 2). */
import { describe, expect, it } from 'vitest';
import { explanationJson, explanationLines, muteHits } from '../../../src/cli/explain-text.ts';
import { parseConfig } from '../../../src/config/index.ts';
import type { StoredMute } from '../../../src/domain/mute.ts';
import { explainRecord } from '../../../src/pipeline/explain.ts';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';

const NOW = 1_767_225_600_000;
const config = parseConfig('', 'defaults.yaml');
/** A price cut of listing 1: one message, to sales-alerts by "price moved". */
const priceCut = makeRecord({
  payload: makePayload({
    before: makeRow({ prc_amt: decimalBase64('19.99', 2) }),
    after: makeRow({ prc_amt: decimalBase64('9.99', 2) }),
  }),
});
const mute = (over: Partial<StoredMute>): StoredMute =>
  ({ id: 'm1', scope: 'listing', listingId: '1', by: 'ana', until: NOW + 3_600_000, ...over }) as StoredMute;

describe('explain: mutes', () => {
  it('names the mute that silences a message, as the service decides it', async () => {
    const ex = await explainRecord(priceCut, config);
    expect(ex.messages.map((m) => m.channelKey)).toEqual(['sales-alerts']);
    const facts = { mutes: [mute({ channel: 'sales-alerts', reason: '<!channel> repricing' })], now: NOW };
    expect(muteHits(ex, facts)).toEqual([{ channelKey: 'sales-alerts', mute: facts.mutes[0] }]);
    const lines = explanationLines(priceCut, ex, undefined, facts);
    expect(lines).toContain(
      '    the listing muted by @ana until 2026-01-01T01:00:00Z (<!channel> repricing) (mute m1): the service drops the message to sales-alerts',
    );
    expect(JSON.parse(explanationJson(priceCut, ex, undefined, facts)).mutes).toEqual([
      expect.objectContaining({ channelKey: 'sales-alerts', id: 'm1', until: '2026-01-01T01:00:00Z' }),
    ]);
  });

  it('leaves out mutes that do not apply: ended, another channel, another listing, a rule not all of its rules', async () => {
    const ex = await explainRecord(priceCut, config);
    const mutes = [
      mute({ until: NOW }),
      mute({ channel: 'inventory-warnings' }),
      mute({ listingId: '2' }),
      mute({ scope: 'rule', rule: 'stock low or recovered' } as Partial<StoredMute>),
    ];
    expect(muteHits(ex, { mutes, now: NOW })).toEqual([]);
    expect(explanationLines(priceCut, ex, undefined, { mutes, now: NOW })).toContain('  mutes: none apply');
    const byRule = [mute({ scope: 'rule', rule: 'price moved', id: 'r1' } as Partial<StoredMute>)];
    expect(muteHits(ex, { mutes: byRule, now: NOW }).map((h) => h.mute.id)).toEqual(['r1']);
  });

  it('says when the mutes are unknown (no shared store, or it did not answer)', async () => {
    const ex = await explainRecord(priceCut, config);
    const lines = explanationLines(priceCut, ex, undefined, { unknown: 'no shared store' });
    expect(lines).toContain('  mutes: unknown (no shared store)');
    expect(explanationLines(priceCut, ex)).not.toContainEqual(expect.stringMatching(/mutes/));
  });
});
