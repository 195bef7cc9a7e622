/**
 * The composer's slim changes and net (src/pipeline/compose.ts): what a folded change keeps in memory
 * while it waits, and that netting them per column loses no change (issue 16).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { diff } from '../../../src/pipeline/diff.ts';
import { dec, makeUpdate } from '../../support/events.ts';

const config = parseConfig('{}', 'defaults');
const composer = createComposer(() => config);
const long = 'x'.repeat(600);

describe('slim', () => {
  it('keeps the changed columns and the title and currency, not an unchanged description', () => {
    const slim = composer.slim(
      makeUpdate({ prc_amt: dec('90.00') }, { prc_amt: dec('100.00'), description: long, lst_ttl: 'Chair' }),
    );
    expect(Object.keys(slim.after ?? {}).sort()).toEqual(['crncy_cd', 'lst_ttl', 'prc_amt']);
    expect(Object.keys(slim.before ?? {}).sort()).toEqual(['crncy_cd', 'lst_ttl', 'prc_amt']);
    expect(slim.source).toEqual({ tsMs: expect.any(Number), snapshot: false });
    expect(diff(slim).map((c) => c.column)).toEqual(['prc_amt']);
  });

  it('nets three changes per column: a column changed only in the middle one is kept', () => {
    const e1 = composer.slim(
      makeUpdate({ prc_amt: dec('90.00') }, { prc_amt: dec('100.00'), description: 'a' }),
    );
    const e2 = composer.slim(makeUpdate({ description: 'b' }, { prc_amt: dec('90.00'), description: 'a' }));
    const e3 = composer.slim(
      makeUpdate({ prc_amt: dec('80.00') }, { prc_amt: dec('90.00'), description: 'b' }),
    );
    const net = composer.net(composer.net(e1, e2) ?? e2, e3);
    expect(diff(net ?? e3).map((c) => [c.column, c.before, c.after])).toEqual([
      ['prc_amt', dec('100.00'), dec('80.00')],
      ['description', 'a', 'b'],
    ]);
  });
});
