/**
 * `listing-notifier run --config FILE`: the service. Loads and validates the rules file, applies the
 * environment overrides (KAFKA_BROKERS, SLACK_API_URL), reads the bot token from the env var the config
 * names and the Kafka/registry secrets from the env vars or files it names (src/config/connections.ts),
 * checks the token with auth.test, the TLS handshake and the registry, then consumes until SIGTERM/SIGINT.
 * A failure before consuming is one line on stderr and an exit code saying which dependency (below).
 * LOG_LEVEL (trace..fatal, default info) sets the log level.
 */
import { createLogger, secretMasker } from '../adapters/logger.ts';
import { applyEnvOverrides, tokenFromEnv } from '../app/env.ts';
import { type Connections, resolveConnections } from '../config/connections.ts';
import { loadConfig } from '../config/index.ts';
import { describeError, exitCodeOf, exitCodes, isNotifierError } from '../domain/errors.ts';
import type { CliIo } from './io.ts';

/** The exit codes, as `run --help` and the README list them; which error gets which is src/domain/errors.ts's table. */
export { exitCodes };

const usage = 'usage: listing-notifier run --config FILE';

export const help = `${usage}

The service: consumes source.topics as consumer group source.groupId, renders and routes each change,
delivers to Slack at Slack's pace, dead-letters what can never succeed, commits offsets. Topics that
do not exist yet are waited for (/readyz says so). Serves /healthz, /readyz and /metrics on
http.host:http.port. SIGTERM or Ctrl-C stops gracefully (a second signal exits at once). The rules
file is watched (a ConfigMap update included) and SIGHUP reloads it: valid new rules apply to records
not yet routed; an invalid file is refused (logged, counted) and the old rules stay; changes to
source, slack, delivery or http are logged as needing a restart.

Options:
  -c, --config FILE   the rules file (required; check it with check-config)
  -h, --help          this text

Environment:
  the variable named by slack.tokenEnv (default SLACK_BOT_TOKEN)   the Slack bot token (required)
  the variables named by source.sasl.passwordEnv and source.registryAuth.passwordEnv, when used
    (or the files named by their passwordFile counterparts)
  KAFKA_BROKERS   host:port[,host:port...], replaces source.brokers
  SLACK_API_URL   replaces slack.apiUrl
  LOG_LEVEL       trace..fatal, default info

Exit codes:
  0  stopped gracefully (SIGTERM/SIGINT; 130/143 on a second signal)
  1  stopped on an error while running, or could not start for another reason (Slack rejected the
     token, Kafka unreachable after the retries)
  2  usage or configuration error: a bad flag, an invalid rules file, a missing token variable, a
     secret's env var unset or its file unreadable, a CA, certificate or key file that does not hold
     what it should
  3  Kafka refused the SASL credentials (wrong user or password, mechanism not enabled)
  4  TLS with a Kafka broker failed (its certificate not trusted by source.tls.caFile, a name mismatch,
     a client certificate refused, or not a TLS listener)
  5  the schema registry is unreachable, not trusted, or refused the credentials`;

/** Which exit code a startup failure gets: the exit-code column of the error table (src/domain/errors.ts). */
export const startExitCode = (error: unknown): number => exitCodeOf(error);

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
    return exitCodes.config;
  }
  let config: Awaited<ReturnType<typeof loadConfig>>;
  let fileConfig: Awaited<ReturnType<typeof loadConfig>>;
  let token: string;
  let connections: Connections;
  try {
    fileConfig = await loadConfig(args.config);
    config = applyEnvOverrides(fileConfig, env);
    token = tokenFromEnv(config, env);
    connections = await resolveConnections(config, env);
  } catch (error) {
    io.stderr(isNotifierError(error) ? error.message : String(error));
    return exitCodes.config;
  }

  const logger = createLogger({ level: env.LOG_LEVEL ?? 'info', secrets: [token, ...connections.secrets] });
  // Imported here so that a usage error does not pay for kafkajs and @slack/web-api.
  const { installSignalHandlers, start } = await import('../main.ts');
  let service: Awaited<ReturnType<typeof start>>;
  try {
    service = await start({
      config,
      token,
      logger,
      connections,
      rules: { path: args.config, initial: fileConfig, overrides: (c) => applyEnvOverrides(c, env) },
    });
  } catch (error) {
    const described = describeError(error);
    logger.error({ error: described }, 'could not start');
    const hint =
      isNotifierError(error) && error.code === 'SLACK_AUTH'
        ? `Slack rejected the bot token in ${config.slack.tokenEnv}: ${error.message}`
        : `could not start: ${String(described.message)}`;
    // The logger masks secrets in its lines; this line goes around it, so mask it the same way.
    io.stderr(maskLine(`listing-notifier: ${hint}`, [token, ...connections.secrets]));
    return startExitCode(error);
  }
  io.stderr(`listing-notifier: running; health on ${service.httpUrl} (SIGTERM or Ctrl-C stops)`);
  const removeHandlers = installSignalHandlers(service, logger);
  const code = await service.done;
  removeHandlers();
  if (code !== 0) io.stderr('listing-notifier: stopped on an error (see the log line "stopping: ...")');
  return code;
}

const maskLine = (line: string, secrets: string[]): string => secretMasker(secrets)(line);
