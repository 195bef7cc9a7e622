/**
 * Digest items as the delivery side builds them: an event through significance and route(), keeping
 * the route to one channel. Listing ids and titles are per item; rows come from test/support/events.ts.
 */
import type { Config } from '../../../../src/config/index.ts';
import type { ChangeEvent, Row } from '../../../../src/domain/change.ts';
import type { SlackBlock } from '../../../../src/domain/message.ts';
import { diff } from '../../../../src/pipeline/diff.ts';
import type { DigestItem } from '../../../../src/pipeline/digest/index.ts';
import { significance } from '../../../../src/pipeline/filter.ts';
import { route } from '../../../../src/pipeline/route.ts';
import { dec, makeUpdate, SOURCE_TS_MS } from '../../../support/events.ts';

/** The item for `channelKey`, or throws when the event sends nothing there. */
export function itemFor(event: ChangeEvent, channelKey: string, config: Config): DigestItem {
  const verdict = significance(event, diff(event), config);
  if (!verdict.significant) throw new Error(`not significant: ${verdict.reason}`);
  const r = route(event, verdict.signals, config).routes.find((x) => x.channelKey === channelKey);
  if (r === undefined) throw new Error(`nothing routed to ${channelKey}`);
  return { event, signals: r.signals, rules: r.rules };
}

/** An update of listing `id` (title `title`) from `before` to `after` columns. */
export function update(id: number | string, after: Row, before: Row = {}, title?: string): ChangeEvent {
  const t: Row = title === undefined ? {} : { lst_ttl: title };
  return makeUpdate(
    { ...after, ...t },
    { lst_id: id, ...before, ...t },
    {
      listingId: String(id),
      key: { lst_id: id },
      source: { tsMs: SOURCE_TS_MS + (typeof id === 'number' ? id : 0) },
    },
  );
}

/** A price change of listing `id` from `before` to `after` (decimal strings), routed to sales-alerts. */
export function priceItem(
  config: Config,
  id: number | string,
  before: string,
  after: string,
  title?: string,
): DigestItem {
  return itemFor(
    update(id, { prc_amt: dec(after) }, { prc_amt: dec(before) }, title),
    'sales-alerts',
    config,
  );
}

/** A section block's mrkdwn text; throws for any other block. */
export function sectionText(block: SlackBlock | undefined): string {
  const text = block?.type === 'section' ? (block.text as { text?: unknown } | undefined)?.text : undefined;
  if (typeof text !== 'string') throw new Error(`expected a section with text, got ${JSON.stringify(block)}`);
  return text;
}
