import { describe, expect, it } from 'vitest';
import { channelsFromNames, formatMessage } from '../../../../tools/slack-standin/main.ts';

describe('channelsFromNames', () => {
  it('gives named channels distinct Slack-like ids and marks the archived ones', () => {
    const channels = channelsFromNames(['sales-alerts', 'sales-alerts-eu'], ['old']);
    expect(channels).toEqual([
      { id: 'C0SALESALER', name: 'sales-alerts', archived: false },
      { id: 'C0SALESA001', name: 'sales-alerts-eu', archived: false },
      { id: 'C0OLD000000', name: 'old', archived: true },
    ]);
  });
});

describe('formatMessage (terminal line)', () => {
  it('shows entities as characters and strips terminal escape sequences', () => {
    const line = formatMessage({
      channel: 'C1',
      channelName: 'sales-alerts',
      ts: '1.1',
      text: 'Price cut &amp; more \u001b[31mred\u001b[0m\nnext',
      blocks: [],
      receivedAt: 0,
    });
    expect(line).toBe('00:00:00.000  #sales-alerts         Price cut & more [31mred [0m next');
    expect(line).not.toContain('\u001b');
  });

  it('marks thread replies, names shared files and flags lost replies', () => {
    const base = { channel: 'C1', channelName: 'sales-alerts', ts: '1.2', blocks: [], receivedAt: 0 };
    const file = {
      id: 'F1',
      name: 'a.csv',
      title: 'All changes',
      mimetype: 'text/csv',
      size: 12_345,
      content: '',
      url: '',
    };
    expect(formatMessage({ ...base, text: 'page 1', threadTs: '1.1' })).toBe(
      '00:00:00.000  #sales-alerts         ↳ page 1',
    );
    expect(formatMessage({ ...base, text: 'list', threadTs: '1.1', files: [file] })).toBe(
      '00:00:00.000  #sales-alerts         ↳ list [file: All changes, 12.3 kB]',
    );
    expect(formatMessage({ ...base, text: 'x', threadTs: '9.9', lost: true })).toContain(
      '(LOST: thread_ts names no message)',
    );
  });
});
