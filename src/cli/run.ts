/**
 * `listing-notifier run --config FILE`: the service. Loads and validates the rules file, applies the
 * environment overrides (KAFKA_BROKERS, SLACK_API_URL), reads the bot token from the env var the config
 * names, checks it with auth.test, then consumes until SIGTERM/SIGINT.
 *
 * Exit codes: 0 after a graceful stop; 1 when the service stopped on a 'stop' error (bad token, a
 * consumer that gave up) or could not start; 2 for a usage or configuration error.
 * LOG_LEVEL (trace..fatal, default info) sets the log level.
 */
import { createLogger } from '../adapters/logger.ts';
import { applyEnvOverrides, tokenFromEnv } from '../app/env.ts';
import { loadConfig } from '../config/index.ts';
import { describeError, isNotifierError } from '../domain/errors.ts';
import type { CliIo } from './index.ts';

const usage = 'usage: listing-notifier run --config FILE';

export const help = `${usage}

The service: consumes source.topics as consumer group source.groupId, renders and routes each change,
delivers to Slack at Slack's pace, dead-letters what can never succeed, commits offsets. Serves
/healthz, /readyz and /metrics on http.host:http.port. SIGTERM or Ctrl-C stops gracefully (a second
signal exits at once). The rules file is watched (a ConfigMap update included) and SIGHUP reloads it:
valid new rules apply to records not yet routed; an invalid file is refused (logged, counted) and the
old rules stay; changes to source, slack, delivery or http are logged as needing a restart.

Options:
  -c, --config FILE   the rules file (required; check it with check-config)
  -h, --help          this text

Environment:
  the variable named by slack.tokenEnv (default SLACK_BOT_TOKEN)   the Slack bot token (required)
  KAFKA_BROKERS   host:port[,host:port...], replaces source.brokers
  SLACK_API_URL   replaces slack.apiUrl
  LOG_LEVEL       trace..fatal, default info

Exit codes:
  0  stopped gracefully
  2  usage or configuration error (including a missing token variable)
  1  could not start (Kafka, Slack refused the token) or stopped on an error`;

export function parseRunArgs(argv: string[]): { config: string } | { help: true } | { error: string } {
  let config: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { help: true };
    if (arg === '--config' || arg === '-c') {
      config = argv[i + 1];
      i += 1;
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
    } else {
      return { error: `unknown argument: ${arg}` };
    }
  }
  if (config === undefined || config === '') return { error: 'missing --config FILE' };
  return { config };
}

export async function run(argv: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = parseRunArgs(argv);
  if ('help' in args) {
    io.stdout(help);
    return 0;
  }
  if ('error' in args) {
    io.stderr(`${args.error}\n${usage}`);
    return 2;
  }
  let config: Awaited<ReturnType<typeof loadConfig>>;
  let fileConfig: Awaited<ReturnType<typeof loadConfig>>;
  let token: string;
  try {
    fileConfig = await loadConfig(args.config);
    config = applyEnvOverrides(fileConfig, env);
    token = tokenFromEnv(config, env);
  } catch (error) {
    io.stderr(isNotifierError(error) ? error.message : String(error));
    return 2;
  }

  const logger = createLogger({ level: env.LOG_LEVEL ?? 'info' });
  // Imported here so that a usage error does not pay for kafkajs and @slack/web-api.
  const { installSignalHandlers, start } = await import('../main.ts');
  let service: Awaited<ReturnType<typeof start>>;
  try {
    service = await start({
      config,
      token,
      logger,
      rules: { path: args.config, initial: fileConfig, overrides: (c) => applyEnvOverrides(c, env) },
    });
  } catch (error) {
    const described = describeError(error);
    logger.error({ error: described }, 'could not start');
    const hint =
      isNotifierError(error) && error.code === 'SLACK_AUTH'
        ? `Slack rejected the bot token in ${config.slack.tokenEnv}: ${error.message}`
        : `could not start: ${String(described.message)}`;
    io.stderr(`listing-notifier: ${hint}`);
    return 1;
  }
  io.stderr(`listing-notifier: running; health on ${service.httpUrl} (SIGTERM or Ctrl-C stops)`);
  const removeHandlers = installSignalHandlers(service, logger);
  const code = await service.done;
  removeHandlers();
  if (code !== 0) io.stderr('listing-notifier: stopped on an error (see the log line "stopping: ...")');
  return code;
}
