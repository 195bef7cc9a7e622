import { readFileSync } from 'node:fs';
import { parseConfig } from './src/config/index.ts';
import { decimalColumnsOf } from './src/pipeline/index.ts';
import { dropNoise } from './src/pipeline/noise.ts';
import { loadFixture } from './test/support/records.ts';
const config = parseConfig(readFileSync('config/listing-notifier.yaml', 'utf8'), 'c');
const dc = decimalColumnsOf(config);
const r = loadFixture(process.env.CASE ?? 'update-updated-at-only').records[0]!;
const b = r.value!;
for (let round = 0; round < 3; round++) {
let t = performance.now(); const N = 20000; for (let i = 0; i < N; i++) dropNoise(r, config, dc);
const fast = (performance.now() - t) * 1000 / N;
t = performance.now(); for (let i = 0; i < N; i++) JSON.parse(b.toString('utf8'));
const parse = (performance.now() - t) * 1000 / N;
console.log('fast', fast.toFixed(1), 'µs; JSON.parse', parse.toFixed(1), 'µs');
}
