import { describe, expect, it } from 'vitest';
import { withDeliveryLedger } from '../../../src/app/ledger-filter.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import type { DeliveryLedger, RecordPipeline } from '../../../src/ports/index.ts';
import { noopMetrics } from '../../../src/ports/index.ts';
import { createCapturingLogger } from '../../support/fakes.ts';

const record: SourceRecord = {
  topic: 'monolith.public.listings',
  partition: 3,
  offset: '41',
  key: null,
  value: Buffer.from('{}'),
  headers: {},
  timestamp: '0',
};

const notify: Outcome = {
  kind: 'notify',
  reason: 'unpublished',
  listingId: '7',
  messages: [
    { channel: '#support', payload: { text: 's', blocks: [] } },
    { channel: '#marketing', payload: { text: 'm', blocks: [] } },
  ],
};

const pipelineOf = (outcome: Outcome): RecordPipeline => ({ process: async () => outcome });

const ledgerWith = (keys: string[]): DeliveryLedger => ({
  seen: async (asked) => new Set(asked.filter((k) => keys.includes(k))),
  claim: async () => new Map(),
  record: async () => {},
  release: async () => {},
});

describe('withDeliveryLedger', () => {
  it('leaves out the channels a message already carried the record to, counting each', async () => {
    const hits: string[] = [];
    const filtered = withDeliveryLedger(pipelineOf(notify), {
      ledger: ledgerWith(['monolith.public.listings/3/41|#support']),
      metrics: { ...noopMetrics, ledgerHit: (c) => hits.push(c) },
      logger: createCapturingLogger(),
    });
    const outcome = await filtered.process(record);
    expect(outcome.kind === 'notify' && outcome.messages.map((m) => m.channel)).toEqual(['#marketing']);
    expect(hits).toEqual(['#support']);
  });

  it('drops a record every channel already has (a success: its offset commits)', async () => {
    const filtered = withDeliveryLedger(pipelineOf(notify), {
      ledger: ledgerWith([
        'monolith.public.listings/3/41|#support',
        'monolith.public.listings/3/41|#marketing',
      ]),
      metrics: noopMetrics,
      logger: createCapturingLogger(),
    });
    expect(await filtered.process(record)).toMatchObject({
      kind: 'dropped',
      reason: 'ledger: already delivered in 2 channel(s)',
      listingId: '7',
    });
  });

  it('delivers without the check when the store cannot answer, and says so', async () => {
    const fallbacks: string[] = [];
    const logger = createCapturingLogger();
    const filtered = withDeliveryLedger(pipelineOf(notify), {
      ledger: { ...ledgerWith([]), seen: () => Promise.reject(new Error('Connection is closed.')) },
      metrics: { ...noopMetrics, storeFallback: (op) => fallbacks.push(op) },
      logger,
    });
    expect(await filtered.process(record)).toBe(notify);
    expect(fallbacks).toEqual(['ledger']);
    expect(logger.lines.map((l) => l.level)).toEqual(['warn']);
  });

  it('passes other outcomes through untouched', async () => {
    const dropped: Outcome = { kind: 'dropped', reason: 'filtered: no significant change' };
    const filtered = withDeliveryLedger(pipelineOf(dropped), {
      ledger: ledgerWith([]),
      metrics: noopMetrics,
      logger: createCapturingLogger(),
    });
    expect(await filtered.process(record)).toBe(dropped);
  });
});
