import { describe, expect, it } from 'vitest';
import { explanationJson, explanationLines, positionText } from '../../../src/cli/explain-text.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { explainRecord } from '../../../src/pipeline/explain.ts';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../../support/records.ts';

const hostileTitle = 'Chair \u001b]0;pwned\u0007 \u202Egnp.exe';

describe('explain output', () => {
  it('escapes database text in every line and in the JSON', async () => {
    const config = parseConfig('', 'empty.yaml');
    const record = makeRecord({
      payload: makePayload({
        before: makeRow({ lst_ttl: hostileTitle }),
        after: makeRow({ lst_ttl: hostileTitle, description: `new \u009b2J ${hostileTitle}` }),
      }),
    });
    const ex = await explainRecord(record, config);
    const text = explanationLines(record, ex).join('\n');
    expect(text).toContain('\\u001b]0;pwned\\u0007 \\u202egnp.exe');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none is left
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E]/);
    const json = explanationJson(record, ex);
    expect(json).not.toMatch(/[\u007F-\u009F\u202A-\u202E]/);
    expect(JSON.parse(json).fields.find((f: { key: string }) => f.key === 'description').after).toContain(
      '\u009b2J',
    );
  });

  it('says where unmatched changes went when unmatched.action is send', async () => {
    const config = parseConfig('unmatched: { action: send, channel: sales-alerts }', 'send.yaml');
    const record = makeRecord({ payload: makePayload({ after: makeRow({ description: 'other words' }) }) });
    const lines = explanationLines(record, await explainRecord(record, config));
    expect(lines).toContain('      => no rule matched; unmatched.action is send: sales-alerts');
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}#sales-alerts \(unmatched\): /));
  });

  it("names a message's per-listing throttle, and says when another rule without one keeps it from applying", async () => {
    const config = parseConfig(
      [
        'rules:',
        '  - { name: price moved, match: { field: price }, channels: [sales-alerts, marketing-updates], throttle: { perListing: 3 } }',
        '  - { name: every price, match: { field: price }, channels: [marketing-updates] }',
      ].join('\n'),
      'throttle.yaml',
    );
    const record = makeRecord({
      payload: makePayload({ after: makeRow({ prc_amt: decimalBase64('9.99', 2) }) }),
    });
    const lines = explanationLines(record, await explainRecord(record, config));
    const lineAfter = (channel: string) =>
      lines[lines.findIndex((l) => l.startsWith(`    ${channel} (`)) + 1];
    expect(lineAfter('#sales-alerts')).toBe(
      '      throttle: rule "price moved" 3 per listing per 3600000 ms; past it the listing\'s normal changes go to the channel\'s digest',
    );
    expect(lineAfter('#marketing-updates')).toBe(
      '      throttle: rule "price moved" 3 per listing per 3600000 ms; not applied here: another rule without a throttle sends it too',
    );
  });

  it('tells whether the service group has processed the record', () => {
    const record = makeRecord({ offset: '10' });
    expect(positionText(record, { groupId: 'g', committed: '11' })).toContain('it has processed this record');
    expect(positionText(record, { groupId: 'g', committed: '10' })).toContain(
      'NOT processed this record yet',
    );
    expect(positionText(record, { groupId: 'g', committed: null })).toBe(
      'service: group g has no committed offset on partition 0: it has not processed this record',
    );
  });
});

describe('mightHoldListing', () => {
  it('skips JSON keys without the id, decodes framed, absent and unusual ones', async () => {
    const { mightHoldListing } = await import('../../../src/cli/explain.ts');
    const key = makeRecord().key;
    expect(mightHoldListing(key, '1')).toBe(true);
    expect(mightHoldListing(key, '42')).toBe(false);
    expect(mightHoldListing(Buffer.from([0, 0, 0, 0, 1, 2]), '42')).toBe(true);
    expect(mightHoldListing(null, '42')).toBe(true);
    expect(mightHoldListing(key, 'é')).toBe(true);
  });
});
