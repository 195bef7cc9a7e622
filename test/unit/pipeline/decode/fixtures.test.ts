/**
 * Every captured fixture (test/fixtures/debezium/<case>/, real bytes from Debezium 3.4 + JsonConverter)
 * through decode -> normalize -> diff. The table must name every case on disk, so a new capture
 * cannot go untested.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, ColumnValue, FieldChange } from '../../../../src/domain/change.ts';
import type { SourceRecord } from '../../../../src/domain/record.ts';
import { type DecodeDeps, decodeRecord } from '../../../../src/pipeline/decode/index.ts';
import { diff } from '../../../../src/pipeline/diff.ts';
import { normalize } from '../../../../src/pipeline/normalize.ts';
import { fixtureCases, loadFixture } from '../../../support/records.ts';

const decimal = (value: string): ColumnValue => ({ type: 'decimal', value });

type Expected =
  | { kind: 'tombstone' }
  | {
      kind: 'envelope';
      op: ChangeEvent['op'];
      listingId: string;
      snapshot?: boolean;
      beforeComplete: boolean;
      keyChange?: ChangeEvent['keyChange'];
      /** Columns diff reports, in order; a trailing "?" marks beforeUnknown. */
      changed: string[];
      /** Some values to check exactly: "before.prc_amt", "after.description", … */
      values?: Record<string, ColumnValue | ((v: ColumnValue | undefined) => boolean)>;
    };

const allColumns = [
  'lst_id',
  'LST_STAT_CD',
  'lst_ttl',
  'description',
  'prc_amt',
  'crncy_cd',
  'prod_stk_qty',
  'ctgy_cd',
  'upd_ts',
  'audit_usr_id',
  'sync_flg',
  'etl_batch_id',
  'srch_vec',
];
const isLongText = (v: ColumnValue | undefined): boolean => typeof v === 'string' && v.length > 8000;
const priceUpdate: Expected = {
  kind: 'envelope',
  op: 'update',
  listingId: '900001',
  beforeComplete: true,
  changed: ['prc_amt'],
  values: { 'before.prc_amt': decimal('199.99'), 'after.prc_amt': decimal('1234567.89') },
};

/** What each case decodes to with the configuration's NUMERIC columns ({ prc_amt: 2 }). */
const expectations: Record<string, Expected[]> = {
  insert: [
    {
      kind: 'envelope',
      op: 'create',
      listingId: '900001',
      beforeComplete: false,
      changed: allColumns,
      values: {
        'after.prc_amt': decimal('249'),
        'after.LST_STAT_CD': 'A',
        'after.prod_stk_qty': 12,
        'after.upd_ts': { type: 'timestamp', iso: '2026-01-05T09:00:00.000Z' },
        'after.description': isLongText,
      },
    },
  ],
  'update-price': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: true,
      changed: ['prc_amt'],
      values: { 'before.prc_amt': decimal('249'), 'after.prc_amt': decimal('199.99') },
    },
  ],
  'update-status': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: true,
      changed: ['LST_STAT_CD'],
      values: { 'before.LST_STAT_CD': 'A', 'after.LST_STAT_CD': 'S' },
    },
  ],
  'update-stock': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: true,
      changed: ['prod_stk_qty'],
      values: { 'before.prod_stk_qty': 12, 'after.prod_stk_qty': 0 },
    },
  ],
  'update-title': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: true,
      changed: ['lst_ttl'],
      // Kept exactly as the database has it: escaping for mrkdwn is the renderer's job.
      values: {
        'after.lst_ttl': '<!channel> & <b>Chair</b> *SALE* <https://evil.example|click here> <@U123ABC>',
      },
    },
  ],
  'update-description': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: true,
      changed: ['description'],
      values: { 'before.description': isLongText, 'after.description': isLongText },
    },
  ],
  'update-updated-at-only': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: true,
      changed: ['upd_ts'],
      values: {
        'before.upd_ts': { type: 'timestamp', iso: '2026-01-05T09:00:00.000Z' },
        'after.upd_ts': { type: 'timestamp', iso: '2026-01-06T10:30:00.123456Z' },
      },
    },
  ],
  'update-no-op': [
    { kind: 'envelope', op: 'update', listingId: '900001', beforeComplete: true, changed: [] },
  ],
  'update-internal-only': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: true,
      changed: ['audit_usr_id', 'sync_flg', 'etl_batch_id', 'srch_vec'],
    },
  ],
  'decimal-precise': [priceUpdate],
  'decimal-string': [priceUpdate],
  'decimal-double': [priceUpdate],
  'schemas-disabled': [priceUpdate],
  'snapshot-read': [
    {
      kind: 'envelope',
      op: 'read',
      listingId: '900001',
      snapshot: true,
      beforeComplete: false,
      changed: allColumns,
      values: { 'after.prc_amt': decimal('1234567.89') },
    },
    {
      kind: 'envelope',
      op: 'read',
      listingId: '900002',
      snapshot: true,
      beforeComplete: false,
      changed: allColumns.filter((c) => c !== 'srch_vec'),
      values: { 'after.prc_amt': decimal('899'), 'after.crncy_cd': 'GBP' },
    },
  ],
  'replica-identity-default': [
    {
      kind: 'envelope',
      op: 'update',
      listingId: '900001',
      beforeComplete: false,
      // Previous values unknown: every non-key column, except the unavailable (TOASTed) description.
      changed: allColumns.filter((c) => c !== 'lst_id' && c !== 'description').map((c) => `${c}?`),
      values: { 'after.description': { type: 'unavailable' }, 'after.prc_amt': decimal('1099') },
    },
  ],
  'primary-key-change': [
    {
      kind: 'envelope',
      op: 'delete',
      listingId: '900002',
      beforeComplete: true,
      keyChange: { role: 'old-key-deleted', otherKey: '900003' },
      changed: allColumns.filter((c) => c !== 'srch_vec'),
    },
    { kind: 'tombstone' },
    {
      kind: 'envelope',
      op: 'create',
      listingId: '900003',
      beforeComplete: false,
      keyChange: { role: 'new-key-created', otherKey: '900002' },
      changed: allColumns.filter((c) => c !== 'srch_vec'),
      values: { 'after.lst_id': 900003, 'after.prc_amt': decimal('899') },
    },
  ],
  delete: [
    {
      kind: 'envelope',
      op: 'delete',
      listingId: '900001',
      beforeComplete: true,
      changed: allColumns,
      values: { 'before.prc_amt': decimal('1099') },
    },
    { kind: 'tombstone' },
  ],
};

const deps: DecodeDeps = { decimalColumns: { prc_amt: 2 } };

const label = (change: FieldChange): string => `${change.column}${change.beforeUnknown ? '?' : ''}`;

describe('captured Debezium fixtures', () => {
  it('the table covers exactly the cases on disk', () => {
    expect(fixtureCases()).toEqual(Object.keys(expectations).sort());
  });

  describe.each(Object.entries(expectations))('%s', (name, expected) => {
    it('decodes, normalizes and diffs as expected', async () => {
      const { records } = loadFixture(name);
      expect(records).toHaveLength(expected.length);
      for (const [i, record] of records.entries()) {
        const want = expected[i] as Expected;
        const decoded = await decodeRecord(record, deps);
        expect(decoded.kind, `record ${i}`).toBe(want.kind);
        if (decoded.kind !== 'envelope' || want.kind !== 'envelope') continue;
        const event = normalize(decoded);
        expect(event.op).toBe(want.op);
        expect(event.listingId).toBe(want.listingId);
        expect(event.source.snapshot).toBe(want.snapshot ?? false);
        expect(event.source.table).toBe('listings');
        expect(typeof event.source.tsMs).toBe('number');
        expect(event.beforeComplete).toBe(want.beforeComplete);
        expect(event.keyChange).toEqual(want.keyChange);
        expect(diff(event).map(label)).toEqual(want.changed);
        for (const [path, check] of Object.entries(want.values ?? {})) {
          const [side, column] = path.split('.') as ['before' | 'after', string];
          const actual = event[side]?.[column];
          if (typeof check === 'function') expect(check(actual), path).toBe(true);
          else expect(actual, path).toEqual(check);
        }
      }
    });
  });
});

describe("decimal handling modes without the configuration's NUMERIC columns", () => {
  const priceOf = async (name: string) => {
    const decoded = await decodeRecord(loadFixture(name).records[0] as SourceRecord, {});
    if (decoded.kind !== 'envelope') throw new Error(name);
    return decoded.envelope.after?.prc_amt;
  };

  it('precise: exact from the Decimal schema alone', async () => {
    expect(await priceOf('decimal-precise')).toEqual(decimal('1234567.89'));
  });

  it('string: the text as Debezium sent it (nothing in the record says it is a number)', async () => {
    expect(await priceOf('decimal-string')).toBe('1234567.89');
  });

  it('double: a float, formatted later with the configured scale', async () => {
    expect(await priceOf('decimal-double')).toBe(1234567.89);
  });

  it('schemaless precise: the base64 text (the scale is not in the message)', async () => {
    expect(await priceOf('schemas-disabled')).toBe('B1vNFQ==');
  });
});
