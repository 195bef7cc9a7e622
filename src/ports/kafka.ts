/**
 * Plain shapes the Kafka adapters share with the layers that use them: a partition's log range and a
 * group's offsets (what kafka-replay.ts and kafka-range-reader.ts answer, what src/app/replay.ts plans
 * over), and the secured-connection material (src/config/connections.ts reads it from what the rules
 * file names; kafka-client.ts hands it to kafkajs). They live here so that no adapter imports from
 * config/ or app/.
 */

/** One partition's log range: `low` is the first offset still kept, `high` the next to be written. */
export interface Watermarks {
  partition: number;
  low: string;
  high: string;
}

/** A partition's offset (kafkajs int64 as a string; "-1" for a group without a committed one). */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

/**
 * kafkajs's `ssl` (node:tls connect options) and `sasl` options, ready to pass
 * (https://kafka.js.org/docs/configuration#ssl, #sasl).
 */
export interface KafkaSecurity {
  ssl?: {
    ca?: string[];
    cert?: string;
    key?: string;
    servername?: string;
    rejectUnauthorized: true;
    checkServerIdentity?: () => undefined;
  };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}
