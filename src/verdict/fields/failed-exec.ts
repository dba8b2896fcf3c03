import { printable } from '../../analyze/threats/evidence.js';
import { cap, processName, type BehaviorContext } from '../context.js';
import type { EventView, FieldSpec } from '../types.js';
import { MAX_CITED_ARGV, MAX_MATCHED_ARGV } from '../limits.js';

export const FAILED_EXEC_FIELDS: FieldSpec[] = [
  { name: 'exec.pid', type: 'number', doc: 'The process that tried.' },
  { name: 'exec.exe', type: 'string', doc: 'Path of the program it tried to start.' },
  { name: 'exec.name', type: 'string', doc: 'Basename of the exe (argv[0] for a multi-call binary), as proc.name.' },
  { name: 'exec.argv', type: 'strings', doc: 'The argument vector it passed, argv[0] included.' },
  { name: 'exec.args', type: 'strings', doc: 'argv[1..].' },
  { name: 'exec.cmdline', type: 'string', doc: 'argv joined by spaces.' },
  { name: 'exec.error', type: 'string', doc: 'Why the kernel refused it: `ENOENT` (not there: a download that failed), `EACCES` (no exec bit), …' },
  { name: 'exec.parent.name', type: 'string', doc: 'proc.name of the process that tried, before it tried ("" when unknown).' },
];

/** Programs the sample tried to start and could not (`behavior.failedExecs`): what it meant to run still shows. */
export function failedExecEvents(ctx: BehaviorContext): EventView[] {
  return (ctx.result.failedExecs ?? []).map((x) => {
    const argv = (Array.isArray(x.argv) ? x.argv : []).slice(0, MAX_MATCHED_ARGV).map((a) => cap(String(a)));
    const exe = cap(String(x.exe ?? ''));
    const caller = ctx.nodeOf(x.pid, x.atMs);
    return {
      kind: 'exec_failed',
      values: {
        'exec.pid': x.pid,
        'exec.exe': exe,
        'exec.name': cap(processName(exe, argv)),
        'exec.argv': argv,
        'exec.args': argv.slice(1),
        'exec.cmdline': cap(argv.join(' ')),
        'exec.error': cap(String(x.error ?? '')),
        'exec.parent.name': caller?.name ?? '',
      },
      cite: { kind: 'exec_failed', pid: x.pid, exe: printable(exe), argv: argv.slice(0, MAX_CITED_ARGV).map((a) => printable(a, 120)), error: printable(String(x.error ?? ''), 16) },
      path: exe,
    };
  });
}
