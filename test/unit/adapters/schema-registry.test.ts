import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/adapters/schema-registry.ts';
import { NotifierError } from '../../../src/domain/errors.ts';

/** The shape of @kafkajs/confluent-schema-registry's ResponseError. */
const responseError = (status: number, message: string) => Object.assign(new Error(message), { status });

describe('schema registry adapter: classify', () => {
  const host = 'http://user:s3cret@127.0.0.1:8081/apis/ccompat/v7';

  it.each([
    [responseError(404, 'Schema 7 not found'), 'SCHEMA_NOT_FOUND', 'dead-letter'],
    [responseError(503, 'Service Unavailable'), 'REGISTRY_UNAVAILABLE', 'retry'],
    [responseError(500, 'boom'), 'REGISTRY_UNAVAILABLE', 'retry'],
    // mappersmith reports a refused connection as status 400 with the socket error as text.
    [
      responseError(400, 'Error, status 400: connect ECONNREFUSED 127.0.0.1:8081'),
      'REGISTRY_UNAVAILABLE',
      'retry',
    ],
    [responseError(401, 'Unauthorized'), 'REGISTRY_AUTH', 'stop'],
    [new Error('truncated buffer'), 'DECODE_FAILED', 'dead-letter'],
    [new RangeError('invalid union index: 9'), 'DECODE_FAILED', 'dead-letter'],
  ] as const)('%s -> %s (%s)', (error, code, disposition) => {
    const classified = classify(error, 7, host);
    expect(classified).toBeInstanceOf(NotifierError);
    expect(classified.code).toBe(code);
    expect(classified.disposition).toBe(disposition);
    expect(classified.details.schemaId).toBe(7);
  });

  it('never puts the URL credentials into messages or details', () => {
    const classified = classify(responseError(404, 'not found'), 7, host);
    expect(classified.message).toContain('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(JSON.stringify(classified)).not.toContain('s3cret');
  });

  it('a NotifierError passes through', () => {
    const original = new NotifierError('REGISTRY_UNAVAILABLE', 'down');
    expect(classify(original, 1, host)).toBe(original);
  });
});
