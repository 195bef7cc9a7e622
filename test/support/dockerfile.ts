/**
 * The Dockerfile as data, for the tests that lint it (test/unit/image/) and play it through
 * (test/integration/image.test.ts). Only what a single-stage Dockerfile like ours uses is understood;
 * anything else is an error, so a new instruction makes the play-through fail until it learns it.
 * https://docs.docker.com/reference/dockerfile/
 */
import { readFileSync } from 'node:fs';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** The arguments as written, continuation lines joined. */
  raw: string;
  /** `--name=value` flags before the arguments (COPY --chown=..., HEALTHCHECK --interval=...). */
  flags: Record<string, string>;
  /** Exec form (a JSON array) when the arguments are one; else undefined (shell form). */
  exec?: string[];
  /** 1-based line of the keyword. */
  line: number;
}

export const repoRoot = new URL('../../', import.meta.url);

export function readDockerfile(path: URL = new URL('Dockerfile', repoRoot)): string {
  return readFileSync(path, 'utf8');
}

/** Splits a Dockerfile into instructions (comments and blank lines dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const first = lines[i] ?? '';
    if (/^\s*(#|$)/.test(first)) continue;
    const line = i + 1;
    let joined = first;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      i += 1;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue; // comments inside a continuation are dropped by Docker too
      joined = `${joined.replace(/\\\s*$/, '')} ${next.trim()}`;
    }
    const match = /^\s*(\w+)\s*(.*)$/.exec(joined);
    if (!match?.[1]) throw new Error(`Dockerfile:${line}: cannot read ${JSON.stringify(joined)}`);
    let rest = (match[2] ?? '').trim();
    const flags: Record<string, string> = {};
    for (let flag = /^--([\w-]+)=(\S+)\s*/.exec(rest); flag; flag = /^--([\w-]+)=(\S+)\s*/.exec(rest)) {
      flags[flag[1] as string] = flag[2] as string;
      rest = rest.slice(flag[0].length);
    }
    let exec: string[] | undefined;
    if (rest.startsWith('[')) {
      const parsed = JSON.parse(rest) as unknown;
      if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
        throw new Error(`Dockerfile:${line}: exec form must be a JSON array of strings`);
      exec = parsed;
    }
    instructions.push({ keyword: match[1].toUpperCase(), raw: rest, flags, exec, line });
  }
  return instructions;
}

/** The one instruction with this keyword (the last wins, as in Docker); throws when there is none. */
export function last(instructions: Instruction[], keyword: string): Instruction {
  const found = instructions.filter((i) => i.keyword === keyword).at(-1);
  if (!found) throw new Error(`Dockerfile has no ${keyword}`);
  return found;
}

/**
 * What ENV instructions set, in order: key=value or key="value with spaces" (Docker strips the quotes
 * and unescapes \" and \\).
 */
export function envOf(instructions: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const step of instructions) {
    if (step.keyword !== 'ENV') continue;
    for (const [, key, quoted, bare] of step.raw.matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/g))
      env[key as string] = quoted === undefined ? (bare as string) : quoted.replace(/\\(.)/g, '$1');
  }
  return env;
}

/** HEALTHCHECK's command: the arguments after `CMD`, exec form. */
export function healthcheckCommand(instruction: Instruction): string[] {
  const match = /^CMD\s+(\[.*\])$/.exec(instruction.raw);
  if (!match?.[1]) throw new Error('HEALTHCHECK must be `HEALTHCHECK [flags] CMD ["exec", "form"]`');
  return JSON.parse(match[1]) as string[];
}
