/**
 * Where mutes live (issue 17, item 2): in the service's own process without a shared store
 * (src/adapters/memory-mutes.ts), in Redis with one (src/adapters/redis-mutes.ts), so that a mute set on
 * one replica, from Slack or from the `mute` command, is honoured by every replica. Mutes expire by
 * themselves: nobody has to remove one whose time is up.
 */
import type { Mute, StoredMute } from '../domain/mute.ts';

export interface MuteStore {
  /** The mutes in force at `now` (epoch ms; until > now), with their ids, in no particular order. */
  list(now: number): Promise<StoredMute[]>;
  /** Keeps `mute` until `mute.until` and resolves its id (short, for people to type). */
  add(mute: Mute): Promise<string>;
  /** Ends the mute `id` now; resolves false when there is none (never was, removed, or expired). */
  remove(id: string): Promise<boolean>;
}
