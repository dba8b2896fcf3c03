/** Exit codes of the CLI contract. */
export const EXIT = { ok: 0, failOnMet: 1, error: 2 } as const;

/** A mistake in how the command was called: exit 2 with the message and usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
