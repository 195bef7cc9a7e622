import { describe, expect, it } from 'vitest';
import { createChannelLog, type StandinMessage } from '../../../../tools/slack-standin/channel-log.ts';

const channels = [
  { id: 'C0SALESALRT', name: 'sales-alerts', archived: false, member: true },
  { id: 'C0INVENTWRN', name: 'inventory-warnings', archived: false, member: true },
];
const [sales, inventory] = channels as [(typeof channels)[0], (typeof channels)[0]];

function makeLog(pace = { perSecond: 1, burst: 2 }) {
  let time = 1_700_000_000_000;
  const seen: StandinMessage[] = [];
  const log = createChannelLog({ now: () => time, pace, channels, onMessage: (m) => seen.push(m) });
  return { log, seen, tick: (ms: number) => (time += ms) };
}

const file = {
  id: 'F1',
  name: 'a.csv',
  title: 'A',
  mimetype: 'text/csv',
  size: 3,
  content: 'a,b',
  url: 'http://x/_standin/files/F1',
};

describe('channel log', () => {
  it('gives each message a distinct ts and keeps replies and file shares with their parent', () => {
    const { log, seen } = makeLog({ perSecond: 100, burst: 10 });
    const parent = log.record(sales, { text: 'digest', blocks: [] });
    const reply = log.record(sales, { text: 'page 1', blocks: [], threadTs: parent.ts });
    const shared = log.record(sales, { text: '', blocks: [], threadTs: parent.ts, files: [file] });
    expect(new Set([parent.ts, reply.ts, shared.ts]).size).toBe(3);
    expect(log.messages('sales-alerts').map((m) => m.threadTs)).toEqual([undefined, parent.ts, parent.ts]);
    expect(seen).toHaveLength(3);
    expect(log.stats({ calls: 0, filesNotCompleted: 0 })).toMatchObject({
      accepted: { 'sales-alerts': 3 },
      filesShared: { 'sales-alerts': 1 },
      lostReplies: 0,
    });
  });

  it("loses a reply whose thread_ts names no top-level message of its channel (another channel's, a reply's, none)", () => {
    const { log } = makeLog({ perSecond: 100, burst: 10 });
    const parent = log.record(sales, { text: 'p', blocks: [] });
    const reply = log.record(sales, { text: 'r', blocks: [], threadTs: parent.ts });
    log.record(inventory, { text: 'other channel', blocks: [], threadTs: parent.ts });
    log.record(sales, { text: 'reply to reply', blocks: [], threadTs: reply.ts });
    log.record(sales, { text: 'nobody', blocks: [], threadTs: '1.000001' });
    expect(log.lost().map((m) => [m.text, m.lost])).toEqual([
      ['other channel', true],
      ['reply to reply', true],
      ['nobody', true],
    ]);
    expect(log.messages().map((m) => m.text)).toEqual(['p', 'r']);
    expect(log.stats({ calls: 0, filesNotCompleted: 0 }).lostReplies).toBe(3);
  });

  it('answers 429 with Retry-After past the pace, per channel, and counts it', () => {
    const { log, tick } = makeLog({ perSecond: 1, burst: 2 });
    log.record(sales, { text: '1', blocks: [] });
    log.record(sales, { text: '2', blocks: [] });
    expect(log.paced(sales.id)).toEqual({
      status: 429,
      body: { ok: false, error: 'ratelimited' },
      headers: { 'retry-after': '1' },
    });
    expect(log.paced(inventory.id)).toBeNull();
    tick(1000);
    expect(log.paced(sales.id)).toBeNull();
    expect(log.stats({ calls: 3, filesNotCompleted: 2 })).toMatchObject({
      calls: 3,
      filesNotCompleted: 2,
      rateLimited: { total: 1, byChannel: { 'sales-alerts': 1 } },
    });
    log.reset();
    expect(log.messages()).toEqual([]);
    expect(log.stats({ calls: 0, filesNotCompleted: 0 }).rateLimited.total).toBe(0);
  });
});
