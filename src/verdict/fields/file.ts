import { printable } from '../../analyze/threats/evidence.js';
import { baseName, cap, dirName, type BehaviorContext } from '../context.js';
import type { EventView, FieldSpec } from '../types.js';

export const FILE_FIELDS: FieldSpec[] = [
  { name: 'file.op', type: 'string', doc: '`create`, `write`, `delete`, `chmod` or `rename`.' },
  { name: 'file.path', type: 'string', doc: 'The path operated on (a rename\'s old name).' },
  { name: 'file.name', type: 'string', doc: 'Basename of file.path.' },
  { name: 'file.dir', type: 'string', doc: 'Directory of file.path.' },
  { name: 'file.to', type: 'string', doc: 'A rename\'s new name ("" for other operations).' },
  { name: 'file.written_path', type: 'string', doc: 'The path that gets new content: file.path for create and write, file.to for rename, "" for delete and chmod.' },
  { name: 'file.mode', type: 'number', doc: 'A chmod\'s new permission bits (unknown when the monitor did not see them).' },
  { name: 'file.error', type: 'string', doc: 'The errno name when the attempt failed (`EROFS`, `EACCES`, …); "" when it succeeded or is not known to have failed.' },
  { name: 'file.pid', type: 'number', doc: 'The process that did it.' },
  { name: 'file.proc.name', type: 'string', doc: 'proc.name of that process ("" when it is not in the tree).' },
  { name: 'file.proc.cmdline', type: 'string', doc: 'proc.cmdline of that process.' },
  { name: 'file.proc.args', type: 'strings', doc: 'proc.args of that process.' },
  { name: 'file.proc.ancestors', type: 'strings', doc: 'proc.ancestors of that process.' },
];

export function fileEvents(ctx: BehaviorContext): EventView[] {
  return (ctx.result.files ?? []).map((f) => {
    const path = cap(String(f.path ?? ''));
    const to = f.to === undefined ? '' : cap(String(f.to));
    const node = ctx.nodeOf(f.pid);
    const written = f.op === 'create' || f.op === 'write' ? path : f.op === 'rename' ? to : '';
    const error = f.error ? cap(String(f.error)) : '';
    return {
      kind: 'file',
      values: {
        'file.op': String(f.op),
        'file.path': path,
        'file.name': baseName(path),
        'file.dir': dirName(path),
        'file.to': to,
        'file.written_path': written,
        'file.mode': typeof f.mode === 'number' ? f.mode : null,
        'file.error': error,
        'file.pid': f.pid,
        'file.proc.name': node?.name ?? '',
        'file.proc.cmdline': cap(node?.argv.join(' ') ?? ''),
        'file.proc.args': node?.argv.slice(1) ?? [],
        'file.proc.ancestors': node ? ctx.ancestors(node).map((a) => a.name) : [],
      },
      cite: {
        kind: 'file',
        op: String(f.op),
        path: printable(path),
        ...(to ? { to: printable(to) } : {}),
        ...(typeof f.mode === 'number' ? { mode: `0${f.mode.toString(8)}` } : {}),
        ...(error ? { error: printable(error, 40) } : {}),
        pid: f.pid,
      },
      path: written || path,
    };
  });
}
