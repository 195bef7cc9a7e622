/**
 * Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the Avro / JSON Schema /
 * Protobuf body (https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format).
 * The registry port does the decoding; this module recognises the framing and turns what comes back
 * into a Connect schema + value for the shared converters.
 */
import { NotifierError } from '../../domain/errors.ts';
import type { RegistrySchema, SchemaRegistryPort } from '../../ports/index.ts';
import { AvroSchemaError, connectSchemaFromAvro } from './avro-schema.ts';
import type { ConnectSchema } from './connect-schema.ts';

export const MAGIC_BYTE = 0;

/**
 * A buffer is Confluent-framed when it starts with the magic byte and has room for the schema id.
 * JSON text never starts with a zero byte, so this cannot mistake a JSON record for a framed one.
 */
export const isConfluentFramed = (bytes: Buffer): boolean => bytes.length >= 5 && bytes[0] === MAGIC_BYTE;

export const schemaIdOf = (bytes: Buffer): number => bytes.readUInt32BE(1);

export interface FramedValue {
  value: unknown;
  /** The writer schema as Connect sees it, when the registry could tell us (Avro). */
  schema: ConnectSchema | undefined;
  schemaId: number;
}

/** Decodes a framed key or value through the registry; `part` is "key" or "value" for messages. */
export async function decodeFramed(
  bytes: Buffer,
  registry: SchemaRegistryPort | undefined,
  part: 'key' | 'value',
): Promise<FramedValue> {
  const schemaId = schemaIdOf(bytes);
  if (registry === undefined) {
    throw new NotifierError(
      'DECODE_FAILED',
      `record ${part} is in the Confluent wire format (magic byte 0, schema id ${schemaId}) but no schema registry is configured`,
      { details: { part, schemaId } },
    );
  }
  const value = await call(() => registry.decode(bytes), part, schemaId);
  const rawSchema = registry.rawSchema?.bind(registry);
  const raw = rawSchema === undefined ? undefined : await call(() => rawSchema(schemaId), part, schemaId);
  return { value, schema: raw === undefined ? undefined : connectSchemaOf(raw, part, schemaId), schemaId };
}

function connectSchemaOf(raw: RegistrySchema, part: string, schemaId: number): ConnectSchema | undefined {
  // JSON Schema and Protobuf carry Connect's names differently; their values are converted schemaless.
  if (raw.type !== 'AVRO') return undefined;
  try {
    return connectSchemaFromAvro(JSON.parse(raw.schema));
  } catch (error) {
    const reason =
      error instanceof AvroSchemaError || error instanceof SyntaxError ? error.message : String(error);
    throw new NotifierError(
      'DECODE_FAILED',
      `record ${part}: Avro schema ${schemaId} cannot be read: ${reason}`,
      {
        cause: error,
        details: { part, schemaId },
      },
    );
  }
}

/**
 * Errors from the port: a NotifierError (the real adapter classifies registry failures) passes
 * through; anything else is a decoding failure of this record, dead-lettered rather than retried
 * forever.
 */
async function call<T>(fn: () => Promise<T>, part: string, schemaId: number): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof NotifierError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new NotifierError(
      'DECODE_FAILED',
      `record ${part} (schema id ${schemaId}) could not be decoded: ${reason}`,
      {
        cause: error,
        details: { part, schemaId },
      },
    );
  }
}
