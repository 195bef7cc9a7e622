import { describe, expect, it } from 'vitest';
import { deadLetterHeaders } from '../../../src/adapters/kafka-dead-letter.ts';
import {
  deadLetterTopics,
  listLine,
  matchesFilter,
  originalRecord,
  originalTimeMs,
  parseDeadLetter,
  parseId,
  parseReroutes,
  planRedrive,
  resolveChannels,
  showLines,
} from '../../../src/cli/dead-letters.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { makeRecord } from '../../support/records.ts';

const config = parseConfig('', 'empty.yaml');
const FAILED_AT = Date.UTC(2026, 10, 26, 10, 0, 0);

/** A dead letter as the real sink writes it (its header function), read back from the DLQ topic. */
function letterRecord(
  original: SourceRecord,
  error: NotifierError,
  channel?: string,
  offset = '5',
): SourceRecord {
  const headers: SourceRecord['headers'] = {};
  for (const [name, value] of Object.entries(deadLetterHeaders(original, error, FAILED_AT, channel)))
    headers[name] = Array.isArray(value) ? value[0] : (value as Buffer | string | undefined);
  return {
    ...original,
    topic: `${original.topic}.dlq`,
    partition: 0,
    offset,
    headers,
    timestamp: String(FAILED_AT + 3),
  };
}

const original = makeRecord({
  offset: '41',
  partition: 2,
  timestamp: '1795873507500',
  headers: { '__debezium.oldkey': 'x' },
});
const slackFailed = new NotifierError('SLACK_PERMANENT', 'channel_not_found');

describe('parseDeadLetter', () => {
  it('reads back what the dead-letter sink wrote', () => {
    const letter = parseDeadLetter(letterRecord(original, slackFailed, '#sales-alerts'));
    expect(letter).toMatchObject({
      id: 'monolith.public.listings.dlq:0:5',
      code: 'SLACK_PERMANENT',
      message: 'channel_not_found',
      channel: '#sales-alerts',
      failedAt: '2026-11-26T10:00:00.000Z',
      failedAtMs: FAILED_AT,
      original: { topic: 'monolith.public.listings', partition: 2, offset: '41', timestamp: '1795873507500' },
    });
  });

  it('gives back the original record: its topic, offset, time and headers without dlq.*', () => {
    const back = originalRecord(parseDeadLetter(letterRecord(original, slackFailed)));
    expect(back).toEqual(original);
  });

  it('copes with a record that has no dlq headers', () => {
    const letter = parseDeadLetter({ ...original, headers: {} });
    expect(letter).toMatchObject({ code: null, channel: null, original: null, failedAtMs: 1795873507500 });
    expect(listLine(letter)).toContain('  -  -  original unknown  ');
  });
});

describe('filters', () => {
  const letter = parseDeadLetter(letterRecord(original, slackFailed, '#sales-alerts'));
  it.each([
    [{}, true],
    [{ codes: ['SLACK_PERMANENT'] }, true],
    [{ codes: ['DECODE_FAILED'] }, false],
    [{ channels: resolveChannels(['sales-alerts'], config) }, true],
    [{ channels: resolveChannels(['#sales-alerts'], config) }, true],
    [{ channels: resolveChannels(['inventory-warnings'], config) }, false],
    [{ sinceMs: FAILED_AT }, true],
    [{ sinceMs: FAILED_AT + 1 }, false],
    [{ untilMs: FAILED_AT }, false],
    [{ untilMs: FAILED_AT + 1 }, true],
  ])('%j -> %s', (filter, expected) => {
    expect(matchesFilter(letter, filter)).toBe(expected);
  });

  it('a channel filter never matches a whole-record letter (no dlq.channel)', () => {
    const whole = parseDeadLetter(letterRecord(original, new NotifierError('DECODE_FAILED', 'x')));
    expect(matchesFilter(whole, { channels: ['#sales-alerts'] })).toBe(false);
  });
});

describe('planRedrive', () => {
  const message = (channel: string) => ({ channel, payload: { text: 't', blocks: [] } });
  const notify = {
    kind: 'notify' as const,
    reason: 'notify: x',
    messages: [message('#a'), message('#b')],
    sourceTsMs: 7,
  };

  it('delivers only to the channel that failed when the letter names one', () => {
    const letter = parseDeadLetter(letterRecord(original, slackFailed, '#b'));
    expect(planRedrive(letter, notify)).toEqual({ kind: 'deliver', messages: [message('#b')] });
    expect(originalTimeMs(letter, notify)).toBe(7);
  });

  it("delivers everything for a whole-record letter; drops what today's rules drop or no longer route", () => {
    const whole = parseDeadLetter(letterRecord(original, new NotifierError('RENDER_FAILED', 'x')));
    expect(planRedrive(whole, notify)).toEqual({ kind: 'deliver', messages: notify.messages });
    expect(planRedrive(whole, { kind: 'dropped', reason: 'insignificant: y' })).toEqual({
      kind: 'drop',
      reason: 'insignificant: y',
    });
    const gone = parseDeadLetter(letterRecord(original, slackFailed, '#c'));
    expect(planRedrive(gone, notify)).toEqual({
      kind: 'still-failing',
      reason:
        "today's rules send it to #a, #b, not to #c (the channel that failed); if that channel was replaced in the config, add --reroute '#c=<channel>'",
    });
    const error = new NotifierError('DECODE_FAILED', 'bad');
    expect(planRedrive(whole, { kind: 'dead-letter', reason: 'DECODE_FAILED: bad', error })).toEqual({
      kind: 'still-failing',
      reason: 'DECODE_FAILED: bad',
    });
    // Without Debezium's time, the original Kafka timestamp.
    expect(originalTimeMs(whole, { kind: 'dropped', reason: 'r' })).toBe(1795873507500);
  });
});

describe('--reroute', () => {
  it("sends a letter for a replaced channel to today's message for the new one (key or name)", () => {
    const config = parseConfig('channels: { sales: "#sales-alerts", other: "#other" }\nrules: []', 'r.yaml');
    const reroutes = parseReroutes(['#sales-alert=sales'], config);
    if ('error' in reroutes) throw new Error(reroutes.error);
    const letter = parseDeadLetter(letterRecord(original, slackFailed, '#sales-alert'));
    const message = (channel: string) => ({ channel, payload: { text: 't', blocks: [] } });
    const outcome = {
      kind: 'notify' as const,
      reason: 'n',
      messages: [message('#sales-alerts'), message('#other')],
    };
    expect(planRedrive(letter, outcome, reroutes)).toEqual({
      kind: 'deliver',
      messages: [message('#sales-alerts')],
    });
    expect(parseReroutes(['nope'], config)).toEqual({
      error: `--reroute: expected FROM=TO (e.g. '#sales-alert=sales-alerts'), got "nope"`,
    });
    expect('error' in parseReroutes(['=x'], config)).toBe(true);
  });
});

describe('output', () => {
  it('escapes control and bidi characters from the error message and the bytes', () => {
    const hostile = new NotifierError('DECODE_FAILED', 'bad \u001b[2J\u202Eevil\u009b');
    const record = { ...original, value: Buffer.from('{"a":"\u001b]0;title\u0007"}') };
    const letter = parseDeadLetter(letterRecord(record, hostile));
    const text = [listLine(letter), ...showLines(letter)].join('\n');
    expect(text).toContain('bad \\u001b[2J\\u202eevil\\u009b');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none is left
    expect(text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E]/);
  });

  it('shows bytes that are not UTF-8 as base64', () => {
    const letter = parseDeadLetter(
      letterRecord({ ...original, value: Buffer.from([0xff, 0x00]) }, slackFailed),
    );
    expect(showLines(letter)).toContain('value (not UTF-8, base64): /wA=');
  });
});

describe('ids and topics', () => {
  it('parses topic:partition:offset', () => {
    expect(parseId('a.b-c_d.dlq:3:17')).toEqual({ topic: 'a.b-c_d.dlq', partition: 3, offset: '17' });
    for (const bad of ['a.dlq:3', 'a.dlq:x:1', 'a dlq:0:1', ':0:1']) expect(parseId(bad)).toBeNull();
  });

  it('takes --topic, else source.deadLetterTopic, else <topic>.dlq per source topic', () => {
    expect(deadLetterTopics(config, undefined)).toEqual(['monolith.public.listings.dlq']);
    expect(deadLetterTopics(config, ['x', 'x'])).toEqual(['x']);
    const named = parseConfig('source: { deadLetterTopic: all.dlq, topics: [a, b] }', 'c.yaml');
    expect(deadLetterTopics(named, undefined)).toEqual(['all.dlq']);
    expect(deadLetterTopics(parseConfig('source: { topics: [a, b] }', 'd.yaml'), undefined)).toEqual([
      'a.dlq',
      'b.dlq',
    ]);
  });
});
