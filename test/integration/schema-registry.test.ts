/**
 * The Avro path against a real Confluent-compatible registry: Apicurio Registry's /apis/ccompat/v7,
 * started by scripts/registry.sh (or SCHEMA_REGISTRY_URL when set). The listings envelope schema is the
 * one Debezium's AvroConverter registers (Kafka Connect AvroData: connect.name, connect.parameters with
 * the Decimal scale, ["null", T] unions, Value referenced by name in `after`).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../src/adapters/schema-registry.ts';
import type { NotifierError } from '../../src/domain/errors.ts';
import { decodeRecord } from '../../src/pipeline/decode/index.ts';
import { diff } from '../../src/pipeline/diff.ts';
import { normalize } from '../../src/pipeline/normalize.ts';
import {
  bigintLongTypeHook,
  listingsAvroSchema,
  listingsKeyAvroSchema,
  makeAvroEnvelope,
  makeAvroRow,
} from '../support/avro.ts';
import { decimalBase64, makeRecord } from '../support/records.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const registryScript = (command: 'up' | 'down') =>
  spawnSync('bash', ['scripts/registry.sh', command], { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 });

let host = process.env.SCHEMA_REGISTRY_URL ?? '';
let startedHere = false;

beforeAll(() => {
  if (host !== '') return;
  const wasUp = spawnSync('bash', ['scripts/registry.sh', 'status'], { cwd: repoRoot }).status === 0;
  const up = registryScript('up');
  if (up.status !== 0) {
    throw new Error(`scripts/registry.sh up failed (exit ${up.status}):\n${up.stdout}\n${up.stderr}`);
  }
  startedHere = !wasUp;
  host = spawnSync('bash', ['scripts/registry.sh', 'url'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
});

afterAll(() => {
  // Leave a registry someone else started alone; stop ours (it holds ~300 MB).
  if (startedHere) registryScript('down');
});

// A per-run subject, so reruns against a long-lived registry do not trip compatibility checks.
const run = `it${process.pid}x${Date.now().toString(36)}`;
const price = (decimal: string) => Buffer.from(decimalBase64(decimal, 2), 'base64');

async function registerListings() {
  // The producer side: a registry client whose Avro longs are bigint, like Connect's Java longs.
  const producer = new SchemaRegistry({ host }, { [SchemaType.AVRO]: { typeHook: bigintLongTypeHook } });
  const { id: valueId } = await producer.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(listingsAvroSchema) },
    { subject: `${run}.public.listings-value` },
  );
  const { id: keyId } = await producer.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(listingsKeyAvroSchema) },
    { subject: `${run}.public.listings-key` },
  );
  return { producer, valueId, keyId };
}

describe('Avro through a real schema registry (Apicurio ccompat)', () => {
  it('decodes a Debezium update: exact decimals, before/after, key, ts_ns beyond 2^53', async () => {
    const { producer, valueId, keyId } = await registerListings();
    const envelope = makeAvroEnvelope({
      before: makeAvroRow({ lst_id: 900_001n, prc_amt: price('249.00'), description: 'x'.repeat(9000) }),
      after: makeAvroRow({
        lst_id: 900_001n,
        prc_amt: price('199.99'),
        description: '__debezium_unavailable_value',
      }),
    });
    const record = makeRecord({
      topic: `${run}.public.listings`,
      key: await producer.encode(keyId, { lst_id: 900_001n }),
      value: await producer.encode(valueId, envelope),
    });
    expect(record.value?.[0]).toBe(0); // Confluent wire format: magic byte 0 + schema id

    const decoded = await decodeRecord(record, { registry: createSchemaRegistry({ host }) });
    if (decoded.kind !== 'envelope') throw new Error(`expected an envelope, got ${decoded.kind}`);
    expect(decoded.envelope.op).toBe('u');
    expect(decoded.envelope.before?.prc_amt).toEqual({ type: 'decimal', value: '249' });
    expect(decoded.envelope.after?.prc_amt).toEqual({ type: 'decimal', value: '199.99' });
    expect(decoded.envelope.after?.upd_ts).toEqual({ type: 'timestamp', iso: '2026-11-22T13:45:07.123456Z' });
    expect(decoded.envelope.key).toEqual({ lst_id: 900_001 });
    expect(decoded.envelope.source.ts_ns).toBe('1795873507123456000');

    const event = normalize(decoded);
    expect(event.listingId).toBe('900001');
    expect(event.beforeComplete).toBe(true);
    // The TOASTed description is unavailable in the after image: not a change.
    expect(diff(event)).toEqual([
      {
        column: 'prc_amt',
        before: { type: 'decimal', value: '249' },
        after: { type: 'decimal', value: '199.99' },
        beforeUnknown: false,
      },
    ]);
  });

  it('an id the registry does not know is SCHEMA_NOT_FOUND (dead-letter)', async () => {
    const value = Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 0x02]);
    const error = (await decodeRecord(makeRecord({ value }), {
      registry: createSchemaRegistry({ host }),
    }).catch((e: unknown) => e)) as NotifierError;
    expect(error.code).toBe('SCHEMA_NOT_FOUND');
    expect(error.disposition).toBe('dead-letter');
  });

  it('a registry that does not answer is REGISTRY_UNAVAILABLE (retry)', async () => {
    const { producer, valueId } = await registerListings();
    const value = await producer.encode(valueId, makeAvroEnvelope());
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const unreachable = createSchemaRegistry({ host: 'http://127.0.0.1:9/apis/ccompat/v7', retries: 0 });
    const error = (await decodeRecord(makeRecord({ keyPayload: null, value }), {
      registry: unreachable,
    }).catch((e: unknown) => e)) as NotifierError;
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.disposition).toBe('retry');
  });
});
