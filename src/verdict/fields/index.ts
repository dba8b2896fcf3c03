/** Every field a behaviour rule can read, by event kind (`run.*` fields are readable from every kind). */
import type { BehaviorContext } from '../context.js';
import type { EventKind, EventView, FieldSpec } from '../types.js';
import { CONNECTION_FIELDS, connectionEvents } from './connection.js';
import { DNS_FIELDS, dnsEvents } from './dns.js';
import { FILE_FIELDS, fileEvents } from './file.js';
import { FINDING_FIELDS, findingEvents } from './finding.js';
import { FAILED_EXEC_FIELDS, failedExecEvents } from './failed-exec.js';
import { KILL_FIELDS, killEvents } from './kill.js';
import { PROCESS_FIELDS, processEvents } from './process.js';
import { RUN_FIELDS, runEvent } from './run.js';

export const FIELDS_BY_KIND: Readonly<Record<EventKind, readonly FieldSpec[]>> = {
  process: PROCESS_FIELDS,
  exec_failed: FAILED_EXEC_FIELDS,
  file: FILE_FIELDS,
  dns: DNS_FIELDS,
  connection: CONNECTION_FIELDS,
  kill: KILL_FIELDS,
  run: RUN_FIELDS,
  finding: FINDING_FIELDS,
};

export interface KnownField extends FieldSpec {
  kind: EventKind;
}

export const ALL_FIELDS: ReadonlyMap<string, KnownField> = new Map(
  (Object.entries(FIELDS_BY_KIND) as [EventKind, readonly FieldSpec[]][]).flatMap(([kind, specs]) => specs.map((s) => [s.name, { ...s, kind }] as const)),
);

export function eventsOf(kind: EventKind, ctx: BehaviorContext): EventView[] {
  switch (kind) {
    case 'process':
      return processEvents(ctx);
    case 'exec_failed':
      return failedExecEvents(ctx);
    case 'file':
      return fileEvents(ctx);
    case 'dns':
      return dnsEvents(ctx);
    case 'connection':
      return connectionEvents(ctx);
    case 'kill':
      return killEvents(ctx);
    case 'run':
      return [runEvent(ctx)];
    case 'finding':
      return findingEvents(ctx);
  }
}
