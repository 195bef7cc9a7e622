/** Reading column values (after decode/normalize) as text, codes and labels; shared by filter and human. */
import type { FieldConfig } from '../config/index.ts';
import type { ColumnValue } from '../domain/change.ts';

/** Debezium's TOAST placeholder: the column is unchanged and its value was not sent. */
export const isUnavailable = (v: ColumnValue | undefined): boolean =>
  v !== null && typeof v === 'object' && v.type === 'unavailable';

/** A text form of a column value for codes and text; null when it has none. */
export function textOf(value: ColumnValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  switch (value.type) {
    case 'decimal':
      return value.value;
    case 'timestamp':
    case 'date':
    case 'time':
      return value.iso;
    case 'json':
      return JSON.stringify(value.value) ?? null;
    case 'bytes':
      return value.base64;
    case 'unavailable':
      return null;
  }
}

/** CHAR(n) columns arrive space-padded; codes compare without the padding. */
export const codeOf = (value: ColumnValue | undefined): string | null => textOf(value)?.trim() ?? null;

/** The field's label, else its key with a capital first letter ("price" -> "Price"). */
export const labelOf = (key: string, field: FieldConfig): string =>
  field.label ?? `${key.charAt(0).toUpperCase()}${key.slice(1)}`;
