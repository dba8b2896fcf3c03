import { printable } from '../../analyze/threats/evidence.js';
import { cap, type BehaviorContext } from '../context.js';
import type { EventView, FieldSpec } from '../types.js';

export const DNS_FIELDS: FieldSpec[] = [
  { name: 'dns.name', type: 'string', doc: 'The name looked up: lower case, no trailing dot (bytes outside [a-z0-9-_] escaped as `\\DDD`).' },
  { name: 'dns.type', type: 'string', doc: 'The query type: `A`, `AAAA`, `TXT`, … (`TYPE65280` for types without a mnemonic).' },
];

export function dnsEvents(ctx: BehaviorContext): EventView[] {
  return (ctx.result.dns ?? []).map((d) => {
    const name = cap(String(d.name ?? ''));
    return {
      kind: 'dns',
      values: { 'dns.name': name, 'dns.type': cap(String(d.type ?? '')) },
      cite: { kind: 'dns', name: printable(name), type: printable(String(d.type ?? ''), 16) },
    };
  });
}
