/**
 * diff: the columns a change touched, with both sides (pure).
 * - update: columns whose after value differs from the before value (structural equality on tagged
 *   values, so 19.99 = 19.99 whatever its encoding); when the before image is unknown (REPLICA
 *   IDENTITY DEFAULT) every non-key column of the after image is listed with beforeUnknown, since
 *   nothing says it did not change; key columns (which cannot change in an update: Debezium turns a
 *   key change into delete + create) are left out.
 * - create / read: every non-null column of the new row, before null (the row did not exist).
 * - delete: every non-null column of the old row, after null; nothing when the old row is unknown.
 * - truncate: nothing.
 * An `unavailable` after value (unchanged TOAST column) is never a change.
 */
import type { ChangeEvent, ColumnValue, FieldChange, Row } from '../domain/change.ts';

export function diff(event: ChangeEvent): FieldChange[] {
  switch (event.op) {
    case 'truncate':
      return [];
    case 'create':
    case 'read':
      return appeared(event.after);
    case 'delete':
      return event.beforeComplete ? disappeared(event.before) : [];
    case 'update':
      return updated(event);
  }
}

const isUnavailable = (v: ColumnValue | undefined): boolean =>
  typeof v === 'object' && v !== null && v.type === 'unavailable';

function appeared(after: Row | null): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [column, value] of Object.entries(after ?? {})) {
    if (value === null || isUnavailable(value)) continue;
    changes.push({ column, before: null, after: value, beforeUnknown: false });
  }
  return changes;
}

function disappeared(before: Row | null): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [column, value] of Object.entries(before ?? {})) {
    if (value === null || isUnavailable(value)) continue;
    changes.push({ column, before: value, after: null, beforeUnknown: false });
  }
  return changes;
}

function updated(event: ChangeEvent): FieldChange[] {
  const changes: FieldChange[] = [];
  const before = event.beforeComplete ? event.before : null;
  const after = event.after ?? {};
  for (const column of Object.keys(after)) {
    const value = after[column] as ColumnValue;
    if (isUnavailable(value)) continue;
    const previous = before?.[column];
    if (previous === undefined || isUnavailable(previous)) {
      // Unknown before value: a key column is known from the key itself and did not change.
      const keyValue = event.key?.[column];
      if (keyValue !== undefined && equalValues(keyValue, value)) continue;
      changes.push({ column, before: undefined, after: value, beforeUnknown: true });
    } else if (!equalValues(previous, value)) {
      changes.push({ column, before: previous, after: value, beforeUnknown: false });
    }
  }
  return changes;
}

/**
 * Structural equality of column values (tagged objects and parsed JSON compared by content).
 * Iterative, with an explicit stack: a jsonb column may nest 10,000 levels deep (PostgreSQL accepts
 * that), and a recursive walk overflowed the call stack on it (issue 19, finding 1).
 */
export function equalValues(a: unknown, b: unknown): boolean {
  // Scalars (most columns) answer without the stack: it is per column of every record (issue 16).
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  // Tagged values ({ type: 'decimal', value }) are flat: compared without the stack too.
  const flat = flatEqual(a, b);
  if (flat !== undefined) return flat;
  // Pairs still to compare, flat: [x0, y0, x1, y1, ...].
  const pending: unknown[] = [a, b];
  while (pending.length > 0) {
    const y = pending.pop();
    const x = pending.pop();
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      return false;
    }
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i += 1) pending.push(x[i], y[i]);
      continue;
    }
    const rx = x as Record<string, unknown>;
    const ry = y as Record<string, unknown>;
    const kx = Object.keys(rx);
    if (kx.length !== Object.keys(ry).length) return false;
    for (const k of kx) {
      if (!Object.hasOwn(ry, k)) return false;
      pending.push(rx[k], ry[k]);
    }
  }
  return true;
}

/** Two objects whose values are all scalars, compared; undefined when either nests (equalValues walks it). */
function flatEqual(x: object, y: object): boolean | undefined {
  if (Array.isArray(x) || Array.isArray(y)) return undefined;
  const rx = x as Record<string, unknown>;
  const ry = y as Record<string, unknown>;
  const kx = Object.keys(rx);
  if (kx.length !== Object.keys(ry).length) return false;
  for (const k of kx) {
    if (!Object.hasOwn(ry, k)) return false;
    const vx = rx[k];
    const vy = ry[k];
    if (vx === vy) continue;
    if ((typeof vx === 'object' && vx !== null) || (typeof vy === 'object' && vy !== null)) return undefined;
    if (typeof vx === 'number' && typeof vy === 'number' && Number.isNaN(vx) && Number.isNaN(vy)) continue;
    return false;
  }
  return true;
}
