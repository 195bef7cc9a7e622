/**
 * The pipeline behind the quarantine: a record the source knows to kill the process (POISON_RECORD,
 * src/delivery/quarantine.ts) is dead-lettered without being decoded; every other record goes through.
 * Outermost wrapper, so that nothing reads the record's bytes first.
 */
import type { NotifierError } from '../domain/errors.ts';
import type { TopicPartition } from '../domain/record.ts';
import type { RecordPipeline } from '../ports/index.ts';

export type QuarantineLookup = (record: TopicPartition & { offset: string }) => NotifierError | undefined;

export function withQuarantine(pipeline: RecordPipeline, quarantined: QuarantineLookup): RecordPipeline {
  return {
    process(record) {
      const error = quarantined(record);
      if (error === undefined) return pipeline.process(record);
      return Promise.resolve({ kind: 'dead-letter', reason: `${error.code}: ${error.message}`, error });
    },
  };
}
