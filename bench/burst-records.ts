/**
 * Debezium envelopes for bench/burst.ts, made from records the real connector wrote
 * (test/fixtures/debezium/update-price and update-status: JsonConverter with schemas, REPLICA
 * IDENTITY FULL, Decimal as precise bytes). Per listing only the id, the price (100.00 -> 85.00, or
 * 100.00 -> 70.00 for variant 'b'), the times and the description (cut to 600 characters, a usual
 * product text; the fixture's is 9 kB) differ. The key is the connector's key, so Kafka's key
 * partitioning spreads them as Debezium's would.
 */
import { readFileSync } from 'node:fs';

export interface BenchRecord {
  key: string;
  value: string;
  unpublish: boolean;
}

interface Envelope {
  schema: unknown;
  payload: {
    before: Record<string, unknown>;
    after: Record<string, unknown>;
    source: Record<string, unknown>;
    ts_ms: number;
    ts_us?: number;
    ts_ns?: number;
  };
}

const fixture = (name: string, file: string): Envelope =>
  JSON.parse(
    readFileSync(new URL(`../test/fixtures/debezium/${name}/${file}`, import.meta.url), 'utf8'),
  ) as Envelope;

/** Kafka Connect Decimal (precise): the unscaled value as big-endian two's complement, base64. */
const decimalBytes = (cents: number): string => {
  let hex = cents.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return Buffer.from(hex, 'hex').toString('base64');
};

/** A template with markers, so each record is a few string replacements and not a JSON.stringify. */
function template(name: string, set: (p: Envelope['payload']) => void): string {
  const envelope = fixture(name, '01.value.json');
  const p = envelope.payload;
  for (const row of [p.before, p.after]) {
    row.lst_id = -111;
    row.description = String(row.description).slice(0, 600);
  }
  set(p);
  p.source.ts_ms = -222;
  p.ts_ms = -222;
  delete p.source.ts_us;
  delete p.source.ts_ns;
  delete p.ts_us;
  delete p.ts_ns;
  return JSON.stringify(envelope);
}

const keyTemplate = JSON.stringify({ ...fixture('update-price', '01.key.json'), payload: { lst_id: -111 } });

const fill = (t: string, id: number, now: number): string =>
  t.replaceAll('-111', String(id)).replaceAll('-222', String(now));

/** Batches of 100 (a produce request stays under the broker's 1 MB message limit): `rows` price changes from `firstId`, then one unpublish of listing firstId + rows. */
export function* envelopes(firstId: number, rows: number, variant: 'a' | 'b'): Generator<BenchRecord[]> {
  const price = template('update-price', (p) => {
    p.before.prc_amt = decimalBytes(10_000);
    p.after.prc_amt = decimalBytes(variant === 'a' ? 8_500 : 7_000);
  });
  const unpublish = template('update-status', (p) => {
    p.before.LST_STAT_CD = 'A';
    p.after.LST_STAT_CD = 'U';
  });
  for (let from = 0; from < rows; from += 100) {
    const now = Date.now();
    const batch: BenchRecord[] = [];
    for (let i = from; i < Math.min(rows, from + 100); i += 1) {
      const id = firstId + i;
      batch.push({ key: fill(keyTemplate, id, now), value: fill(price, id, now), unpublish: false });
    }
    yield batch;
  }
  const id = firstId + rows;
  yield [{ key: fill(keyTemplate, id, Date.now()), value: fill(unpublish, id, Date.now()), unpublish: true }];
}
