/**
 * Writes schema/listing-notifier.schema.json from the zod schema (src/config/schema.ts).
 * Run: npm exec -- node scripts/gen-schema.ts
 */
import { writeFileSync } from 'node:fs';
import { configJsonSchemaText } from '../src/config/json-schema.ts';

const target = new URL('../schema/listing-notifier.schema.json', import.meta.url);
writeFileSync(target, configJsonSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
