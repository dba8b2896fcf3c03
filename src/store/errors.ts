/** Something about the results store that the user has to fix: what went wrong and, in `hint`, what to do. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(hint ? `${message}: ${hint}` : message, options);
    this.name = 'StoreError';
  }
}
