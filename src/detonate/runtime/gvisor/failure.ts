/** What runsc's complaints mean, read here only: callers get a `RuntimeFailure`. */
import type { RuntimeFailure } from '../runtime.js';

/**
 * runsc's words when the entrypoint's program is not in the image:
 *   starting sandbox: error finding executable "nosuchprog" in PATH [/usr/sbin /usr/bin /sbin /bin]: no such file or directory
 */
const MISSING_PROGRAM = /executable "?([^"\s]+)"? (?:in PATH|file not found)/;

/** Why runsc could not start the sample, from what it wrote to stderr. */
export function startFailure(runtimeLog: string): RuntimeFailure {
  const missing = MISSING_PROGRAM.exec(runtimeLog);
  return missing ? { kind: 'entrypoint-missing', program: missing[1]! } : { kind: 'start-failed' };
}
