/**
 * Micro-benchmark: the per-event cost of decode -> render (the whole pure pipeline) over the real
 * captured fixtures, next to baselines measured in the same run on the same bytes:
 *   JSON.parse   parsing the record value, the least any JSON consumer pays;
 *   decode       decodeRecord alone (JSON + Connect schema + logical types);
 *   pipeline     createPipeline(...).process: decode, normalize, diff, filter, route, render.
 * Not a test: it asserts nothing about speed. Run: npm run bench (or npm exec -- node bench/run.ts).
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config/index.ts';
import type { SourceRecord } from '../src/domain/record.ts';
import { decodeRecord } from '../src/pipeline/decode/index.ts';
import { createPipeline, decimalColumnsOf } from '../src/pipeline/index.ts';
import { fixtureCases, loadFixture } from '../test/support/records.ts';

const config = parseConfig(
  readFileSync(new URL('../config/listing-notifier.yaml', import.meta.url), 'utf8'),
  'config',
);
const records: SourceRecord[] = fixtureCases().flatMap((name) => loadFixture(name).records);
const values = records.filter((r) => r.value !== null);
const pipeline = createPipeline(config);
const decodeDeps = { decimalColumns: decimalColumnsOf(config) };

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const PASSES = Number(process.env.BENCH_PASSES ?? 40);

/** Median ns per event over ROUNDS rounds of PASSES passes over all `events`. */
async function measure(events: readonly SourceRecord[], fn: (r: SourceRecord) => unknown): Promise<number> {
  let sink = 0;
  const once = async () => {
    for (const r of events) {
      const out = fn(r);
      sink += (out instanceof Promise ? await out : out) === undefined ? 0 : 1;
    }
  };
  for (let i = 0; i < 30; i++) await once(); // warm-up: let the JIT settle
  const perEvent: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let pass = 0; pass < PASSES; pass++) await once();
    perEvent.push(Number(process.hrtime.bigint() - start) / (PASSES * events.length));
  }
  if (sink < 0) console.log(sink); // keep the work observable
  perEvent.sort((a, b) => a - b);
  return perEvent[Math.floor(perEvent.length / 2)] ?? Number.NaN;
}

const rows: [string, number][] = [
  [
    'JSON.parse(value) [baseline]',
    await measure(values, (r) => JSON.parse((r.value as Buffer).toString('utf8'))),
  ],
  ['decodeRecord', await measure(values, (r) => decodeRecord(r, decodeDeps))],
  ['pipeline.process (decode -> render)', await measure(records, (r) => pipeline.process(r))],
];
const notify: SourceRecord[] = [];
for (const r of records) if ((await pipeline.process(r)).kind === 'notify') notify.push(r);
rows.push(['  of which notify events only', await measure(notify, (r) => pipeline.process(r))]);

const bytes = values.reduce((n, r) => n + (r.value?.length ?? 0), 0);
console.log(
  `${records.length} records from ${fixtureCases().length} fixture cases (${values.length} with a value, ` +
    `mean ${Math.round(bytes / values.length)} bytes; ${notify.length} notify); Node ${process.version}; ` +
    `median of ${ROUNDS} rounds x ${PASSES} passes`,
);
const baseline = rows[0]?.[1] ?? 1;
for (const [name, ns] of rows) {
  console.log(
    `${name.padEnd(40)} ${Math.round(ns).toLocaleString('en-US').padStart(9)} ns/event  ` +
      `${Math.round(1e9 / ns)
        .toLocaleString('en-US')
        .padStart(10)} events/s  ${(ns / baseline).toFixed(1)}x JSON.parse`,
  );
}
