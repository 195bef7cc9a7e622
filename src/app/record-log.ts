/**
 * What the record loop logs and counts when records finish: one "record finished" line per record
 * that waited on its own, one "records finished" line per fold run (its per-record lines at debug),
 * the outcome metric per record. The lines carry coordinates and summaries, never the outcome itself
 * (it holds the whole decoded event).
 */
import { describeError } from '../domain/errors.ts';
import type { Outcome } from '../domain/outcome.ts';
import type { SourceRecord } from '../domain/record.ts';
import type { Logger, Metrics } from '../ports/index.ts';
import type { FoldRun } from './fold-run.ts';
import type { Completion } from './record-work.ts';

/**
 * The metric label of a reason: the pipeline writes reasons as `<class>: <detail>` with a small fixed
 * set of classes; the detail (field names, channels, error text) would make the label unbounded.
 */
export const reasonClass = (reason: string): string => {
  const colon = reason.indexOf(':');
  return (colon < 0 ? reason : reason.slice(0, colon)).trim() || 'unknown';
};

/** What the "record finished" line says of the outcome: not the outcome itself (it holds the event). */
export type Summary = Pick<Outcome, 'kind' | 'reason' | 'listingId'> & { error?: unknown };

export const summaryOf = (outcome: Outcome): Summary => ({
  kind: outcome.kind,
  reason: outcome.reason,
  ...(outcome.listingId === undefined ? {} : { listingId: outcome.listingId }),
  ...(outcome.kind === 'dead-letter' ? { error: outcome.error } : {}),
});

const channelsOf = (completion: Extract<Completion, { kind: 'finished' }>) => ({
  ...(completion.delivered.length > 0 ? { channels: completion.delivered } : {}),
  ...(completion.dropped.length > 0 ? { foldedAway: completion.dropped } : {}),
  ...(completion.deadLettered.length > 0 ? { deadLettered: completion.deadLettered } : {}),
  // In the digest because the listing was past its rules' throttle there (src/delivery/throttle.ts).
  ...(completion.throttled === undefined ? {} : { throttled: completion.throttled }),
});

export function logRecordEnd(
  logger: Logger,
  metrics: Metrics,
  record: Pick<SourceRecord, 'topic' | 'partition' | 'offset'>,
  outcome: Summary,
  completion: Completion,
): void {
  const fields = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    listingId: outcome.listingId,
  };
  if (completion.kind === 'finished') {
    metrics.recordOutcome(outcome.kind, reasonClass(outcome.reason));
    const error = outcome.error === undefined ? undefined : describeError(outcome.error);
    // Drops are most records (noise) and need no action: at debug, a backlog is not a log flood
    // (one line per record cost ~10% of draining one; the outcome metric still counts them).
    const log = outcome.kind === 'dropped' ? logger.debug : logger.info;
    log.call(
      logger,
      {
        ...fields,
        outcome: outcome.kind,
        reason: outcome.reason,
        ...channelsOf(completion),
        ...(error === undefined ? {} : { error }),
      },
      'record finished',
    );
  } else if (completion.kind === 'abandoned') {
    logger.debug({ ...fields, outcome: outcome.kind }, 'record abandoned (will be read again)');
  } else {
    logger.error({ ...fields, error: describeError(completion.error) }, 'record hit a stop error');
  }
}

export function logRunEnd(
  logger: Logger,
  metrics: Metrics,
  run: FoldRun,
  completion: Completion,
  now: number,
): void {
  const records = run.offsets.length;
  const from = String(run.offsets[0]);
  const to = String(run.offsets[records - 1]);
  const fields = { topic: run.tp.topic, partition: run.tp.partition };
  if (completion.kind === 'abandoned') {
    logger.debug(
      { ...fields, fromOffset: from, toOffset: to, records },
      'run abandoned (will be read again)',
    );
    return;
  }
  if (completion.kind === 'fatal') {
    logger.error(
      { ...fields, fromOffset: from, error: describeError(completion.error) },
      'run hit a stop error',
    );
    return;
  }
  for (let i = 0; i < records; i += 1) {
    metrics.recordOutcome('notify', reasonClass(run.reasons[i] ?? ''));
    const ts = run.sourceTsMs[i] ?? Number.NaN;
    if (completion.delivered.length > 0 && !Number.isNaN(ts)) {
      metrics.observeEndToEndLatency(Math.max(0, now - ts) / 1000);
    }
  }
  if (logger.isLevelEnabled?.('debug') ?? false) {
    for (let i = 0; i < records; i += 1) {
      logger.debug(
        {
          ...fields,
          offset: String(run.offsets[i]),
          listingId: run.listingIds[i],
          outcome: 'notify',
          reason: run.reasons[i],
          folded: 'run',
        },
        'record finished',
      );
    }
  }
  // One line for the run: every offset from..to is finished now (the run's records, and the records
  // between them that finished on their own, e.g. noise).
  logger.info(
    { ...fields, fromOffset: from, toOffset: to, records, outcome: 'notify', ...channelsOf(completion) },
    'records finished',
  );
}
