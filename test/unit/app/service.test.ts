import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createPromMetrics } from '../../../src/adapters/prom-metrics.ts';
import { startService } from '../../../src/app/service.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import { createFakeDeadLetter } from '../../support/fake-dead-letter.ts';
import { createFakeSource } from '../../support/fake-source.ts';
import {
  createCapturingLogger,
  createManualClock,
  createManualDeliverer,
  createScriptedPipeline,
  loopTestRetryPolicy,
  script,
  settled,
} from '../../support/fakes.ts';

async function setup() {
  const source = createFakeSource();
  const deliverer = createManualDeliverer();
  const logger = createCapturingLogger();
  const metrics = createPromMetrics(new Registry());
  const closed: string[] = [];
  const service = await startService({
    source,
    pipeline: createScriptedPipeline(),
    deliverer,
    deadLetter: createFakeDeadLetter(),
    clock: createManualClock(),
    logger,
    metrics,
    metricsText: metrics.registry,
    limits: { maxInFlightRecords: 10, maxInFlightBytes: 1 << 30, maxFoldedRecords: 1000 },
    maxQueuedPerChannel: 10,
    retry: loopTestRetryPolicy,
    shutdownDeadlineMs: 25_000,
    http: { host: '127.0.0.1', port: 0 },
    closers: [
      async () => {
        closed.push('dead-letter');
      },
    ],
  });
  return { source, deliverer, logger, service, closed };
}

describe('service', () => {
  it('serves readiness once joined, and stops gracefully: drain, commit, leave, close, exit 0', async () => {
    const t = await setup();
    const ready = await fetch(`${t.service.httpUrl}/readyz`);
    expect(ready.status).toBe(200);

    t.source.produce(0, script({ kind: 'notify', channels: ['#deals'] }));
    await t.source.poll();
    await settled(() => t.deliverer.pending('#deals') === 1, "the record's message handed to the deliverer");
    const stopping = t.service.stop('SIGTERM');
    await settled(
      () => t.logger.lines.some((l) => l.msg === 'draining in-flight records'),
      'the stop draining the in-flight record',
    );
    t.deliverer.complete('#deals');
    await expect(stopping).resolves.toBe(0);
    await expect(t.service.done).resolves.toBe(0);
    expect(t.source.committed(0)).toBe('1');
    expect(t.source.stopped).toBe(true);
    expect(t.closed).toEqual(['dead-letter']);
    await expect(fetch(`${t.service.httpUrl}/healthz`)).rejects.toThrow();
  });

  it('stops with exit code 1 on a stop error, committing only finished records, and says why', async () => {
    const t = await setup();
    t.source.produce(0, script({ kind: 'dropped' }));
    t.source.produce(0, script({ kind: 'notify', channels: ['#deals'] }));
    await t.source.poll();
    await settled(
      () => t.deliverer.pending('#deals') === 1,
      "the notify record's message handed to the deliverer",
    );
    t.deliverer.complete('#deals', {
      reject: new NotifierError('SLACK_AUTH', 'Slack rejected the bot token (token_revoked)'),
    });
    await expect(t.service.done).resolves.toBe(1);
    expect(t.source.committed(0)).toBe('1');
    expect(t.source.stopped).toBe(true);
    const line = t.logger.lines.find((l) => l.level === 'error' && l.msg?.startsWith('stopping:'));
    expect(line?.msg).toBe('stopping: Slack rejected the bot token (token_revoked)');
  });
});
