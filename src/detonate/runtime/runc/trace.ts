/**
 * How a run under runc is traced: `strace -f` around the runc process, which also shows runc's own setup; the
 * sample starts at the first exec after runc's init.
 */
import type { ExecEvent } from '../../monitor/events.js';
import type { TraceSource, TraceStart } from '../../monitor/trace-source.js';

/** runc re-executes itself as its container's init, by whatever path it was started with (`/usr/sbin/runc init`). */
export function isRuncInit(exec: ExecEvent): boolean {
  return /(^|\/)runc$/.test(exec.argv[0] ?? '') && exec.argv[1] === 'init';
}

export const RUNC_TRACE_START: TraceStart = Object.freeze({ afterInit: isRuncInit });

export const RUNC_TRACE: TraceSource = Object.freeze({ kind: 'strace', start: RUNC_TRACE_START });
