/**
 * A DeadLetterSink that records what it was given and can be scripted to fail on given calls,
 * the way the kafkajs producer fails while the broker is away.
 */
import { NotifierError } from '../../src/domain/errors.ts';
import type { SourceRecord } from '../../src/domain/record.ts';
import type { DeadLetterSink } from '../../src/ports/index.ts';

export interface DeadLetterEntry {
  record: SourceRecord;
  error: NotifierError;
  channel?: string;
}

export interface FakeDeadLetter extends DeadLetterSink {
  sent: DeadLetterEntry[];
  calls: number;
  /** Calls number `n` (1-based) fail with `error` (default DEAD_LETTER_FAILED). */
  failOnCall(n: number, error?: unknown): void;
  /** The next `count` calls fail. */
  failNext(count: number, error?: unknown): void;
}

export function createFakeDeadLetter(): FakeDeadLetter {
  const failures = new Map<number, unknown>();
  const defaultError = () => new NotifierError('DEAD_LETTER_FAILED', 'fake dead-letter topic unavailable');
  const fake: FakeDeadLetter = {
    sent: [],
    calls: 0,
    async send(record, error, extra) {
      fake.calls += 1;
      const failure = failures.get(fake.calls);
      if (failure !== undefined) {
        failures.delete(fake.calls);
        throw failure;
      }
      fake.sent.push({ record, error, ...(extra?.channel === undefined ? {} : { channel: extra.channel }) });
    },
    failOnCall(n, error = defaultError()) {
      failures.set(n, error);
    },
    failNext(count, error) {
      for (let i = 1; i <= count; i += 1) failures.set(fake.calls + i, error ?? defaultError());
    },
  };
  return fake;
}
