/** What runc's complaints mean, read here only: callers get a `RuntimeFailure`. */
import type { RuntimeFailure } from '../runtime.js';

/**
 * runc's words (Go's exec.LookPath, in its init) when the entrypoint's program is not in the image:
 *   runc run failed: unable to start container process: exec: "nosuchprog": executable file not found in $PATH
 */
const MISSING_PROGRAM = /exec: "?([^"\s:]+)"?: (?:executable file )?not found/;

/** Why runc could not start the sample, from the error lines of its log. */
export function startFailure(runtimeLog: string): RuntimeFailure {
  const missing = MISSING_PROGRAM.exec(runtimeLog);
  return missing ? { kind: 'entrypoint-missing', program: missing[1]! } : { kind: 'start-failed' };
}
