import { describe, expect, it } from 'vitest';
import { deadLetterHeaders } from '../../../src/adapters/kafka-dead-letter.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';

const makeRecord = (overrides: Partial<SourceRecord> = {}): SourceRecord => ({
  topic: 'monolith.public.listings',
  partition: 2,
  offset: '1234',
  key: Buffer.from('{"id":7}'),
  value: Buffer.from('garbage'),
  headers: {},
  timestamp: '1767225600000',
  ...overrides,
});

describe('dead-letter headers', () => {
  it('name the error and the original position and time', () => {
    const headers = deadLetterHeaders(
      makeRecord(),
      new NotifierError('DECODE_FAILED', 'value is not JSON'),
      Date.UTC(2026, 0, 1, 12, 0, 0),
    );
    expect(headers).toEqual({
      'dlq.error.code': 'DECODE_FAILED',
      'dlq.error.message': 'value is not JSON',
      'dlq.original.topic': 'monolith.public.listings',
      'dlq.original.partition': '2',
      'dlq.original.offset': '1234',
      'dlq.original.timestamp': '1767225600000',
      'dlq.failed.at': '2026-01-01T12:00:00.000Z',
    });
  });

  it('name the channel of a message that failed for one channel, and keep the original headers', () => {
    const headers = deadLetterHeaders(
      makeRecord({ headers: { '__debezium.newkey': '{"id":8}' } }),
      new NotifierError('SLACK_PERMANENT', 'Slack rejected the message: channel_not_found'),
      0,
      '#gone',
    );
    expect(headers['dlq.channel']).toBe('#gone');
    expect(headers['__debezium.newkey']).toBe('{"id":8}');
  });

  it('bound an enormous error message', () => {
    const headers = deadLetterHeaders(
      makeRecord(),
      new NotifierError('RENDER_FAILED', 'x'.repeat(50_000)),
      0,
    );
    expect(String(headers['dlq.error.message']).length).toBe(2000);
  });
});
