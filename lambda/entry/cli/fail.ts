import { EXIT } from './exit.ts';
import { RateLimitedError } from '../../adapters/cloudinary/errors.ts';
import { ConfigError, LeaseHeldError, SourceError, messageOf } from '../../core/errors.ts';
import { UploadError } from '../../ports/upload.ts';

/**
 * Prints a fatal error as one line on stderr and returns the exit code: 2 for a setting to fix
 * (a ConfigError, or credentials Cloudinary refused), 1 for anything else. The stack only with -v.
 */
export const failWith = (err: unknown, verbose: boolean): number => {
  if (err instanceof LeaseHeldError) {
    process.stderr.write(`cloudinary-backup: ${err.message}\n`);
    return EXIT.busy;
  }
  const refused = (err instanceof SourceError && err.httpCode === 401) || (err instanceof UploadError && err.credentialsRefused);
  if (err instanceof ConfigError || refused) {
    process.stderr.write(`cloudinary-backup: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const msg = err instanceof RateLimitedError ? `${err.message} (the run stopped; run it again later)` : messageOf(err);
  process.stderr.write(`cloudinary-backup: ${msg}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT.failed;
};
