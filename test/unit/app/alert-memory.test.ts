/**
 * Stock alerts with memory (issue 11): the stateless rule re-announces "low" when stock wobbles around
 * the mark (5 -> 4 low, 4 -> 6 nothing, 6 -> 4 low again); with the last alert remembered per listing,
 * "low" comes again only after "recovered" was announced.
 */
import { describe, expect, it } from 'vitest';
import { withAlertMemory } from '../../../src/app/alert-memory.ts';
import { parseConfig } from '../../../src/config/index.ts';
import type { ChangeEvent } from '../../../src/domain/change.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { diff } from '../../../src/pipeline/diff.ts';
import { significance } from '../../../src/pipeline/filter.ts';
import { decide } from '../../../src/pipeline/index.ts';
import type { AlertEntry, AlertMemory, RecordPipeline } from '../../../src/ports/index.ts';
import { noopMetrics } from '../../../src/ports/index.ts';
import { makeUpdate } from '../../support/events.ts';
import { createCapturingLogger } from '../../support/fakes.ts';

// Default fields: stock low below 5, recovered at 5 + 3 = 8.
const config = parseConfig('', 'alert-memory-test');
const stock = (before: number, after: number, id = 7): ChangeEvent =>
  makeUpdate(
    { prod_stk_qty: after },
    { prod_stk_qty: before },
    { listingId: String(id), key: { lst_id: id } },
  );

const recordAt = (offset: number): SourceRecord => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: null,
  value: null,
  headers: {},
  timestamp: '0',
});
const record = recordAt(1);

/** A pipeline that decides the next event of `events` statelessly, as createPipeline does. */
function pipelineOver(events: ChangeEvent[]): RecordPipeline {
  return { process: async () => decide(events.shift() as ChangeEvent, config) };
}

function memoryMap(): AlertMemory & { map: Map<string, Record<string, AlertEntry>> } {
  const map = new Map<string, Record<string, AlertEntry>>();
  return { map, get: async (id) => map.get(id), set: async (id, v) => void map.set(id, v) };
}

const conditions = (o: Outcome): string => (o.kind === 'notify' ? o.reason : `dropped (${o.reason})`);

describe('significance with remembered alerts', () => {
  it('the stateless rule announces every crossing; remembered "low" silences the next one', () => {
    const wobble = stock(6, 4);
    const stateless = significance(wobble, diff(wobble), config);
    expect(stateless.significant && stateless.signals.map((s) => s.condition)).toEqual(['low']);
    const remembered = significance(wobble, diff(wobble), config, { stock: 'low' });
    expect(remembered).toEqual({
      significant: false,
      reason: 'insignificant: Stock low was announced already; not again until recovered',
    });
    const afterRecovery = significance(wobble, diff(wobble), config, { stock: 'recovered' });
    expect(afterRecovery.significant).toBe(true);
  });
});

describe('withAlertMemory', () => {
  it('5 -> 4 low, 4 -> 6 nothing, 6 -> 4 nothing, 4 -> 9 recovered, 9 -> 3 low again', async () => {
    const events = [stock(5, 4), stock(4, 6), stock(6, 4), stock(4, 9), stock(9, 3)];
    const memory = memoryMap();
    const pipeline = withAlertMemory(pipelineOver(events), {
      memory,
      config: () => config,
      metrics: noopMetrics,
      logger: createCapturingLogger(),
    });
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) seen.push(conditions(await pipeline.process(recordAt(i))));
    expect(seen.map((s) => s.startsWith('notify'))).toEqual([true, false, false, true, true]);
    expect(seen[2]).toContain('announced already');
    expect(memory.map.get('7')).toEqual({ stock: { last: 'low', prev: 'recovered', by: 't/0/4' } });
  });

  it('a record read again (crash before its alert went out) is decided as the first time', async () => {
    const memory = memoryMap();
    const pipeline = withAlertMemory(pipelineOver([stock(9, 3), stock(9, 3), stock(6, 4)]), {
      memory,
      config: () => config,
      metrics: noopMetrics,
      logger: createCapturingLogger(),
    });
    expect((await pipeline.process(recordAt(10))).kind).toBe('notify');
    expect((await pipeline.process(recordAt(10))).kind).toBe('notify'); // the same record again
    expect((await pipeline.process(recordAt(11))).kind).toBe('dropped'); // a later one: already low
  });

  it('decides from the change alone when the store cannot answer, and says so', async () => {
    const fallbacks: string[] = [];
    const pipeline = withAlertMemory(pipelineOver([stock(6, 4)]), {
      memory: { get: () => Promise.reject(new Error('Connection is closed.')), set: async () => {} },
      config: () => config,
      metrics: { ...noopMetrics, storeFallback: (op) => fallbacks.push(op) },
      logger: createCapturingLogger(),
    });
    expect((await pipeline.process(record)).kind).toBe('notify');
    expect(fallbacks).toEqual(['alerts']);
  });

  it('degrades only where the error table says degrade: a coded stop from the store is thrown on', async () => {
    const stop = new NotifierError('CONFIG_INVALID', 'store.keyPrefix refused');
    const pipeline = withAlertMemory(pipelineOver([stock(6, 4)]), {
      memory: { get: () => Promise.reject(stop), set: async () => {} },
      config: () => config,
      metrics: noopMetrics,
      logger: createCapturingLogger(),
    });
    await expect(pipeline.process(record)).rejects.toBe(stop);
  });
});
