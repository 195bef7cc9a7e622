import { readFileSync } from 'node:fs';
// ajv comes with @kafkajs/confluent-schema-registry; here it stands in for an editor reading the schema.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema, configJsonSchemaText } from '../../../src/config/json-schema.ts';

const committed = new URL('../../../schema/listing-notifier.schema.json', import.meta.url);
const example = new URL('../../../config/listing-notifier.yaml', import.meta.url);

describe('schema/listing-notifier.schema.json', () => {
  it('is up to date with the zod schema (regenerate: npm exec -- node scripts/gen-schema.ts)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(configJsonSchemaText());
  });

  it('accepts the example file and rejects what zod rejects for shape', () => {
    const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(
      configJsonSchema(),
    );
    expect(validate(parse(readFileSync(example, 'utf8')))).toBe(true);
    expect(validate({})).toBe(true);
    expect(validate({ timezone: 'UTC' })).toBe(false);
    expect(validate({ fields: { price: { kind: 'money' } } })).toBe(false);
    expect(validate({ rules: [{ match: { condition: 'dropped' }, channels: ['x'] }] })).toBe(false);
  });

  it('documents every option with its default', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.properties !== undefined) {
        for (const [key, child] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          const optional = !((n.required as string[] | undefined) ?? []).includes(key);
          const text = String(child.description ?? '');
          // A section (an object of options) is documented by its options.
          const section = child.properties !== undefined;
          if (optional && !section && !/Default|default/.test(text)) missing.push(`${path}.${key}`);
          walk(child, `${path}.${key}`);
        }
      }
      for (const k of ['anyOf', 'oneOf', 'items', 'additionalProperties'])
        for (const c of [n[k]].flat()) walk(c, `${path}${k === 'items' ? '[]' : ''}`);
    };
    walk(configJsonSchema(), '');
    expect(missing).toEqual([]);
  });
});
