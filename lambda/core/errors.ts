/**
 * The error family. A user mistake (ConfigError) is printed as one line without a stack;
 * a SourceError or DestinationError ends the run; an AssetCopyError is recorded and the run goes on.
 */

/** A setting or an argument is wrong; the message says which one and how to fix it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Cloudinary could not be read (after retries); fatal to the run. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    message: string,
    readonly httpCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The destination could not be read or written (after retries); fatal to the run. */
export class DestinationError extends Error {
  override readonly name = 'DestinationError';
  /** True when the object read does not exist. */
  readonly notFound: boolean;
  constructor(message: string, options?: { cause?: unknown; notFound?: boolean }) {
    super(message, options);
    this.notFound = options?.notFound ?? false;
  }
}

/** One asset could not be copied; recorded in the report, the run goes on. */
export class AssetCopyError extends Error {
  override readonly name: string = 'AssetCopyError';
  constructor(
    message: string,
    readonly publicId: string,
    readonly key?: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
  }
  readonly retryable: boolean;
}

/**
 * The asset is still being processed by Cloudinary (listed as a placeholder or pending, or
 * delivery answered 423 Locked): not a failure, the next run takes it. Never retried in a run.
 */
export class AssetNotReadyError extends AssetCopyError {
  override readonly name: string = 'AssetNotReadyError';
  constructor(publicId: string, detail: string) {
    super(`not copied this run: ${detail}; the next run copies it`, publicId, undefined, { retryable: false });
  }
}

/**
 * The asset was not fetched this run because fetching it would spend the Admin API calls kept
 * for the user's own app (a signed download counts as one) and the run cannot wait here: counted
 * as pending, the next run copies it.
 */
export class AssetDeferredError extends AssetNotReadyError {
  override readonly name: string = 'AssetDeferredError';
  constructor(publicId: string, detail: string, options?: { cause?: unknown }) {
    super(publicId, detail);
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause });
  }
}

/**
 * The CDN refused an original that the signed download API serves (401: access-controlled, a
 * format the plan blocks, strict transformations; 404 for a blocked format). The caller fetches
 * it again through the download API.
 */
export class CdnRefusedError extends AssetCopyError {
  override readonly name = 'CdnRefusedError';
  constructor(publicId: string, readonly status: number, options?: { cause?: unknown }) {
    super(`the CDN answered HTTP ${status}`, publicId, undefined, { ...options, retryable: false });
  }
}

/** A download or upload carried a different number of bytes than announced. */
export class LengthMismatchError extends Error {
  override readonly name = 'LengthMismatchError';
  constructor(
    readonly expected: number,
    readonly actual: number,
    readonly direction: 'short' | 'long',
  ) {
    super(
      direction === 'short'
        ? `download ended after ${actual} of ${expected} bytes`
        : `download sent more than the ${expected} bytes announced`,
    );
  }
}

/** The message of any thrown value, without stack. */
export const messageOf = (err: unknown): string => {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const e = err as { message?: unknown; error?: { message?: unknown } };
    if (typeof e.error?.message === 'string') return e.error.message;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
};

/** The run was stopped on request (Ctrl-C). */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor() {
    super('cancelled by the user');
  }
}

/**
 * A conditional write was refused: the object exists (`If-None-Match: *`) or changed since it
 * was read (`If-Match`). S3 answers 412 PreconditionFailed (or 409 ConditionalRequestConflict
 * when two conditional writes race); both mean "someone else wrote first".
 */
export class PreconditionFailedError extends Error {
  override readonly name = 'PreconditionFailedError';
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`the object ${key} was written by someone else in the meantime`, options);
  }
}

/** Who holds a run lease, as the lease object says. */
export interface LeaseHolder {
  readonly holder: string;
  readonly runId: string;
  readonly takenAt: string;
  readonly expiresAt: string;
  /** Set when the run gave the lease up: free whatever the clocks say (a reader's may be behind). */
  readonly released?: true;
  /** The machine and process of a command-line run (absent for the Lambda). */
  readonly host?: string;
  readonly pid?: number;
}

/** Another run holds the backup's lease: this run did not start and wrote nothing. */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
  constructor(
    readonly where: string,
    readonly by: LeaseHolder,
  ) {
    super(
      `another backup run is writing ${where}: ${by.holder} (run ${by.runId}) since ${by.takenAt}; ` +
        `this run stopped without touching anything. Try again after it ends (its lease expires at ${by.expiresAt} if it was killed).`,
    );
  }
}

/** This run's lease was taken over (it expired while the run was stopped): the run stops writing. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(where: string, options?: { cause?: unknown }) {
    super(
      `this run lost its lease on ${where} (it expired and another run took it over); it stopped writing. ` +
        'The other run carries on; nothing is lost, the next run copies what this one did not.',
      options,
    );
  }
}
