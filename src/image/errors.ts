/** An error the user can act on: the message says what went wrong and, where possible, what to do. */
export class ImageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(hint ? `${message}\n  hint: ${hint}` : message);
    this.name = 'ImageError';
  }
}

/**
 * Bytes that are not what the image says they are: a digest mismatch, a truncated or oversized blob. The image is
 * refused (as Docker refuses it), never reported on from what was read.
 */
export class IntegrityError extends ImageError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'IntegrityError';
  }
}

export class DigestMismatchError extends IntegrityError {
  constructor(readonly expected: string, readonly actual: string, what = 'blob') {
    super(`${what} digest mismatch: expected ${expected}, got ${actual}`, 'the source is corrupt or was tampered with; nothing was cached');
    this.name = 'DigestMismatchError';
  }
}

/**
 * A layer whose content breaks a limit or is not a readable tar (bomb, too many entries, garbage). The scan records
 * it and goes on with the other layers; integrity errors (digest mismatch, truncation) stop the scan instead.
 */
export class LayerReadError extends ImageError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'LayerReadError';
  }
}
