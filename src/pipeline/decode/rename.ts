/**
 * One rules file for several sources: a topic's own column names mapped to the names the rules use
 * (source.columns in the rules file, e.g. the MariaDB table's `stk_qty` read as `prod_stk_qty`). The
 * rename happens once, right after decoding, so normalize, diff, filter, route and render only ever
 * see the rules' names. Pure.
 */
import type { Row } from '../../domain/change.ts';
import type { DecimalColumns } from './decimal.ts';

/** A topic's column -> the column name the rules use. Unlisted columns keep their names. */
export type ColumnMap = Readonly<Record<string, string>>;

/**
 * The row with its columns renamed. A mapped column takes its new name even where the row also has an
 * unmapped column of that name (the mapping is what the rules file asked for); order is kept.
 */
export function renameRow(row: Row | null, columns: ColumnMap): Row | null {
  if (row === null) return null;
  const out: Row = {};
  const targets = new Set(Object.values(columns));
  for (const [name, value] of Object.entries(row)) {
    if (Object.hasOwn(columns, name)) out[columns[name] as string] = value;
    // An unmapped column shadowed by a mapped one is left out, whichever comes first in the row.
    else if (!targets.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The configuration's NUMERIC columns (named as the rules name them) under the topic's own names, for
 * decode, which reads the record before the rename.
 */
export function decimalColumnsForSource(decimalColumns: DecimalColumns, columns: ColumnMap): DecimalColumns {
  const out: Record<string, number> = {};
  const targets = new Set(Object.values(columns));
  for (const [name, scale] of Object.entries(decimalColumns)) {
    if (!targets.has(name) && !Object.hasOwn(columns, name)) out[name] = scale;
  }
  for (const [source, target] of Object.entries(columns)) {
    const scale = decimalColumns[target];
    if (scale !== undefined) out[source] = scale;
  }
  return out;
}
