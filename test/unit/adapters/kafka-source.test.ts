import { describe, expect, it } from 'vitest';
import { createKafkaSource, toSourceRecord } from '../../../src/adapters/kafka-source.ts';
import { MARKER_PREFIX, parseMarker } from '../../../src/delivery/quarantine.ts';
import { NotifierError } from '../../../src/domain/errors.ts';
import { createCapturingLogger, createManualClock, settled } from '../../support/fakes.ts';

describe('kafka source record mapping', () => {
  it('keeps key and value bytes untouched, offsets and timestamps as strings, and single header values', () => {
    const key = Buffer.from([0, 1, 2]);
    const value = Buffer.from([0xff, 0xfe]);
    const record = toSourceRecord('t', 3, {
      key,
      value,
      offset: '9007199254740993',
      timestamp: '1767225600000',
      attributes: 0,
      headers: { a: Buffer.from('x'), b: ['first', 'last'], c: undefined },
    });
    expect(record).toEqual({
      topic: 't',
      partition: 3,
      offset: '9007199254740993',
      key,
      value,
      headers: { a: Buffer.from('x'), b: 'last', c: undefined },
      timestamp: '1767225600000',
    });
  });

  it('maps a tombstone to a null value', () => {
    const record = toSourceRecord('t', 0, {
      key: null,
      value: null,
      offset: '1',
      timestamp: '0',
      attributes: 0,
      headers: {},
    });
    expect(record.value).toBeNull();
    expect(record.key).toBeNull();
  });
});

type RunOptions = { eachBatch: (payload: unknown) => Promise<void> } & Record<string, unknown>;

/** A scripted stand-in for kafkajs's Consumer: events fire on demand, commits emit COMMIT_OFFSETS or not. */
function createConsumerStub() {
  const listeners = new Map<string, Array<(event: { payload: unknown }) => void>>();
  const stub = {
    events: {
      GROUP_JOIN: 'consumer.group_join',
      REBALANCING: 'consumer.rebalancing',
      STOP: 'consumer.stop',
      CRASH: 'consumer.crash',
      COMMIT_OFFSETS: 'consumer.commit_offsets',
    },
    running: true,
    paused: [] as unknown[],
    resumed: [] as unknown[],
    committed: [] as unknown[],
    runOptions: undefined as
      | undefined
      | ({ eachBatch: (payload: unknown) => Promise<void> } & Record<string, unknown>),
    on(name: string, listener: (event: { payload: unknown }) => void) {
      listeners.set(name, [...(listeners.get(name) ?? []), listener]);
    },
    emit(name: string, payload: unknown) {
      for (const l of listeners.get(name) ?? []) l({ payload });
    },
    connect: async () => {},
    subscriptions: [] as unknown[],
    subscribe: async (subscription: unknown) => {
      stub.subscriptions.push(subscription);
    },
    run: async (options: RunOptions) => {
      stub.runOptions = options;
    },
    pause: (tps: unknown) => stub.paused.push(tps),
    resume: (tps: unknown) => stub.resumed.push(tps),
    // Like kafkajs: when the runner is not running, commitOffsets resolves having done nothing.
    commitOffsets: async (offsets: unknown) => {
      if (!stub.running) return;
      stub.committed.push(offsets);
      stub.emit('consumer.commit_offsets', {});
    },
    disconnect: async () => {},
  };
  return stub;
}

const handlersSpy = () => {
  const calls: Array<[string, unknown]> = [];
  return {
    calls,
    handlers: {
      onBatch: async (batch: unknown) => {
        calls.push(['batch', batch]);
      },
      onAssigned: (partitions: unknown) => calls.push(['assigned', partitions]),
      onUnassigned: (reason: unknown) => calls.push(['unassigned', reason]),
      onCrash: (error: unknown, restarting: boolean) => calls.push(['crash', { error, restarting }]),
    },
  };
};

/** The cluster's topic list as kafkajs's admin sees it; tests add topics to it. */
function createAdminStub(topics: string[]) {
  const admin = {
    topics,
    connected: false,
    failListing: false,
    connect: async () => {
      admin.connected = true;
    },
    disconnect: async () => {
      admin.connected = false;
    },
    listTopics: async () => {
      if (admin.failListing) throw new Error('broker restarting');
      return [...admin.topics];
    },
  };
  return admin;
}

const kafkaOf = (consumer: unknown, admin: unknown) =>
  ({ consumer: () => consumer, admin: () => admin }) as unknown as import('kafkajs').Kafka;

describe('kafka source on a scripted consumer', () => {
  const setup = async () => {
    const stub = createConsumerStub();
    const kafka = kafkaOf(stub, createAdminStub(['t']));
    const source = createKafkaSource({ kafka, groupId: 'g', topics: ['t'] });
    const spy = handlersSpy();
    await source.start(spy.handlers);
    return { stub, source, spy };
  };

  it('runs with auto-commit and auto-resolve off', async () => {
    const { stub } = await setup();
    expect(stub.runOptions).toMatchObject({ autoCommit: false, eachBatchAutoResolve: false });
  });

  it('reports assignments, and commits only partitions it is assigned', async () => {
    const { stub, source, spy } = await setup();
    stub.emit('consumer.group_join', { memberAssignment: { t: [0, 2] } });
    expect(spy.calls).toContainEqual([
      'assigned',
      [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 2 },
      ],
    ]);
    await source.commit([{ topic: 't', partition: 0, offset: '5' }]);
    expect(stub.committed).toEqual([[{ topic: 't', partition: 0, offset: '5' }]]);
    await expect(source.commit([{ topic: 't', partition: 1, offset: '9' }])).rejects.toThrow(/not assigned/);
    expect(stub.committed).toHaveLength(1);
  });

  it('rejects a commit kafkajs silently skipped (consumer not running)', async () => {
    const { stub, source } = await setup();
    stub.emit('consumer.group_join', { memberAssignment: { t: [0] } });
    stub.running = false;
    await expect(source.commit([{ topic: 't', partition: 0, offset: '5' }])).rejects.toThrow(
      /skipped the commit/,
    );
  });

  it('forgets the assignment when a rebalance starts or the consumer crashes', async () => {
    const { stub, source, spy } = await setup();
    stub.emit('consumer.group_join', { memberAssignment: { t: [0] } });
    stub.emit('consumer.rebalancing', {});
    await expect(source.commit([{ topic: 't', partition: 0, offset: '5' }])).rejects.toThrow(/not assigned/);
    const error = new Error('boom');
    stub.emit('consumer.crash', { error, restart: true });
    expect(spy.calls).toContainEqual(['unassigned', 'rebalancing']);
    expect(spy.calls).toContainEqual(['crash', { error, restarting: true }]);
  });

  it('hands batches over with take = resolveOffset, and never lets a handler error reach kafkajs', async () => {
    const { stub, spy } = await setup();
    const resolved: string[] = [];
    const payload = {
      batch: {
        topic: 't',
        partition: 0,
        highWatermark: '10',
        messages: [
          { key: null, value: Buffer.from('{}'), offset: '8', timestamp: '1', attributes: 0, headers: {} },
        ],
      },
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => {},
      isRunning: () => true,
      isStale: () => false,
    };
    await stub.runOptions?.eachBatch(payload);
    const [, batch] = spy.calls.find(([kind]) => kind === 'batch') as [
      string,
      import('../../../src/ports/index.ts').SourceBatch,
    ];
    expect(batch.records.map((r) => r.offset)).toEqual(['8']);
    expect(batch.isActive()).toBe(true);
    batch.take('8');
    expect(resolved).toEqual(['8']);

    spy.handlers.onBatch = async () => {
      throw new Error('bug');
    };
    await expect(stub.runOptions?.eachBatch(payload)).resolves.toBeUndefined();
    expect(spy.calls.at(-1)).toEqual(['crash', { error: new Error('bug'), restarting: false }]);
  });

  it('asks the error table about a handler throw: a transient leaves the records to the next fetch', async () => {
    const { stub, spy } = await setup();
    const resolved: string[] = [];
    const message = {
      key: null,
      value: Buffer.from('{}'),
      offset: '8',
      timestamp: '1',
      attributes: 0,
      headers: {},
    };
    const payload = {
      batch: { topic: 't', partition: 0, highWatermark: '10', messages: [message] },
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => {},
      isRunning: () => true,
      isStale: () => false,
    };
    spy.handlers.onBatch = async () => {
      throw new NotifierError('DEAD_LETTER_FAILED', 'dead-letter topic refused the write');
    };
    await expect(stub.runOptions?.eachBatch(payload)).resolves.toBeUndefined();
    expect(spy.calls.filter(([kind]) => kind === 'crash')).toEqual([]);
    expect(resolved).toEqual([]); // nothing taken: kafkajs fetches offset 8 again

    const stop = new NotifierError('SLACK_AUTH', 'invalid_auth');
    spy.handlers.onBatch = async () => {
      throw stop;
    };
    await stub.runOptions?.eachBatch(payload);
    expect(spy.calls.at(-1)).toEqual(['crash', { error: stop, restarting: false }]);
  });

  it('pauses and resumes one partition', async () => {
    const { stub, source } = await setup();
    source.pause({ topic: 't', partition: 3 });
    source.resume({ topic: 't', partition: 3 });
    expect(stub.paused).toEqual([[{ topic: 't', partitions: [3] }]]);
    expect(stub.resumed).toEqual([[{ topic: 't', partitions: [3] }]]);
  });
});

describe('kafka source: topics that do not exist yet', () => {
  const setup = async (existing: string[], topics = ['a', 'b']) => {
    const stub = createConsumerStub();
    const admin = createAdminStub(existing);
    const clock = createManualClock();
    const logger = createCapturingLogger();
    const source = createKafkaSource({
      kafka: kafkaOf(stub, admin),
      groupId: 'g',
      topics,
      clock,
      logger,
      topicPollIntervalMs: 2000,
      topicWaitLogIntervalMs: 60_000,
    });
    const spy = handlersSpy();
    await source.start(spy.handlers);
    return { stub, admin, clock, logger, source, spy };
  };
  const warnings = (logger: ReturnType<typeof createCapturingLogger>) =>
    logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg);

  it('subscribes at once, from the configured position, when every topic exists', async () => {
    const { stub, admin, source } = await setup(['a', 'b', 'other']);
    expect(stub.subscriptions).toEqual([{ topics: ['a', 'b'], fromBeginning: false }]);
    expect(stub.runOptions).toBeDefined();
    expect(source.notReadyReason()).toBeUndefined();
    expect(admin.connected).toBe(false);
  });

  it('waits for missing topics (a line at first, then about once a minute), then reads them from their start', async () => {
    const { stub, admin, clock, logger, source, spy } = await setup(['a']);
    // start() resolved: connected, waiting in the background, nothing subscribed.
    expect(stub.subscriptions).toEqual([]);
    expect(stub.runOptions).toBeUndefined();
    expect(source.notReadyReason()).toBe('waiting for topic(s) to exist: b (for 0 s)');
    expect(warnings(logger)).toEqual([
      'waiting for topic(s) to exist: b (consuming starts when they appear)',
    ]);

    await clock.advance(58_000);
    expect(warnings(logger)).toHaveLength(1);
    expect(source.notReadyReason()).toBe('waiting for topic(s) to exist: b (for 58 s)');
    await clock.advance(2000);
    expect(warnings(logger)).toEqual([
      'waiting for topic(s) to exist: b (consuming starts when they appear)',
      'still waiting for topic(s) to exist: b',
    ]);

    // A failed look-up (broker restarting) is not fatal: the wait goes on.
    admin.failListing = true;
    await clock.advance(2000);
    expect(source.notReadyReason()).toMatch(/^waiting for topic\(s\) to exist: b/);
    expect(warnings(logger).at(-1)).toBe('looking for the topics failed; still waiting');
    admin.failListing = false;

    admin.topics.push('b');
    await clock.advance(2000);
    await settled(() => stub.runOptions !== undefined, 'the consumer to run');
    expect(source.notReadyReason()).toBeUndefined();
    // The topic that appeared while we waited starts at its beginning: its first records are not skipped.
    expect(stub.subscriptions).toEqual([
      { topics: ['a'], fromBeginning: false },
      { topics: ['b'], fromBeginning: true },
    ]);
    expect(stub.runOptions).toMatchObject({ autoCommit: false });
    expect(logger.lines.at(-1)?.msg).toBe('topic(s) exist now: consuming');
    expect(admin.connected).toBe(false);
    expect(spy.calls.filter(([kind]) => kind === 'crash')).toEqual([]);
  });

  it('stops cleanly while waiting', async () => {
    const { stub, admin, clock, source } = await setup([]);
    await source.stop();
    expect(clock.sleeping()).toBe(0);
    expect(stub.runOptions).toBeUndefined();
    expect(admin.connected).toBe(false);
  });
});

describe('kafka source: refused credentials', () => {
  it('turns a SASL refusal at connect into KAFKA_AUTH', async () => {
    const stub = createConsumerStub();
    const refusal = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: invalid credentials'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    stub.connect = async () => {
      throw refusal;
    };
    const source = createKafkaSource({
      kafka: kafkaOf(stub, createAdminStub(['t'])),
      groupId: 'g',
      topics: ['t'],
    });
    await expect(source.start(handlersSpy().handlers)).rejects.toMatchObject({
      code: 'KAFKA_AUTH',
      disposition: 'stop',
      message: expect.stringContaining('Kafka refused the SASL credentials'),
    });
  });
});

describe('kafka source: TLS failures kafkajs gave up on', () => {
  it('turns a TLS error code inside kafkajs retries into KAFKA_TLS', async () => {
    const stub = createConsumerStub();
    const tls = Object.assign(new Error('Connection error: tlsv13 alert certificate required'), {
      name: 'KafkaJSConnectionError',
      code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      broker: 'b-1:9094',
    });
    stub.connect = async () => {
      throw Object.assign(new Error(tls.message), {
        name: 'KafkaJSNumberOfRetriesExceeded',
        originalError: tls,
      });
    };
    const source = createKafkaSource({
      kafka: kafkaOf(stub, createAdminStub(['t'])),
      groupId: 'g',
      topics: ['t'],
    });
    await expect(source.start(handlersSpy().handlers)).rejects.toMatchObject({
      code: 'KAFKA_TLS',
      message: 'TLS with Kafka broker b-1:9094 failed: Connection error: tlsv13 alert certificate required',
    });
  });

  it('leaves an unreachable broker as it is (not a TLS problem)', async () => {
    const stub = createConsumerStub();
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
      code: 'ECONNREFUSED',
    });
    stub.connect = async () => {
      throw refused;
    };
    const source = createKafkaSource({
      kafka: kafkaOf(stub, createAdminStub(['t'])),
      groupId: 'g',
      topics: ['t'],
    });
    await expect(source.start(handlersSpy().handlers)).rejects.toBe(refused);
  });
});

describe('kafka source: quarantine of a record that kills the process (issue 19)', () => {
  const message = (offset: string) => ({
    key: null,
    value: Buffer.from('{}'),
    offset,
    timestamp: '1',
    attributes: 0,
    headers: {},
  });

  /** A source whose group has `metadata` at committed offset 10 on t[0], the group holding `members`. */
  const setup = async (metadata: string | null, members: string[]) => {
    const stub = createConsumerStub();
    const admin = Object.assign(createAdminStub(['t']), {
      fetchOffsets: async () => [{ topic: 't', partitions: [{ partition: 0, offset: '10', metadata }] }],
      describeGroups: async () => ({ groups: [{ members: members.map((memberId) => ({ memberId })) }] }),
    });
    const source = createKafkaSource({
      kafka: kafkaOf(stub, admin),
      groupId: 'g',
      topics: ['t'],
      poison: { maxAttempts: 3, probeRecords: 5 },
    });
    const handed: string[][] = [];
    const spy = handlersSpy();
    spy.handlers.onBatch = async (batch: unknown) => {
      const b = batch as import('../../../src/ports/index.ts').SourceBatch;
      handed.push(b.records.map((r) => r.offset));
      // What the record loop does: take every record it is handed.
      for (const r of b.records) b.take(r.offset);
    };
    await source.start(spy.handlers);
    stub.emit('consumer.group_join', { memberId: 'me', memberAssignment: { t: [0] } });
    const batch = async (offsets: string[]) =>
      stub.runOptions?.eachBatch({
        batch: { topic: 't', partition: 0, highWatermark: '99', messages: offsets.map(message) },
        resolveOffset: () => {},
        heartbeat: async () => {},
        isRunning: () => true,
        isStale: () => false,
      });
    const commits = () =>
      (stub.committed as Array<Array<{ offset: string; metadata?: string }>>).map(([c]) => ({
        offset: c?.offset,
        marker: parseMarker(c?.metadata),
      }));
    return { stub, source, handed, batch, commits };
  };

  const marker = (o: Record<string, unknown>) =>
    `${MARKER_PREFIX}${JSON.stringify({ at: '10', deaths: 0, member: 'gone', since: 0, careful: 0, poison: [], ...o })}`;

  it('writes its marker before the first batch, then commits without metadata (the common path)', async () => {
    const { source, handed, batch, commits } = await setup(null, ['me']);
    await batch(['10', '11']);
    expect(handed).toEqual([['10', '11']]);
    await source.commit([{ topic: 't', partition: 0, offset: '12' }]);
    expect(commits()).toEqual([
      { offset: '10', marker: expect.objectContaining({ at: '10', deaths: 0, member: 'me', careful: 0 }) },
      { offset: '12', marker: undefined },
    ]);
  });

  it('after maxAttempts - 1 deaths hands records out one at a time, each after a "probing k" commit', async () => {
    const { handed, batch, commits } = await setup(marker({ deaths: 1 }), ['me']);
    await batch(['10', '11']);
    expect(handed).toEqual([['10'], ['11']]);
    expect(commits().map((c) => [c.offset, c.marker?.deaths, c.marker?.probe])).toEqual([
      ['10', 2, undefined],
      ['10', 2, '10'],
      ['10', 2, '11'],
    ]);
  });

  it('finds "died probing k": k is POISON_RECORD, the others are not, and a clean stop counts no death', async () => {
    const { source, handed, batch, commits } = await setup(marker({ deaths: 2, probe: '11' }), ['me']);
    await batch(['10', '11', '12']);
    expect(handed).toEqual([['10', '11', '12']]);
    expect(source.quarantined({ topic: 't', partition: 0, offset: '10' })).toBeUndefined();
    expect(source.quarantined({ topic: 't', partition: 0, offset: '11' })).toMatchObject({
      code: 'POISON_RECORD',
      disposition: 'dead-letter',
      message: expect.stringMatching(/^the process died 3 times while processing this record/),
    });
    await source.stop();
    expect(commits().at(-1)?.marker).toMatchObject({ member: '', poison: [{ offset: '11', deaths: 3 }] });
  });

  it('a marker of a member still in the group (a rebalance) is not a death', async () => {
    const { handed, batch, commits } = await setup(marker({ deaths: 1, member: 'other' }), ['me', 'other']);
    await batch(['10', '11']);
    expect(handed).toEqual([['10', '11']]);
    expect(commits()[0]?.marker).toMatchObject({ deaths: 1, careful: 0, member: 'me' });
  });
});
