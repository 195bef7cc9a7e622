/**
 * Values only the MySQL family (Debezium's MySQL and MariaDB connectors) sends, see
 * https://debezium.io/documentation/reference/stable/connectors/mariadb.html#mariadb-data-types
 * Every other MySQL type arrives as a type decode already knows: Enum and EnumSet as strings, YEAR as
 * an int32 (io.debezium.time.Year), TINYINT(1) as int16 (or boolean with TinyIntOneToBooleanConverter),
 * MariaDB's JSON (a LONGTEXT alias) as plain text, DATETIME as (Micro)Timestamp, TIMESTAMP as
 * ZonedTimestamp, DATE as Date, BIGINT UNSIGNED as int64 or (precise) a Decimal of scale 0.
 */

/**
 * io.debezium.data.Bits (BIT(n), n > 1): the bytes of java.util.BitSet#toByteArray, little-endian
 * (bit i is bit i % 8 of byte i / 8), with the column's width in the schema's `length` parameter.
 * -> the bits most significant first, `length` digits, as MySQL writes a b'…' literal: "1000000101".
 * Without a usable length, as many digits as the bytes hold.
 */
export function bitsFromBytes(bytes: Uint8Array, length: number | undefined): string {
  const width = length !== undefined && Number.isInteger(length) && length > 0 ? length : bytes.length * 8;
  let out = '';
  for (let i = width - 1; i >= 0; i--) {
    const byte = bytes[i >> 3] ?? 0;
    out += (byte >> (i & 7)) & 1 ? '1' : '0';
  }
  return out;
}

const TWO_TO_64 = 1n << 64n;

/**
 * bigint.unsigned.handling.mode=long puts BIGINT UNSIGNED into a signed int64: values of 2^63 and more
 * arrive negative (2^64 - 1 as -1). When the schema names the source type
 * (column.propagate.source.type / datatype.propagate.source.type: "BIGINT UNSIGNED"), the stored value
 * is the int64 plus 2^64. undefined when nothing says the column is unsigned or the value is not negative.
 */
export function unsignedBigint(n: bigint, sourceType: string | undefined): bigint | undefined {
  if (n >= 0n || sourceType === undefined || !/^BIGINT\b.*\bUNSIGNED\b/i.test(sourceType)) return undefined;
  return n + TWO_TO_64;
}
