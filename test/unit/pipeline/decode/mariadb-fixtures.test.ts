/**
 * Every captured MariaDB fixture (test/fixtures/debezium-mariadb/<case>/: real bytes from Debezium's
 * MariaDB connector + JsonConverter, scripts/capture-fixtures.ts --mariadb) through decode -> normalize
 * -> diff, and every MySQL-family type the table holds, as decode converts it. The table must name
 * every case on disk, so a new capture cannot go untested.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, ColumnValue } from '../../../../src/domain/change.ts';
import { type DecodeDeps, decodeRecord } from '../../../../src/pipeline/decode/index.ts';
import { diff } from '../../../../src/pipeline/diff.ts';
import { normalize } from '../../../../src/pipeline/normalize.ts';
import { fixtureCases, loadFixture, MARIADB_FIXTURES_DIR } from '../../../support/records.ts';

const decimal = (value: string): ColumnValue => ({ type: 'decimal', value });
const timestamp = (iso: string): ColumnValue => ({ type: 'timestamp', iso });
const time = (iso: string): ColumnValue => ({ type: 'time', iso });
const date = (iso: string): ColumnValue => ({ type: 'date', iso });

const allColumns = [
  'lst_id',
  'lst_stat_cd',
  'lst_ttl',
  'description',
  'prc_amt',
  'crncy_cd',
  'stk_qty',
  'ctgy_cd',
  'upd_dt',
  'crt_ts',
  'avail_dt',
  'pickup_tm',
  'model_yr',
  'audit_usr_id',
  'sync_flg',
  'etl_batch_id',
  'ship_flags',
  'tags',
  'weight_kg',
  'checksum_bin',
  'attrs_json',
];
/** Columns the seed-like partner row 900002 leaves NULL (so a create or delete does not list them). */
const nullInOther = new Set(['avail_dt', 'pickup_tm', 'model_yr', 'weight_kg', 'checksum_bin', 'attrs_json']);
const otherColumns = allColumns.filter((c) => !nullInOther.has(c));

type Expected =
  | { kind: 'tombstone' }
  | {
      kind: 'envelope';
      op: ChangeEvent['op'];
      listingId: string;
      snapshot?: boolean;
      beforeComplete: boolean;
      keyChange?: ChangeEvent['keyChange'];
      changed: string[];
      values?: Record<string, ColumnValue>;
    };

const update = (changed: string[], values: Record<string, ColumnValue> = {}): Expected => ({
  kind: 'envelope',
  op: 'update',
  listingId: '900001',
  beforeComplete: true,
  changed,
  values,
});
/** The one UPDATE the variant connectors saw, with what each setting makes of it. */
const variantChange = ['prc_amt', 'upd_dt', 'pickup_tm', 'etl_batch_id'];
const variantValues = {
  'before.prc_amt': decimal('199.99'),
  'after.prc_amt': decimal('1234567.89'),
  'after.pickup_tm': time('09:15:00.000'),
};

const expectations: Record<string, Expected[]> = {
  insert: [
    {
      kind: 'envelope',
      op: 'create',
      listingId: '900001',
      beforeComplete: false,
      changed: allColumns,
      values: { 'after.prc_amt': decimal('249'), 'after.lst_stat_cd': 'A', 'after.stk_qty': 12 },
    },
  ],
  'update-price': [
    update(['prc_amt'], { 'before.prc_amt': decimal('249'), 'after.prc_amt': decimal('199.99') }),
  ],
  'update-status': [update(['lst_stat_cd'], { 'before.lst_stat_cd': 'A', 'after.lst_stat_cd': 'S' })],
  'update-stock': [update(['stk_qty'], { 'before.stk_qty': 12, 'after.stk_qty': 0 })],
  'update-title': [
    update(['lst_ttl'], {
      'after.lst_ttl': '<!channel> & <b>Chair</b> *SALE* <https://evil.example|click here> <@U123ABC>',
    }),
  ],
  'update-description': [update(['description'])],
  'update-updated-at-only': [
    update(['upd_dt'], {
      'before.upd_dt': timestamp('2026-01-05T09:00:00.250Z'),
      'after.upd_dt': timestamp('2026-01-06T10:30:00.123456Z'),
    }),
  ],
  'update-internal-only': [
    update(['audit_usr_id', 'sync_flg', 'etl_batch_id', 'ship_flags', 'tags', 'checksum_bin', 'attrs_json'], {
      'before.sync_flg': false,
      'after.sync_flg': true,
      'before.ship_flags': '1000000101',
      'after.ship_flags': '0000000011',
      'before.tags': 'new,eco',
      'after.tags': 'sale,bundle',
      'after.checksum_bin': { type: 'bytes', base64: '3q2+7w==' },
      'after.attrs_json': '{"warehouse": "AMS", "aisle": 12}',
    }),
  ],
  'update-temporal-extremes': [
    update(['crt_ts', 'avail_dt', 'pickup_tm', 'model_yr'], {
      'before.pickup_tm': time('14:30:15.000'),
      'after.pickup_tm': time('-838:59:59.000'),
      'after.avail_dt': date('1000-01-01'),
      'after.model_yr': 1901,
      'after.crt_ts': timestamp('2038-01-19T03:14:07.000Z'),
    }),
  ],
  'update-time-over-a-day': [update(['pickup_tm'], { 'after.pickup_tm': time('838:59:59.000') })],
  'decimal-precise': [
    update(variantChange, {
      ...variantValues,
      'after.upd_dt': timestamp('2026-01-07T11:45:30.654321Z'),
      // bigint.unsigned.handling.mode=long: 2^64 - 2 does not fit a signed long and wraps (Debezium's documented behaviour).
      'after.etl_batch_id': -2,
    }),
  ],
  'decimal-string': [update(variantChange, variantValues)],
  'decimal-double': [update(variantChange, variantValues)],
  'time-connect': [
    update(variantChange, {
      ...variantValues,
      // Kafka Connect's Timestamp is milliseconds: the microseconds are gone.
      'after.upd_dt': timestamp('2026-01-07T11:45:30.654Z'),
      'after.avail_dt': date('1000-01-01'),
      // A TIME outside one day (838:59:59) has no Kafka Connect Time: Debezium sends null.
      'before.pickup_tm': null,
    }),
  ],
  'bigint-precise': [
    update(variantChange, {
      ...variantValues,
      'after.lst_id': decimal('900001'),
      'after.etl_batch_id': decimal('18446744073709551614'),
    }),
  ],
  'source-types': [
    update(variantChange, {
      ...variantValues,
      // The schema says BIGINT UNSIGNED (column.propagate.source.type): the wrapped -2 is read back.
      'after.etl_batch_id': decimal('18446744073709551614'),
      'before.etl_batch_id': 2026010602,
      'after.lst_id': 900001,
    }),
  ],
  'snapshot-read': [
    {
      kind: 'envelope',
      op: 'read',
      listingId: '900001',
      snapshot: true,
      beforeComplete: false,
      changed: allColumns,
    },
    {
      kind: 'envelope',
      op: 'read',
      listingId: '900002',
      snapshot: true,
      beforeComplete: false,
      changed: otherColumns,
    },
  ],
  'primary-key-change': [
    {
      kind: 'envelope',
      op: 'delete',
      listingId: '900002',
      beforeComplete: true,
      keyChange: { role: 'old-key-deleted', otherKey: '900003' },
      changed: otherColumns,
    },
    { kind: 'tombstone' },
    {
      kind: 'envelope',
      op: 'create',
      listingId: '900003',
      beforeComplete: false,
      keyChange: { role: 'new-key-created', otherKey: '900002' },
      changed: otherColumns,
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
      values: { 'before.prc_amt': decimal('1234567.89') },
    },
    { kind: 'tombstone' },
  ],
};

const deps: DecodeDeps = { decimalColumns: { prc_amt: 2 } };

describe('captured MariaDB fixtures', () => {
  it('the table covers exactly the cases on disk', () => {
    expect(fixtureCases(MARIADB_FIXTURES_DIR)).toEqual(Object.keys(expectations).sort());
  });

  describe.each(Object.entries(expectations))('%s', (name, expected) => {
    it('decodes, normalizes and diffs as expected', async () => {
      const { records, meta } = loadFixture(name, MARIADB_FIXTURES_DIR);
      expect(records).toHaveLength(expected.length);
      for (const [i, record] of records.entries()) {
        const want = expected[i] as Expected;
        const decoded = await decodeRecord(record, deps);
        expect(decoded.kind, `record ${i}`).toBe(want.kind);
        if (decoded.kind !== 'envelope' || want.kind !== 'envelope') continue;
        expect(decoded.envelope.source.connector).toBe('mariadb');
        const event = normalize(decoded);
        expect(event.op).toBe(want.op);
        expect(event.listingId).toBe(want.listingId);
        expect(event.source.snapshot).toBe(want.snapshot ?? false);
        expect(event.source).toMatchObject({ db: 'monolith', table: 'listings' });
        expect(typeof event.source.tsMs).toBe('number');
        expect(event.beforeComplete).toBe(want.beforeComplete);
        expect(event.keyChange).toEqual(want.keyChange);
        expect(
          diff(event).map((c) => c.column),
          `${name} (${meta.description})`,
        ).toEqual(want.changed);
        for (const [path, value] of Object.entries(want.values ?? {})) {
          const [side, column] = path.split('.') as ['before' | 'after', string];
          expect(event[side]?.[column], path).toEqual(value);
        }
      }
    });
  });
});

describe('every MySQL-family type in the captured insert, as decode converts it', () => {
  // [column, its MySQL type, the Connect schema Debezium sent, the converted value]
  const types: [string, string, string, ColumnValue][] = [
    ['lst_id', 'BIGINT UNSIGNED', 'int64', 900001],
    ['lst_stat_cd', "ENUM('A','U','D','S')", 'string io.debezium.data.Enum', 'A'],
    ['lst_ttl', 'VARCHAR(200)', 'string', 'Ergonomic Office Chair, Mesh Back'],
    [
      'description',
      'TEXT',
      'string',
      'Mesh back, adjustable lumbar support, 4D armrests.\nShips within 2 working days.',
    ],
    ['prc_amt', 'DECIMAL(12,2)', 'bytes org.apache.kafka.connect.data.Decimal', decimal('249')],
    ['crncy_cd', 'CHAR(3)', 'string', 'EUR'],
    ['stk_qty', 'INT', 'int32', 12],
    ['ctgy_cd', 'VARCHAR(12)', 'string', 'HOME'],
    ['upd_dt', 'DATETIME(6)', 'int64 io.debezium.time.MicroTimestamp', timestamp('2026-01-05T09:00:00.250Z')],
    ['crt_ts', 'TIMESTAMP', 'string io.debezium.time.ZonedTimestamp', timestamp('2026-01-05T09:00:00.000Z')],
    ['avail_dt', 'DATE', 'int32 io.debezium.time.Date', date('2026-02-01')],
    ['pickup_tm', 'TIME', 'int64 io.debezium.time.MicroTime', time('14:30:15.000')],
    ['model_yr', 'YEAR', 'int32 io.debezium.time.Year', 2024],
    ['audit_usr_id', 'INT', 'int32', 1001],
    ['sync_flg', 'TINYINT(1)', 'boolean', false],
    // 2^64 - 1 in long mode: wraps to -1 (use bigint.unsigned.handling.mode=precise past 2^63 - 1).
    ['etl_batch_id', 'BIGINT UNSIGNED', 'int64', -1],
    ['ship_flags', 'BIT(10)', 'bytes io.debezium.data.Bits', '1000000101'],
    ['tags', "SET('new','sale','eco','bundle')", 'string io.debezium.data.EnumSet', 'new,eco'],
    ['weight_kg', 'DOUBLE', 'double', 12.5],
    ['checksum_bin', 'VARBINARY(16)', 'bytes', { type: 'bytes', base64: 'AP8QoA==' }],
    // MariaDB's JSON is LONGTEXT with a check: Debezium sends plain text, not io.debezium.data.Json.
    [
      'attrs_json',
      'JSON (MariaDB: LONGTEXT)',
      'string',
      '{"warehouse": "BER", "aisle": 7, "fragile": true, "dims_cm": [60, 60, 110]}',
    ],
  ];

  it('lists every column of the table', () => {
    expect(types.map(([column]) => column)).toEqual(allColumns);
  });

  it.each(types)('%s %s (%s)', async (column, _mysql, connect, value) => {
    const record = loadFixture('insert', MARIADB_FIXTURES_DIR).records[0];
    if (!record?.value) throw new Error('insert fixture missing');
    const schema = JSON.parse(record.value.toString()).schema.fields[1].fields.find(
      (f: { field: string }) => f.field === column,
    );
    expect([schema.type, schema.name].filter(Boolean).join(' ')).toBe(connect);
    const decoded = await decodeRecord(record, deps);
    if (decoded.kind !== 'envelope') throw new Error(decoded.kind);
    expect(decoded.envelope.after?.[column]).toEqual(value);
  });
});
