import { describe, expect, it } from 'vitest';
import { applyEnvOverrides, tokenFromEnv } from '../../../src/app/env.ts';
import { parseConfig } from '../../../src/config/index.ts';

const config = parseConfig('{}', 'test.yaml');

describe('environment overrides', () => {
  it('leaves the config alone when nothing is set', () => {
    expect(applyEnvOverrides(config, {})).toEqual(config);
  });

  it('takes KAFKA_BROKERS (comma-separated) and SLACK_API_URL', () => {
    const out = applyEnvOverrides(config, {
      KAFKA_BROKERS: 'kafka-0:9092, kafka-1:9092',
      SLACK_API_URL: 'http://127.0.0.1:3999/api',
    });
    expect(out.source.brokers).toEqual(['kafka-0:9092', 'kafka-1:9092']);
    expect(out.slack.apiUrl).toBe('http://127.0.0.1:3999/api/');
  });

  it('names the variable and the value when an override is invalid', () => {
    expect(() => applyEnvOverrides(config, { KAFKA_BROKERS: 'kafka-0' })).toThrow(
      'KAFKA_BROKERS: expected host:port[,host:port...], got "kafka-0"',
    );
    expect(() => applyEnvOverrides(config, { SLACK_API_URL: 'not a url' })).toThrow(
      'SLACK_API_URL: expected an http(s) URL, got "not a url"',
    );
  });

  it('reads the token from the variable the config names, and says which one is missing', () => {
    expect(tokenFromEnv(config, { SLACK_BOT_TOKEN: 'xoxb-1-2-3' })).toBe('xoxb-1-2-3');
    expect(() => tokenFromEnv(config, {})).toThrow(/^SLACK_BOT_TOKEN is not set/);
  });
});
