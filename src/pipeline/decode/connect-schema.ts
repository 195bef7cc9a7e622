/**
 * The Kafka Connect schema as JsonConverter writes it with `schemas.enable=true`
 * (org.apache.kafka.connect.json.JsonConverter#asJsonSchema): every converter path (JSON, Avro via the
 * registry) is turned into this one shape so that logical types are converted in one place.
 */
export interface ConnectSchema {
  type: ConnectType;
  optional?: boolean;
  /** Logical or record name: "org.apache.kafka.connect.data.Decimal", "io.debezium.time.MicroTimestamp", … */
  name?: string;
  version?: number;
  /** Connect schema parameters, all strings: Decimal's { scale: "2", "connect.decimal.precision": "10" }. */
  parameters?: Record<string, string>;
  /** Set on a struct's fields: the field name. */
  field?: string;
  fields?: ConnectSchema[];
  items?: ConnectSchema;
  keys?: ConnectSchema;
  values?: ConnectSchema;
}

/**
 * JsonConverter spells FLOAT32/FLOAT64 "float"/"double" (JsonSchema.FLOAT_TYPE_NAME, DOUBLE_TYPE_NAME);
 * Connect's own names float32/float64 are accepted too.
 */
export type ConnectType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float'
  | 'double'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'map'
  | 'struct';

const TYPES = new Set<string>([
  'int8',
  'int16',
  'int32',
  'int64',
  'float',
  'double',
  'float32',
  'float64',
  'boolean',
  'string',
  'bytes',
  'array',
  'map',
  'struct',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the shape of a schema read from a record (untrusted input) and returns it typed, or a
 * message naming the path of the first problem.
 */
export function asConnectSchema(value: unknown, path = 'schema'): ConnectSchema | string {
  if (!isObject(value)) return `${path}: expected a Connect schema object, got ${JSON.stringify(value)}`;
  if (typeof value.type !== 'string' || !TYPES.has(value.type)) {
    return `${path}.type: expected a Connect type, got ${JSON.stringify(value.type)}`;
  }
  if (value.type === 'struct') {
    if (!Array.isArray(value.fields))
      return `${path}.fields: expected an array, got ${JSON.stringify(value.fields)}`;
    for (const [i, f] of value.fields.entries()) {
      const problem = asConnectSchema(f, `${path}.fields[${i}]`);
      if (typeof problem === 'string') return problem;
      if (typeof problem.field !== 'string') return `${path}.fields[${i}].field: expected a field name`;
    }
  }
  for (const child of ['items', 'keys', 'values'] as const) {
    if (value[child] !== undefined) {
      const problem = asConnectSchema(value[child], `${path}.${child}`);
      if (typeof problem === 'string') return problem;
    }
  }
  return value as unknown as ConnectSchema;
}

/** Frozen schemas (decode/index.ts caches them) get their fields by name once, not a scan per record. */
const fieldsByName = new WeakMap<ConnectSchema, Map<string, ConnectSchema>>();

/** The field named `name` of a struct schema. */
export function fieldOf(schema: ConnectSchema | undefined, name: string): ConnectSchema | undefined {
  if (schema?.fields === undefined) return undefined;
  if (!Object.isFrozen(schema)) return schema.fields.find((f) => f.field === name);
  let byName = fieldsByName.get(schema);
  if (byName === undefined) {
    byName = new Map();
    // The first of a name wins, like find.
    for (const f of schema.fields) if (f.field !== undefined && !byName.has(f.field)) byName.set(f.field, f);
    fieldsByName.set(schema, byName);
  }
  return byName.get(name);
}
