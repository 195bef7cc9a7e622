/**
 * An Avro schema written by Kafka Connect's AvroData (Confluent's AvroConverter, or Apicurio's fork of
 * it) -> the Connect schema it came from, so that Avro values are converted by the same code as JSON.
 * AvroData keeps the Connect facts in extra attributes: `connect.name` (the logical type),
 * `connect.parameters` (e.g. Decimal's scale), `connect.type` (int8/int16 stored as Avro int),
 * `connect.version`; optional fields are ["null", T] unions. Plain Avro logical types (decimal,
 * date, time-*, timestamp-*) are mapped too, for schemas not written by Connect.
 */
import type { ConnectSchema, ConnectType } from './connect-schema.ts';

const PRIMITIVES: Record<string, ConnectType> = {
  boolean: 'boolean',
  int: 'int32',
  long: 'int64',
  float: 'float',
  double: 'double',
  bytes: 'bytes',
  string: 'string',
};

const AVRO_LOGICAL: Record<string, string> = {
  date: 'org.apache.kafka.connect.data.Date',
  'time-millis': 'org.apache.kafka.connect.data.Time',
  'time-micros': 'io.debezium.time.MicroTime',
  'timestamp-millis': 'org.apache.kafka.connect.data.Timestamp',
  'timestamp-micros': 'io.debezium.time.MicroTimestamp',
  'timestamp-nanos': 'io.debezium.time.NanoTimestamp',
  decimal: 'org.apache.kafka.connect.data.Decimal',
};

type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

export class AvroSchemaError extends Error {
  override name = 'AvroSchemaError';
}

/** The Connect schema for a parsed Avro schema (the registry's `schema` text, JSON-parsed). */
export function connectSchemaFromAvro(avro: unknown): ConnectSchema {
  return new Converter().convert(avro as AvroSchema, '', 'schema');
}

class Converter {
  private readonly named = new Map<string, ConnectSchema>();

  convert(avro: AvroSchema, namespace: string, path: string): ConnectSchema {
    if (typeof avro === 'string') return this.reference(avro, namespace, path);
    if (Array.isArray(avro)) return this.union(avro, namespace, path);
    if (typeof avro !== 'object' || avro === null) throw new AvroSchemaError(`${path}: not an Avro schema`);
    const type = avro.type;
    let schema: ConnectSchema;
    let ns = namespace;
    if (typeof type === 'string' && type in PRIMITIVES) {
      schema = { type: PRIMITIVES[type] as ConnectType };
      const connectType = avro['connect.type'];
      if (type === 'int' && (connectType === 'int8' || connectType === 'int16')) schema.type = connectType;
    } else if (type === 'record' || type === 'error') {
      const fullname = this.fullname(avro, namespace, path);
      ns = fullname.includes('.') ? fullname.slice(0, fullname.lastIndexOf('.')) : '';
      schema = { type: 'struct', name: fullname, fields: [] };
      // Register before the fields: a record may refer to itself.
      this.named.set(fullname, schema);
      const fields = Array.isArray(avro.fields) ? (avro.fields as Array<Record<string, unknown>>) : [];
      for (const [i, f] of fields.entries()) {
        const name = String(f.name);
        const fieldSchema = this.convert(f.type as AvroSchema, ns, `${path}.fields[${i}]`);
        schema.fields?.push({ ...fieldSchema, field: name });
      }
    } else if (type === 'enum') {
      schema = { type: 'string', name: this.fullname(avro, namespace, path) };
      this.named.set(schema.name as string, schema);
    } else if (type === 'fixed') {
      schema = { type: 'bytes', name: this.fullname(avro, namespace, path) };
      this.named.set(schema.name as string, schema);
    } else if (type === 'array') {
      schema = { type: 'array', items: this.convert(avro.items as AvroSchema, ns, `${path}.items`) };
    } else if (type === 'map') {
      schema = {
        type: 'map',
        keys: { type: 'string' },
        values: this.convert(avro.values as AvroSchema, ns, `${path}.values`),
      };
    } else if (typeof type === 'object' && type !== null) {
      // {"type": {"type": "record", …}} or {"type": ["null", …]}: a nested schema.
      schema = { ...this.convert(type as AvroSchema, namespace, path) };
    } else if (typeof type === 'string') {
      schema = { ...this.reference(type, namespace, path) };
    } else {
      throw new AvroSchemaError(`${path}.type: unsupported Avro type ${JSON.stringify(type)}`);
    }
    this.applyConnectAttributes(schema, avro);
    return schema;
  }

  private applyConnectAttributes(schema: ConnectSchema, avro: Record<string, unknown>): void {
    const connectName = avro['connect.name'];
    const logical = typeof avro.logicalType === 'string' ? AVRO_LOGICAL[avro.logicalType] : undefined;
    if (typeof connectName === 'string') schema.name = connectName;
    else if (logical !== undefined) schema.name = logical;
    const parameters = avro['connect.parameters'];
    if (typeof parameters === 'object' && parameters !== null) {
      schema.parameters = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, String(v)]));
    }
    if (schema.name === 'org.apache.kafka.connect.data.Decimal' && schema.parameters?.scale === undefined) {
      // A plain Avro decimal: the scale is an attribute of the schema (default 0 per the Avro spec).
      schema.parameters = { ...schema.parameters, scale: String(avro.scale ?? 0) };
    }
    if (typeof avro['connect.version'] === 'number') schema.version = avro['connect.version'];
  }

  private union(branches: AvroSchema[], namespace: string, path: string): ConnectSchema {
    const nonNull = branches.filter((b) => b !== 'null');
    const only = nonNull[0];
    if (nonNull.length !== 1 || only === undefined) {
      // Connect writes only ["null", T]; a general union has no Connect counterpart here.
      throw new AvroSchemaError(`${path}: unions other than ["null", T] are not supported`);
    }
    return { ...this.convert(only, namespace, path), optional: nonNull.length < branches.length };
  }

  private reference(name: string, namespace: string, path: string): ConnectSchema {
    const primitive = PRIMITIVES[name];
    if (primitive !== undefined) return { type: primitive };
    const found =
      this.named.get(name) ?? (namespace === '' ? undefined : this.named.get(`${namespace}.${name}`));
    if (found === undefined)
      throw new AvroSchemaError(`${path}: unknown Avro type name ${JSON.stringify(name)}`);
    return found;
  }

  private fullname(avro: Record<string, unknown>, namespace: string, path: string): string {
    const name = avro.name;
    if (typeof name !== 'string' || name === '')
      throw new AvroSchemaError(`${path}.name: a named type needs a name`);
    if (name.includes('.')) return name;
    const ns = typeof avro.namespace === 'string' ? avro.namespace : namespace;
    return ns === '' ? name : `${ns}.${name}`;
  }
}
