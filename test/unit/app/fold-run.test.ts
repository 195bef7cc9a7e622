/**
 * Fold runs (src/app/fold-run.ts) through the real record loop, pipeline, composer and delivery
 * scheduler: records of one partition whose messages all go into the same open digest wait as one run
 * (one commit-tracker entry, one share) and finish together once every item the run's share joined
 * settled. The chat destination is answered by the test call by call; time is a manual clock; the
 * source is the fake one (commits), dead letters go to the fake sink.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryLastValues } from '../../../src/adapters/memory-last-values.ts';
import { createLastValuesEdge } from '../../../src/app/last-values.ts';
import { createRecordLoop } from '../../../src/app/record-loop.ts';
import type { Completion } from '../../../src/app/record-work.ts';
import { type Config, parseConfig } from '../../../src/config/index.ts';
import { createDeliveryScheduler } from '../../../src/delivery/scheduler.ts';
import type { NotifierError } from '../../../src/domain/errors.ts';
import type { SlackPayload } from '../../../src/domain/message.ts';
import type { Outcome } from '../../../src/domain/outcome.ts';
import type { SourceRecord } from '../../../src/domain/record.ts';
import { createComposer } from '../../../src/pipeline/compose.ts';
import { createPipeline } from '../../../src/pipeline/index.ts';
import { type ChatDestination, type ChatFile, noopLogger, noopMetrics } from '../../../src/ports/index.ts';
import { dec } from '../../support/events.ts';
import { slackErrors } from '../../support/fake-chat.ts';
import { createFakeDeadLetter } from '../../support/fake-dead-letter.ts';
import { createFakeSource } from '../../support/fake-source.ts';
import { createCapturingLogger, createManualClock, flush, loopTestRetryPolicy } from '../../support/fakes.ts';
import { decimalBase64, makePayload, makeRecord, makeRow, makeSource } from '../../support/records.ts';

// Prices (normal) and unpublishing (urgent) share a channel, so that an urgent change can lift a
// listing out of its digest; sold out goes to a channel of its own.
const config: Config = parseConfig(
  [
    'rules:',
    '  - { name: price moved, match: { field: price }, channels: [sales-alerts] }',
    '  - { name: unpublished, match: { field: status, from: [A], to: [U] }, channels: [sales-alerts], priority: urgent }',
    '  - { name: sold out, match: { field: status, from: [A], to: [S] }, channels: [inventory-warnings] }',
  ].join('\n'),
  'fold-run-test',
);
const SALES = '#sales-alerts';
const INVENTORY = '#inventory-warnings';

// --- a chat destination the test answers ----------------------------------------------------------

interface ChatCall {
  kind: 'post' | 'upload';
  channel: string;
  payload?: SlackPayload;
  file?: ChatFile;
  threadTs?: string;
  state: 'waiting' | 'accepted' | 'refused';
  accept(): void;
  refuse(error: NotifierError): void;
}

function createAnsweredChat(): ChatDestination & { calls: ChatCall[] } {
  const calls: ChatCall[] = [];
  const call = <T>(
    kind: ChatCall['kind'],
    channel: string,
    threadTs: string | undefined,
    extra: Pick<ChatCall, 'payload' | 'file'>,
    answer: (n: number) => T,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const n = calls.length + 1;
      const entry: ChatCall = {
        kind,
        channel,
        ...extra,
        ...(threadTs === undefined ? {} : { threadTs }),
        state: 'waiting',
        accept() {
          entry.state = 'accepted';
          resolve(answer(n));
        },
        refuse(error) {
          entry.state = 'refused';
          reject(error);
        },
      };
      calls.push(entry);
    });
  return {
    calls,
    post: (channel, payload, options = {}) =>
      call('post', channel, options.threadTs, { payload }, (n) => ({
        ts: `1767225600.${String(n).padStart(6, '0')}`,
      })),
    upload: (channel, file, options = {}) =>
      call('upload', channel, options.threadTs, { file }, (n) => ({ fileId: `F${n}` })),
  };
}

// --- records (Debezium JSON envelopes, decoded by the real pipeline) -------------------------------

/** Every record built gets the next source position (PostgreSQL LSN). */
let lsn = 1000;
const pgPosition = (n: number): string => `pg:${String(n).padStart(20, '0')}`;
const positionOfRecord = (record: SourceRecord): string => {
  const envelope = JSON.parse(record.value?.toString() ?? '') as { payload: { source: { lsn: number } } };
  return pgPosition(envelope.payload.source.lsn);
};

const update = (id: number, before: Record<string, unknown> | null, after: Record<string, unknown>) => {
  lsn += 1;
  return makeRecord({
    payload: makePayload({
      before: before === null ? null : makeRow({ lst_id: id, ...before }),
      after: makeRow({ lst_id: id, ...after }),
      source: makeSource({ lsn }),
    }),
  });
};

/** Listing `id`'s price 100.00 -> 85.00. `before: 'none'`: REPLICA IDENTITY DEFAULT (no before image). */
const priceDrop = (id: number, options: { before?: 'full' | 'none' } = {}) =>
  update(id, options.before === 'none' ? null : { prc_amt: decimalBase64('100.00', 2) }, {
    prc_amt: decimalBase64('85.00', 2),
  });
/** Only an unwatched column changed: dropped, finished at once. */
const noise = (id: number) => update(id, { audit_usr_id: 7 }, { audit_usr_id: 8 });
/** Listing `id` unpublished (urgent), at the price the flood left it. */
const unpublish = (id: number) =>
  update(
    id,
    { prc_amt: decimalBase64('85.00', 2) },
    { prc_amt: decimalBase64('85.00', 2), LST_STAT_CD: 'U' },
  );
const soldOut = (id: number) => update(id, {}, { LST_STAT_CD: 'S' });

/** Ten price drops: listings 1 and 2 go out as messages of their own, 3..10 fold into the digest. */
const flood = (options: { before?: 'full' | 'none' } = {}) =>
  Array.from({ length: 10 }, (_, i) => priceDrop(i + 1, options));
const RUN_OFFSETS = ['2', '3', '4', '5', '6', '7', '8', '9'];

// --- the wiring ------------------------------------------------------------------------------------

interface SetupOptions {
  partitions?: number;
  /** The last-values edge over an in-process store, as the service wires it (afterWork and runValues). */
  lastValues?: boolean;
  /** Fold runs off (afterWork without runValues): every record waits on its own, as before runs. */
  noRuns?: boolean;
}

async function setup(options: SetupOptions = {}) {
  const clock = createManualClock();
  const chat = createAnsweredChat();
  const source = createFakeSource({ partitions: options.partitions ?? 1 });
  const deadLetter = createFakeDeadLetter();
  const logger = createCapturingLogger();
  const fatals: unknown[] = [];
  const store = createMemoryLastValues({ maxBytes: 1 << 20, ttlMs: 3_600_000, clock });
  const edge = createLastValuesEdge({ store, metrics: noopMetrics, logger: noopLogger });
  const scheduler = createDeliveryScheduler({
    destination: chat,
    composer: createComposer(() => config),
    clock,
    perChannel: { intervalMs: 1000, cap: 1 },
    burst: 3,
    workspace: { intervalMs: 1000, cap: 20 },
    maxQueuedPerChannel: 50,
    // 3 s of budget at 1/s: two messages of their own per channel, then the overflow folds into a digest.
    flood: {
      enabled: true,
      budgetMs: 3000,
      digestQuietMs: 2000,
      digestWindowMs: 30_000,
      maxDigestItems: 20_000,
      coalesce: true,
      netZero: 'drop',
      completeList: 'file',
      channels: {},
    },
    retry: loopTestRetryPolicy,
    random: () => 0.5,
  });
  const passThrough = (_outcome: Outcome, done: Promise<Completion>) => done;
  const loop = createRecordLoop({
    pipeline: createPipeline(config, options.lastValues === true ? { lastValues: edge } : {}),
    deliverer: scheduler,
    deadLetter,
    source,
    clock,
    logger,
    limits: { maxInFlightRecords: 100, maxInFlightBytes: 1 << 30, maxFoldedRecords: 1000 },
    maxQueuedPerChannel: 50,
    retry: loopTestRetryPolicy,
    random: () => 0.5,
    onFatal: (error) => fatals.push(error),
    ...(options.lastValues === true ? { afterWork: edge.track, runValues: edge } : {}),
    ...(options.noRuns === true ? { afterWork: passThrough } : {}),
  });
  await source.start(loop);

  /** Produces the records on a partition (its offsets go on from the last) and lets the loop take them. */
  const feed = async (records: SourceRecord[], partition = 0): Promise<void> => {
    for (const r of records) source.produce(partition, r.value, { key: r.key });
    await source.poll();
    await flush();
  };
  /** The oldest chat call (to `channel`) not answered yet, moving the clock (pace, digest quiet) until one comes. */
  const nextCall = async (channel?: string): Promise<ChatCall> => {
    for (let step = 0; step < 400; step += 1) {
      const call = chat.calls.find(
        (c) => c.state === 'waiting' && (channel === undefined || c.channel === channel),
      );
      if (call !== undefined) return call;
      await clock.advance(250);
    }
    throw new Error('no chat call came');
  };
  const answer = async (call: ChatCall, error?: NotifierError): Promise<void> => {
    if (error === undefined) call.accept();
    else call.refuse(error);
    await flush();
  };
  /** Accepts the next call, checking it is of the kind (and text) expected. */
  const accept = async (kind: ChatCall['kind'], text?: RegExp, channel?: string): Promise<ChatCall> => {
    const call = await nextCall(channel);
    expect(call.kind).toBe(kind);
    if (text !== undefined) expect(call.payload?.text).toMatch(text);
    await answer(call);
    return call;
  };
  /** The digest's message and its file, accepted; returns the file's call. */
  const acceptDigest = async (channel?: string): Promise<ChatCall> => {
    await accept('post', /^Digest/, channel);
    return accept('upload', undefined, channel);
  };
  return {
    clock,
    chat,
    source,
    deadLetter,
    logger,
    fatals,
    store,
    edge,
    scheduler,
    loop,
    feed,
    nextCall,
    answer,
    accept,
    acceptDigest,
    committed: (partition = 0): string | undefined => source.committed(partition),
    /** Every offset committed on the partition, in order. */
    commits: (partition = 0): string[] =>
      source.commits.flatMap((c) => c.filter((o) => o.partition === partition).map((o) => o.offset)),
    lines: (msg: string) => logger.lines.filter((l) => l.msg === msg),
  };
}

/** The listing ids a digest's CSV lists. */
const listed = (upload: ChatCall): string[] =>
  (upload.file?.content.toString('utf8') ?? '')
    .split(/\r?\n/)
    .slice(1)
    .map((row) => /^(\d+),/.exec(row)?.[1])
    .filter((id): id is string => id !== undefined);

describe('fold runs: commit', () => {
  it('folds a flood into one run that commits only once its digest (message and file) was accepted', async () => {
    const t = await setup();
    await t.feed(flood());
    expect(t.loop.status()).toMatchObject({ inFlight: 10, folded: 8 });
    expect(t.scheduler.digestSizes()).toEqual({ [SALES]: 8 });

    await t.accept('post', /\(#1\)/);
    expect(t.committed()).toBe('1');
    await t.accept('post', /\(#2\)/);
    expect(t.committed()).toBe('2');

    // The digest closes once the flood pauses; nothing of the run commits while any part of it waits.
    await t.accept('post', /^Digest/);
    expect(t.committed()).toBe('2');
    expect(t.loop.status()).toMatchObject({ inFlight: 8, folded: 8 });
    const upload = await t.nextCall();
    expect(upload.kind).toBe('upload');
    expect(upload.threadTs).toBeDefined();
    expect(listed(upload)).toEqual(['3', '4', '5', '6', '7', '8', '9', '10']);
    expect(t.committed()).toBe('2');

    await t.answer(upload);
    expect(t.committed()).toBe('10');
    expect(t.commits()).toEqual(['1', '2', '10']);
    expect(t.loop.status()).toMatchObject({ inFlight: 0, folded: 0 });
    expect(t.fatals).toEqual([]);
  });

  it("logs one 'records finished' line per run, not one 'record finished' per folded record", async () => {
    const t = await setup();
    await t.feed(flood());
    await t.accept('post');
    await t.accept('post');
    expect(t.lines('records finished')).toEqual([]);
    await t.acceptDigest();

    expect(t.lines('records finished')).toEqual([
      {
        level: 'info',
        msg: 'records finished',
        fields: {
          topic: 'monolith.public.listings',
          partition: 0,
          fromOffset: '2',
          toOffset: '9',
          records: 8,
          outcome: 'notify',
          channels: [SALES],
        },
      },
    ]);
    // Only the two records that went out as messages of their own have lines of their own.
    expect(t.lines('record finished').map((l) => l.fields.offset)).toEqual(['0', '1']);
  });

  it('commits the noise between run records with the run, and not past the run before it finished', async () => {
    const t = await setup();
    // 0, 1: messages of their own; 2, 4, 6: the run; 3, 5, 7: noise, finished at once.
    await t.feed([
      priceDrop(1),
      priceDrop(2),
      priceDrop(3),
      noise(3),
      priceDrop(4),
      noise(4),
      priceDrop(5),
      noise(5),
    ]);
    expect(t.loop.status()).toMatchObject({ inFlight: 5, folded: 3 });
    await t.accept('post');
    await t.accept('post');
    expect(t.committed()).toBe('2');
    await t.accept('post', /^Digest/);
    expect(t.committed()).toBe('2');
    await t.accept('upload');
    // One run over 2..6 (the noise at 3 and 5 inside it); the noise at 7 finished behind it.
    expect(t.commits()).toEqual(['1', '2', '8']);
    expect(t.lines('records finished').map((l) => l.fields)).toEqual([
      expect.objectContaining({ fromOffset: '2', toOffset: '6', records: 3 }),
    ]);
  });

  it('a run with a listing lifted out of its digest by an urgent change finishes only when both went out', async () => {
    const t = await setup();
    // Offsets 2..9: the run (listings 3..10); offset 10: listing 5 unpublished, lifted out of the digest.
    await t.feed([...flood(), unpublish(5)]);
    expect(t.loop.status()).toMatchObject({ inFlight: 11, folded: 8 });

    await t.accept('post', /\(#1\)/);
    // Urgent first: listing 5 goes ahead as its net change (the run's price drop and the unpublishing).
    await t.accept('post', /\(#5\): Price changed from €100\.00 to €85\.00.*Unpublished/);
    // The urgent record finished, but it is behind the run, which still waits for its digest.
    expect(t.committed()).toBe('1');
    expect(t.lines('records finished')).toEqual([]);
    await t.accept('post', /\(#2\)/);
    expect(t.committed()).toBe('2');

    await t.accept('post', /^Digest/);
    expect(t.committed()).toBe('2');
    const upload = await t.nextCall();
    expect(listed(upload)).toEqual(['3', '4', '6', '7', '8', '9', '10']);
    await t.answer(upload);
    expect(t.commits()).toEqual(['1', '2', '11']);
    expect(t.lines('records finished')[0]?.fields).toMatchObject({
      fromOffset: '2',
      toOffset: '9',
      records: 8,
    });
  });

  // The digest settles both runs' shares in one go: partition 1's run finishes first with nothing to
  // commit (its offset 0 still waits), partition 0's right after it. The second commit request must not
  // be lost in the committer's round that the first one started (src/app/committer.ts).
  it('commits the runs of two partitions that finish with the same digest', async () => {
    const t = await setup({ partitions: 2 });
    await t.feed([priceDrop(1), priceDrop(2)], 0); // messages of their own: the sales channel is full
    // Partition 1: offset 0 waits for its own channel; 1..3 start a run in the sales digest.
    await t.feed([soldOut(50), priceDrop(51), priceDrop(52), priceDrop(53)], 1);
    // Partition 0: 2..4 start a run of their own in the same digest.
    await t.feed([priceDrop(3), priceDrop(4), priceDrop(5)], 0);
    expect(t.loop.status()).toMatchObject({ inFlight: 9, folded: 6 });

    await t.accept('post', /\(#1\)/, SALES);
    await t.accept('post', /\(#2\)/, SALES);
    const upload = await t.acceptDigest(SALES);
    expect(listed(upload).sort()).toEqual(['3', '4', '5', '51', '52', '53']);
    // Partition 1's run finished behind its offset 0 (nothing to commit there yet); partition 0's run
    // finished right after it and is committable.
    expect(t.lines('records finished')).toHaveLength(2);
    expect(t.committed(1)).toBeUndefined();
    expect(t.committed(0)).toBe('5');

    await t.accept('post', /\(#50\)/, INVENTORY);
    expect(t.committed(1)).toBe('4');
    expect(t.committed(0)).toBe('5');
  });
});

describe('fold runs: refused, abandoned', () => {
  it('dead-letters every record of a run whose digest Slack refused for good, then commits past them', async () => {
    const t = await setup();
    await t.feed(flood());
    await t.accept('post');
    await t.accept('post');
    await t.answer(await t.nextCall(), slackErrors.permanent('channel_not_found'));

    expect(t.deadLetter.sent.map((l) => l.record.offset)).toEqual(RUN_OFFSETS);
    for (const letter of t.deadLetter.sent) {
      expect(letter.error.code).toBe('SLACK_PERMANENT');
      expect(letter.error.details.slackError).toBe('channel_not_found');
      // Coordinates only: the bytes stay in the source topic (dlq.original.*).
      expect(letter.record).toMatchObject({ topic: 'monolith.public.listings', partition: 0, value: null });
    }
    expect(t.chat.calls.filter((c) => c.kind === 'upload')).toEqual([]);
    expect(t.commits()).toEqual(['1', '2', '10']);
    expect(t.lines('records finished')[0]?.fields).toMatchObject({
      fromOffset: '2',
      toOffset: '9',
      records: 8,
      deadLettered: [{ code: 'SLACK_PERMANENT' }],
    });
    expect(t.fatals).toEqual([]);
  });

  it('commits a refused run only once every letter is written (a dead-letter topic failing at first)', async () => {
    const t = await setup();
    await t.feed(flood());
    await t.accept('post');
    await t.accept('post');
    t.deadLetter.failNext(2);
    await t.answer(await t.nextCall(), slackErrors.permanent('channel_not_found'));
    expect(t.deadLetter.sent).toEqual([]);
    await t.clock.advance(100); // loopTestRetryPolicy: 100 ms, then 200 ms
    expect(t.deadLetter.sent).toEqual([]);
    expect(t.committed()).toBe('2');
    await t.clock.advance(200);
    expect(t.deadLetter.sent.map((l) => l.record.offset)).toEqual(RUN_OFFSETS);
    expect(t.committed()).toBe('10');
  });

  // dlq.channel: `dlq redrive` sends a letter that has it to that channel only, and --reroute matches on
  // it. A run's letters must say the same as those of records that wait on their own (runs off).
  it("dead-letters a refused run's records for the channel that refused them, as records on their own are", async () => {
    const refusedDigest = async (options: SetupOptions) => {
      const t = await setup(options);
      await t.feed(flood());
      await t.accept('post');
      await t.accept('post');
      await t.answer(await t.nextCall(), slackErrors.permanent('channel_not_found'));
      await t.loop.commitNow();
      expect(t.committed()).toBe('10');
      return {
        letters: t.deadLetter.sent.map((l) => ({ offset: l.record.offset, channel: l.channel })),
        logged: t.logger.lines.flatMap((l) =>
          Array.isArray(l.fields.deadLettered) ? l.fields.deadLettered : [],
        ),
      };
    };
    const onTheirOwn = await refusedDigest({ noRuns: true });
    expect(onTheirOwn.letters).toEqual(RUN_OFFSETS.map((offset) => ({ offset, channel: SALES })));
    const asRun = await refusedDigest({});
    expect(asRun.letters).toEqual(onTheirOwn.letters);
    expect(asRun.logged).toEqual([{ channel: SALES, code: 'SLACK_PERMANENT' }]);
  });

  // The run's share rides on the urgent message too (lane.ts lift); its refusal concerns listing 5's
  // records only. The other seven went out in the digest: dead-lettering them would post them again
  // on redrive. Records waiting on their own (runs off) get exactly these two letters.
  it('an urgent message refused for good dead-letters the lifted listing, not the records the digest delivered', async () => {
    const t = await setup();
    await t.feed([...flood(), unpublish(5)]);
    await t.accept('post', /\(#1\)/);
    const urgent = await t.nextCall();
    expect(urgent.payload?.text).toMatch(/\(#5\)/);
    await t.answer(urgent, slackErrors.permanent('channel_not_found'));
    await t.accept('post', /\(#2\)/);
    await t.acceptDigest();
    await t.loop.commitNow();
    expect(t.committed()).toBe('11');
    // Listing 5's records: its price drop (offset 4, carried by the urgent message) and the unpublishing.
    expect(t.deadLetter.sent.map((l) => l.record.offset).sort()).toEqual(['10', '4']);
  });

  it('abandons a waiting run when its partition is revoked: nothing committed, nothing dead-lettered', async () => {
    const t = await setup();
    await t.feed(flood());
    await t.accept('post');
    expect(t.committed()).toBe('1');
    t.source.rebalance([]); // partition 0 goes to another member
    await flush();

    expect(t.loop.status()).toMatchObject({ inFlight: 0, folded: 0 });
    expect(t.lines('run abandoned (will be read again)').map((l) => l.fields)).toEqual([
      expect.objectContaining({ fromOffset: '2', toOffset: '9', records: 8 }),
    ]);
    // The message of its own on the wire is answered; the digest nobody waits for is never posted.
    await t.answer(await t.nextCall());
    await t.clock.advance(60_000);
    expect(t.chat.calls.map((c) => `${c.kind} ${c.payload?.text.slice(0, 40)}`)).toEqual([
      expect.stringMatching(/^post .*\(#1\)/),
      expect.stringMatching(/^post .*\(#2\)/),
    ]);
    expect(t.deadLetter.sent).toEqual([]);
    expect(t.lines('records finished')).toEqual([]);
    expect(t.commits()).toEqual(['1']);
    expect(t.fatals).toEqual([]);
  });
});

describe('fold runs: last values (runValues)', () => {
  it("writes a run's learned values only once the run finished; until then they are held (lookup sees them)", async () => {
    const t = await setup({ lastValues: true });
    const records = flood({ before: 'none' }); // nothing known yet: each record holds its values
    await t.feed(records);
    expect(t.loop.status()).toMatchObject({ inFlight: 10, folded: 8 });
    await t.accept('post');
    await t.accept('post');
    expect((await t.store.get('1'))?.position).toBe(positionOfRecord(records[0] as SourceRecord));
    expect(await t.store.get('3')).toBeUndefined();
    expect((await t.edge.lookup('3'))?.position).toBe(positionOfRecord(records[2] as SourceRecord));

    await t.accept('post', /^Digest/);
    expect(await t.store.get('3')).toBeUndefined();
    await t.accept('upload');
    expect(t.committed()).toBe('10');
    for (const [i, record] of records.entries()) {
      expect((await t.store.get(String(i + 1)))?.position).toBe(positionOfRecord(record));
    }
    expect(t.edge.pending()).toBe(0);
  });

  it("writes nothing of an abandoned run's values", async () => {
    const t = await setup({ lastValues: true });
    await t.feed(flood({ before: 'none' }));
    expect(t.edge.pending()).toBe(10);
    t.source.rebalance([]);
    await flush();
    expect(t.loop.status()).toMatchObject({ inFlight: 0, folded: 0 });
    for (let id = 1; id <= 10; id += 1) expect(await t.store.get(String(id))).toBeUndefined();
    expect(t.edge.pending()).toBe(0);
    expect(await t.edge.lookup('3')).toBeUndefined();
  });

  // No before image from Debezium, values known: the pipeline fills the before image from the store, so
  // the event looks complete. Its record still needs the store as it was if it is read again.
  it('holds the values of run records whose before image came from the store (REPLICA IDENTITY DEFAULT)', async () => {
    const t = await setup({ lastValues: true });
    const known = { position: pgPosition(1), values: { prc_amt: dec('100.00'), crncy_cd: 'EUR' } };
    for (let id = 1; id <= 10; id += 1) await t.store.put(String(id), known);
    const records = flood({ before: 'none' });
    await t.feed(records);
    expect(t.loop.status()).toMatchObject({ inFlight: 10, folded: 8 });

    // The digest has not gone out: the store must still hold what was known before the run.
    expect(await t.store.get('3')).toEqual(known);
    // What that protects: read again after a crash now, the record is judged as it was the first time.
    const afterCrash = createPipeline(config, {
      lastValues: createLastValuesEdge({ store: t.store, metrics: noopMetrics, logger: noopLogger }),
    });
    const again = await afterCrash.process(records[2] as SourceRecord);
    expect(again.reason).toMatch(/^notify: price decreased -> sales-alerts/);

    await t.accept('post');
    await t.accept('post');
    await t.acceptDigest();
    expect((await t.store.get('3'))?.position).toBe(positionOfRecord(records[2] as SourceRecord));
  });
});
