import { describe, expect, it } from 'vitest';
import type { Row } from '../../../src/domain/change.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { DebeziumEnvelope, Decoded } from '../../../src/pipeline/decode/index.ts';
import { keyHeaderId, listingIdOf, normalize } from '../../../src/pipeline/normalize.ts';

type EnvelopeDecoded = Extract<Decoded, { kind: 'envelope' }>;

const row = (overrides: Row = {}): Row => ({
  lst_id: 1,
  LST_STAT_CD: 'A',
  prc_amt: { type: 'decimal', value: '19.99' },
  description: 'Mesh back',
  ...overrides,
});

function makeDecoded(
  envelope: Partial<DebeziumEnvelope> = {},
  headers: Record<string, string> = {},
): EnvelopeDecoded {
  return {
    kind: 'envelope',
    envelope: {
      op: 'u',
      before: row(),
      after: row({ prc_amt: { type: 'decimal', value: '17.99' } }),
      source: {
        connector: 'postgresql',
        db: 'monolith',
        schema: 'public',
        table: 'listings',
        ts_ms: 1_795_873_507_123,
        snapshot: 'false',
      },
      tsMs: 1_795_873_507_456,
      key: { lst_id: 1 },
      ...envelope,
    },
    headers,
  };
}

describe('normalize', () => {
  it.each([
    ['c', 'create'],
    ['u', 'update'],
    ['d', 'delete'],
    ['r', 'read'],
    ['t', 'truncate'],
  ] as const)('op %s is %s', (op, expected) => {
    const after = op === 'd' || op === 't' ? null : row();
    const before = op === 'c' || op === 'r' || op === 't' ? null : row();
    expect(normalize(makeDecoded({ op, before, after })).op).toBe(expected);
  });

  it('an update keeps both images, the key, the id and the times', () => {
    const event = normalize(makeDecoded());
    expect(event).toEqual({
      op: 'update',
      source: {
        connector: 'postgresql',
        db: 'monolith',
        schema: 'public',
        table: 'listings',
        tsMs: 1_795_873_507_123,
        snapshot: false,
      },
      key: { lst_id: 1 },
      listingId: '1',
      before: row(),
      beforeComplete: true,
      after: row({ prc_amt: { type: 'decimal', value: '17.99' } }),
      tsMs: 1_795_873_507_456,
    });
  });

  it.each(['true', 'first', 'last', 'first_in_data_collection', 'incremental'])(
    'source.snapshot %s marks a snapshot',
    (snapshot) => {
      const event = normalize(makeDecoded({ op: 'r', before: null, source: { snapshot } }));
      expect(event.source.snapshot).toBe(true);
    },
  );

  it('a streamed change is not a snapshot', () => {
    expect(normalize(makeDecoded()).source.snapshot).toBe(false);
  });

  it('REPLICA IDENTITY DEFAULT: an absent before image is unknown, not guessed', () => {
    const event = normalize(makeDecoded({ before: null }));
    expect(event.before).toBeNull();
    expect(event.beforeComplete).toBe(false);
  });

  it('REPLICA IDENTITY DEFAULT: a before image holding only the key columns is unknown too', () => {
    const keyOnly = { lst_id: 1, LST_STAT_CD: null, prc_amt: null, description: null };
    const event = normalize(makeDecoded({ op: 'd', before: keyOnly, after: null }));
    expect(event.before).toBeNull();
    expect(event.beforeComplete).toBe(false);
    expect(event.listingId).toBe('1');
  });

  it('a create has no before image', () => {
    const event = normalize(makeDecoded({ op: 'c', before: null }));
    expect(event.before).toBeNull();
    expect(event.beforeComplete).toBe(false);
  });

  it('the unavailable placeholder survives normalization unchanged', () => {
    const event = normalize(makeDecoded({ after: row({ description: { type: 'unavailable' } }) }));
    expect(event.after?.description).toEqual({ type: 'unavailable' });
  });

  it('primary-key change: the delete names the new key, the create the old one', () => {
    const deleted = normalize(
      makeDecoded({ op: 'd', after: null }, { '__debezium.newkey': '{"lst_id":900003}' }),
    );
    expect(deleted.keyChange).toEqual({ role: 'old-key-deleted', otherKey: '900003' });
    const created = normalize(
      makeDecoded(
        { op: 'c', before: null, key: { lst_id: 900003 }, after: row({ lst_id: 900003 }) },
        { '__debezium.oldkey': '{"lst_id":900002}' },
      ),
    );
    expect(created.keyChange).toEqual({ role: 'new-key-created', otherKey: '900002' });
    expect(created.listingId).toBe('900003');
  });

  it('no key-change headers, no keyChange', () => {
    expect(normalize(makeDecoded())).not.toHaveProperty('keyChange');
  });

  it.each([
    ['an unknown op', { op: 'x' }, /unknown Debezium op "x"/],
    ['an update without an after image', { after: null }, /op "u" without an after image/],
    [
      'a create without an after image',
      { op: 'c', before: null, after: null },
      /op "c" without an after image/,
    ],
  ])('%s is NORMALIZE_FAILED', (_label, envelope, message) => {
    try {
      normalize(makeDecoded(envelope));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NotifierError);
      expect((error as NotifierError).code).toBe('NORMALIZE_FAILED');
      expect((error as NotifierError).message).toMatch(message);
    }
  });
});

describe('listingIdOf', () => {
  it.each<[Row | null, Row | null, string | null]>([
    [{ lst_id: 42 }, null, '42'],
    [{ lst_id: { type: 'decimal', value: '9007199254740993' } }, null, '9007199254740993'],
    [{ tenant: 'eu', id: 7 }, null, '7'],
    [{ tenant: 'eu', sku: 'X1' }, null, 'eu,X1'],
    [null, { lst_id: 5, title: 't' }, '5'],
    [null, { title: 't' }, null],
    [{ code: 'ABC' }, null, 'ABC'],
  ])('key %j row %j -> %s', (key, rowValue, expected) => {
    expect(listingIdOf(key, rowValue)).toBe(expected);
  });
});

describe('keyHeaderId', () => {
  it.each([
    ['{"lst_id":900003}', '900003'],
    ['{"schema":{"type":"struct"},"payload":{"lst_id":900003}}', '900003'],
    ['{"lst_id":9007199254740993}', '9007199254740993'],
    ['Struct{lst_id=900003}', '900003'],
    ['{"tenant":"eu","id":4}', '4'],
    ['900003', '900003'],
    ['"abc"', 'abc'],
    ['something else', 'something else'],
    ['', null],
  ])('%s -> %s', (header, expected) => {
    expect(keyHeaderId(header)).toBe(expected);
  });
});
