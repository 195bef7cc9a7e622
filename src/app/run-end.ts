/**
 * What a fold run's end (fold-run.ts RunEnd) means for its records, as a Completion: delivered or
 * folded away; dead letters for the records of a digest refused for good (or only a listing's records,
 * when its own lifted message was refused); abandoned when its work was aborted (revoked, shutdown);
 * a stop when delivery failed otherwise. settle.ts then applies the completion.
 */
import type { SourceRecord } from '../domain/record.ts';
import type { FoldRun, RunEnd } from './fold-run.ts';
import { type Completion, deadLetterWithRetry, type RecordWorkDeps } from './record-work.ts';

export async function completeRun(run: FoldRun, end: RunEnd, deps: RecordWorkDeps): Promise<Completion> {
  if (end.kind === 'failed') {
    return run.share.signal.aborted ? { kind: 'abandoned' } : { kind: 'fatal', error: end.error };
  }
  const completion: Completion = { kind: 'finished', delivered: [], deadLettered: [], dropped: [] };
  const { fate, failedListings } = end;
  if (fate.kind === 'delivered') completion.delivered.push(...run.channels);
  if (fate.kind === 'dropped') completion.dropped.push(...run.channels);
  // A refused digest fails every record of the run; a refused message of its own (a listing lifted
  // out of the digest) only that listing's records.
  const failed = (i: number) => {
    if (fate.kind === 'failed') return fate;
    const listingId = run.listingIds[i];
    return listingId === undefined ? undefined : failedListings.get(listingId);
  };
  // The channel the refusal came from, for `dlq redrive` and --reroute (one channel per run).
  const channel = run.channels.length === 1 ? run.channels[0] : undefined;
  const codes = new Set<string>();
  for (let i = 0; i < run.offsets.length; i += 1) {
    const refused = failed(i);
    if (refused === undefined) continue;
    // Coordinates only, as kept for any record folded into a digest (record-work.ts coordinatesOf; a
    // run keeps neither key nor timestamp: redrive reads the record again from its offset).
    const coordinates: SourceRecord = {
      ...run.tp,
      offset: String(run.offsets[i]),
      key: null,
      value: null,
      headers: {},
      timestamp: '',
    };
    const sent = await deadLetterWithRetry(coordinates, refused.error, channel, deps, run.share.signal);
    if (sent !== 'sent') return sent;
    codes.add(refused.error.code);
  }
  for (const code of codes)
    completion.deadLettered.push(channel === undefined ? { code } : { channel, code });
  return completion;
}
