import { describe, expect, it } from 'vitest';
import { watchAssignments, withDeliveryLedger } from '../../../src/app/ledger-filter.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import type {
  DeliveryLedger,
  RecordPipeline,
  RecordSource,
  SourceHandlers,
} from '../../../src/ports/index.ts';
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

  it('degrades only where the error table says degrade: a coded stop from the store is thrown on', async () => {
    const stop = new NotifierError('CONFIG_INVALID', 'store.keyPrefix refused');
    const fallbacks: string[] = [];
    const filtered = withDeliveryLedger(pipelineOf(notify), {
      ledger: { ...ledgerWith([]), seen: () => Promise.reject(stop) },
      metrics: { ...noopMetrics, storeFallback: (op) => fallbacks.push(op) },
      logger: createCapturingLogger(),
    });
    await expect(filtered.process(record)).rejects.toBe(stop);
    expect(fallbacks).toEqual([]);
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

  describe('the reach: only records that can have been delivered are looked up', () => {
    const at = (offset: string, partition = 3): SourceRecord => ({ ...record, offset, partition });
    /** A ledger whose reach is `reach` per partition, counting the store calls. */
    const reaching = (reach: Record<string, bigint>, delivered: string[] = []) => {
      const asked: string[][] = [];
      const reachCalls: string[][] = [];
      let reachNow = { ...reach };
      const ledger: DeliveryLedger = {
        ...ledgerWith(delivered),
        seen: async (keys) => {
          asked.push([...keys]);
          return new Set(keys.filter((k) => delivered.includes(k)));
        },
        reach: async (partitions) => {
          reachCalls.push([...partitions]);
          return new Map(
            partitions.flatMap((p) => (reachNow[p] === undefined ? [] : [[p, reachNow[p]] as const])),
          );
        },
      };
      return {
        ledger,
        asked,
        reachCalls,
        raise: (p: string, o: bigint) => (reachNow = { ...reachNow, [p]: o }),
      };
    };

    it('asks for records at or below the reach and not for those beyond it, reading the reach once', async () => {
      const store = reaching({ 'monolith.public.listings/3': 41n }, [
        'monolith.public.listings/3/41|#support',
      ]);
      const filtered = withDeliveryLedger(pipelineOf(notify), {
        ledger: store.ledger,
        metrics: noopMetrics,
        logger: createCapturingLogger(),
      });
      const outcome = await filtered.process(at('41'));
      expect(outcome.kind === 'notify' && outcome.messages.map((m) => m.channel)).toEqual(['#marketing']);
      for (const offset of ['42', '43', '1000']) expect(await filtered.process(at(offset))).toBe(notify);
      expect(store.asked.map((keys) => keys[0])).toEqual(['monolith.public.listings/3/41|#support']);
      expect(store.reachCalls).toEqual([['monolith.public.listings/3']]);
    });

    it('asks for no record of a partition nothing was ever recorded in', async () => {
      const store = reaching({});
      const filtered = withDeliveryLedger(pipelineOf(notify), {
        ledger: store.ledger,
        metrics: noopMetrics,
        logger: createCapturingLogger(),
      });
      for (const offset of ['0', '1', '2']) expect(await filtered.process(at(offset))).toBe(notify);
      expect(store.asked).toEqual([]);
    });

    it('asks again for a record at or below one it already handled (a partition re-sought)', async () => {
      const store = reaching({});
      const filtered = withDeliveryLedger(pipelineOf(notify), {
        ledger: store.ledger,
        metrics: noopMetrics,
        logger: createCapturingLogger(),
      });
      await filtered.process(at('10'));
      await filtered.process(at('11'));
      await filtered.process(at('11'));
      await filtered.process(at('9'));
      expect(store.asked.map((keys) => keys[0])).toEqual([
        'monolith.public.listings/3/11|#support',
        'monolith.public.listings/3/9|#support',
      ]);
    });

    it('reads the reach again after the membership changed (another replica may have gone further)', async () => {
      const store = reaching({ 'monolith.public.listings/3': 5n });
      const filtered = withDeliveryLedger(pipelineOf(notify), {
        ledger: store.ledger,
        metrics: noopMetrics,
        logger: createCapturingLogger(),
      });
      await filtered.process(at('20'));
      expect(store.asked).toEqual([]);
      store.raise('monolith.public.listings/3', 30n);
      // Through the source: the membership change reaches the filter before the service.
      const heard: string[] = [];
      let handlers: SourceHandlers | undefined;
      const source: RecordSource = {
        start: async (h) => {
          handlers = h;
        },
        pause() {},
        resume() {},
        commit: async () => {},
        stop: async () => {},
      };
      await watchAssignments(source, () => {
        heard.push('filter');
        filtered.forgetReach();
      }).start({
        onBatch: async () => {},
        onAssigned: () => heard.push('service: assigned'),
        onUnassigned: () => heard.push('service: unassigned'),
        onCrash: () => {},
      });
      handlers?.onUnassigned('rebalancing');
      handlers?.onAssigned([{ topic: record.topic, partition: 3 }]);
      expect(heard).toEqual(['filter', 'service: unassigned', 'filter', 'service: assigned']);
      await filtered.process(at('25'));
      expect(store.asked.map((keys) => keys[0])).toEqual(['monolith.public.listings/3/25|#support']);
      expect(store.reachCalls).toHaveLength(2);
    });

    it('looks the record up when the reach cannot be read, and reads it again next time', async () => {
      const store = reaching({});
      let failures = 1;
      const filtered = withDeliveryLedger(pipelineOf(notify), {
        ledger: {
          ...store.ledger,
          reach: (partitions) =>
            failures-- > 0
              ? Promise.reject(new Error('Connection is closed.'))
              : (store.ledger.reach?.(partitions) ?? Promise.resolve(new Map())),
        },
        metrics: noopMetrics,
        logger: createCapturingLogger(),
      });
      await filtered.process(at('1'));
      await filtered.process(at('2'));
      expect(store.asked.map((keys) => keys[0])).toEqual(['monolith.public.listings/3/1|#support']);
      expect(store.reachCalls).toHaveLength(1);
    });
  });
});
