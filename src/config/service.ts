/**
 * The service sections of the rules file (Kafka source, Slack, delivery pacing, HTTP), read by the
 * `run` command; the pipeline itself does not use them. Every option documents its default.
 */
import { z } from 'zod';

/**
 * kafkajs fetch sizing (https://kafka.js.org/docs/consuming#options). Memory while draining a backlog
 * follows from these, not from the backlog: a fetch response is held whole while its records are
 * handled (kafkajs hands out record values as views of it), so the process holds about
 * partitionsConsumedConcurrently batches of at most maxBytesPerPartition each, within one response of
 * at most maxBytes, plus what delivery.maxInFlightBytes lets wait for Slack (copied out of the fetch).
 * A record larger than maxBytesPerPartition is still fetched whole (Kafka returns at least one batch).
 */
export const fetchSchema = z
  .strictObject({
    maxBytes: z
      .int()
      .min(1024)
      .default(4 * 1024 * 1024)
      .describe('Most bytes one fetch response may carry over all partitions. Default: 4194304 (4 MiB).'),
    maxBytesPerPartition: z
      .int()
      .min(1024)
      .default(768 * 1024)
      .describe('Most bytes per partition in one fetch response. Default: 786432 (768 KiB).'),
    partitionsConsumedConcurrently: z
      .int()
      .min(1)
      .default(4)
      .describe(
        'Partitions handled at once (each in order). More uses more cores only where there are several ' +
          'partitions, and holds more fetched batches. Default: 4.',
      ),
    maxWaitTimeMs: z
      .int()
      .min(0)
      .default(1000)
      .describe(
        'How long the broker holds a fetch that has no records yet (a new record ends the wait at once). Default: 1000.',
      ),
  })
  .prefault({})
  .describe('Fetch sizing: bounds the memory a backlog can take.');

/**
 * Quarantine of a record that kills the process (issue 19; src/delivery/quarantine.ts): the count of
 * deaths lives in the committed offset's metadata, shared by every replica.
 */
export const poisonSchema = z
  .strictObject({
    maxAttempts: z
      .int()
      // At least 2: the first death shows that a partition kills the process, the last one (its records
      // handed out one at a time) which record.
      .min(2)
      .max(100)
      .default(3)
      .describe(
        'Times the process may die at the same committed offset (OOM, a crash no try/catch sees) before the ' +
          'record that kills it is dead-lettered as POISON_RECORD: the first maxAttempts - 1 runs consume ' +
          'normally, the last hands records to the pipeline one at a time to find it (so at least 2). Default: 3.',
      ),
    probeRecords: z
      .int()
      .min(1)
      .default(1000)
      .describe(
        'In that last run, how many records are handed out one at a time before it gives up looking (the ' +
          'count starts over): a run holds at most delivery.maxInFlightRecords records unfinished, so the ' +
          'killer is among them unless digests folded more. Default: 1000.',
      ),
  })
  .prefault({})
  .describe('Records that kill the process: counted across restarts and replicas, then dead-lettered.');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
const filePath = z.string().min(1);

/**
 * Where a password lives: an environment variable or a file (a mounted Kubernetes Secret), exactly
 * one of them. The password itself never sits in the rules file.
 */
const passwordRef = {
  passwordEnv: envName
    .optional()
    .describe('Env var holding the password. Give this or passwordFile. Default: none.'),
  passwordFile: filePath
    .optional()
    .describe(
      'File holding the password (e.g. a mounted Secret); one trailing newline is ignored. Default: none.',
    ),
};
/** A section's password reference as parsed (sasl, registryAuth, store): from the schema, not restated. */
export type PasswordRef = z.output<z.ZodObject<typeof passwordRef>>;
const onePassword = (v: PasswordRef): boolean =>
  (v.passwordEnv === undefined) !== (v.passwordFile === undefined);
const onePasswordMessage =
  'expected exactly one of passwordEnv or passwordFile (the password itself is never read from this file)';

export const tlsSchema = z
  .strictObject({
    caFile: filePath
      .nullable()
      .default(null)
      .describe(
        "PEM file with the CA certificate(s) that signed the brokers' certificates. Default: null (Node's built-in public CAs).",
      ),
    certFile: filePath
      .nullable()
      .default(null)
      .describe('Client certificate (PEM) for mutual TLS; give keyFile too. Default: null (none).'),
    keyFile: filePath
      .nullable()
      .default(null)
      .describe(
        "The client certificate's private key (PEM, unencrypted; mount it from a Secret). Default: null.",
      ),
    serverName: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        "Name the brokers' certificates must carry (also sent as SNI). Default: null (each broker's own host name).",
      ),
    checkServerName: z
      .boolean()
      .default(true)
      .describe(
        "Check that a broker's certificate names the host connected to. Default: true. false still verifies the chain against caFile.",
      ),
  })
  .refine((v) => (v.certFile === null) === (v.keyFile === null), {
    message: 'expected certFile and keyFile together (mutual TLS needs both) or neither',
  })
  .describe('TLS to the brokers (the SSL and SASL_SSL security protocols).');

export const saslSchema = z
  .strictObject({
    mechanism: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
      .describe('SASL mechanism. PLAIN sends the password as is: use it only with tls.'),
    username: z.string().min(1).describe('SASL user name (for Confluent Cloud: the API key).'),
    ...passwordRef,
  })
  .refine(onePassword, { message: onePasswordMessage })
  .describe('SASL authentication to the brokers (SASL_SSL with tls, SASL_PLAINTEXT without).');

export const registryAuthSchema = z
  .strictObject({
    username: z.string().min(1).describe('Basic auth user name (for Confluent Cloud: the API key).'),
    ...passwordRef,
  })
  .refine(onePassword, { message: onePasswordMessage })
  .describe('HTTP basic auth to the schema registry.');

export const sourceSchema = z
  .strictObject({
    brokers: z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'))
      .min(1)
      .default(['127.0.0.1:9092'])
      .describe(
        'Kafka bootstrap brokers (host:port). Env KAFKA_BROKERS (comma-separated) overrides. Default: ["127.0.0.1:9092"].',
      ),
    topics: z
      .array(z.string().min(1))
      .min(1)
      .default(['monolith.public.listings'])
      .describe('Debezium topics to read. Default: ["monolith.public.listings"].'),
    groupId: z
      .string()
      .min(1)
      .default('listing-notifier')
      .describe('Consumer group. Default: "listing-notifier".'),
    clientId: z
      .string()
      .min(1)
      .default('listing-notifier')
      .describe('Kafka client id. Default: "listing-notifier".'),
    sessionTimeoutMs: z
      .int()
      // The broker refuses a session outside group.min/max.session.timeout.ms (6 s and 30 min by default).
      .min(6000)
      .max(1_800_000)
      .default(30_000)
      .describe(
        'How long the group coordinator waits for a silent member (kafkajs sessionTimeout) before it hands ' +
          "the member's partitions to the others: after a replica is killed (OOM, SIGKILL, a lost node) its " +
          'partitions wait this long. Heartbeats go every 3 s, so keep it at 10 s or more. Default: 30000.',
      ),
    deadLetterTopic: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('Where records that cannot be processed go. Default: null ("<topic>.dlq").'),
    tls: tlsSchema
      .nullable()
      .default(null)
      .describe('TLS to the brokers; `tls: {}` trusts the built-in public CAs. Default: null (plaintext).'),
    sasl: saslSchema.nullable().default(null).describe('SASL authentication. Default: null (none).'),
    registryUrl: z
      .url({ protocol: /^https?$/ })
      .refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), {
        message: 'expected no user:password in the URL (use registryAuth with passwordEnv or passwordFile)',
      })
      .nullable()
      .default(null)
      .describe(
        'Confluent-compatible schema registry for framed Avro/JSON Schema/Protobuf (http or https). Default: null (JSON only).',
      ),
    fetch: fetchSchema,
    poison: poisonSchema,

    registryAuth: registryAuthSchema
      .nullable()
      .default(null)
      .describe('Basic auth for registryUrl. Default: null (none).'),
    registryCaFile: filePath
      .nullable()
      .default(null)
      .describe(
        "PEM file with the CA(s) of an https registryUrl's certificate. Default: null (Node's built-in public CAs).",
      ),
    columns: z
      .record(
        z.string().min(1),
        z.record(
          z.string().min(1).max(128),
          z
            .string()
            .min(1)
            .max(128)
            .describe('The column name the rules use (fields.*.column, listing.titleColumn, …).'),
        ),
      )
      .default({})
      .describe(
        "Per topic: the topic's column -> the column name the rules use, so one rules file serves sources whose " +
          'tables name columns differently (e.g. { "monolith-mariadb.monolith.listings": { stk_qty: prod_stk_qty } }). ' +
          'Unlisted columns keep their names. Default: {} (every topic uses the names the rules use).',
      ),
  })
  .superRefine((source, ctx) => {
    for (const [topic, columns] of Object.entries(source.columns)) {
      if (!source.topics.includes(topic)) {
        ctx.addIssue({
          code: 'custom',
          path: ['columns', topic],
          message: `not one of source.topics (${source.topics.join(', ')})`,
          input: topic,
        });
      }
      const seen = new Map<string, string>();
      for (const [column, target] of Object.entries(columns)) {
        const other = seen.get(target);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['columns', topic, column],
            message: `${other} is mapped to ${target} already`,
            input: target,
          });
        }
        seen.set(target, column);
      }
    }
  })
  .prefault({})
  .describe('Kafka.');

export const slackSchema = z
  .strictObject({
    apiUrl: z
      .url({ protocol: /^https?$/ })
      .default('https://slack.com/api/')
      .describe('Slack Web API base URL. Env SLACK_API_URL overrides. Default: "https://slack.com/api/".'),
    tokenEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .default('SLACK_BOT_TOKEN')
      .describe(
        'Name of the env var holding the bot token; the token never sits in this file. Default: "SLACK_BOT_TOKEN".',
      ),
    // Issue 17's interactivity endpoint verifies X-Slack-Signature with it
    // (https://docs.slack.dev/authentication/verifying-requests-from-slack); read by
    // src/config/connections.ts (Connections.slack), never part of Config, masked in logs.
    signingSecretEnv: envName
      .optional()
      .describe(
        "Env var holding the Slack app's signing secret (Basic Information, App Credentials), which " +
          'verifies the requests Slack sends to the interactivity endpoint. Give this or signingSecretFile ' +
          'to accept them; neither leaves interactivity off. Default: none.',
      ),
    signingSecretFile: filePath
      .optional()
      .describe(
        "File holding the Slack app's signing secret (e.g. a mounted Secret); surrounding whitespace is " +
          'ignored. Give this or signingSecretEnv. Default: none.',
      ),
  })
  .refine((v) => v.signingSecretEnv === undefined || v.signingSecretFile === undefined, {
    message: 'expected at most one of signingSecretEnv or signingSecretFile',
    path: ['signingSecretEnv'],
  })
  .prefault({})
  .describe('Slack.');

const rate = (intervalMs: number, cap: number, what: string) =>
  z
    .strictObject({
      intervalMs: z.int().min(1).default(intervalMs).describe(`Window length. Default: ${intervalMs}.`),
      cap: z.int().min(1).default(cap).describe(`Messages per window. Default: ${cap}.`),
    })
    .prefault({})
    .describe(what);

const completeList = z
  .enum(['file', 'thread'])
  .describe(
    "A digest's complete list: a CSV file shared in the digest's thread (Slack's external upload flow), " +
      'or thread replies under the digest.',
  );

export const floodSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Flood control. false: one message per change, first in first out per channel, no coalescing, no ' +
          'digests, no priorities. Default: true.',
      ),
    budgetMs: z
      .int()
      .min(1)
      .default(10_000)
      .describe(
        "A channel's pending messages may take this long at its pace (10 s at 1/s: 10 messages, one of " +
          'them kept for the digest); past it, normal changes go into a digest. Default: 10000.',
      ),
    digestQuietMs: z
      .int()
      .min(1)
      .default(2_000)
      .describe(
        'A digest goes out once no change joined it for this long (a bulk change streams in over ' +
          'seconds: one digest for it, not one per beat). Default: 2000.',
      ),
    digestWindowMs: z
      .int()
      .min(1)
      .default(30_000)
      .describe(
        '...or this long after its first change at the latest (a flood that never pauses). Default: 30000.',
      ),
    maxDigestItems: z
      .int()
      .min(1)
      .default(12_000)
      .describe(
        'A digest is sent early when it holds this many listings (memory bound); the next one collecting ' +
          "meanwhile goes out as its next part, in the first part's thread. Half of maxFoldedRecords, so one " +
          'part collects while the one before it is sent. Default: 12000.',
      ),
    maxFoldedRecords: z
      .int()
      .min(1)
      .default(24_000)
      .describe(
        'Backpressure: fetching pauses above this many records waiting in digests. Consecutive records of ' +
          'a partition folded into the same digest wait as one fold run (one commit entry, one share), each ' +
          'holding its changed columns and a few numbers, not its bytes: about 1.1 kB of heap per record in ' +
          'bench/fold-memory.ts (3.2 kB before runs); at 24000 the 256Mi Deployment stays near 230 MB of its ' +
          'cgroup in bench/burst.ts at 100,000 and 1,000,000 rows. Default: 24000.',
      ),
    coalesce: z
      .boolean()
      .default(true)
      .describe(
        'A listing that changes again before its message in a channel was sent: one message with the net ' +
          'change (first before -> last after). Default: true.',
      ),
    netZero: z
      .enum(['drop', 'keep'])
      .default('drop')
      .describe(
        'A coalesced change back to where it started (19.99 -> 17.99 -> 19.99): "drop" the pending ' +
          'message (nothing changed, nothing is said), or "keep" both messages. Default: "drop".',
      ),
    completeList: completeList.default('file').describe(`${completeList.description} Default: "file".`),
    channels: z
      .record(
        z.string().min(1),
        z.strictObject({
          completeList: completeList
            .optional()
            .describe(`${completeList.description} Default: flood.completeList.`),
        }),
      )
      .default({})
      .describe(
        'Per channel key: overrides of completeList, e.g. { marketing-updates: { completeList: thread } }. Default: {}.',
      ),
  })
  .prefault({})
  .describe('Flood control: bulk changes never bury urgent ones and never flood a channel.');

export const deliverySchema = z
  .strictObject({
    perChannel: rate(1000, 1, 'Per-channel pace (Slack: about 1 message per second per channel).'),
    burst: z
      .int()
      .min(1)
      .default(3)
      .describe('Short bursts allowed per channel (tokens refilling at perChannel pace). Default: 3.'),
    workspace: rate(1000, 20, 'Workspace-wide cap.'),
    maxQueuedPerChannel: z.int().min(1).default(200).describe('Messages waiting per channel. Default: 200.'),
    maxInFlightRecords: z
      .int()
      .min(1)
      .default(1000)
      .describe(
        'Backpressure: fetching pauses above this many records in flight holding their bytes (records ' +
          'folded into digests hold only coordinates and count under flood.maxFoldedRecords). Default: 1000.',
      ),
    maxInFlightBytes: z
      .int()
      .min(1)
      .default(32 * 1024 * 1024)
      .describe(
        'Backpressure: fetching pauses above this many record bytes in flight. Default: 33554432 (32 MiB).',
      ),
    flood: floodSchema,
    threads: z
      .strictObject({
        channels: z
          .array(z.string().min(1))
          .default([])
          .describe(
            "Channel keys where a listing's follow-up changes within windowMs reply in the thread of its " +
              'first message there, so the channel shows one line per listing with its history underneath. ' +
              'Anchors live in the store (in memory without one). Digests are never threaded. Default: [] (none).',
          ),
        windowMs: z
          .int()
          .min(1)
          .default(86_400_000)
          .describe(
            "How long after a listing's first message its changes reply in its thread. Default: 86400000 (24 h).",
          ),
      })
      .prefault({})
      .describe('Thread per listing, per channel (optional).'),
    updates: z
      .strictObject({
        channels: z
          .array(z.string().min(1))
          .default([])
          .describe(
            "Channel keys (Slack channels) where a listing's next message within windowMs edits its earlier " +
              'message in place (chat.update: "~Stock is low: 3 left~", then what changed since), unless its ' +
              'rule says update: new. Rules can also opt in one by one (rules[].update). Messages are never ' +
              'edited elsewhere (Teams, webhooks) or in digests. Default: [] (none).',
          ),
        windowMs: z
          .int()
          .min(1)
          .default(86_400_000)
          .describe(
            "How long after a listing's message its changes edit it rather than post a new one. Default: " +
              '86400000 (24 h).',
          ),
        pace: z
          .strictObject({
            cap: z.int().min(1).default(50).describe('Default: 50.'),
            intervalMs: z.int().min(1).default(60_000).describe('Default: 60000.'),
            burst: z.int().min(1).default(10).describe('Default: 10.'),
          })
          .prefault({})
          .describe(
            "chat.update's own gate, workspace-wide and shared by the replicas through the store (Slack: a " +
              'Tier 3 method, about 50 calls a minute). Default: 50 per 60000 ms, bursts of 10.',
          ),
      })
      .prefault({})
      .describe('Update in place, per channel or per rule (optional; off by default).'),
    retry: z
      .strictObject({
        minDelayMs: z.int().min(0).default(500).describe('Default: 500.'),
        maxDelayMs: z.int().min(0).default(30000).describe('Default: 30000.'),
        factor: z.number().min(1).default(2).describe('Default: 2.'),
        jitter: z
          .number()
          .min(0)
          .max(1)
          .default(0.2)
          .describe('Fraction of the delay randomised. Default: 0.2.'),
      })
      .prefault({})
      .describe('Backoff for transient failures.'),
    shutdownDeadlineMs: z
      .int()
      .min(0)
      .default(25000)
      .describe('On SIGTERM, time to finish in-flight deliveries. Default: 25000.'),
  })
  .prefault({})
  .describe('Delivery to Slack: rate limits, backpressure, retries.');

export const httpSchema = z
  .strictObject({
    host: z.string().min(1).default('0.0.0.0').describe('Default: "0.0.0.0".'),
    port: z.int().min(0).max(65535).default(9464).describe('Default: 9464.'),
  })
  .prefault({})
  .describe('/healthz, /readyz and /metrics.');

export const storeSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port[/db] or rediss://...')
      .nullable()
      .default(null)
      .describe(
        'The shared store (Redis) that replicas pace against together and keep the delivery ledger and ' +
          'thread anchors in. null: embedded, in this process (right for one replica). Default: null.',
      ),
    keyPrefix: z
      .string()
      .min(1)
      .default('listing-notifier')
      .describe('Prefix of every key in the store. Default: "listing-notifier".'),
    expectedReplicas: z
      .int()
      .min(1)
      .default(1)
      .describe(
        'Replicas expected to run. While the store cannot be reached, each replica paces on its local ' +
          'share: every channel and the workspace at pace / expectedReplicas, no burst. Default: 1.',
      ),
    alertMemory: z
      .boolean()
      .default(true)
      .describe(
        'With a store: keep the last stock alert per listing, so "low" is not announced again until ' +
          '"recovered" was (fields.*.hysteresis tells the stateless rule used without one). Default: true.',
      ),
    ledger: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Record every (record, channel) a message carried once Slack accepted it, and skip those ' +
              'when a record is read again (crash, rebalance), so nobody sees a message twice. Default: true.',
          ),
        retentionMs: z
          .int()
          .min(1)
          .default(7 * 24 * 3600 * 1000)
          .describe(
            "How long entries are kept: at least the topic's retention.ms (Kafka's default, 7 days). " +
              'Default: 604800000.',
          ),
        maxMemoryBytes: z
          .int()
          .min(1024)
          .default(16 * 1024 * 1024)
          .describe(
            'Without a store: the in-memory ledger keeps at most about this many bytes, the oldest ' +
              'entries going first (about 250 bytes an entry: the default holds some 64,000). Default: 16777216 (16 MiB).',
          ),
      })
      .prefault({})
      .describe('The delivery ledger (in the store; in memory without one).'),
    passwordEnv: envName
      .optional()
      .describe(
        'Env var holding the Redis password (AUTH; with a user in store.url, that ACL user). Give this, ' +
          'passwordFile, or neither (no password, or one inline in store.url). Default: none.',
      ),
    passwordFile: filePath
      .optional()
      .describe(
        'File holding the Redis password (e.g. a mounted Secret); one trailing newline is ignored. Default: none.',
      ),
    lastValues: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            "Keep the last values of the watched columns per listing and take an update's before image " +
              'from them when Debezium sends none (REPLICA IDENTITY DEFAULT, binlog_row_image=MINIMAL, ' +
              'unchanged TOAST), so it still reads "from X to Y". With FULL the values are written but ' +
              'never read (false saves the writes). Default: true.',
          ),
        ttlMs: z
          .int()
          .min(1)
          .default(30 * 24 * 3600 * 1000)
          .describe(
            "How long a listing's values are kept after its last change; an older listing falls back to " +
              '"previous unknown" once (then it is known again). Default: 2592000000 (30 days).',
          ),
        maxBytes: z
          .int()
          .min(1024)
          .default(16 * 1024 * 1024)
          .describe(
            'Without a store (store.url null): the bound on the in-process values, least recently used ' +
              'listings dropped first (about 460 bytes per listing with the default rules, 660 with a 200-character ' +
              'description: bench/last-values-memory.ts; 16 MiB holds about 25,000 to 36,000 listings and fits the ' +
              '256Mi Deployment beside a 100,000-row bulk; a larger catalogue without REPLICA IDENTITY FULL wants ' +
              'store.url). Default: 16777216 (16 MiB).',
          ),
      })
      .prefault({})
      .describe('Last known values per listing, for changes without a before image (issue 18).'),
  })
  .refine((v) => v.passwordEnv === undefined || v.passwordFile === undefined, {
    message: 'expected at most one of passwordEnv or passwordFile',
    path: ['passwordEnv'],
  })
  .refine(
    (v) =>
      (v.passwordEnv === undefined && v.passwordFile === undefined) ||
      v.url === null ||
      !/^rediss?:\/\/[^/@]*:[^/@]*@/.test(v.url),
    {
      message: 'expected no password in store.url when passwordEnv or passwordFile gives one',
      path: ['url'],
    },
  )
  .prefault({})
  .describe('Shared state for running several replicas.');
