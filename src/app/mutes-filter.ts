/**
 * Mutes at the pipeline's edge (issue 17, item 2): a message whose listing, or every one of whose
 * rules, is muted (src/domain/mute.ts muteFor) is left out; a record with nothing left to say is
 * 'dropped' with the reason "muted: by @user until ..." (its offset commits, as any drop does).
 *
 * Muted changes are dropped, not folded into a digest: a mute is a person saying "stop telling us
 * about this for a while", and a digest line in the same channel would still tell them. `explain`
 * and the log line name the mute, so a muted change is never silently lost.
 */
import { type Mute, muteFor, muteReason } from '../domain/mute.ts';
import { leavingOut, type Outcome } from '../domain/outcome.ts';
import type { Clock, RecordPipeline } from '../ports/index.ts';

export interface MutesFilterOptions {
  /** The mutes in force (mute-watch.ts current). */
  mutes: () => readonly Mute[];
  clock: Clock;
}

export function withMutes(pipeline: RecordPipeline, o: MutesFilterOptions): RecordPipeline {
  /** The outcome with the messages `mutes` silence left out. */
  const apply = (outcome: Outcome, mutes: readonly Mute[]): Outcome => {
    if (outcome.kind !== 'notify' || outcome.messages.length === 0) return outcome;
    const now = o.clock.now();
    const muted: Array<{ channel: string; mute: Mute }> = [];
    const left = outcome.messages.filter((m) => {
      const channel = m.channelKey ?? m.channel;
      const mute = muteFor(
        mutes,
        {
          ...(outcome.listingId === undefined ? {} : { listingId: outcome.listingId }),
          ...(m.rules === undefined ? {} : { rule: m.rules }),
          channel,
        },
        now,
      );
      if (mute !== undefined) muted.push({ channel, mute });
      return mute === undefined;
    });
    const [first] = muted;
    if (first === undefined) return outcome;
    const where = muted.map((m) => `${m.channel} ${muteReason(m.mute)}`).join('; ');
    return leavingOut(outcome, left, muteReason(first.mute), `left out: ${where}`);
  };
  return {
    process(record) {
      // Most of the time nothing is muted: then the record's path gains no step (no extra promise).
      const mutes = o.mutes();
      const decided = pipeline.process(record);
      return mutes.length === 0 ? decided : decided.then((outcome) => apply(outcome, mutes));
    },
  };
}
