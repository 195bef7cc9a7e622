/**
 * The stand-in's file upload flow and thread replies over HTTP, as a client sees them: Slack's
 * answers and error codes, the message log tests read, the download link and the preview page.
 * The stand-in's clock is the test's (`time`), so pace and 429s are exact.
 */
import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { type SlackStandin, startSlackStandin } from '../../../tools/slack-standin/server.ts';

const token = 'xoxb-test-token';
let standin: SlackStandin | undefined;
let time = 1_700_000_000_000;

async function start(overrides: Parameters<typeof startSlackStandin>[0] = {}): Promise<SlackStandin> {
  time = 1_700_000_000_000;
  standin = await startSlackStandin({ token, now: () => time, ...overrides });
  return standin;
}

afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

type Json = Record<string, unknown>;

/** A Web API call as @slack/web-api makes it: a form, the token in the header. */
async function form(s: SlackStandin, method: string, args: Record<string, string>) {
  const res = await fetch(`${s.apiUrl}${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(args),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Json };
}

async function ticket(s: SlackStandin, filename: string, length: number) {
  const { body } = await form(s, 'files.getUploadURLExternal', { filename, length: String(length) });
  expect(body).toMatchObject({ ok: true });
  return { uploadUrl: String(body.upload_url), fileId: String(body.file_id) };
}

const sendBytes = (url: string, bytes: Buffer | string) =>
  fetch(url, { method: 'POST', body: typeof bytes === 'string' ? bytes : new Uint8Array(bytes) });

const complete = (
  s: SlackStandin,
  args: { files: Json[]; channel_id?: string; thread_ts?: string; initial_comment?: string },
) =>
  form(s, 'files.completeUploadExternal', {
    ...args,
    files: JSON.stringify(args.files),
  } as Record<string, string>);

/** All three steps for one file; returns the completion's answer. */
async function share(
  s: SlackStandin,
  content: string,
  extra: { channel_id?: string; thread_ts?: string } = {},
) {
  const { uploadUrl, fileId } = await ticket(s, 'changes.csv', Buffer.byteLength(content));
  expect((await sendBytes(uploadUrl, content)).status).toBe(200);
  return {
    fileId,
    ...(await complete(s, {
      files: [{ id: fileId, title: 'Changes' }],
      channel_id: 'C0SALESALRT',
      ...extra,
    })),
  };
}

const csv =
  'listing_id,title,before,after\n1,"Chair, blue",$120.00,$96.00\n2,"<!channel> ""sofa""",$10.00,$9.00\n';

describe('files.getUploadURLExternal', () => {
  it('gives an upload URL on the stand-in and a file id', async () => {
    const s = await start();
    const { uploadUrl, fileId } = await ticket(s, 'a.csv', 10);
    expect(uploadUrl).toBe(`${s.url}/upload/v1/${fileId}`);
    expect(fileId).toMatch(/^F[A-Z0-9]+$/);
  });

  it("answers Slack's errors: missing fields, length 0, too large, a JSON body, a bad token", async () => {
    const s = await start({ maxFileBytes: 1000 });
    expect((await form(s, 'files.getUploadURLExternal', { length: '5' })).body).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] missing required field: filename'] },
    });
    expect((await form(s, 'files.getUploadURLExternal', { filename: 'a.csv' })).body.error).toBe(
      'invalid_arguments',
    );
    expect((await form(s, 'files.getUploadURLExternal', { filename: 'a.csv', length: '0' })).body).toEqual({
      ok: false,
      error: 'missing_argument',
    });
    expect(
      (await form(s, 'files.getUploadURLExternal', { filename: 'a.csv', length: '1001' })).body.error,
    ).toBe('file_upload_size_restricted');
    const json = await fetch(`${s.apiUrl}files.getUploadURLExternal`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'a.csv', length: 5 }),
    });
    expect(await json.json()).toMatchObject({ ok: false, error: 'invalid_arguments' });
    const anonymous = await fetch(`${s.apiUrl}files.getUploadURLExternal`, {
      method: 'POST',
      body: new URLSearchParams({ filename: 'a.csv', length: '5' }),
    });
    expect(await anonymous.json()).toEqual({ ok: false, error: 'not_authed' });
  });
});

describe('the upload POST', () => {
  it('takes raw bytes whose count matches the declared length, and answers 200', async () => {
    const s = await start();
    const { uploadUrl } = await ticket(s, 'a.csv', 5);
    const short = await sendBytes(uploadUrl, 'abcd');
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('length mismatch');
    const ok = await sendBytes(uploadUrl, 'abcde');
    expect(ok.status).toBe(200);
    expect((await sendBytes(`${s.url}/upload/v1/F0NOSUCH`, 'abcde')).status).toBe(404);
  });

  it('takes multipart/form-data with one file part, and refuses a form without one', async () => {
    const s = await start();
    const { uploadUrl } = await ticket(s, 'a.csv', 5);
    const none = new FormData();
    none.append('filename', 'a.csv');
    expect((await fetch(uploadUrl, { method: 'POST', body: none })).status).toBe(400);
    const one = new FormData();
    one.append('file', new Blob(['abcde']), 'a.csv');
    expect((await fetch(uploadUrl, { method: 'POST', body: one })).status).toBe(200);
  });

  it("accepts @slack/web-api's own files.uploadV2 (multipart), end to end into a thread", async () => {
    const s = await start();
    const client = new WebClient(token, { slackApiUrl: s.apiUrl, retryConfig: { retries: 0 } });
    const parent = await client.chat.postMessage({ channel: 'C0SALESALRT', text: 'Digest' });
    await client.filesUploadV2({
      channel_id: 'C0SALESALRT',
      thread_ts: String(parent.ts),
      file: Buffer.from(csv),
      filename: 'digest.csv',
      title: 'All changes',
      initial_comment: 'The complete list',
    });
    const reply = s.messages('sales-alerts')[1];
    expect(reply).toMatchObject({ threadTs: parent.ts, text: 'The complete list' });
    expect(reply?.files?.[0]).toMatchObject({
      name: 'digest.csv',
      title: 'All changes',
      size: Buffer.byteLength(csv),
      content: csv,
    });
  });
});

describe('files.completeUploadExternal', () => {
  it('shares the file as a message in the log with name, title, size and content, and serves the bytes', async () => {
    const s = await start();
    const { fileId, body } = await share(s, csv);
    expect(body).toMatchObject({
      ok: true,
      files: [{ id: fileId, title: 'Changes', name: 'changes.csv', size: Buffer.byteLength(csv) }],
    });
    const logged = (await (await fetch(`${s.url}/_standin/messages?channel=sales-alerts`)).json()) as {
      messages: Array<{ files?: Array<Json> }>;
    };
    expect(logged.messages[0]?.files?.[0]).toMatchObject({
      id: fileId,
      name: 'changes.csv',
      title: 'Changes',
      content: csv,
    });
    const download = await fetch(`${s.url}/_standin/files/${fileId}`);
    expect(download.headers.get('content-type')).toBe('text/csv');
    expect(await download.text()).toBe(csv);
    expect(s.stats()).toMatchObject({
      filesShared: { 'sales-alerts': 1 },
      accepted: { 'sales-alerts': 1 },
      filesNotCompleted: 0,
    });
  });

  it('needs every file uploaded and not yet completed (file_not_found otherwise)', async () => {
    const s = await start({ pace: { perSecond: 100, burst: 10 } });
    const { fileId } = await ticket(s, 'a.csv', 3);
    const early = await complete(s, { files: [{ id: fileId }], channel_id: 'C0SALESALRT' });
    expect(early.body).toMatchObject({ ok: false, error: 'file_not_found' });
    const unknown = await complete(s, { files: [{ id: 'F0NOSUCH1' }], channel_id: 'C0SALESALRT' });
    expect(unknown.body).toMatchObject({ ok: false, error: 'file_not_found' });
    const { fileId: done } = await share(s, 'abc');
    const twice = await complete(s, { files: [{ id: done }], channel_id: 'C0SALESALRT' });
    expect(twice.body).toMatchObject({ ok: false, error: 'file_not_found' });
    expect((await form(s, 'files.completeUploadExternal', { channel_id: 'C0SALESALRT' })).body).toMatchObject(
      {
        error: 'invalid_arguments',
      },
    );
    expect(s.stats().filesNotCompleted).toBe(1);
  });

  it('refuses a channel name, an unknown, archived or not-joined channel, and a malformed thread_ts', async () => {
    const s = await start();
    const errorFor = async (extra: { channel_id: string; thread_ts?: string }) =>
      (await share(s, 'abc', extra)).body;
    expect(await errorFor({ channel_id: '#sales-alerts' })).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: {
        messages: ['[ERROR] input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]'],
      },
    });
    expect((await errorFor({ channel_id: 'C0NOSUCHCHN' })).error).toBe('channel_not_found');
    expect((await errorFor({ channel_id: 'C0OLDANNOUN' })).error).toBe('invalid_channel');
    expect((await errorFor({ channel_id: 'C0PRIVFINAN' })).error).toBe('not_in_channel');
    expect(await errorFor({ channel_id: 'C0SALESALRT', thread_ts: '15900' })).toEqual({
      ok: false,
      error: 'invalid_thread_ts',
      response_metadata: { messages: ['[ERROR] 15900 is not a valid thread_ts'] },
    });
    expect(s.messages()).toEqual([]);
  });

  it('counts a share against the channel pace: 429 with Retry-After, and the same completion succeeds later', async () => {
    const s = await start({ pace: { perSecond: 1, burst: 1 } });
    await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'digest' });
    const { uploadUrl, fileId } = await ticket(s, 'a.csv', 3);
    await sendBytes(uploadUrl, 'abc');
    const limited = await complete(s, { files: [{ id: fileId }], channel_id: 'C0SALESALRT' });
    expect(limited).toMatchObject({
      status: 429,
      retryAfter: '1',
      body: { ok: false, error: 'ratelimited' },
    });
    expect(s.stats().rateLimited.byChannel).toEqual({ 'sales-alerts': 1 });
    time += 1000;
    expect((await complete(s, { files: [{ id: fileId }], channel_id: 'C0SALESALRT' })).body.ok).toBe(true);
    expect(s.stats().paceViolations['sales-alerts']).toBeNull();
  });

  it('answers an injected error aimed at a files method', async () => {
    const s = await start();
    s.fail({ mode: 'error', error: 'file_uploads_disabled', method: 'files.getUploadURLExternal' });
    expect((await form(s, 'files.getUploadURLExternal', { filename: 'a', length: '1' })).body).toEqual({
      ok: false,
      error: 'file_uploads_disabled',
    });
    expect((await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'x' })).body.ok).toBe(true);
    expect((await share(s, 'abc')).body.ok).toBe(true);
  });

  it('fails the upload POST too while the stand-in answers 503', async () => {
    const s = await start();
    const { uploadUrl } = await ticket(s, 'a.csv', 3);
    s.fail({ mode: 'status', status: 503, forMs: 1000 });
    expect((await sendBytes(uploadUrl, 'abc')).status).toBe(503);
    time += 1000;
    expect((await sendBytes(uploadUrl, 'abc')).status).toBe(200);
  });
});

describe('thread replies', () => {
  it('chat.postMessage with thread_ts replies under its parent; a malformed thread_ts is invalid_thread_ts', async () => {
    const s = await start({ pace: { perSecond: 100, burst: 10 } });
    const parent = (await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'parent' })).body;
    const reply = await form(s, 'chat.postMessage', {
      channel: 'sales-alerts',
      text: 'child',
      thread_ts: String(parent.ts),
    });
    expect(reply.body).toMatchObject({ ok: true, message: { thread_ts: parent.ts } });
    expect(s.messages('sales-alerts').map((m) => [m.text, m.threadTs])).toEqual([
      ['parent', undefined],
      ['child', parent.ts],
    ]);
    expect(
      (await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'x', thread_ts: 'abc' })).body,
    ).toEqual({
      ok: false,
      error: 'invalid_thread_ts',
      response_metadata: { messages: ['[ERROR] abc is not a valid thread_ts'] },
    });
  });

  it('accepts a reply to no message in the channel as Slack does (ok), but logs it as lost, not shown', async () => {
    const s = await start({ pace: { perSecond: 100, burst: 10 } });
    const parent = (await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'parent' })).body;
    // Another channel's message, a reply's ts, and a ts nobody posted all name no parent here.
    const elsewhere = await form(s, 'chat.postMessage', {
      channel: 'inventory-warnings',
      text: 'x',
      thread_ts: String(parent.ts),
    });
    const child = (
      await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'c', thread_ts: String(parent.ts) })
    ).body;
    await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'r', thread_ts: String(child.ts) });
    await share(s, 'abc', { thread_ts: '1700000000.999999' });
    expect(elsewhere.body.ok).toBe(true);
    expect(s.lost().map((m) => m.text)).toEqual(['x', 'r', '']);
    expect(s.messages('inventory-warnings')).toEqual([]);
    expect(s.stats().lostReplies).toBe(3);
    const page = await (await fetch(`${s.url}/`)).text();
    expect(page).toContain('3 replies to no message');
  });

  it('shows replies under their parent and the shared file with a CSV table on the preview page', async () => {
    const s = await start({ pace: { perSecond: 100, burst: 10 } });
    const parent = (await form(s, 'chat.postMessage', { channel: 'sales-alerts', text: 'Digest parent' }))
      .body;
    await share(s, csv, { thread_ts: String(parent.ts) });
    const page = await (await fetch(`${s.url}/`)).text();
    expect(page).toContain('1 reply');
    expect(page).toContain('<th>listing_id</th>');
    expect(page).toContain('<td>&lt;!channel&gt; &quot;sofa&quot;</td>');
    expect(page).not.toContain('<!channel>');
  });
});
