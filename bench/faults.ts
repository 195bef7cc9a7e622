/**
 * The fault matrix (issue 19): the service as a child process (`listing-notifier run`, as deployed)
 * with the Redis store, a backlog of price changes on a topic of its own, and one fault per scenario
 * injected once a third of them were delivered:
 *
 *   sigkill          the service SIGKILLed, started again at once (a pod restarted)
 *   slack-503        the Slack stand-in answering HTTP 503 for 30 s
 *   broker-restart   `scripts/stack.sh restart kafka` (TERM, start on the same data)
 *   replica          a second replica joins, delivers, and is SIGKILLed
 *   redis-empty      the store's Redis shut down without saving and started again, empty
 *   kafka-cut        the service's Kafka traffic dropped for 60 s (iptables, by the child's user)
 *   dlq-unwritable   every 10th record malformed, and the dead-letter topic refusing writes for 30 s
 *                    (max.message.bytes 16: even a slim letter is MESSAGE_TOO_LARGE). Raising
 *                    min.insync.replicas above the replication factor refuses nothing on Kafka 4.1,
 *                    and message.timestamp.before.max.ms 0 lets a write through now and then (same
 *                    millisecond): both measured.
 *
 * For each: records lost (a good change never delivered, or a malformed one never dead-lettered: must
 * be 0), duplicates (messages beyond one per change), seconds from the fault's end until delivery
 * moved again, and what /readyz answered meanwhile (polled every 500 ms), to judge whether it told
 * the truth. Not a test: it prints the table and asserts nothing; the exit code is 1 when a record
 * was lost.
 *
 * It restarts the broker and cuts connections: run it against a stack of its own, not a shared one.
 * `bash bench/faults.sh` does that (a fresh stack in a network namespace; needs root, iproute2 and
 * iptables). Direct: BENCH_FAULTS_OWN_STACK=1 npm exec -- node bench/faults.ts
 * (BENCH_FAULTS: comma-separated scenario names, default all; BENCH_FAULT_RECORDS, default 240.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { fixKafkajsIdleLoop } from '../src/adapters/kafkajs-idle-loop.ts';
import type { Config } from '../src/config/index.ts';
import {
  type ChildService,
  committedOffsets,
  listingIdOf,
  type SlackStandin,
  seedGroupAtEnd,
  startChild,
  startSlackStandin,
  testConfig,
  uniqueGroupId,
  waitUntil,
} from '../test/integration/service/harness.ts';
import { decimalBase64, makePayload, makeRecord, makeRow } from '../test/support/records.ts';
import { endpointsFromEnv, localStackEndpoints, type StackEndpoints } from '../test/support/stack.ts';

const RECORDS = Number(process.env.BENCH_FAULT_RECORDS ?? 240);
const PACE = { perSecond: 20, burst: 20 };
const REDIS_PORT = 6390;
/** The child's user for the Kafka cut: the iptables rule matches its packets only. */
const NOBODY = { uid: 65534, gid: 65534 };
const CHANNEL = 'sales-alerts';
const repoRoot = new URL('..', import.meta.url).pathname;

interface Ctx {
  stack: StackEndpoints;
  standin: SlackStandin;
  config: Config;
  topic: string;
  dlqTopic: string;
  /** The replica /readyz is polled on; scenarios replace it when they restart the service. */
  current: ChildService;
  children: ChildService[];
  startService(): Promise<ChildService>;
}

interface Scenario {
  name: string;
  /** Every 10th record malformed (the dead-letter scenario). */
  poison?: boolean;
  /** Starts the fault; returns once it holds. */
  inject(ctx: Ctx): Promise<void>;
  /** How long the fault holds after inject (a fault's length, not a wait for a condition). */
  holdMs: number;
  /** Ends the fault. */
  heal(ctx: Ctx): Promise<void>;
}

const run = (command: string, args: string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`)),
    );
  });

async function kill(child: ChildService): Promise<void> {
  if (child.child.exitCode !== null || child.child.signalCode !== null) return;
  child.child.kill('SIGKILL');
  await child.exited;
}

// ------------------------------------------------------------------------------- the bench's Redis

let redis: ChildProcess | undefined;
async function redisUp(): Promise<void> {
  redis = spawn(
    'redis-server',
    ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await waitUntil('the bench Redis', async () => {
    const ping = spawn('redis-cli', ['-p', String(REDIS_PORT), 'ping'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    ping.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    return new Promise<true | undefined>((resolve) =>
      ping.on('exit', () => resolve(out.includes('PONG') ? true : undefined)),
    );
  });
}
async function redisDown(): Promise<void> {
  const r = redis;
  if (r === undefined || r.exitCode !== null) return;
  const exited = new Promise((resolve) => r.on('exit', resolve));
  // SHUTDOWN NOSAVE: it comes back empty (no RDB, no AOF), as a Redis without persistence does.
  await run('redis-cli', ['-p', String(REDIS_PORT), 'shutdown', 'nosave']).catch(() => r.kill('SIGKILL'));
  await exited;
}

// -------------------------------------------------------------------------------------- scenarios

/** The child's packets to the broker, dropped (`-I` adds the rule, `-D` removes it). */
function kafkaCutRule(stack: StackEndpoints): string[] {
  const port = stack.kafkaBrokers[0]?.split(':')[1] ?? '9092';
  const owner = ['-m', 'owner', '--uid-owner', String(NOBODY.uid)];
  return ['OUTPUT', '-o', 'lo', '-p', 'tcp', '--dport', port, ...owner, '-j', 'DROP'];
}

/** The bench's own Kafka client, with the idle-loop fix the service applies (kafka-client.ts). */
function benchKafka(stack: StackEndpoints): Kafka {
  fixKafkajsIdleLoop();
  return new Kafka({ clientId: 'ln-bench-faults', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
}

/** Sets the dead-letter topic's config overrides to `entries` (AlterConfigs replaces them all: [] resets). */
async function setDlqConfig(ctx: Ctx, entries: Array<{ name: string; value: string }>): Promise<void> {
  const admin = benchKafka(ctx.stack).admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2 /* TOPIC */, name: ctx.dlqTopic, configEntries: entries }],
    });
  } finally {
    await admin.disconnect();
  }
}

const scenarios: Scenario[] = [
  {
    name: 'sigkill',
    inject: (ctx) => kill(ctx.current),
    holdMs: 0,
    heal: async (ctx) => {
      ctx.current = await ctx.startService();
    },
  },
  {
    name: 'slack-503',
    inject: async (ctx) => ctx.standin.fail({ mode: 'status', status: 503, forMs: 30_000 }),
    holdMs: 30_000,
    heal: async () => {},
  },
  {
    name: 'broker-restart',
    inject: () => run('bash', ['scripts/stack.sh', 'restart', 'kafka']),
    holdMs: 0,
    heal: async () => {},
  },
  {
    name: 'replica',
    inject: async (ctx) => {
      const second = await ctx.startService();
      // It has joined (the group rebalanced over both) and takes part: then it dies.
      const before = delivered(ctx).size;
      await waitUntil(
        'deliveries with two replicas',
        async () => (delivered(ctx).size > before + 10 ? true : undefined),
        {
          timeoutMs: 60_000,
        },
      );
      await kill(second);
    },
    holdMs: 0,
    heal: async () => {},
  },
  {
    name: 'redis-empty',
    inject: redisDown,
    holdMs: 5_000,
    heal: redisUp,
  },
  {
    name: 'kafka-cut',
    inject: (ctx) => run('iptables', ['-I', ...kafkaCutRule(ctx.stack)]),
    holdMs: 60_000,
    heal: (ctx) => run('iptables', ['-D', ...kafkaCutRule(ctx.stack)]),
  },
  {
    name: 'dlq-unwritable',
    poison: true,
    inject: async (ctx) => {
      await setDlqConfig(ctx, [{ name: 'max.message.bytes', value: '16' }]);
      // It holds once the broker applies it: a probe letter is refused (the reader ignores probes).
      const producer = benchKafka(ctx.stack).producer({ retry: { retries: 0 } });
      await producer.connect();
      try {
        await waitUntil('the dead-letter topic to refuse writes', () =>
          producer
            .send({ topic: ctx.dlqTopic, messages: [{ value: 'probe'.repeat(10), headers: { probe: '1' } }] })
            .then(
              () => undefined,
              () => true,
            ),
        );
      } finally {
        await producer.disconnect();
      }
    },
    holdMs: 30_000,
    heal: (ctx) => setDlqConfig(ctx, []),
  },
];

// --------------------------------------------------------------------------------------- the run

const ids = (name: string): number[] => {
  const base = 3_000_000 + scenarios.findIndex((s) => s.name === name) * 10_000;
  return Array.from({ length: RECORDS }, (_, i) => base + i);
};
const isPoison = (i: number): boolean => i % 10 === 9;

/** Listing id -> messages the stand-in accepted for it in the channel. */
function delivered(ctx: Ctx): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of ctx.standin.messages(CHANNEL)) {
    const id = listingIdOf(m);
    if (id !== undefined) out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

interface Sample {
  at: number;
  answer: string;
}

/**
 * /readyz answers as segments relative to `zero`: "200 -3.1..4.0 s; 503 (why) 4.0..9.5 s". Answers
 * that differ only in their figures (seconds, attempts, offsets) are one segment, shown as its first.
 */
function segments(samples: Sample[], zero: number): string {
  const shape = (answer: string | undefined): string | undefined => answer?.replace(/\d+/g, '#');
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i <= samples.length; i++) {
    const first = samples[start];
    if (first === undefined) break;
    if (i < samples.length && shape(samples[i]?.answer) === shape(first.answer)) continue;
    const end = samples[i - 1]?.at ?? first.at;
    out.push(
      `${first.answer} ${((first.at - zero) / 1000).toFixed(1)}..${((end - zero) / 1000).toFixed(1)} s`,
    );
    start = i;
  }
  return out.join('; ');
}

interface Row {
  scenario: string;
  lost: number;
  duplicates: number;
  recoverSeconds: number | null;
  readyz: string;
  note: string;
}

async function runScenario(stack: StackEndpoints, scenario: Scenario): Promise<Row> {
  const admin = benchKafka(stack).admin();
  const topic = `ln-bench-faults-${scenario.name}-${Date.now().toString(36)}`;
  const dlqTopic = `${topic}.dlq`;
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 3 },
      { topic: dlqTopic, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const standin = await startSlackStandin({ pace: PACE });
  const groupId = uniqueGroupId(`faults-${scenario.name}`);
  await seedGroupAtEnd(stack, groupId, topic);
  const base = testConfig(stack, standin, { groupId, pace: PACE, topics: [topic] });
  const config: Config = {
    ...base,
    store: {
      ...base.store,
      url: `redis://127.0.0.1:${REDIS_PORT}`,
      keyPrefix: `faults-${groupId}`,
      expectedReplicas: 2,
    },
  };
  const children: ChildService[] = [];
  const startService = async (): Promise<ChildService> => {
    const child = await startChild(config, standin, scenario.name === 'kafka-cut' ? { user: NOBODY } : {});
    children.push(child);
    await Promise.race([
      child.ready,
      child.exited.then((code) =>
        Promise.reject(new Error(`service exited ${code}: ${child.output.slice(-5).join('\n')}`)),
      ),
    ]);
    return child;
  };
  const ctx: Ctx = {
    stack,
    standin,
    config,
    topic,
    dlqTopic,
    current: await startService(),
    children,
    startService,
  };
  const samples: Sample[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const url = await Promise.race([
        ctx.current.ready,
        new Promise<string>((r) => setTimeout(() => r(''), 100)),
      ]);
      const answer = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })
        .then(async (r) =>
          r.status === 200
            ? '200'
            : `${r.status} (${((await r.json()) as { reason?: string }).reason ?? '?'})`,
        )
        .catch(() => 'no answer');
      samples.push({ at: performance.now(), answer });
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    await waitUntil('the service to join', async () => (samples.at(-1)?.answer === '200' ? true : undefined));
    const listings = ids(scenario.name);
    const good = listings.filter((_, i) => !(scenario.poison === true && isPoison(i)));
    const messages = listings.map((id, i) => {
      const record = makeRecord({
        payload: makePayload({
          before: makeRow({ lst_id: id, prc_amt: decimalBase64('100.00', 2) }),
          after: makeRow({ lst_id: id, prc_amt: decimalBase64('80.00', 2) }),
        }),
      });
      const value =
        scenario.poison === true && isPoison(i) ? Buffer.from(`{"not json": ${id}`) : record.value;
      return { key: record.key, value };
    });
    // Two thirds before the fault; the last third once it holds, so the service must read (and
    // dead-letter) through the fault, not only deliver what it had fetched before.
    const split = Math.floor((messages.length * 2) / 3);
    const produce = async (part: typeof messages): Promise<void> => {
      const producer = benchKafka(stack).producer();
      await producer.connect();
      await producer.send({ topic, messages: part });
      await producer.disconnect();
    };
    await produce(messages.slice(0, split));

    await waitUntil(
      'a third delivered',
      async () => (delivered(ctx).size >= good.length / 3 ? true : undefined),
      {
        timeoutMs: 120_000,
      },
    );
    const faultAt = performance.now();
    await scenario.inject(ctx);
    await produce(messages.slice(split));
    await new Promise((r) => setTimeout(r, scenario.holdMs));
    await scenario.heal(ctx);
    const healedAt = performance.now();
    const countAtHeal = [...delivered(ctx).values()].reduce((a, b) => a + b, 0);
    let movedAt: number | null = null;
    const letters = new Set<string>();
    const dlqReader = benchKafka(stack).consumer({
      groupId: `${groupId}-dlq-reader`,
    });
    await dlqReader.connect();
    await dlqReader.subscribe({ topic: dlqTopic, fromBeginning: true });
    await dlqReader.run({
      eachMessage: async ({ message }) => {
        if (message.headers?.probe !== undefined) return;
        letters.add(message.key?.toString('utf8') ?? '');
      },
    });
    const poisonCount = listings.length - good.length;
    await waitUntil(
      'every change delivered or dead-lettered',
      async () => {
        const seen = delivered(ctx);
        const total = [...seen.values()].reduce((a, b) => a + b, 0);
        if (movedAt === null && total > countAtHeal) movedAt = performance.now();
        return good.every((id) => seen.has(id)) && letters.size >= poisonCount ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    ).catch(() => undefined);
    await dlqReader.disconnect();
    const seen = delivered(ctx);
    const lostGood = good.filter((id) => !seen.has(id)).length;
    const lostPoison = Math.max(0, poisonCount - letters.size);
    const duplicates = good.reduce((n, id) => n + Math.max(0, (seen.get(id) ?? 0) - 1), 0);
    const allBeforeHeal = good.every((id) => seen.has(id)) && countAtHeal >= good.length;
    const committed = await committedOffsets(stack, groupId, topic).catch(() => []);
    return {
      scenario: scenario.name,
      lost: lostGood + lostPoison,
      duplicates,
      recoverSeconds: allBeforeHeal ? 0 : movedAt === null ? null : (movedAt - healedAt) / 1000,
      readyz: segments(samples, faultAt),
      note:
        `fault held ${((healedAt - faultAt) / 1000).toFixed(1)} s; ${good.length} changes, ${poisonCount} malformed` +
        ` (${letters.size} dead letters); committed ${committed.map((c) => `${c.partition}:${c.offset}`).join(' ')}`,
    };
  } finally {
    polling = false;
    await poller;
    for (const child of ctx.children) await kill(child).then(() => child.cleanup());
    await standin.close();
    const cleanup = benchKafka(stack).admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => {});
    await cleanup.disconnect();
  }
}

async function main(): Promise<number> {
  if (process.env.BENCH_FAULTS_OWN_STACK !== '1') {
    process.stderr.write(
      '[faults] restarts the broker and cuts connections: run `bash bench/faults.sh` (a stack of its own), ' +
        'or set BENCH_FAULTS_OWN_STACK=1 against a stack nobody else uses\n',
    );
    return 2;
  }
  const stack = endpointsFromEnv() ?? localStackEndpoints('native');
  const wanted = process.env.BENCH_FAULTS?.split(',') ?? scenarios.map((s) => s.name);
  await redisUp();
  const rows: Row[] = [];
  try {
    for (const scenario of scenarios.filter((s) => wanted.includes(s.name))) {
      process.stdout.write(`[faults] ${scenario.name} ...\n`);
      const row = await runScenario(stack, scenario).catch(
        (error: unknown): Row => ({
          scenario: scenario.name,
          lost: Number.NaN,
          duplicates: Number.NaN,
          recoverSeconds: null,
          readyz: '',
          note: `did not run to the end: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
      rows.push(row);
      process.stdout.write(`[faults] ${JSON.stringify(row)}\n`);
    }
  } finally {
    await redisDown();
  }
  process.stdout.write(
    `\n| scenario | lost | duplicates | moving again after the fault | /readyz meanwhile (s from the fault) | notes |\n| --- | --- | --- | --- | --- | --- |\n`,
  );
  for (const r of rows) {
    const recover = r.recoverSeconds === null ? 'not within 180 s' : `${r.recoverSeconds.toFixed(1)} s`;
    process.stdout.write(
      `| ${r.scenario} | ${r.lost} | ${r.duplicates} | ${recover} | ${r.readyz} | ${r.note} |\n`,
    );
  }
  return rows.some((r) => !(r.lost === 0)) ? 1 : 0;
}

process.exitCode = await main();
