import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { diff } from '../../../src/pipeline/diff.ts';
import { explainEvent, explainRecord } from '../../../src/pipeline/explain.ts';
import { significance } from '../../../src/pipeline/filter.ts';
import { createPipeline } from '../../../src/pipeline/index.ts';
import { matches, mismatch } from '../../../src/pipeline/route.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { makePayload, makeRecord, makeRow } from '../../support/records.ts';

const config = parseConfig('', 'empty.yaml');

describe('explainEvent', () => {
  it('shows the fields, the signal, the rule that matched, the ones that did not, and the message', () => {
    const ex = explainEvent(makeUpdate({ prc_amt: dec('17.99') }, { prc_amt: dec('19.99') }), config);
    expect(ex.fields.find((f) => f.key === 'price')).toEqual({
      key: 'price',
      column: 'prc_amt',
      before: dec('19.99'),
      after: dec('17.99'),
      changed: true,
    });
    expect(ex.changedColumns).toEqual(['prc_amt']);
    expect(ex.significance).toEqual({ significant: true });
    const [signal] = ex.signals;
    expect(signal).toMatchObject({ field: 'price', condition: 'decreased', routedTo: ['sales-alerts'] });
    expect(signal?.rules.map((r) => [r.rule, r.mismatch])).toEqual([
      ['price moved', null],
      ['stock low or recovered', 'field is price, the rule wants stock'],
      ['unpublished', 'field is price, the rule wants status'],
      ['sold out', 'field is price, the rule wants status'],
      ['deleted', 'condition is decreased, the rule wants deleted'],
    ]);
    expect(ex.messages.map((m) => [m.channel, m.rules])).toEqual([['#sales-alerts', ['price moved']]]);
    expect(ex.messages[0]?.payload.text).toContain('Price changed from');
  });

  it('says why a status change reached no rule (from/to) and why an insignificant one stopped', () => {
    const ex = explainEvent(makeUpdate({ LST_STAT_CD: 'S' }, { LST_STAT_CD: 'U' }), config);
    const rules = ex.signals[0]?.rules ?? [];
    expect(rules.find((r) => r.rule === 'unpublished')?.mismatch).toBe('from "U", the rule wants A, S');
    expect(rules.find((r) => r.rule === 'sold out')?.mismatch).toBe('from "U", the rule wants A');
    expect(ex.signals[0]?.routedTo).toEqual([]);
    expect(ex.messages).toEqual([]);

    const small = explainEvent(makeUpdate({ prc_amt: dec('19.98') }, { prc_amt: dec('19.99') }), config);
    expect(small.significance).toEqual({
      significant: false,
      reason: expect.stringMatching(/^insignificant: Price moved by 0.01/),
    });
    expect(small.signals).toEqual([]);
  });

  it('mismatch is null exactly when matches is true (any rule, any status transition)', () => {
    const codes = fc.constantFrom('A', 'U', 'D', 'S', 'X');
    fc.assert(
      fc.property(codes, codes, (from, to) => {
        const event = makeUpdate({ LST_STAT_CD: to }, { LST_STAT_CD: from });
        const verdict = significance(event, diff(event), config);
        if (!verdict.significant) return;
        for (const signal of verdict.signals)
          for (const rule of config.rules)
            expect(mismatch(rule, signal, event, config) === null).toBe(matches(rule, signal, event, config));
      }),
    );
  });
});

describe('explainRecord', () => {
  it('takes its verdict from the pipeline itself', async () => {
    for (const record of [
      makeRecord(),
      makeRecord({ value: null }),
      makeRecord({ value: Buffer.from('{not json') }),
      makeRecord({ payload: makePayload({ after: makeRow({ description: 'new words' }) }) }),
    ]) {
      const ex = await explainRecord(record, config);
      const outcome = await createPipeline(config).process(record);
      expect(ex.outcome.kind).toBe(outcome.kind);
      expect(ex.outcome.reason).toBe(outcome.reason);
    }
  });

  it('stops at decode for a tombstone or bytes that do not decode, saying why', async () => {
    expect((await explainRecord(makeRecord({ value: null }), config)).stoppedAt).toEqual({
      stage: 'decode',
      reason: 'tombstone (null value): nothing to notify',
    });
    const bad = await explainRecord(makeRecord({ value: Buffer.from('{not json') }), config);
    expect(bad.stoppedAt?.stage).toBe('decode');
    expect(bad.stoppedAt?.reason).toMatch(/^DECODE_FAILED: /);
    expect(bad.outcome.kind).toBe('dead-letter');
  });
});
