/**
 * Environment overrides for the `run` command, applied once at the edge and validated like the file
 * (path + value). Only deployment facts come from the environment; behaviour stays in the rules file.
 * - KAFKA_BROKERS: comma-separated host:port list, replaces source.brokers.
 * - SLACK_API_URL: replaces slack.apiUrl (the stand-in in tests and the demo).
 * The bot token itself is read from process.env[slack.tokenEnv] by the caller, never stored in Config.
 */
import type { Config } from '../config/index.ts';
import { NotifierError } from '../domain/errors.ts';

const hostPort = /^[^\s:,]+:\d{1,5}$/;

export function applyEnvOverrides(config: Config, env: Record<string, string | undefined>): Config {
  const errors: string[] = [];
  let { source, slack } = config;
  const brokers = env.KAFKA_BROKERS?.trim();
  if (brokers) {
    const list = brokers.split(',').map((b) => b.trim());
    const bad = list.filter((b) => !hostPort.test(b));
    if (bad.length > 0)
      errors.push(`KAFKA_BROKERS: expected host:port[,host:port...], got ${JSON.stringify(brokers)}`);
    else source = { ...source, brokers: list };
  }
  const apiUrl = env.SLACK_API_URL?.trim();
  if (apiUrl) {
    if (!/^https?:\/\/[^\s]+$/.test(apiUrl) || !URL.canParse(apiUrl)) {
      errors.push(`SLACK_API_URL: expected an http(s) URL, got ${JSON.stringify(apiUrl)}`);
    } else slack = { ...slack, apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` };
  }
  if (errors.length > 0) {
    throw new NotifierError('CONFIG_INVALID', `environment: invalid override\n${errors.join('\n')}`, {
      details: { errors },
    });
  }
  return { ...config, source, slack };
}

/** The bot token from the env var the config names; CONFIG_INVALID (stop) when it is missing. */
export function tokenFromEnv(config: Config, env: Record<string, string | undefined>): string {
  const token = env[config.slack.tokenEnv]?.trim();
  if (!token) {
    throw new NotifierError(
      'CONFIG_INVALID',
      `${config.slack.tokenEnv} is not set: export the Slack bot token (xoxb-...) in it (slack.tokenEnv names the variable)`,
      { details: { tokenEnv: config.slack.tokenEnv } },
    );
  }
  return token;
}
