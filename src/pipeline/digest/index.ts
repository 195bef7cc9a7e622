/**
 * Digest: when a channel gets more changes than its pace can send within its budget, the overflow
 * becomes one message per window instead of N (issue 7). Pure: no I/O, no clock, no randomness; the
 * same input gives the same output, byte for byte.
 *
 * - the top-level message: a header ("Digest: 1,240 changes"), the channel and the commit-time window
 *   in config.timeZone, counts per rule, field and direction with median moves (tally.ts), the biggest
 *   moves by absolute percent (money fields; when no item has a money move with a percent, the first
 *   items in sort order instead), where the complete list is, and with interactivity on a "Mute this
 *   rule for 24 h" button per rule that sent it (menus.ts);
 * - the complete list, one row or line per item in the order entries.ts documents (numeric listing
 *   ids first, in numeric order): a CSV file (csv.ts) when `upload`, else thread replies paged within
 *   Slack's limits (slack.ts).
 *
 * Untrusted values are escaped for mrkdwn (mrkdwn.ts), and neutralised for spreadsheets in the CSV.
 */
import { formatInstant } from '../human.ts';
import { interactive } from '../menus.ts';
import { toMrkdwn, toPlain } from '../mrkdwn.ts';
import { csvFile, csvFilename } from './csv.ts';
import { type Entry, type EntryChange, entriesOf } from './entries.ts';
import { buildReplies, buildSummary } from './slack.ts';
import { tally } from './tally.ts';
import type { Digest, DigestInput } from './types.ts';
import { entryLine, formatCount, plural } from './words.ts';

export type { Digest, DigestInput, DigestItem } from './types.ts';

/** Lines shown under "Biggest moves". */
export const MOVES_SHOWN = 10;
/** One line of the complete list, escaped: long enough for a title and four changes. */
const LINE_MAX = 1000;

/**
 * The money changes with a percent, biggest absolute move first; ties keep the entries' sort order.
 * Sorting only the candidates is O(m log m); the entries are already sorted once.
 */
export function biggestMoves(entries: readonly Entry[], n: number): { entry: Entry; change: EntryChange }[] {
  const moves: { entry: Entry; change: EntryChange; size: bigint; order: number }[] = [];
  entries.forEach((entry, order) => {
    for (const change of entry.changes) {
      if (change.field?.kind !== 'money' || change.hundredths === null || change.hundredths === 0n) continue;
      const size = change.hundredths < 0n ? -change.hundredths : change.hundredths;
      moves.push({ entry, change, size, order });
    }
  });
  moves.sort((a, b) => (a.size > b.size ? -1 : a.size < b.size ? 1 : a.order - b.order));
  return moves.slice(0, n).map(({ entry, change }) => ({ entry, change }));
}

/** "2026-11-28 13:45:07 UTC to 2026-11-28 13:50:07 UTC", or "at …" for one instant. */
function windowOf(fromMs: number, toMs: number, timeZone: string): string {
  const [from, to] = fromMs <= toMs ? [fromMs, toMs] : [toMs, fromMs];
  const a = formatInstant(from, timeZone);
  const b = formatInstant(to, timeZone);
  return a === b ? `at ${a}` : `from ${a} to ${b}`;
}

export function buildDigest(input: DigestInput): Digest {
  const { config, channelKey, upload } = input;
  const { locale, timeZone } = config;
  const entries = entriesOf(input.items, config);
  const window = windowOf(input.fromMs, input.toMs, timeZone);

  let lines: string[] = [];
  if (!upload) {
    const withRules = new Set(input.items.flatMap((i) => i.rules)).size > 1;
    // Instants are shown to the second: one formatting per second, not per item.
    const instants = new Map<number, string>();
    const instant = (ms: number): string => {
      const second = Math.floor(ms / 1000);
      let text = instants.get(second);
      if (text === undefined) {
        text = formatInstant(ms, timeZone);
        instants.set(second, text);
      }
      return text;
    };
    lines = entries.map((entry) => {
      const ms = entry.item.event.source.tsMs;
      const when = ms === undefined ? 'time unknown' : instant(ms);
      return toMrkdwn(entryLine(entry, when, withRules), LINE_MAX);
    });
  }
  const replies = upload ? [] : buildReplies({ channelKey, lines, locale });

  const rules = tally(entries, channelKey, config);
  const payload = buildSummary({
    channelKey,
    count: entries.length,
    window,
    rules,
    moves: biggestMoves(entries, MOVES_SHOWN),
    firstEntries: entries.slice(0, MOVES_SHOWN),
    locale,
    upload,
    replyPages: replies.length,
    ...(interactive(config) ? { muteRules: rules.map((r) => r.rule) } : {}),
  });
  if (!upload) return { payload, replies };

  const count = `${formatCount(entries.length, locale)} ${plural(entries.length, 'change', 'changes')}`;
  const title = toPlain([{ text: `Digest for ${channelKey}: ${count} committed ${window}` }], 250);
  return { payload, file: csvFile(entries, csvFilename(channelKey, input.fromMs), title), replies: [] };
}
