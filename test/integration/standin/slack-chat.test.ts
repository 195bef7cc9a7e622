/**
 * The real Slack adapter (createSlackChat) against the stand-in over HTTP: a thread reply with
 * post's threadTs, and upload's three steps, with the file and its thread in the stand-in's log and
 * every failure classified as the delivery layer expects (SLACK_RATE_LIMITED with retryAfterMs,
 * SLACK_PERMANENT with Slack's error, SLACK_TRANSIENT for an outage).
 */
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackChat, type SlackChat } from '../../../src/adapters/slack-chat.ts';
import type { NotifierError } from '../../../src/domain/errors.ts';
import type { ChatFile } from '../../../src/ports/index.ts';
import { type SlackStandin, startSlackStandin } from '../../../tools/slack-standin/server.ts';

let standin: SlackStandin | undefined;
let time = 1_700_000_000_000;

async function start(overrides: Parameters<typeof startSlackStandin>[0] = {}) {
  time = 1_700_000_000_000;
  standin = await startSlackStandin({ now: () => time, pace: { perSecond: 100, burst: 10 }, ...overrides });
  const chat: SlackChat = createSlackChat({ token: standin.token, apiUrl: standin.apiUrl, timeoutMs: 5000 });
  return { s: standin, chat };
}

afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

const payload = (text: string) => ({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });

const csv =
  'listing_id,title,before,after\n7,"Oak table, ""large""",$500.00,$450.00\n8,<!here> lamp,$20.00,$18.00\n';
const file = (content = csv): ChatFile => ({
  filename: 'price-changes.csv',
  title: 'Price changes',
  content: Buffer.from(content),
  initialComment: 'All 2 changes',
});

/** The NotifierError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<NotifierError> {
  try {
    await p;
  } catch (error) {
    return error as NotifierError;
  }
  throw new Error('expected a rejection');
}

describe('createSlackChat against the stand-in', () => {
  it('post with threadTs replies in the thread of the message it names', async () => {
    const { s, chat } = await start();
    const parent = await chat.post('#sales-alerts', payload('Digest: 40 price changes'));
    const reply = await chat.post('#sales-alerts', payload('Page 1 of 2'), { threadTs: parent.ts });
    expect(reply.ts).not.toBe(parent.ts);
    expect(s.messages('sales-alerts').map((m) => [m.text, m.threadTs])).toEqual([
      ['Digest: 40 price changes', undefined],
      ['Page 1 of 2', parent.ts],
    ]);
    expect(s.stats().lostReplies).toBe(0);
  });

  it('upload shares the file into the thread, by channel id, with its content intact', async () => {
    const { s, chat } = await start();
    const parent = await chat.post('C0SALESALRT', payload('Digest'));
    const { fileId } = await chat.upload('C0SALESALRT', file(), { threadTs: parent.ts });
    const [, shared] = s.messages('sales-alerts');
    expect(shared).toMatchObject({ threadTs: parent.ts, text: 'All 2 changes' });
    expect(shared?.files).toEqual([
      expect.objectContaining({
        id: fileId,
        name: 'price-changes.csv',
        title: 'Price changes',
        size: Buffer.byteLength(csv),
      }),
    ]);
    const rows = parse(shared?.files?.[0]?.content ?? '', { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.listing_id)).toEqual(['7', '8']);
    expect(rows[0]?.title).toBe('Oak table, "large"');
    expect(s.stats()).toMatchObject({ filesNotCompleted: 0, lostReplies: 0 });
  });

  it('upload to a "#name" uses the id learned from posting there; before any post it fails permanently', async () => {
    const { s, chat } = await start();
    const early = await failure(chat.upload('#inventory-warnings', file()));
    expect(early.code).toBe('SLACK_PERMANENT');
    expect(early.details.slackError).toBe('channel_not_found');
    const parent = await chat.post('#inventory-warnings', payload('Digest'));
    await chat.upload('#inventory-warnings', file(), { threadTs: parent.ts });
    expect(s.messages('inventory-warnings')[1]?.files?.[0]?.name).toBe('price-changes.csv');
  });

  it('a share past the channel pace is SLACK_RATE_LIMITED with Retry-After in ms', async () => {
    const { s, chat } = await start({ pace: { perSecond: 1, burst: 1 } });
    const parent = await chat.post('C0SALESALRT', payload('Digest'));
    const limited = await failure(chat.upload('C0SALESALRT', file(), { threadTs: parent.ts }));
    expect(limited.code).toBe('SLACK_RATE_LIMITED');
    expect(limited.details.retryAfterMs).toBe(1000);
    time += 1000;
    await chat.upload('C0SALESALRT', file(), { threadTs: parent.ts });
    // The refused attempt's file stays uploaded and never completed, as in Slack (discarded there).
    expect(s.stats()).toMatchObject({ filesShared: { 'sales-alerts': 1 }, filesNotCompleted: 1 });
  });

  it("Slack's refusals are SLACK_PERMANENT with Slack's error; an outage is SLACK_TRANSIENT", async () => {
    const { s, chat } = await start();
    const archived = await failure(chat.upload('C0OLDANNOUN', file()));
    expect([archived.code, archived.details.slackError]).toEqual(['SLACK_PERMANENT', 'invalid_channel']);
    const notIn = await failure(chat.upload('C0PRIVFINAN', file()));
    expect([notIn.code, notIn.details.slackError]).toEqual(['SLACK_PERMANENT', 'not_in_channel']);
    const badThread = await failure(chat.post('C0SALESALRT', payload('x'), { threadTs: 'not-a-ts' }));
    expect([badThread.code, badThread.details.slackError]).toEqual(['SLACK_PERMANENT', 'invalid_thread_ts']);
    s.fail({ mode: 'error', error: 'file_uploads_disabled', method: 'files.getUploadURLExternal' });
    const disabled = await failure(chat.upload('C0SALESALRT', file()));
    expect([disabled.code, disabled.details.slackError]).toEqual([
      'SLACK_PERMANENT',
      'file_uploads_disabled',
    ]);
    s.fail({ mode: 'status', status: 503, forMs: 1000 });
    const down = await failure(chat.upload('C0SALESALRT', file()));
    expect([down.code, down.details.failure]).toEqual(['SLACK_TRANSIENT', 'http_503']);
    expect(s.messages()).toEqual([]);
  });
});
