/**
 * Throughput draining a backlog: three consumers, each a child process, drain the same range of the
 * listings topic (bench/throughput-backlog.ts: ~48k real Debezium noise updates, ~18 kB each) from
 * the same offsets, one after the other, in ONE invocation:
 *   raw      kafkajs eachBatch, counting records and bytes only (the client's own speed);
 *   naive    a hand-written consumer: eachMessage, JSON.parse, compare two fields of before/after;
 *   service  `listing-notifier run` with the default rules file (config/listing-notifier.yaml), a fresh
 *            group and the Slack stand-in (the noise is dropped as insignificant; nothing reaches Slack).
 * Each is timed from joining its group (kafkajs GROUP_JOIN; the service's "joined the consumer group"
 * log line) to the end of the range (raw/naive: the last record handled; the service: the group's
 * committed offset reaching the end, polled every 20 ms). Peak RSS is the child's VmHWM at that moment.
 * Not a test: it prints figures and asserts nothing.
 *
 * Needs the stack (scripts/stack.sh up). Run: npm exec -- node bench/throughput.ts
 * BENCH_ROUNDS (default 3) rounds of the three, interleaved, medians reported (the machine is shared);
 * BENCH_LARGE=1 drains BENCH_LARGE_RECORDS (default 600) of the same records made ~1 MB each instead
 * (bench/throughput-backlog.ts: ensureLargeBacklog);
 * BENCH_SERVICE_NODE_OPTIONS: Node flags for the service child only (e.g. --max-semi-space-size=4);
 * BENCH_RECORDS (default 48120) UPDATEs make a new backlog; BENCH_NEW_BACKLOG=1 makes one even when the
 * recorded one is still on the topic; BENCH_ONLY=raw,naive,service picks consumers; BENCH_CPU_PROF=DIR
 * runs the service child under `node --cpu-prof --cpu-prof-dir=DIR`; BENCH_SERVICE_CONFIG=FILE uses
 * another rules file for the service.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import YAML from 'yaml';
import {
  connectPg,
  endpointsFromEnv,
  LISTINGS_TOPIC,
  localStackEndpoints,
  waitUntil,
} from '../test/support/stack.ts';
import { startSlackStandin } from '../tools/slack-standin/server.ts';
import { type Backlog, ensureBacklog, ensureLargeBacklog, recordsIn } from './throughput-backlog.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
type Kind = 'raw' | 'naive' | 'service';

interface Result {
  kind: Kind;
  records: number;
  bytes?: number;
  seconds: number;
  vmHwmKb: number;
}

// --- children ------------------------------------------------------------------------------------

/** raw / naive: consume [start, end) of every partition, then print one JSON line and wait to be killed. */
async function child(kind: 'raw' | 'naive', brokers: string[], backlog: Backlog, groupId: string) {
  const kafka = new Kafka({ clientId: `ln-bench-${kind}`, brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId });
  const endOf = new Map(backlog.partitions.map((p) => [p.partition, BigInt(p.end) - 1n]));
  let remaining = endOf.size;
  let joinedAt = 0;
  let records = 0;
  let bytes = 0;
  let significant = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt ||= Date.now();
  });
  const finish = (partition: number, offset: string) => {
    const end = endOf.get(partition);
    if (end === undefined || BigInt(offset) < end) return;
    endOf.delete(partition);
    remaining -= 1;
    if (remaining === 0) {
      console.log(JSON.stringify({ joinedAt, doneAt: Date.now(), records, bytes, significant }));
    }
  };
  await consumer.connect();
  await consumer.subscribe({ topics: [backlog.topic] });
  if (kind === 'raw') {
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (BigInt(m.offset) > (endOf.get(batch.partition) ?? -1n)) continue;
          records += 1;
          bytes += m.value?.length ?? 0;
        }
        const last = batch.messages.at(-1);
        if (last !== undefined) finish(batch.partition, last.offset);
      },
    });
  } else {
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (BigInt(message.offset) > (endOf.get(partition) ?? -1n)) return;
        records += 1;
        if (message.value !== null) {
          const payload = JSON.parse(message.value.toString('utf8'))?.payload;
          const before = payload?.before;
          const after = payload?.after;
          if (before?.prc_amt !== after?.prc_amt || before?.LST_STAT_CD !== after?.LST_STAT_CD)
            significant += 1;
        }
        finish(partition, message.offset);
      },
    });
  }
}

// --- the parent ----------------------------------------------------------------------------------

function admin(brokers: string[]) {
  return new Kafka({ clientId: 'ln-bench-admin', brokers, logLevel: logLevel.NOTHING }).admin();
}

async function seedGroup(brokers: string[], backlog: Backlog, groupId: string): Promise<void> {
  const a = admin(brokers);
  await a.connect();
  try {
    await a.setOffsets({
      groupId,
      topic: backlog.topic,
      partitions: backlog.partitions.map((p) => ({ partition: p.partition, offset: p.start })),
    });
  } finally {
    await a.disconnect();
  }
}

const vmHwmKb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? Number.NaN);
};

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function runPlain(kind: 'raw' | 'naive', brokers: string[], backlog: Backlog): Promise<Result> {
  const groupId = `ln-bench-${kind}-${Date.now()}`;
  await seedGroup(brokers, backlog, groupId);
  const proc = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--child', kind, groupId, JSON.stringify({ brokers, backlog })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      proc.once('exit', (code) => reject(new Error(`${kind} child exited with ${code}`)));
    });
    const hwm = vmHwmKb(proc.pid ?? 0);
    const r = JSON.parse(line) as { joinedAt: number; doneAt: number; records: number; bytes: number };
    return {
      kind,
      records: r.records,
      bytes: r.bytes,
      seconds: (r.doneAt - r.joinedAt) / 1000,
      vmHwmKb: hwm,
    };
  } finally {
    await stop(proc);
  }
}

async function runService(brokers: string[], backlog: Backlog): Promise<Result> {
  const groupId = `ln-bench-service-${Date.now()}`;
  await seedGroup(brokers, backlog, groupId);
  const dir = mkdtempSync(join(tmpdir(), 'ln-bench-'));
  const standin = await startSlackStandin();
  const configFile = process.env.BENCH_SERVICE_CONFIG ?? join(repoRoot, 'config/listing-notifier.yaml');
  const config = YAML.parse(readFileSync(configFile, 'utf8')) ?? {};
  config.source = { ...config.source, groupId, topics: [backlog.topic] };
  config.http = { ...config.http, host: '127.0.0.1', port: 0 };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const logFile = join(dir, 'service.log');
  const { openSync } = await import('node:fs');
  const log = openSync(logFile, 'w');
  const profDir = process.env.BENCH_CPU_PROF;
  const proc = spawn(
    process.execPath,
    [
      ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      ...(process.env.BENCH_SERVICE_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
      join(repoRoot, 'bin/listing-notifier.js'),
      'run',
      '--config',
      join(dir, 'config.json'),
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        SLACK_BOT_TOKEN: standin.token,
        SLACK_API_URL: standin.apiUrl,
        KAFKA_BROKERS: brokers.join(','),
      },
      stdio: ['ignore', log, log],
    },
  );
  const a = admin(brokers);
  await a.connect();
  try {
    const ends = new Map(backlog.partitions.map((p) => [p.partition, BigInt(p.end)]));
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const doneAt = await waitUntil(
      'the service to commit the end of the backlog',
      async () => {
        if (exited) throw new Error(`service exited early; its log: ${logFile}`);
        const [entry] = await a.fetchOffsets({ groupId, topics: [backlog.topic] });
        const all = (entry?.partitions ?? []).every(
          (p) => BigInt(p.offset) >= (ends.get(p.partition) ?? BigInt(p.offset)),
        );
        return all && entry?.partitions.length === ends.size ? Date.now() : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 20 },
    );
    const hwm = vmHwmKb(proc.pid ?? 0);
    const joined = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"joined the consumer group"'))
      .map((l) => (JSON.parse(l) as { time: number }).time)[0];
    if (joined === undefined) throw new Error(`no "joined the consumer group" line in ${logFile}`);
    return { kind: 'service', records: recordsIn(backlog), seconds: (doneAt - joined) / 1000, vmHwmKb: hwm };
  } finally {
    await a.disconnect();
    await stop(proc);
    await standin.close();
    if (process.env.BENCH_KEEP_LOG === '1') console.log(`service log: ${logFile}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const stack = endpointsFromEnv() ?? localStackEndpoints('native');
  const brokers = stack.kafkaBrokers;
  const db = await connectPg(stack.databaseUrl);
  let backlog: Backlog;
  try {
    backlog = await ensureBacklog(db, brokers, LISTINGS_TOPIC, Number(process.env.BENCH_RECORDS ?? 48_120));
  } finally {
    await db.end();
  }
  if (process.env.BENCH_LARGE === '1')
    backlog = await ensureLargeBacklog(brokers, backlog, Number(process.env.BENCH_LARGE_RECORDS ?? 600));
  const only = (process.env.BENCH_ONLY ?? 'raw,naive,service').split(',');
  const flags = process.env.BENCH_SERVICE_NODE_OPTIONS ?? '';
  if (flags !== '') console.log(`service child runs with node ${flags}`);
  const range = backlog.partitions.map((p) => `[${p.partition}] ${p.start}..${p.end}`).join(', ');
  console.log(
    `backlog: ${recordsIn(backlog)} records of ${backlog.topic} ${range} (created ${backlog.createdAt})`,
  );

  // The machine is shared: rounds interleave the consumers so that a busy moment does not fall on
  // one of them only; each consumer's median round is reported.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const all: Result[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const kind of ['raw', 'naive', 'service'] as const) {
      if (!only.includes(kind)) continue;
      const r =
        kind === 'service' ? await runService(brokers, backlog) : await runPlain(kind, brokers, backlog);
      all.push(r);
      const mean = r.bytes === undefined ? '' : `, mean value ${(r.bytes / r.records / 1000).toFixed(1)} kB`;
      console.log(
        `round ${round} ${kind.padEnd(8)} ${r.records} records in ${r.seconds.toFixed(2)} s: ` +
          `${Math.round(r.records / r.seconds)} records/s, peak RSS (VmHWM) ${(r.vmHwmKb / 1024).toFixed(0)} MB${mean}`,
      );
    }
  }
  const median = (xs: number[]): number => {
    const sorted = [...xs].sort((x, y) => x - y);
    return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
  };
  const rate = (k: Kind) => {
    const rs = all.filter((x) => x.kind === k);
    return rs.length === 0 ? undefined : median(rs.map((r) => r.records / r.seconds));
  };
  console.log(`median of ${rounds} round(s):`);
  for (const kind of ['raw', 'naive', 'service'] as const) {
    const rs = all.filter((x) => x.kind === kind);
    if (rs.length === 0) continue;
    console.log(
      `${kind.padEnd(8)} ${Math.round(rate(kind) ?? 0)} records/s, peak RSS (VmHWM) max ` +
        `${(Math.max(...rs.map((r) => r.vmHwmKb)) / 1024).toFixed(0)} MB`,
    );
  }
  const [raw, naive, service] = [rate('raw'), rate('naive'), rate('service')];
  if (service !== undefined && raw !== undefined)
    console.log(`service / raw kafkajs eachBatch: ${(service / raw).toFixed(2)}x (target >= 0.8x)`);
  if (service !== undefined && naive !== undefined)
    console.log(`service / naive consumer:        ${(service / naive).toFixed(2)}x (target >= 1.3x)`);
  if (naive !== undefined && raw !== undefined)
    console.log(`naive / raw:                     ${(naive / raw).toFixed(2)}x`);
}

if (process.argv[2] === '--child') {
  const [, , , kind, groupId, args] = process.argv;
  const { brokers, backlog } = JSON.parse(args ?? '{}') as { brokers: string[]; backlog: Backlog };
  process.on('SIGTERM', () => process.exit(0));
  await child(kind as 'raw' | 'naive', brokers, backlog, groupId ?? '');
} else {
  await main();
}
