/**
 * The chain the service relies on, end to end on the real stack: a price UPDATE in PostgreSQL
 * becomes a Debezium change event on `monolith.public.listings` whose before and after images carry
 * the old and the new price (decimal.handling.mode=precise: base64 unscaled bytes + schema scale).
 * https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-decimal-types
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectJson, connectPg, keyListingId, LISTINGS_TOPIC, openTopicReader } from '../support/stack.ts';

/** Kafka Connect Decimal: big-endian two's complement unscaled integer, base64 in JSON. */
function decodeConnectDecimal(base64: string, scale: number): string {
  const bytes = Buffer.from(base64, 'base64');
  let unscaled = 0n;
  for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0] ?? 0) & 0x80) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

interface FieldSchema {
  field: string;
  name?: string;
  parameters?: Record<string, string>;
  fields?: FieldSchema[];
}
interface Envelope {
  schema: FieldSchema;
  payload: { op: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null };
}

const LISTING_ID = 800_001; // outside the seed (1..1200) and the fixture capture (900001..)

describe('Postgres -> Debezium -> Kafka', () => {
  const stack = inject('stack');
  let db: pg.Client;

  beforeAll(async () => {
    db = await connectPg(stack.databaseUrl);
    await db.query('DELETE FROM public.listings WHERE lst_id = $1', [LISTING_ID]);
    await db.query(
      `INSERT INTO public.listings (lst_id, "LST_STAT_CD", lst_ttl, prc_amt, crncy_cd, prod_stk_qty)
       VALUES ($1, 'A', 'Chain test: Walnut Bookshelf', 149.90, 'EUR', 4)`,
      [LISTING_ID],
    );
  });

  afterAll(async () => {
    await db?.query('DELETE FROM public.listings WHERE lst_id = $1', [LISTING_ID]);
    await db?.end();
  });

  it('carries the old and the new price of an UPDATE in the before and after images', async () => {
    const reader = await openTopicReader({ brokers: stack.kafkaBrokers, topics: [LISTINGS_TOPIC] });
    try {
      // A negative price is nonsense for a shop but exercises the sign of the two's complement bytes.
      await db.query('UPDATE public.listings SET prc_amt = $2 WHERE lst_id = $1', [LISTING_ID, '-1234.05']);
      const record = await reader.waitFor(
        // The INSERT from beforeAll may still be in flight: wait for the update itself.
        (r) =>
          keyListingId(r) === String(LISTING_ID) &&
          (connectJson(r.value) as Envelope | null)?.payload.op === 'u',
        { timeoutMs: 60_000 },
      );
      const event = connectJson(record.value) as Envelope;

      const after = event.schema.fields?.find((f) => f.field === 'after');
      const price = after?.fields?.find((f) => f.field === 'prc_amt');
      expect(price?.name).toBe('org.apache.kafka.connect.data.Decimal');
      const scale = Number(price?.parameters?.scale);
      expect(scale).toBe(2);

      expect(decodeConnectDecimal(String(event.payload.before?.prc_amt), scale)).toBe('149.90');
      expect(decodeConnectDecimal(String(event.payload.after?.prc_amt), scale)).toBe('-1234.05');
      // Unchanged columns are in both images (REPLICA IDENTITY FULL).
      expect(event.payload.before?.lst_ttl).toBe('Chain test: Walnut Bookshelf');
      expect(event.payload.after?.lst_ttl).toBe('Chain test: Walnut Bookshelf');
    } finally {
      await reader.close();
    }
  });
});
