/**
 * Mutes in this process (src/ports/mutes.ts): the store when there is no shared one (store.url null,
 * one replica). Expired mutes are never listed and are forgotten on the next add or list, so the map
 * holds no more than the mutes in force plus those that ended since.
 */
import { randomBytes } from 'node:crypto';
import type { StoredMute } from '../domain/mute.ts';
import type { Clock } from '../ports/index.ts';
import type { MuteStore } from '../ports/mutes.ts';

/** Eight characters of base64url (48 random bits): short to type, and no two alike in practice. */
export const newMuteId = (): string => randomBytes(6).toString('base64url');

export interface MemoryMuteStoreOptions {
  /** Whose now an add forgets ended mutes by. */
  clock: Clock;
  /** The ids of new mutes; default newMuteId. */
  ids?: () => string;
}

export function createMemoryMuteStore(o: MemoryMuteStoreOptions): MuteStore {
  const ids = o.ids ?? newMuteId;
  const kept = new Map<string, StoredMute>();
  const forget = (now: number): void => {
    for (const [id, m] of kept) if (m.until <= now) kept.delete(id);
  };
  return {
    async list(now) {
      forget(now);
      return [...kept.values()].map((m) => ({ ...m }));
    },
    async add(mute) {
      forget(o.clock.now());
      let id = ids();
      while (kept.has(id)) id = ids();
      kept.set(id, { ...mute, id });
      return id;
    },
    async remove(id) {
      const m = kept.get(id);
      kept.delete(id);
      return m !== undefined && m.until > o.clock.now();
    },
  };
}
