/**
 * The Connect schema JsonConverter writes at the head of every record with `schemas.enable=true`
 * (`{"schema":S,"payload":P}`), read once per distinct schema text. A topic's records repeat the same
 * few schemas and S is about two thirds of a listings record's bytes, so a record whose S was seen
 * before is matched by a byte compare and only P is parsed (decode/index.ts), and the noise fast path
 * (noise.ts) reads its row layout from the same entry. Bounded: the MAX_SCHEMAS most recently used.
 *
 * Also the byte scanning both need: where a JSON string, object or array that opens at an index ends.
 */

import { asConnectSchema, type ConnectSchema } from './connect-schema.ts';
import { parseJsonExact } from './json.ts';

export const QUOTE = 34;
export const BACKSLASH = 92;
export const LBRACE = 123;
export const RBRACE = 125;
export const LBRACKET = 91;
export const RBRACKET = 93;

export const SCHEMA_HEAD = Buffer.from('{"schema":');
export const PAYLOAD_MEMBER = Buffer.from(',"payload":');

/** `pattern` at `at` in `b` (a byte loop: short patterns, no native call). */
export function startsAt(b: Buffer, at: number, pattern: Buffer): boolean {
  if (at < 0 || at + pattern.length > b.length) return false;
  for (let i = 0; i < pattern.length; i += 1) if (b[at + i] !== pattern[i]) return false;
  return true;
}

/** The end (exclusive) of the string literal opening at `open`, or -1. */
export function stringEnd(b: Buffer, open: number): number {
  for (let q = b.indexOf(QUOTE, open + 1); q !== -1; q = b.indexOf(QUOTE, q + 1)) {
    let backslashes = 0;
    while (b[q - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return q + 1;
  }
  return -1;
}

/** The end (exclusive) of the object or array opening at `open`, or -1. */
export function nestedEnd(b: Buffer, open: number): number {
  let depth = 0;
  let i = open;
  while (i < b.length) {
    const c = b[i];
    if (c === QUOTE) {
      i = stringEnd(b, i);
      if (i < 0) return -1;
      continue;
    }
    if (c === LBRACE || c === LBRACKET) depth += 1;
    else if (c === RBRACE || c === RBRACKET) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
    i += 1;
  }
  return -1;
}

/** One schema text seen in records, and what it reads as. */
export interface RecordSchema {
  /** S's bytes as they sit in the record. */
  bytes: Buffer;
  /** The schema, deep-frozen (every record that carries it shares it), or the problem with it. */
  schema: ConnectSchema | string;
}

const recent: RecordSchema[] = [];
const MAX_SCHEMAS = 32;

/** A cached schema is shared by every record that carries it: nothing may change it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The schema at the head of `b`, and `end`, where S ends (`,"payload":` follows there): undefined when
 * `b` does not start `{"schema":` with an object S followed by `,"payload":`. S's end is found by
 * bracket matching, so a `,"payload":` inside S cannot cut it short.
 */
export function recordSchema(b: Buffer): { entry: RecordSchema; end: number } | undefined {
  if (!startsAt(b, 0, SCHEMA_HEAD)) return undefined;
  const at = SCHEMA_HEAD.length;
  for (let i = 0; i < recent.length; i += 1) {
    const entry = recent[i] as RecordSchema;
    const end = at + entry.bytes.length;
    if (
      end <= b.length &&
      b.compare(entry.bytes, 0, entry.bytes.length, at, end) === 0 &&
      startsAt(b, end, PAYLOAD_MEMBER)
    ) {
      if (i > 0) {
        recent.splice(i, 1);
        recent.unshift(entry);
      }
      return { entry, end };
    }
  }
  if (b[at] !== LBRACE) return undefined;
  const end = nestedEnd(b, at);
  if (end < 0 || !startsAt(b, end, PAYLOAD_MEMBER)) return undefined;
  let parsed: unknown;
  try {
    parsed = parseJsonExact(b.toString('utf8', at, end));
  } catch {
    return undefined;
  }
  const schema = asConnectSchema(parsed);
  const entry: RecordSchema = {
    // A copy: a view would keep the whole fetch response alive for as long as the entry.
    bytes: Buffer.from(b.subarray(at, end)),
    schema: typeof schema === 'string' ? schema : deepFreeze(schema),
  };
  recent.unshift(entry);
  if (recent.length > MAX_SCHEMAS) recent.pop();
  return { entry, end };
}
