import { describe, expect, it } from 'vitest';
import { logRecordEnd, summaryOf } from '../../../src/app/record-log.ts';
import { type Completion, startRecordWork } from '../../../src/app/record-work.ts';
import { parseConfig } from '../../../src/config/index.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { decide } from '../../../src/pipeline/index.ts';
import { type Deliverer, type Fate, noopMetrics } from '../../../src/ports/index.ts';
import { dec, makeUpdate } from '../../support/events.ts';
import { createFakeDeadLetter } from '../../support/fake-dead-letter.ts';
import { createCapturingLogger, createManualClock, loopTestRetryPolicy } from '../../support/fakes.ts';

// Price goes to two channels: one where the listing is throttled, one where it is not.
const config = parseConfig(
  [
    'rules:',
    '  - { name: price moved, match: { field: price }, channels: [sales-alerts], throttle: { perListing: 3 } }',
    '  - { name: price for marketing, match: { field: price }, channels: [marketing-updates] }',
  ].join('\n'),
  'record-work-test',
);

const record: SourceRecord = {
  topic: 'listings',
  partition: 0,
  offset: '7',
  key: Buffer.from('{"lst_id":1}'),
  value: Buffer.from('{}'),
  headers: {},
  timestamp: '0',
};

const delivered = (folded: 'no' | 'digest'): Fate => ({ kind: 'delivered', folded, ts: '1.1' });

/** A deliverer that says the sales-alerts message went into the digest by its throttle. */
const throttlingDeliverer = (): Pick<Deliverer, 'submit'> => ({
  submit: (message) =>
    message.channel === '#sales-alerts'
      ? { digest: true, throttled: true, fate: Promise.resolve(delivered('digest')) }
      : { digest: false, fate: Promise.resolve(delivered('no')) },
});

describe('startRecordWork: a throttled channel', () => {
  it("names the channels where the listing was throttled, in the completion and the record's line", async () => {
    const outcome = decide(makeUpdate({ prc_amt: dec('17.99') }), config);
    expect(outcome.kind).toBe('notify');
    const logger = createCapturingLogger();
    const deps = {
      deliverer: throttlingDeliverer() as Deliverer,
      deadLetter: createFakeDeadLetter(),
      clock: createManualClock(0),
      metrics: noopMetrics,
      logger,
      retry: loopTestRetryPolicy,
      random: () => 0.5,
    };
    const work = startRecordWork(record, outcome, deps, new AbortController().signal);
    const completion: Completion = await work.done;
    expect(completion).toEqual({
      kind: 'finished',
      delivered: ['#sales-alerts', '#marketing-updates'],
      deadLettered: [],
      dropped: [],
      throttled: ['#sales-alerts'],
    });

    logRecordEnd(logger, noopMetrics, record, summaryOf(outcome), completion);
    expect(logger.lines.find((l) => l.msg === 'record finished')?.fields).toMatchObject({
      outcome: 'notify',
      channels: ['#sales-alerts', '#marketing-updates'],
      throttled: ['#sales-alerts'],
    });
  });

  it('says nothing of a throttle when no channel throttled the record', async () => {
    const outcome = decide(makeUpdate({ prc_amt: dec('17.99') }), config);
    const deps = {
      deliverer: {
        submit: () => ({ digest: false, fate: Promise.resolve(delivered('no')) }),
      } as unknown as Deliverer,
      deadLetter: createFakeDeadLetter(),
      clock: createManualClock(0),
      metrics: noopMetrics,
      logger: createCapturingLogger(),
      retry: loopTestRetryPolicy,
      random: () => 0.5,
    };
    const completion = await startRecordWork(record, outcome, deps, new AbortController().signal).done;
    expect(completion).not.toHaveProperty('throttled');
  });
});
