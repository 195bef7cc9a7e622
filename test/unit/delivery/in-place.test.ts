/**
 * Update in place (config delivery.updates, rules[].update; issue 17): in a channel that asks for it, a
 * listing's next message edits its earlier one (chat.update) with what it said before struck through;
 * other channels and other listings post as before; a message Slack no longer knows is posted anew;
 * the window ends the edits; chat.update passes its own gate.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { createMemoryAnchors } from '../../../src/delivery/anchors.ts';
import {
  decideUpdate,
  decodeRef,
  editGone,
  encodeRef,
  NET_MAX_CHARS,
  withLine,
} from '../../../src/delivery/lane/in-place.ts';
import { createDeliveryScheduler, floodOff, wantsInPlace } from '../../../src/delivery/scheduler.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { earlier, editedPayload, MAX_EDIT_LINES, summaryLine } from '../../../src/pipeline/edit.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { unpaced } from '../../support/delivery.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { createFakeChat, type FakeChat, slackErrors } from '../../support/fake-chat.ts';
import { createManualClock, type ManualClock } from '../../support/fakes.ts';

const configOf = (rules: string[]) => parseConfig(['rules:', ...rules].join('\n'), 'in-place-test');
const twoChannels = configOf([
  '  - { name: price moved, match: { field: price }, channels: [sales-alerts, marketing-updates] }',
]);

const price = (id: number, before: string, after: string): ChangeEvent =>
  makeUpdate(
    { prc_amt: dec(after) },
    { prc_amt: dec(before) },
    { listingId: String(id), key: { lst_id: id } },
  );
const stock = (id: number, before: number, after: number): ChangeEvent =>
  makeUpdate(
    { prod_stk_qty: after },
    { prod_stk_qty: before },
    { listingId: String(id), key: { lst_id: id } },
  );

function setup(opts: {
  config?: ReturnType<typeof configOf>;
  channels?: string[];
  chat?: (clock: ManualClock) => FakeChat;
  pace?: { cap: number; intervalMs: number; burst: number };
  modes?: Map<string, 'in-place' | 'new'>;
}) {
  const clock = createManualClock(0);
  const chat = opts.chat?.(clock) ?? createFakeChat({ clock, edits: true });
  const config = opts.config ?? twoChannels;
  const modes = opts.modes ?? new Map<string, 'in-place' | 'new'>();
  const scheduler = createDeliveryScheduler({
    destination: chat,
    composer: createComposer(() => config),
    flood: floodOff,
    clock,
    ...unpaced,
    anchors: createMemoryAnchors(clock),
    updates: {
      channels: opts.channels ?? ['sales-alerts'],
      windowMs: 7_200_000,
      pace: opts.pace ?? { cap: 100, intervalMs: 1, burst: 100 },
      modes: () => modes,
    },
  });
  const send = async (event: ChangeEvent) => {
    const outcome = decide(event, config);
    if (outcome.kind !== 'notify') throw new Error(outcome.reason);
    const signal = new AbortController().signal;
    return Promise.all(outcome.messages.map((m) => scheduler.submit(m, outcome.event, signal).fate));
  };
  return { clock, chat, send, scheduler };
}

const textOf = (blocks: unknown): string => JSON.stringify(blocks);
/** #sales-alerts' calls: posts name it, edits its id (chat.update takes ids: the fake answers `CSALESALERTS`). */
const salesOf = (calls: FakeChat['calls']) =>
  calls.filter((c) => c.channel === '#sales-alerts' || c.channel === 'CSALESALERTS');
const salesOnly = configOf(['  - { name: price moved, match: { field: price }, channels: sales-alerts }']);

describe('update in place', () => {
  it("edits the listing's message in a listed channel, with what it said struck through", async () => {
    const { chat, send, clock } = setup({});
    await send(price(1, '100.00', '90.00'));
    await send(price(2, '100.00', '80.00'));
    await clock.advance(20 * 60_000);
    const fates = await send(price(1, '90.00', '70.00'));
    expect(fates.every((f) => f.kind === 'delivered')).toBe(true);

    const sales = salesOf(chat.delivered());
    expect(sales.map((c) => c.edited)).toEqual([undefined, undefined, sales[0]?.ts]);
    const edit = textOf(sales[2]?.payload.blocks);
    expect(edit).toContain('~Price changed from $100.00 to $90.00 (-10%)~ · 20 min earlier');
    // The net change since the message was posted (first before -> last after), not the last step.
    expect(edit).toContain('"Price changed from $100.00 to $70.00 (-30%)"');
    expect(sales[2]?.payload.text).toContain('(edited; before:');
    // A channel not listed: a message each, as before.
    const marketing = chat.delivered('#marketing-updates');
    expect(marketing.map((c) => c.edited)).toEqual([undefined, undefined, undefined]);
    // Another listing is its own message; the edit names listing 1's.
    expect(sales[1]?.payload.text).toContain('#2');
  });

  it('edits a stock "low" message when the listing recovers', async () => {
    const config = configOf([
      '  - { name: stock, match: { field: stock, condition: [low, recovered] }, channels: inventory-warnings, update: in-place }',
    ]);
    const { chat, send, clock } = setup({
      config,
      channels: [],
      modes: new Map([['stock', 'in-place']]),
    });
    await send(stock(7, 10, 3));
    await clock.advance(3_600_000); // an hour later
    await send(stock(7, 3, 20));
    const calls = chat.delivered();
    expect(calls).toHaveLength(2);
    expect(calls[1]?.edited).toBe(calls[0]?.ts);
    const edit = textOf(calls[1]?.payload.blocks);
    expect(edit).toMatch(/~Stock is low[^~]*~ · 1 h earlier/);
    expect(edit).toContain('"Stock recovered: 20');
  });

  it('keeps netting: a third change edits to first before -> last after, two versions struck', async () => {
    const { chat, send, clock } = setup({ config: salesOnly });
    await send(price(1, '100.00', '90.00'));
    await clock.advance(60_000);
    await send(price(1, '90.00', '80.00'));
    await clock.advance(60_000);
    await send(price(1, '80.00', '95.00'));
    const [first, second, third] = chat.delivered();
    expect([second?.edited, third?.edited]).toEqual([first?.ts, first?.ts]);
    const edit = textOf(third?.payload.blocks);
    expect(edit).toContain('"Price changed from $100.00 to $95.00 (-5%)"');
    expect(edit).toContain(
      '~Price changed from $100.00 to $90.00 (-10%)~ · 2 min earlier\\n~Price changed from $100.00 to $80.00 (-20%)~ · 1 min earlier',
    );
  });

  it('a change back to where the message started shows the newest change, the earlier one struck', async () => {
    const { chat, send } = setup({ config: salesOnly });
    await send(price(1, '100.00', '90.00'));
    await send(price(1, '90.00', '100.00'));
    const edit = textOf(chat.delivered()[1]?.payload.blocks);
    expect(edit).toContain('"Price changed from $90.00 to $100.00');
    expect(edit).toContain('~Price changed from $100.00 to $90.00 (-10%)~ · just before');
  });

  it('a rule that says new posts even in a listed channel', async () => {
    const { chat, send } = setup({ modes: new Map([['price moved', 'new']]) });
    await send(price(1, '100.00', '90.00'));
    await send(price(1, '90.00', '80.00'));
    expect(salesOf(chat.delivered()).map((c) => c.edited)).toEqual([undefined, undefined]);
  });

  it('posts anew when Slack no longer knows the message, and edits the new one next', async () => {
    const { chat, send } = setup({ config: salesOnly });
    chat.failOn(2, slackErrors.permanent('message_not_found'));
    await send(price(1, '100.00', '90.00')); // call 1
    const fates = await send(price(1, '90.00', '80.00')); // 2: the edit, refused; 3: posted anew
    expect(fates.map((f) => f.kind)).toEqual(['delivered']);
    await send(price(1, '80.00', '70.00'));
    const sales = salesOf(chat.calls);
    expect(sales.map((c) => [c.result, c.edited === undefined ? 'post' : 'edit'])).toEqual([
      ['ok', 'post'],
      ['SLACK_PERMANENT', 'edit'],
      ['ok', 'post'],
      ['ok', 'edit'],
    ]);
    expect(sales[3]?.edited).toBe(sales[2]?.ts);
  });

  it('an edit refused for another reason fails the record (dead letter), as a post would', async () => {
    const { chat, send } = setup({ config: salesOnly });
    chat.failOn(2, slackErrors.permanent('invalid_blocks'));
    await send(price(1, '100.00', '90.00'));
    const fates = await send(price(1, '90.00', '80.00'));
    expect(fates.map((f) => f.kind)).toEqual(['failed']);
    expect(chat.calls).toHaveLength(2);
  });

  it('after the window the next change is a new message', async () => {
    const { chat, send, clock } = setup({});
    await send(price(1, '100.00', '90.00'));
    await clock.advance(7_200_000);
    await send(price(1, '90.00', '80.00'));
    expect(salesOf(chat.delivered()).map((c) => c.edited)).toEqual([undefined, undefined]);
  });

  it("chat.update waits for its own gate, not the channel's", async () => {
    const { chat, send, clock } = setup({ pace: { cap: 1, intervalMs: 60_000, burst: 1 } });
    await send(price(1, '100.00', '90.00'));
    await send(price(2, '100.00', '90.00'));
    await send(price(1, '90.00', '80.00')); // the one edit the gate holds now
    const second = send(price(2, '90.00', '80.00'));
    let done = false;
    void second.then(() => {
      done = true;
    });
    await clock.advance(59_000);
    expect(done).toBe(false);
    await clock.advance(2_000);
    await second;
    const edits = salesOf(chat.delivered()).filter((c) => c.edited !== undefined);
    expect(edits).toHaveLength(2);
    expect((edits[1]?.at ?? 0) - (edits[0]?.at ?? 0)).toBeGreaterThanOrEqual(60_000);
  });

  it('a destination that cannot edit posts every message', async () => {
    const { chat, send } = setup({ chat: (clock) => createFakeChat({ clock }) });
    await send(price(1, '100.00', '90.00'));
    await send(price(1, '90.00', '80.00'));
    expect(chat.delivered('#sales-alerts')).toHaveLength(2);
    expect(chat.calls.every((c) => c.edited === undefined)).toBe(true);
  });
});

describe('the update decision and its parts (pure)', () => {
  const ref = {
    ts: '1.000001',
    channel: 'C1',
    lines: [{ summary: 'Stock is low: 3 left', atMs: 0 }],
    dropped: 0,
  };

  it('edits only a known message on a destination that can', () => {
    expect(decideUpdate(undefined, true)).toEqual({ kind: 'post' });
    expect(decideUpdate(ref, false)).toEqual({ kind: 'post' });
    expect(decideUpdate({ ...ref, ts: '' }, true)).toEqual({ kind: 'post' });
    expect(decideUpdate(ref, true)).toEqual({ kind: 'update', ref });
  });

  it('rules say first, in-place over new, then the channel', () => {
    const modes = new Map<string, 'in-place' | 'new'>([
      ['a', 'in-place'],
      ['b', 'new'],
    ]);
    expect(wantsInPlace(['a', 'b'], modes, false)).toBe(true);
    expect(wantsInPlace(['b'], modes, true)).toBe(false);
    expect(wantsInPlace(['c'], modes, true)).toBe(true);
    expect(wantsInPlace(undefined, modes, false)).toBe(false);
  });

  it('keeps the last lines and counts the rest', () => {
    let r = ref;
    for (let i = 1; i <= MAX_EDIT_LINES + 2; i += 1) r = withLine(r, { summary: `line ${i}`, atMs: i });
    expect(r.lines).toHaveLength(MAX_EDIT_LINES);
    expect(r.lines.at(-1)?.summary).toBe(`line ${MAX_EDIT_LINES + 2}`);
    expect(r.dropped).toBe(3);
    expect(decodeRef(JSON.stringify(r))).toEqual(r);
  });

  it('reads back only what it wrote', () => {
    expect(decodeRef('not json')).toBeUndefined();
    expect(decodeRef('"1.0001"')).toBeUndefined();
    expect(decodeRef(JSON.stringify({ ts: 1, channel: 'C1', lines: [] }))).toBeUndefined();
    expect(decodeRef(JSON.stringify({ ts: '1', channel: 'C1', lines: [{ summary: 5 }] }))?.lines).toEqual([]);
  });

  it('keeps the change the message shows, unless it is too big to keep', () => {
    const net = price(1, '100.00', '90.00');
    expect(decodeRef(encodeRef({ ...ref, net }))?.net).toEqual(JSON.parse(JSON.stringify(net)));
    const big = makeUpdate({ dsc_txt: 'x'.repeat(NET_MAX_CHARS) }, { dsc_txt: 'y' }, { listingId: '1' });
    const kept = decodeRef(encodeRef({ ...ref, net: big }));
    expect(kept?.net).toBeUndefined();
    expect(kept?.ts).toBe(ref.ts);
    expect(decodeRef(JSON.stringify({ ...ref, net: { op: 5 } }))?.net).toBeUndefined();
  });

  it('knows which refusals mean the message is gone', () => {
    expect(editGone(slackErrors.permanent('message_not_found'))).toBe(true);
    expect(editGone(slackErrors.permanent('cant_update_message'))).toBe(true);
    expect(editGone(slackErrors.permanent('invalid_blocks'))).toBe(false);
  });

  it('escapes what the message said before, and strikes it only where the text allows', () => {
    const payload = {
      text: 'Desk (#1): Price dropped',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Desk (#1)' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Price dropped' } },
      ],
    };
    const edited = editedPayload(
      payload,
      [
        { summary: 'Title was <!channel> & <https://evil|click>', atMs: 0 },
        { summary: 'a ~tilde~ line', atMs: 30 * 60_000 },
      ],
      3_600_000,
    );
    const context = JSON.stringify(edited.blocks[2]);
    expect(context).toContain('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
    expect(context).not.toContain('<!channel>');
    expect(context).toContain('~Title was');
    expect(context).toContain('a ~tilde~ line · 30 min earlier'); // left unstruck: its own ~ would break it
    expect(edited.text).not.toContain('<!channel>');
    expect(edited.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });

  it('says how long before, and takes the summary line from the change', () => {
    expect(earlier(10_000)).toBe('just before');
    expect(earlier(5 * 60_000)).toBe('5 min earlier');
    expect(earlier(2 * 3_600_000)).toBe('2 h earlier');
    expect(earlier(3 * 86_400_000)).toBe('3 d earlier');
    const change = { summary: ['Price dropped', 'x'.repeat(300)] };
    const line = summaryLine({ text: 't', blocks: [], change: change as never });
    expect(line.startsWith('Price dropped; xxx')).toBe(true);
    expect(line.length).toBe(200);
  });
});
