/** The digest's input and output: what the delivery side hands over and gets back. */
import type { Config } from '../../config/index.ts';
import type { ChangeEvent } from '../../domain/change.ts';
import type { SlackPayload } from '../../domain/message.ts';
import type { ChatFile } from '../../ports/index.ts';
import type { Signal } from '../filter.ts';

export interface DigestItem {
  /** One listing's net change in this channel (first before -> last after), already judged significant. */
  event: ChangeEvent;
  /** The signals route() sent to this channel for it. */
  signals: Signal[];
  /** Names of the rules that sent them. */
  rules: string[];
}

export interface DigestInput {
  /** The config's channel key, e.g. "sales-alerts". */
  channelKey: string;
  /** Can be 10,000+: everything here is linear apart from one sort. */
  items: readonly DigestItem[];
  /** First and last source commit time covered (epoch ms). */
  fromMs: number;
  toMs: number;
  config: Config;
  /** true: the complete list as a CSV file; false: as thread replies. */
  upload: boolean;
}

export interface Digest {
  /** The top-level digest message. */
  payload: SlackPayload;
  /** When upload: the CSV (RFC 4180, UTF-8 with a byte order mark). */
  file?: ChatFile;
  /** When !upload: the complete list as thread replies ([] when upload). */
  replies: SlackPayload[];
}
