/**
 * Loading the rules file: YAML -> zod -> Config, once, at the edge (STYLE.md habit 5). Every problem
 * is reported as `path: problem, got <value>` so that `check-config` and a failing start both say
 * exactly which line of the file to fix.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { NotifierError } from '../domain/errors.ts';
import { configSchema } from './schema.ts';

export type { Condition, FieldConfig, FieldKind, RuleConfig } from './schema.ts';
export { configSchema } from './schema.ts';

export type Config = z.infer<typeof configSchema>;

export type CheckResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Validates a rules file's text. `source` (usually the file name) prefixes YAML syntax errors. */
export function checkConfig(text: string, source: string): CheckResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at === undefined ? source : `${source}:${at.line}:${at.col}`;
        return `${where}: ${firstLine(e.message).replace(/ at line \d+, column \d+:?$/, '')}`;
      }),
    };
  }
  // An empty file is an empty mapping: every default applies.
  const input: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const result = configSchema.safeParse(input, { reportInput: true });
  if (result.success) return { ok: true, config: result.data };
  const errors = result.error.issues.flatMap((issue) => describeIssue(issue, input, []));
  return { ok: false, errors: errors.map((e) => withDefaultsHint(e, input)) };
}

/** Throws NotifierError('CONFIG_INVALID') listing every issue, one per line. */
export function parseConfig(text: string, source: string): Config {
  const result = checkConfig(text, source);
  if (result.ok) return result.config;
  throw new NotifierError('CONFIG_INVALID', `${source}: invalid configuration\n${result.errors.join('\n')}`, {
    details: { source, errors: result.errors },
  });
}

export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new NotifierError('CONFIG_INVALID', `${file}: cannot read: ${(cause as Error).message}`, {
      cause,
      details: { source: file },
    });
  }
  return parseConfig(text, file);
}

type Path = readonly PropertyKey[];

/** `fields.price.column`, `rules[3].channels[0]`; `(root)` for the document itself. */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][\w-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(root)' : out;
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

// A secret written into the file by mistake is not echoed back in the error (nor into CI logs):
// values under password/secret/token-like keys, except the *Env and *File keys that only name them,
// and the user:password part of URLs.
const secretKey = /passw(or)?d|secret|token|api[-_]?key|private[-_]?key|credential/i;
const namesASecret = /(Env|File)$/;

function hideSecrets(value: unknown, key?: string): unknown {
  if (key !== undefined && secretKey.test(key) && !namesASecret.test(key)) return '[Redacted]';
  if (typeof value === 'string') return value.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
  if (Array.isArray(value)) return value.map((item) => hideSecrets(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideSecrets(v, k)]));
  }
  return value;
}

/** A short, unambiguous rendering of the value found (strings quoted, long values cut, secrets hidden). */
export function showValue(value: unknown, key?: string): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(hideSecrets(value, key)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

// Zod's own issue type, without depending on its internal module path.
type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, input: unknown, base: Path): string[] {
  const path = [...base, ...issue.path];
  // The value as written in the file; zod's own copy for values that came from a default.
  const written = valueAt(input, path);
  const found = written === undefined && 'input' in issue ? issue.input : written;
  const line = (
    problem: string,
    at: Path = path,
    value: unknown = at === path ? found : valueAt(input, at),
  ) => {
    const key = at.at(-1);
    return `${formatPath(at)}: ${problem}, got ${showValue(value, typeof key === 'string' ? key : undefined)}`;
  };

  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => line('unknown key', [...path, key]));
    case 'invalid_type':
      return [line(`expected ${issue.expected}`)];
    case 'invalid_value':
      return [line(`expected ${issue.values.map((v) => showValue(v)).join(' | ')}`)];
    case 'invalid_union': {
      if ((issue as { note?: string }).note === 'No matching discriminator') {
        const options = (issue as { options?: unknown[] }).options ?? [];
        return [line(`expected ${options.map((o) => showValue(o)).join(' | ')}`, path, valueAt(input, path))];
      }
      // Report the branch that got furthest: one whose problem is not "wrong type at the root".
      const deeper = issue.errors.filter((branch) =>
        branch.some((i) => i.code !== 'invalid_type' || i.path.length > 0),
      );
      const [only] = deeper;
      if (deeper.length === 1 && only !== undefined)
        return only.flatMap((i) => describeIssue(i, input, path));
      const expected = issue.errors.flatMap((b) =>
        b.map((i) => (i.code === 'invalid_type' ? i.expected : [])),
      );
      const unique = [...new Set(expected.flat())];
      return [line(unique.length > 0 ? `expected ${unique.join(' or ')}` : issue.message)];
    }
    case 'invalid_key':
      return issue.issues.map((i) => line(`invalid key: ${i.message}`, path, path.at(-1)));
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const cmp = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      const unit =
        issue.origin === 'string'
          ? ' characters'
          : issue.origin === 'array' || issue.origin === 'set'
            ? ' items'
            : '';
      const what =
        issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint' ? '' : ' length';
      return [line(`expected${what} ${cmp} ${String(bound)}${unit}`)];
    }
    case 'invalid_format':
      if (issue.format === 'url') return [line('expected an http(s) URL')];
      return [line(issue.format === 'regex' ? stripZod(issue.message) : `expected ${issue.format}`)];
    default:
      return [line(stripZod(issue.message))];
  }
}

/** Sections left out of the file take their defaults; say so when a default is what failed. */
function withDefaultsHint(error: string, input: unknown): string {
  const section = /^(rules|fields|channels)\b/.exec(error)?.[1];
  const given = input !== null && typeof input === 'object' && section !== undefined && section in input;
  return section === undefined || given
    ? error
    : `${error} (in the default ${section}: give \`${section}\` too)`;
}

function stripZod(message: string): string {
  return message.replace(/^Invalid input: /, '');
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
