/**
 * The real SchemaRegistryPort: @kafkajs/confluent-schema-registry against any Confluent-compatible
 * registry (Confluent Schema Registry, or Apicurio Registry's /apis/ccompat/v7). It decodes the
 * Confluent wire format (Avro, JSON Schema, Protobuf), serves the raw writer schema so that decode can
 * read Kafka Connect's logical-type annotations, and classifies failures into the error codes that
 * decide retry vs dead-letter (src/domain/errors.ts).
 */
import { Agent } from 'node:https';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { NotifierError } from '../domain/errors.ts';
import type { RegistrySchema, SchemaRegistryPort } from '../ports/index.ts';

export interface SchemaRegistryOptions {
  /** Base URL, e.g. http://127.0.0.1:8081 or http://127.0.0.1:8081/apis/ccompat/v7 (Apicurio). */
  host: string;
  /** Basic auth, when the registry needs it. Default: none. */
  auth?: { username: string; password: string };
  /** PEM CA bundle trusted for an https host (a private CA). Default: Node's built-in public CAs. */
  ca?: string[];
  /**
   * HTTP retries inside one call before it fails with REGISTRY_UNAVAILABLE (the pipeline retries
   * the record later anyway). Default 2.
   */
  retries?: number;
}

/**
 * Avro longs: a number when a double holds them exactly, else a bigint. avsc's default long throws
 * above 2^53 ("potential precision loss"), and Debezium's source.ts_ns and NanoTimestamp are there.
 * avsc hands fromBuffer the 8-byte little-endian two's complement value.
 */
const exactLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): number | bigint => {
    const n = buf.readBigInt64LE();
    const small = Number(n);
    return Number.isSafeInteger(small) ? small : n;
  },
  toBuffer: (n: number | bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number | string): number | bigint => (typeof n === 'string' ? BigInt(n) : n),
  toJSON: (n: number | bigint): number | string => (typeof n === 'bigint' ? n.toString() : n),
  isValid: (n: unknown): boolean => typeof n === 'bigint' || Number.isInteger(n),
  compare: (a: number | bigint, b: number | bigint): number => (a < b ? -1 : a > b ? 1 : 0),
});

const longHook = (schema: unknown): avro.Type | undefined =>
  schema === 'long' ||
  (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long')
    ? exactLong
    : undefined;

interface SchemaResponse {
  schema: string;
  schemaType?: string;
}

/** The registry client's HTTP layer (private in its typings; we reuse it for the raw schema text). */
interface ApiClient {
  Schema: { find(args: { id: number }): Promise<{ data(): SchemaResponse }> };
  Subject: { all(): Promise<{ data(): unknown }> };
}

export interface SchemaRegistryClient extends SchemaRegistryPort {
  /**
   * One authenticated request (GET /subjects) at startup, so that an unreachable registry, an
   * untrusted certificate or refused credentials stop the service at once instead of surfacing as
   * retried records. Throws REGISTRY_UNAVAILABLE or REGISTRY_AUTH.
   */
  check(): Promise<void>;
}

export function createSchemaRegistry(options: SchemaRegistryOptions): SchemaRegistryClient {
  const registry = new SchemaRegistry(
    {
      host: options.host.replace(/\/+$/, ''),
      ...(options.auth === undefined ? {} : { auth: options.auth }),
      retry: { retries: options.retries ?? 2, maxRetryTimeInSecs: 2 },
      // mappersmith's HTTP gateway takes a node agent; keep-alive as the client's default would.
      ...(options.ca === undefined ? {} : { agent: new Agent({ ca: options.ca, keepAlive: true }) }),
    },
    { [SchemaType.AVRO]: { typeHook: longHook } },
  );
  const api = (registry as unknown as { api: ApiClient }).api;
  const rawSchemas = new Map<number, Promise<RegistrySchema>>();

  return {
    async check(): Promise<void> {
      try {
        await api.Subject.all();
      } catch (error) {
        const coded = classify(error, undefined, options.host);
        if (coded.code === 'REGISTRY_AUTH') throw coded;
        throw new NotifierError(
          'REGISTRY_UNAVAILABLE',
          `schema registry at ${redactUrl(options.host)} is not usable: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error, details: coded.details },
        );
      }
    },

    async decode(buffer: Buffer): Promise<unknown> {
      try {
        return await registry.decode(buffer);
      } catch (error) {
        throw classify(error, buffer.length >= 5 ? buffer.readUInt32BE(1) : undefined, options.host);
      }
    },

    rawSchema(id: number): Promise<RegistrySchema> {
      let pending = rawSchemas.get(id);
      if (pending === undefined) {
        pending = api.Schema.find({ id }).then(
          (response) => {
            const data = response.data();
            return { type: schemaTypeOf(data.schemaType), schema: data.schema };
          },
          (error: unknown) => {
            // Do not cache failures: the next record asks again.
            rawSchemas.delete(id);
            throw classify(error, id, options.host);
          },
        );
        rawSchemas.set(id, pending);
      }
      return pending;
    },
  };
}

/** Confluent omits schemaType for Avro (the original and default type). */
function schemaTypeOf(type: string | undefined): RegistrySchema['type'] {
  const upper = (type ?? 'AVRO').toUpperCase();
  return upper === 'JSON' || upper === 'PROTOBUF' ? upper : 'AVRO';
}

/**
 * Registry failures -> error codes. HTTP status comes from the client's ResponseError; mappersmith
 * reports connection failures (refused, reset, timeout) as status 400 with the socket error as text,
 * so 400 counts as unavailable too. Anything without a status failed while decoding the bytes.
 */
export function classify(error: unknown, schemaId: number | undefined, host: string): NotifierError {
  if (error instanceof NotifierError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const status =
    typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  const details = { schemaId, registry: redactUrl(host), status };
  if (typeof status !== 'number') {
    return new NotifierError(
      'DECODE_FAILED',
      `schema registry decoding failed (schema id ${schemaId}): ${message}`,
      {
        cause: error,
        details,
      },
    );
  }
  if (status === 404) {
    return new NotifierError(
      'SCHEMA_NOT_FOUND',
      `schema id ${schemaId} is not in the registry at ${details.registry}`,
      {
        cause: error,
        details,
      },
    );
  }
  if (status === 401 || status === 403) {
    return new NotifierError(
      'REGISTRY_AUTH',
      `the schema registry at ${details.registry} refused the credentials (HTTP ${status})`,
      {
        cause: error,
        details,
      },
    );
  }
  return new NotifierError(
    'REGISTRY_UNAVAILABLE',
    `schema registry at ${details.registry} unavailable (HTTP ${status}): ${message}`,
    {
      cause: error,
      details,
    },
  );
}

/** The registry URL without user:password, for messages and logs. */
function redactUrl(host: string): string {
  try {
    const url = new URL(host);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid registry URL)';
  }
}
