/**
 * The JSON Schema editors use for config files (yaml-language-server, VS Code), generated from the zod
 * schema so the two can never disagree. scripts/gen-schema.ts writes it to
 * schema/listing-notifier.schema.json; a unit test fails when the committed file is stale.
 */
import { z } from 'zod';
import { configSchema } from './schema.ts';

/** The schema of what may be written in the file (zod's input side: defaults make keys optional). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'throw',
  });
  return {
    $schema: schema.$schema,
    title: 'listing-notifier configuration',
    description: 'Which listing changes become Slack messages, where they go, and how they read.',
    ...schema,
  };
}

/** The committed file's exact text: two-space JSON and a final newline. */
export const configJsonSchemaText = (): string => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
