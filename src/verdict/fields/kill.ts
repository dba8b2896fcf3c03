import { printable } from '../../analyze/threats/evidence.js';
import { baseName, cap, type BehaviorContext } from '../context.js';
import type { EventView, FieldSpec } from '../types.js';

export const KILL_FIELDS: FieldSpec[] = [
  { name: 'kill.signal', type: 'string', doc: 'The signal: `SIGKILL`, `SIGTERM`, …; `0` for an existence check.' },
  { name: 'kill.pid', type: 'number', doc: 'The process that sent it.' },
  { name: 'kill.proc.name', type: 'string', doc: 'proc.name of the sender.' },
  { name: 'kill.target', type: 'number', doc: 'The target pid as passed to kill(2) (0 and negatives address process groups).' },
  { name: 'kill.target_name', type: 'string', doc: 'Name of the target program when it is a process of the sample\'s tree; "" otherwise.' },
  { name: 'kill.target_in_tree', type: 'bool', doc: 'The target is a process the sample started.' },
];

export function killEvents(ctx: BehaviorContext): EventView[] {
  return (ctx.result.kills ?? []).map((k) => {
    const sender = ctx.nodeOf(k.pid);
    const target = ctx.nodeOf(k.target);
    const targetName = target?.name ?? (k.targetExe ? cap(baseName(String(k.targetExe))) : '');
    return {
      kind: 'kill',
      values: {
        'kill.signal': cap(String(k.signal ?? '')),
        'kill.pid': k.pid,
        'kill.proc.name': sender?.name ?? '',
        'kill.target': k.target,
        'kill.target_name': targetName,
        'kill.target_in_tree': target !== undefined || k.targetExe !== undefined,
      },
      cite: { kind: 'kill', pid: k.pid, target: k.target, signal: printable(String(k.signal ?? ''), 16), ...(targetName ? { targetName: printable(targetName, 80) } : {}) },
    };
  });
}
