/**
 * The Dockerfile on paper: a linter (dockerfile-utils, the rules of the Dockerfile language server,
 * every rule as an error) and the facts the rest of the repository relies on. That the steps actually
 * build and run is test/integration/image.test.ts's job.
 */
import { readFileSync } from 'node:fs';
import dockerignoreModule from '@balena/dockerignore';
import { ValidationSeverity, validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/index.ts';
import { deployedEnv } from '../../support/cgroup.ts';
import {
  envOf,
  healthcheckCommand,
  last,
  parseDockerfile,
  readDockerfile,
  repoRoot,
} from '../../support/dockerfile.ts';

const text = readDockerfile();
const instructions = parseDockerfile(text);
// A CommonJS module whose factory is also its own `default` (what TypeScript sees).
const dockerignore = dockerignoreModule.default;
const read = (path: string): string => readFileSync(new URL(path, repoRoot), 'utf8');
const defaults = parseConfig('{}', 'defaults');

describe('Dockerfile', () => {
  it('passes the linter with every rule as an error', () => {
    const error = ValidationSeverity.ERROR;
    const problems = validate(text, {
      deprecatedMaintainer: error,
      directiveCasing: error,
      emptyContinuationLine: error,
      instructionCasing: error,
      instructionCmdMultiple: error,
      instructionEntrypointMultiple: error,
      instructionHealthcheckMultiple: error,
      instructionJSONInSingleQuotes: error,
      instructionWorkdirRelative: error,
    }).map((d) => `Dockerfile:${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('the linter does catch a broken Dockerfile (so the check above can fail)', () => {
    const broken = "FROM node:24-slim\nEXPOSE http\nWORKDIR app\nCMD ['node']\n";
    expect(validate(broken).length).toBeGreaterThanOrEqual(2);
  });

  it('builds on Node 24, the major the project pins', () => {
    const pinned = (JSON.parse(read('package.json')) as { devDependencies: Record<string, string> })
      .devDependencies.node;
    expect(pinned).toMatch(/^\^24\./);
    expect(last(instructions, 'FROM').raw).toMatch(/^node:24-slim$/);
    expect(instructions.filter((i) => i.keyword === 'FROM')).toHaveLength(1);
  });

  it('installs production dependencies exactly as locked', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.raw);
    expect(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm (i|install)\b/.test(r))).toBe(false);
  });

  it('runs as a numeric non-root user, the one the Deployment asks for', () => {
    const user = last(instructions, 'USER').raw;
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const [uid, gid] = user.split(':').map(Number);
    const deployment = parse(read('k8s/app/deployment.yaml')) as {
      spec: { template: { spec: { securityContext: { runAsUser: number; runAsGroup: number } } } };
    };
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsUser: uid, runAsGroup: gid });
  });

  it('sets the runtime memory settings (NODE_OPTIONS, MALLOC_*) the Deployment sets', () => {
    const deployed = Object.entries(deployedEnv()).filter(([key]) => /^(NODE_OPTIONS|MALLOC_\w+)$/.test(key));
    expect(deployed.map(([key]) => key)).toEqual(
      expect.arrayContaining(['NODE_OPTIONS', 'MALLOC_ARENA_MAX']),
    );
    const image = envOf(instructions);
    for (const [key, value] of deployed) expect({ [key]: image[key] }).toEqual({ [key]: value });
  });

  it('starts the CLI in exec form (signals reach node) and its CMD names a file the image holds', () => {
    const entrypoint = last(instructions, 'ENTRYPOINT').exec;
    const bin = (JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin['listing-notifier'];
    expect(entrypoint).toEqual(['node', bin]);
    const cmd = last(instructions, 'CMD').exec ?? [];
    expect(cmd[0]).toBe('run');
    const config = cmd[cmd.indexOf('--config') + 1] ?? '';
    const workdir = last(instructions, 'WORKDIR').raw;
    expect(config.startsWith(`${workdir}/`)).toBe(true);
    const copied = instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => (i.exec ?? i.raw.split(/\s+/)).at(-1)?.replace(/^\.\//, `${workdir}/`));
    expect(copied).toContain(`${workdir}/config`);
    expect(read(config.slice(workdir.length + 1))).toContain('rules:');
  });

  it('exposes the health port and checks /healthz on it', () => {
    expect(last(instructions, 'EXPOSE').raw).toBe(String(defaults.http.port));
    expect(healthcheckCommand(last(instructions, 'HEALTHCHECK')).join(' ')).toContain(
      `http://127.0.0.1:${defaults.http.port}/healthz`,
    );
  });

  it('copies nothing that .dockerignore leaves out, and leaves out secrets and local state', () => {
    const ignore = dockerignore().add(read('.dockerignore').split('\n'));
    const sources = instructions
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => (i.exec ?? i.raw.split(/\s+/)).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(ignore.ignores(source), source).toBe(false);
    for (const kept of ['node_modules', 'src/node_modules', '.env', 'config/.env.local', '.git', 'test'])
      expect(ignore.ignores(kept), kept).toBe(true);
  });
});
