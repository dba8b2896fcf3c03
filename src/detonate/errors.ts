/** The detonation's own errors, in a module of their own so that callers can tell them apart without loading a session. */

/** A detonation that could not be done. One that wraps a step's error keeps it as `cause` (its kind survives). */
export class DetonationError extends Error {
  override name = 'DetonationError';
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A run ended early on purpose (a signal, or the caller's abort): there is no record of the image's behaviour. */
export class DetonationInterrupted extends DetonationError {
  override name = 'DetonationInterrupted';
}
