/**
 * Before images from the last-values store (src/pipeline/before-image.ts, createPipeline's
 * deps.lastValues), on real captured envelopes: REPLICA IDENTITY DEFAULT (before null, unchanged
 * TOAST as __debezium_unavailable_value) and FULL (the store is never read).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import type { KnownValues } from '../../../src/domain/known-values.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import {
  entryText,
  fillBefore,
  learnedOf,
  parseEntry,
  positionOf,
  usable,
  WARM_POSITION,
  watchedColumns,
} from '../../../src/pipeline/before-image.ts';
import type { DebeziumEnvelope } from '../../../src/pipeline/decode/index.ts';
import { createPipeline } from '../../../src/pipeline/index.ts';
import { loadFixture } from '../../support/records.ts';

const defaults = parseConfig('', 'defaults');
const recordOf = (name: string): SourceRecord => loadFixture(name).records[0] as SourceRecord;
// The DEFAULT fixture: listing 900001, price -> 1099.00 EUR, status S, stock 0, at LSN 30039992.
const DEFAULT_UPDATE = recordOf('replica-identity-default');
const LSN = 'pg:00000000000030039992';

const known = (values: KnownValues['values'], position = 'pg:00000000000030000000'): KnownValues => ({
  position,
  values,
});

function remembering(entries: Record<string, KnownValues>) {
  const lookups: string[] = [];
  const pipeline = createPipeline(defaults, {
    lastValues: {
      async lookup(listingId) {
        lookups.push(listingId);
        return entries[listingId];
      },
    },
  });
  return { pipeline, lookups };
}

const texts = (outcome: Outcome): string[] =>
  outcome.kind === 'notify' ? outcome.messages.map((m) => m.payload.text) : [];

describe('positionOf', () => {
  it('orders PostgreSQL LSNs and MariaDB binlog positions as text', () => {
    expect(positionOf({ lsn: 30039992 })).toBe(LSN);
    const at = (source: Record<string, unknown>): string => positionOf(source) ?? 'missing';
    expect(at({ lsn: '9' }) < at({ lsn: 10 })).toBe(true);
    const a = at({ file: 'mysql-bin.000003', pos: 977, row: 0 });
    const b = at({ file: 'mysql-bin.000003', pos: 1024, row: 0 });
    const c = at({ file: 'mysql-bin.000004', pos: 4, row: 0 });
    expect(a < b && b < c).toBe(true);
    expect(at({ file: 'mysql-bin.000003', pos: 977, row: 1 }) > a).toBe(true);
    expect(WARM_POSITION < a && WARM_POSITION < LSN).toBe(true);
    expect(positionOf({ ts_ms: 1 })).toBeUndefined();
  });
});

describe('usable', () => {
  it('takes only values older than the change (a replayed record is not judged by later ones)', () => {
    expect(usable(known({}, 'pg:1'), 'pg:2')).toBe(true);
    expect(usable(known({}, 'pg:2'), 'pg:2')).toBe(false);
    expect(usable(known({}, 'pg:3'), 'pg:2')).toBe(false);
    expect(usable(undefined, 'pg:2')).toBe(false);
    expect(usable(known({}, 'pg:1'), undefined)).toBe(false);
  });
});

describe('fillBefore', () => {
  const watched = ['prc_amt', 'crncy_cd', 'description'];
  const envelope: DebeziumEnvelope = {
    op: 'u',
    key: { lst_id: 7 },
    // binlog_row_image=MINIMAL: the key, the other columns null ("not sent").
    before: { lst_id: 7, prc_amt: null, crncy_cd: null, description: null, ctgy_cd: null },
    after: { lst_id: 7, prc_amt: { type: 'decimal', value: '96.00' }, crncy_cd: 'EUR' },
    source: { lsn: 5 },
  };

  it('puts the known watched values over a key-only image and leaves the rest unknown', () => {
    const filled = fillBefore(
      envelope,
      known({ prc_amt: { type: 'decimal', value: '120.00' }, crncy_cd: 'EUR' }),
      watched,
    );
    expect(filled.before).toEqual({
      lst_id: 7,
      prc_amt: { type: 'decimal', value: '120.00' },
      crncy_cd: 'EUR',
    });
  });

  it('fills an unavailable (unchanged TOAST) column of a full image and keeps the rest', () => {
    const full: DebeziumEnvelope = {
      ...envelope,
      before: {
        lst_id: 7,
        prc_amt: { type: 'decimal', value: '99.00' },
        description: { type: 'unavailable' },
      },
    };
    const filled = fillBefore(
      full,
      known({ description: 'Oak', prc_amt: { type: 'decimal', value: '1' } }),
      watched,
    );
    expect(filled.before).toEqual({
      lst_id: 7,
      prc_amt: { type: 'decimal', value: '99.00' },
      description: 'Oak',
    });
  });

  it('returns the envelope itself when nothing is known', () => {
    expect(fillBefore(envelope, known({}), watched)).toBe(envelope);
  });
});

describe('the store text', () => {
  it('round-trips an entry and refuses text that is not one', () => {
    const entry = known({ prc_amt: { type: 'decimal', value: '1.50' }, prod_stk_qty: 3, LST_STAT_CD: null });
    expect(parseEntry(entryText(entry))).toEqual(entry);
    expect(parseEntry('no tab here')).toBeUndefined();
    expect(parseEntry('pg:1\t[1]')).toBeUndefined();
    expect(parseEntry('pg:1\t{broken')).toBeUndefined();
  });
});

describe('createPipeline with the last-values store', () => {
  it('REPLICA IDENTITY DEFAULT: the price reads "from X to Y" with the stored X', async () => {
    const { pipeline, lookups } = remembering({
      '900001': known({
        prc_amt: { type: 'decimal', value: '1234567.89' },
        crncy_cd: 'EUR',
        prod_stk_qty: 0,
        LST_STAT_CD: 'S',
      }),
    });
    const outcome = await pipeline.process(DEFAULT_UPDATE);
    expect(lookups).toEqual(['900001']);
    expect(outcome.kind).toBe('notify');
    const [text] = texts(outcome);
    expect(text).toContain('€1,234,567.89');
    expect(text).toContain('€1,099.00');
    expect(text).not.toContain('unknown');
    // Only the price changed: status and stock were known and equal.
    expect(outcome.reason).toMatch(/^notify: price decreased -> sales-alerts$/);
  });

  it('a listing seen for the first time falls back to "previous value unknown"', async () => {
    const { pipeline } = remembering({});
    const outcome = await pipeline.process(DEFAULT_UPDATE);
    expect(outcome.kind).toBe('notify');
    expect(texts(outcome).join('\n')).toContain('previous value unknown');
    expect(outcome.learned?.entry.position).toBe(LSN);
  });

  it('a stored entry at or past the change (a replayed record) is not used', async () => {
    const { pipeline } = remembering({
      '900001': known({ prc_amt: { type: 'decimal', value: '5.00' }, crncy_cd: 'EUR' }, LSN),
    });
    const outcome = await pipeline.process(DEFAULT_UPDATE);
    expect(texts(outcome).join('\n')).toContain('previous value unknown');
    expect(texts(outcome).join('\n')).not.toContain('€5.00');
  });

  it('learns the watched values, keeping the stored description where Debezium sent the TOAST placeholder', async () => {
    const { pipeline } = remembering({
      '900001': known({
        prc_amt: { type: 'decimal', value: '1500.00' },
        crncy_cd: 'EUR',
        description: 'Mesh chair',
      }),
    });
    const outcome = await pipeline.process(DEFAULT_UPDATE);
    expect(outcome.learned).toEqual({
      listingId: '900001',
      entry: {
        position: LSN,
        values: {
          prc_amt: { type: 'decimal', value: '1099' },
          crncy_cd: 'EUR',
          LST_STAT_CD: 'S',
          prod_stk_qty: 0,
          description: 'Mesh chair',
        },
      },
    });
  });

  it('REPLICA IDENTITY FULL: the store is never read, the outcome is the one without a store', async () => {
    const { pipeline, lookups } = remembering({
      '900001': known({ prc_amt: { type: 'decimal', value: '1.00' } }),
    });
    for (const name of [
      'update-price',
      'update-stock',
      'update-status',
      'update-title',
      'insert',
      'delete',
    ]) {
      const record = recordOf(name);
      const plain = await createPipeline(defaults).process(record);
      const { learned, ownBefore, ...outcome } = await pipeline.process(record);
      expect(outcome).toStrictEqual(plain);
      expect(learned === undefined || learned.entry.position.startsWith('pg:')).toBe(true);
      // Its before image is its own (nothing from the store): written ahead of a fold run's end.
      if (learned !== undefined && name.startsWith('update')) expect(ownBefore).toBe(true);
    }
    expect(lookups).toEqual([]);
  });

  it('a snapshot read teaches the store without notifying', async () => {
    const { pipeline } = remembering({});
    const outcome = await pipeline.process(recordOf('snapshot-read'));
    expect(outcome.kind).toBe('dropped');
    expect(outcome.reason).toMatch(/^snapshot:/);
    expect(outcome.learned?.entry.values).toHaveProperty('prc_amt');
  });

  it('a delete leaves an empty entry at its position (a replayed older update cannot revive it)', async () => {
    const { pipeline } = remembering({});
    const outcome = await pipeline.process(recordOf('delete'));
    expect(outcome.learned?.entry.values).toEqual({});
  });
});

describe('learnedOf', () => {
  it('has nothing to keep for a truncate, an event without a listing id or position', () => {
    const event = {
      op: 'update' as const,
      source: { snapshot: false },
      key: null,
      listingId: '1',
      before: null,
      beforeComplete: false,
      after: { prc_amt: 'x' },
    };
    const watched = watchedColumns(defaults);
    expect(learnedOf(event, undefined, watched)).toBeUndefined();
    expect(learnedOf({ ...event, listingId: null }, 'pg:1', watched)).toBeUndefined();
    expect(learnedOf({ ...event, op: 'truncate' }, 'pg:1', watched)).toBeUndefined();
    expect(learnedOf({ ...event, after: { ctgy_cd: 'HOME' } }, 'pg:1', watched)).toBeUndefined();
  });
});
