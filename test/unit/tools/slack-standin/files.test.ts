import { describe, expect, it } from 'vitest';
import {
  checkChannelId,
  checkThreadTs,
  checkUploadTicket,
  formatBytes,
  mimetypeOf,
  parseCompleteFiles,
  uploadedBytes,
} from '../../../../tools/slack-standin/files.ts';

describe('checkUploadTicket (files.getUploadURLExternal)', () => {
  const max = 1000;
  it('reads filename and length from a form', () => {
    expect(checkUploadTicket({ filename: 'a.csv', length: '12' }, false, max)).toEqual({
      filename: 'a.csv',
      length: 12,
    });
  });

  it('answers invalid_arguments for missing or bad fields, missing_argument for length 0', () => {
    expect(checkUploadTicket({ length: '1' }, false, max)).toEqual({
      error: 'invalid_arguments',
      messages: ['[ERROR] missing required field: filename'],
    });
    expect(checkUploadTicket({ filename: 'a' }, false, max)).toEqual({
      error: 'invalid_arguments',
      messages: ['[ERROR] missing required field: length'],
    });
    expect(checkUploadTicket({ filename: 'a', length: '1.5' }, false, max)).toMatchObject({
      error: 'invalid_arguments',
    });
    expect(checkUploadTicket({ filename: 'a', length: '-1' }, false, max)).toMatchObject({
      error: 'invalid_arguments',
    });
    expect(checkUploadTicket({ filename: 'a', length: '0' }, false, max)).toEqual({
      error: 'missing_argument',
    });
    expect(checkUploadTicket({ filename: 'a', length: '1001' }, false, max)).toEqual({
      error: 'file_upload_size_restricted',
    });
  });

  it('does not see the arguments of a JSON body, as Slack does not', () => {
    expect(checkUploadTicket({ filename: 'a.csv', length: 12 }, true, max)).toMatchObject({
      error: 'invalid_arguments',
    });
  });
});

describe('parseCompleteFiles (files.completeUploadExternal files)', () => {
  it('reads a JSON string (a form) or an array (JSON), titles optional', () => {
    expect(parseCompleteFiles('[{"id":"F1","title":"T"},{"id":"F2"}]')).toEqual([
      { id: 'F1', title: 'T' },
      { id: 'F2' },
    ]);
    expect(parseCompleteFiles([{ id: 'F1' }])).toEqual([{ id: 'F1' }]);
  });

  it('refuses a missing, unparsable, empty or id-less list with invalid_arguments', () => {
    expect(parseCompleteFiles(undefined)).toMatchObject({ error: 'invalid_arguments' });
    expect(parseCompleteFiles('{')).toMatchObject({ error: 'invalid_arguments' });
    expect(parseCompleteFiles('[]')).toMatchObject({ error: 'invalid_arguments' });
    expect(parseCompleteFiles([{ id: 'F1' }, { title: 'x' }])).toEqual({
      error: 'invalid_arguments',
      messages: ['[ERROR] missing required field: id [json-pointer:/files/1/id]'],
    });
  });
});

describe('checkChannelId and checkThreadTs', () => {
  it('takes encoded ids only, as completeUploadExternal does', () => {
    expect(checkChannelId('C0SALESALRT')).toBeNull();
    expect(checkChannelId('G012345678')).toBeNull();
    for (const bad of ['#sales-alerts', 'sales-alerts', 'U012345678', 'C0123', undefined]) {
      expect(checkChannelId(bad)).toMatchObject({ error: 'invalid_arguments' });
    }
  });

  it('answers invalid_thread_ts for a malformed thread_ts, null when absent or well-formed', () => {
    expect(checkThreadTs(undefined)).toBeNull();
    expect(checkThreadTs('')).toBeNull();
    expect(checkThreadTs('1700000000.000100')).toBeNull();
    expect(checkThreadTs('15900')).toEqual({
      error: 'invalid_thread_ts',
      messages: ['[ERROR] 15900 is not a valid thread_ts'],
    });
    expect(checkThreadTs('1700000000.x')).toMatchObject({ error: 'invalid_thread_ts' });
  });
});

describe('uploadedBytes', () => {
  it('takes a raw body as it is', async () => {
    expect(await uploadedBytes(Buffer.from('abc'), 'application/octet-stream')).toEqual(Buffer.from('abc'));
    expect(await uploadedBytes(Buffer.from('abc'), undefined)).toEqual(Buffer.from('abc'));
  });

  it('takes the one file part of a multipart form, and says why otherwise', async () => {
    const encode = async (form: FormData) => {
      const req = new Request('http://x/', { method: 'POST', body: form });
      return {
        raw: Buffer.from(await req.arrayBuffer()),
        type: req.headers.get('content-type') ?? '',
      };
    };
    const one = new FormData();
    one.append('filename', 'a.csv');
    one.append('body', new Blob(['x,y\n1,2\n']), 'a.csv');
    const a = await encode(one);
    expect(await uploadedBytes(a.raw, a.type)).toEqual(Buffer.from('x,y\n1,2\n'));

    const two = new FormData();
    two.append('a', new Blob(['1']), 'a');
    two.append('b', new Blob(['2']), 'b');
    const b = await encode(two);
    expect(await uploadedBytes(b.raw, b.type)).toBe('expected one file part in the form, got 2');
    expect(await uploadedBytes(Buffer.from('garbage'), 'multipart/form-data; boundary=zz')).toMatch(
      /^unreadable multipart/,
    );
  });
});

describe('mimetypeOf and formatBytes', () => {
  it('names CSV and falls back to octet-stream', () => {
    expect(mimetypeOf('x.CSV')).toBe('text/csv');
    expect(mimetypeOf('x')).toBe('application/octet-stream');
  });

  it('writes sizes in decimal units', () => {
    expect([formatBytes(812), formatBytes(12_345), formatBytes(1_400_000)]).toEqual([
      '812 B',
      '12.3 kB',
      '1.4 MB',
    ]);
  });
});
