import { printable } from '../../analyze/threats/evidence.js';
import { cap, endpoint, scriptOf, type BehaviorContext } from '../context.js';
import type { EventView, FieldSpec } from '../types.js';
import { MAX_CITED_ARGV } from '../limits.js';

export const PROCESS_FIELDS: FieldSpec[] = [
  { name: 'proc.pid', type: 'number', doc: 'Process id (in the sandbox).' },
  { name: 'proc.ppid', type: 'number', doc: 'Parent process id.' },
  { name: 'proc.exe', type: 'string', doc: 'Path of the program executed.' },
  { name: 'proc.name', type: 'string', doc: 'Basename of the exe; for a multi-call binary (busybox, toybox) the basename of argv[0] (or argv[1] when called as `busybox APPLET`).' },
  { name: 'proc.argv', type: 'strings', doc: 'The argument vector, argv[0] included.' },
  { name: 'proc.args', type: 'strings', doc: 'argv[1..]: the arguments without the program name.' },
  { name: 'proc.cmdline', type: 'string', doc: 'argv joined by spaces.' },
  { name: 'proc.parent.name', type: 'string', doc: 'proc.name of the parent ("" when the parent is not in the tree).' },
  { name: 'proc.parent.exe', type: 'string', doc: 'Exe of the parent ("" when unknown).' },
  { name: 'proc.ancestors', type: 'strings', doc: 'Names of the parent, grandparent, … up to the entrypoint.' },
  { name: 'proc.start_ms', type: 'number', doc: 'Start time, ms after the sample\'s first process started.' },
  { name: 'proc.connected', type: 'bool', doc: 'This pid made a connection (lookups sent to the sink\'s resolver do not count). Needs the monitor\'s per-connection pid.' },
  { name: 'proc.ancestor_connected', type: 'bool', doc: 'An ancestor of this process made a connection.' },
  { name: 'proc.connection', type: 'string', doc: '`host:port` (or `dst:port`) of the first connection of this process or of its nearest connected ancestor; "" when none.' },
  { name: 'proc.exe_dropped', type: 'bool', doc: 'The exe was created, written or renamed into place during the run.' },
  { name: 'proc.exe_chmodded', type: 'bool', doc: 'The exe (under this or an earlier name) was made executable during the run.' },
  { name: 'proc.exe_downloaded', type: 'bool', doc: 'The exe was written by a process that made a connection, by a descendant of one, or by a shell whose child wget/curl fetched to standard output (`wget -O- URL > file`).' },
  { name: 'proc.exe_download_from', type: 'string', doc: '`host:port` of the connection behind the download; "" when not downloaded.' },
  { name: 'proc.exe_written_by', type: 'strings', doc: 'Name of the process that wrote the exe, then its ancestors\' names; empty when not dropped.' },
  { name: 'proc.script', type: 'string', doc: 'For a shell or script interpreter (sh, bash, python, perl, ruby, node, php, lua): the script file it runs, its first argument that is not an option; "" otherwise (also for `sh -c`, `python -c`, `perl -e`).' },
  { name: 'proc.script_dropped', type: 'bool', doc: 'proc.exe_dropped, for the script.' },
  { name: 'proc.script_downloaded', type: 'bool', doc: 'proc.exe_downloaded, for the script.' },
  { name: 'proc.script_download_from', type: 'string', doc: 'proc.exe_download_from, for the script.' },
];

export function processEvents(ctx: BehaviorContext): EventView[] {
  return ctx.nodes.map((node) => {
    const r = node.record;
    const ancestors = ctx.ancestors(node);
    const own = ctx.connectionsByPid.get(r.pid)?.[0];
    let viaAncestor = undefined as string | undefined;
    for (const a of ancestors) {
      const c = ctx.connectionsByPid.get(a.record.pid)?.[0];
      if (c) {
        viaAncestor = endpoint(c);
        break;
      }
    }
    const exe = cap(String(r.exe ?? ''));
    const origin = ctx.exeOrigin(String(r.exe ?? ''));
    const args = node.argv.slice(1);
    const script = ctx.resolveWritten(scriptOf(node.name, node.argv));
    const scriptOrigin = script ? ctx.exeOrigin(script) : undefined;
    return {
      kind: 'process',
      values: {
        'proc.pid': r.pid,
        'proc.ppid': r.ppid,
        'proc.exe': exe,
        'proc.name': node.name,
        'proc.argv': node.argv,
        'proc.args': args,
        'proc.cmdline': cap(node.argv.join(' ')),
        'proc.parent.name': node.parent?.name ?? '',
        'proc.parent.exe': cap(String(node.parent?.record.exe ?? '')),
        'proc.ancestors': ancestors.map((a) => a.name),
        'proc.start_ms': r.startMs,
        'proc.connected': own !== undefined,
        'proc.ancestor_connected': viaAncestor !== undefined,
        'proc.connection': own ? cap(endpoint(own)) : cap(viaAncestor ?? ''),
        'proc.exe_dropped': origin.dropped,
        'proc.exe_chmodded': origin.chmodded,
        'proc.exe_downloaded': origin.downloadFrom !== undefined,
        'proc.exe_download_from': cap(origin.downloadFrom ?? ''),
        'proc.exe_written_by': origin.writtenBy,
        'proc.script': cap(script),
        'proc.script_dropped': scriptOrigin?.dropped === true,
        'proc.script_downloaded': scriptOrigin?.downloadFrom !== undefined,
        'proc.script_download_from': cap(scriptOrigin?.downloadFrom ?? ''),
      },
      cite: { kind: 'process', pid: r.pid, ppid: r.ppid, exe: printable(exe), argv: node.argv.slice(0, MAX_CITED_ARGV).map((a) => printable(a, 120)) },
      path: exe,
    };
  });
}
