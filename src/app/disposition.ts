/**
 * The service's reading of the disposition table (src/domain/errors.ts) for anything thrown at it.
 * A NotifierError carries its disposition; anything else is a bug in our own code, and a bug must not be
 * mistaken for a bad record (dead-lettering every record) nor retried forever: it stops the service
 * with the error in the log, committing nothing that is unfinished, so a restart re-reads the work.
 */
import { type Disposition, isNotifierError } from '../domain/errors.ts';

export const dispositionOf = (error: unknown): Disposition =>
  isNotifierError(error) ? error.disposition : 'stop';

/** A short, secret-free description for logs and exit messages. */
export const describeError = (error: unknown): Record<string, unknown> => {
  if (isNotifierError(error)) {
    return {
      code: error.code,
      disposition: error.disposition,
      message: error.message,
      details: error.details,
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
};
