import { describe, expect, it } from 'vitest';
import { startFailure as gvisorStartFailure } from '../../src/detonate/runtime/gvisor/failure.js';
import { RuntimeError, runtimeFailureOf } from '../../src/detonate/runtime/index.js';
import { startFailure as runcStartFailure } from '../../src/detonate/runtime/runc/failure.js';
import { DetonationError } from '../../src/detonate/session.js';

/*
 * What each runtime says when it cannot start a sample (as runsc 20221219 and runc 1.1.5 word it), and the typed
 * failure the rest of the program sees instead of the words.
 */
const GVISOR = {
  notInPath: 'running container: starting container: starting root container: starting sandbox: error finding executable "nosuchprog" in PATH [/usr/sbin /usr/bin /sbin /bin]: no such file or directory',
  absentPath: 'running container: starting container: starting root container: starting sandbox: creating process: failed to load /bin/nosuch: no such file or directory',
  notExecutable: 'running container: starting container: starting root container: starting sandbox: creating process: failed to load /etc/passwd: permission denied',
};
const RUNC = {
  notInPath: 'runc run failed: unable to start container process: exec: "nosuchprog": executable file not found in $PATH',
  absentPath: 'runc run failed: unable to start container process: exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory',
  notExecutable: 'runc run failed: unable to start container process: exec: "/etc/passwd": permission denied',
};

describe('runtime failures', () => {
  it.each([
    ['gVisor', gvisorStartFailure, GVISOR],
    ['runc', runcStartFailure, RUNC],
  ] as const)('%s: a program not on PATH is a missing entrypoint naming it; anything else a failed start', (_name, classify, said) => {
    expect(classify(said.notInPath)).toEqual({ kind: 'entrypoint-missing', program: 'nosuchprog' });
    expect(classify(said.absentPath)).toEqual({ kind: 'start-failed' });
    expect(classify(said.notExecutable)).toEqual({ kind: 'start-failed' });
    expect(classify('')).toEqual({ kind: 'start-failed' });
  });

  it('each runtime reads its own words only', () => {
    expect(gvisorStartFailure(RUNC.notInPath)).toEqual({ kind: 'start-failed' });
    expect(runcStartFailure(GVISOR.notInPath)).toEqual({ kind: 'start-failed' });
  });

  it('keeps the kind through an error that wraps it, and finds none in other errors', () => {
    const missing = new RuntimeError({ kind: 'entrypoint-missing', program: 'node' }, `runc could not start the sample (exit 1): ${RUNC.notInPath}`);
    expect(missing.kind).toBe('entrypoint-missing');
    expect(runtimeFailureOf(missing)).toEqual({ kind: 'entrypoint-missing', program: 'node' });
    const wrapped = new DetonationError('detonation: the sandbox did not start', undefined, { cause: new Error('step', { cause: missing }) });
    expect(runtimeFailureOf(wrapped)).toEqual({ kind: 'entrypoint-missing', program: 'node' });
    expect(new RuntimeError('unavailable', 'runc is not installed').failure).toEqual({ kind: 'unavailable' });
    // the words alone are not a failure of the runtime's
    expect(runtimeFailureOf(new Error(RUNC.notInPath))).toBeUndefined();
    expect(runtimeFailureOf('exec: "x": executable file not found')).toBeUndefined();
    expect(runtimeFailureOf(undefined)).toBeUndefined();
  });
});
