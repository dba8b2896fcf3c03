/** The crawl's own errors, and how untrusted text (names and messages from a server, lines of a file) is quoted. */
import { ImageError } from '../image/errors.js';
import { RegistryError } from '../image/registry/index.js';
import { MAX_QUOTED_CHARS } from './limits.js';

/** A crawl source that cannot go on: the message says what went wrong, the hint what to do. */
export class CrawlError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(hint ? `${message}\n  hint: ${hint}` : message);
    this.name = 'CrawlError';
  }
}

/** `text` as a JSON string literal, cut to a readable length: control characters and quotes cannot reach a terminal. */
export function quote(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text);
}

/** The first line of an error's message (the hint follows on the next). */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/**
 * Whether a failure to list one repository is about that repository alone (not found, refused, garbage from the
 * server), so the crawl skips it with a notice. Everything else (network down, 429 or 5xx after the retries) stops
 * the source instead: skipping would move the cursor past repositories that were never listed.
 */
export function isRepositoryProblem(err: unknown): boolean {
  if (err instanceof RegistryError) return err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 429;
  return err instanceof ImageError || err instanceof CrawlError;
}
