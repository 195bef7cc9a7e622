// The error table (src/domain/errors.ts): every code has a disposition and an exit code, and the catches
// that ask it get the table's answer.
import { describe, expect, it } from 'vitest';
import { help } from '../../../src/cli/run.ts';
import {
  asStoreFailure,
  type Disposition,
  degradeOrThrow,
  dispositionOf,
  errorDispositions,
  errorTable,
  exitCodeOf,
  exitCodes,
  NotifierError,
} from '../../../src/domain/errors.ts';

const dispositions: readonly Disposition[] = ['retry', 'dead-letter', 'degrade', 'stop'];

describe('the error table', () => {
  it.each(Object.entries(errorTable))('%s has a disposition and a documented exit code', (code, row) => {
    expect(dispositions).toContain(row.disposition);
    expect(Object.values(exitCodes)).toContain(row.exitCode);
    expect(row.exitCode).not.toBe(exitCodes.stopped); // a failure never exits 0
    expect(help).toMatch(new RegExp(`^  ${row.exitCode}  `, 'm'));
    const error = new NotifierError(code as keyof typeof errorTable, 'x');
    expect(error.disposition).toBe(row.disposition);
    expect(dispositionOf(error)).toBe(row.disposition);
    expect(exitCodeOf(error)).toBe(row.exitCode);
    expect(errorDispositions[code as keyof typeof errorTable]).toBe(row.disposition);
  });

  it('gives the startup failures with a code of their own the exit codes run --help lists', () => {
    const own = Object.fromEntries(
      Object.entries(errorTable)
        .filter(([, row]) => row.exitCode !== exitCodes.failed)
        .map(([code, row]) => [code, row.exitCode]),
    );
    expect(own).toEqual({
      REGISTRY_UNAVAILABLE: 5,
      REGISTRY_AUTH: 5,
      CONFIG_INVALID: 2,
      KAFKA_AUTH: 3,
      KAFKA_TLS: 4,
    });
  });

  it('answers stop and exit 1 for anything that is not a NotifierError (a bug)', () => {
    for (const thrown of [new TypeError('x is undefined'), 'a string', undefined]) {
      expect(dispositionOf(thrown)).toBe('stop');
      expect(exitCodeOf(thrown)).toBe(1);
    }
  });

  it('says degrade for a store that did not answer, and only for it', () => {
    expect(Object.entries(errorTable).filter(([, row]) => row.disposition === 'degrade')).toEqual([
      ['STORE_UNAVAILABLE', { disposition: 'degrade', exitCode: 1 }],
    ]);
  });
});

describe('degradeOrThrow', () => {
  it('makes anything uncoded a store threw STORE_UNAVAILABLE, naming the store and keeping the cause', () => {
    const cause = new Error('Connection is closed.');
    const failure = degradeOrThrow(cause, 'ledger');
    expect(failure.code).toBe('STORE_UNAVAILABLE');
    expect(failure.message).toBe('ledger failed: Connection is closed.');
    expect(failure.details).toEqual({ store: 'ledger' });
    expect(failure.cause).toBe(cause);
  });

  it('names the operation when told it (the Redis adapter codes its own failures this way)', () => {
    const failure = asStoreFailure(new Error('Command timed out'), 'ledger', 'seen');
    expect(failure.message).toBe('ledger seen failed: Command timed out');
    expect(failure.details).toEqual({ store: 'ledger', op: 'seen' });
    expect(dispositionOf(failure)).toBe('degrade');
  });

  it('returns a coded degrade as it is and throws what the table does not say to degrade', () => {
    const unavailable = new NotifierError('STORE_UNAVAILABLE', 'timeout');
    expect(degradeOrThrow(unavailable, 'pace')).toBe(unavailable);
    const stop = new NotifierError('CONFIG_INVALID', 'bad');
    expect(() => degradeOrThrow(stop, 'pace')).toThrow(stop);
  });
});
