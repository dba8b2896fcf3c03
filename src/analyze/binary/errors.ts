/**
 * Why a binary could not be read. Every reader in this folder throws only this error, so callers can tell a
 * hostile or damaged file (a notice) from a bug (anything else).
 */
export type BinaryErrorCode =
  /** The magic bytes are not those of the format asked for. */
  | 'not-recognised'
  /** A structure runs past the end of the file. */
  | 'truncated'
  /** A header points outside the file, or a size/offset does not fit. */
  | 'out-of-bounds'
  /** Fields contradict each other or the format. */
  | 'malformed'
  /** A count or size is beyond what this reader accepts (the file may be valid, but reading it is refused). */
  | 'too-large';

export class BinaryFormatError extends Error {
  override readonly name = 'BinaryFormatError';
  constructor(
    readonly code: BinaryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isBinaryFormatError(err: unknown): err is BinaryFormatError {
  return err instanceof BinaryFormatError;
}
