/**
 * Issue 19: no record can stop the service. Generated hostile records (test/support/hostile.ts: every
 * Connect type, jsonb thousands deep, huge arrays, mutated schemas, non-JSON) through the pipeline: it
 * always resolves with an outcome (never throws), a dead letter always carries a code, and whenever
 * the noise fast path answers, its answer is the full path's. The same records go through the real
 * service in test/integration/service/hostile.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { errorDispositions } from '../../../src/domain/errors.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { createPipeline, decideDecoded, decimalColumnsOf } from '../../../src/pipeline/index.ts';
import { dropNoise } from '../../../src/pipeline/noise.ts';
import { hostileRecord } from '../../support/hostile.ts';

const defaults = parseConfig('', 'defaults');
const pipeline = createPipeline(defaults);

const asRecord = (r: { key: Buffer | null; value: Buffer | null }, offset: number): SourceRecord => ({
  topic: 'monolith.public.listings',
  partition: 0,
  offset: String(offset),
  key: r.key,
  value: r.value,
  headers: {},
  timestamp: '1795873507500',
});

describe('hostile records through the pipeline (issue 19)', () => {
  it('always end in an outcome: dropped, notify, or a dead letter with a dead-letter code', async () => {
    let offset = 0;
    const kinds = new Set<string>();
    await fc.assert(
      fc.asyncProperty(hostileRecord(815_001), async (hostile) => {
        const record = asRecord(hostile, offset++);
        const outcome = await pipeline.process(record);
        expect(['dropped', 'notify', 'dead-letter'], hostile.kind).toContain(outcome.kind);
        kinds.add(outcome.kind);
        if (outcome.kind === 'dead-letter') expect(errorDispositions[outcome.error.code]).toBe('dead-letter');
      }),
      { numRuns: 300 },
    );
    // The generator reaches every outcome (else the property says little).
    expect([...kinds].sort()).toEqual(['dead-letter', 'dropped', 'notify']);
  });

  it('when the noise fast path answers, it answers as the full path does', () => {
    const decimals = decimalColumnsOf(defaults);
    let answered = 0;
    fc.assert(
      fc.property(hostileRecord(815_002), (hostile) => {
        const record = asRecord(hostile, 0);
        let quick: ReturnType<typeof dropNoise>;
        try {
          quick = dropNoise(record, defaults, decimals);
        } catch {
          return; // decideRecord falls through to the full path (tested in noise.test.ts)
        }
        if (quick === undefined) return;
        answered += 1;
        expect(quick, hostile.kind).toStrictEqual(decideDecoded(record, {}, defaults));
      }),
      { numRuns: 300 },
    );
    // The generator reaches the fast path often enough for the property to say something.
    expect(answered).toBeGreaterThan(10);
  });
});
