/**
 * How a run under gVisor is traced: runsc itself logs the sandbox's syscalls (`--strace`) into its debug log, one
 * file per runsc command; the sandbox's (`boot`) log is the trace, and it holds the sandbox's tasks only.
 */
import { TRACED_SYSCALLS } from '../../monitor/events.js';
import type { TraceSource } from '../../monitor/trace-source.js';
import { GvisorStraceParser } from './strace-log.js';

/** runsc's debug log names: one file per runsc command, the sandbox's own (`boot`, with the strace lines) included. */
export const GVISOR_LOG_NAME = 'runsc.%COMMAND%.log';
/** The sandbox's log of `gvisorStraceFlags`: the file the monitor makes a FIFO. */
export const GVISOR_BOOT_FIFO = GVISOR_LOG_NAME.replace('%COMMAND%', 'boot');

/**
 * The `runsc` global flags that write the `--strace` log `parseGvisorStrace` reads (JSON lines: unambiguous).
 * The sandbox's log goes to `<dir>/runsc.boot.log`, the other commands' logs next to it. (runsc 20221219 accepts
 * every name in `--strace-syscalls`; a wrong name is fatal.)
 */
export function gvisorStraceFlags(debugLogDir: string): string[] {
  const dir = debugLogDir.replace(/\/+$/, '');
  return [
    '--debug', '--debug-log-format=json', `--debug-log=${dir}/${GVISOR_LOG_NAME}`, '--strace',
    `--strace-syscalls=${TRACED_SYSCALLS.join(',')}`,
  ];
}

export const GVISOR_TRACE: TraceSource = Object.freeze({
  kind: 'runtime',
  flags: gvisorStraceFlags,
  file: GVISOR_BOOT_FIFO,
  parser: (limits, sink) => new GvisorStraceParser(limits, sink),
  // the sentry starts the container's first process (its `EXEC:` line): every task in the log is the sample's
  start: 'all',
});
