import { printable } from '../../analyze/threats/evidence.js';
import { cap, endpoint, type BehaviorContext } from '../context.js';
import type { EventView, FieldSpec, FieldValue } from '../types.js';

export const RUN_FIELDS: FieldSpec[] = [
  { name: 'run.duration_s', type: 'number', doc: 'Wall time of the run, seconds.' },
  { name: 'run.cpu_seconds', type: 'number', doc: 'CPU time of the whole sample, seconds.' },
  { name: 'run.cpu_busy', type: 'number', doc: 'CPU seconds per wall second: 1.0 is one core busy for the whole run.' },
  { name: 'run.peak_cores', type: 'number', doc: 'Most cores busy in one sampling interval.' },
  { name: 'run.peak_memory_bytes', type: 'number', doc: 'Peak memory of the sample\'s cgroup.' },
  { name: 'run.processes', type: 'number', doc: 'Process records (execs and forks) the monitor saw.' },
  { name: 'run.process_names', type: 'strings', doc: 'proc.name of every process.' },
  { name: 'run.cmdlines', type: 'strings', doc: 'proc.cmdline of every process.' },
  { name: 'run.connections', type: 'number', doc: 'Connections (lookups sent to the sink\'s resolver do not count).' },
  { name: 'run.distinct_dsts', type: 'number', doc: 'Distinct destination addresses the sample dialled.' },
  { name: 'run.max_ports_per_dst', type: 'number', doc: 'Most distinct ports dialled on one address.' },
  { name: 'run.dns_names', type: 'strings', doc: 'Every distinct name looked up.' },
  { name: 'run.dns_name_count', type: 'number', doc: 'How many distinct names were looked up.' },
  { name: 'run.timed_out', type: 'bool', doc: 'The sample was still running at the deadline.' },
  { name: 'run.killed_by', type: 'string', doc: '`deadline`, `memory` or `pids` when a limit ended the run; "" otherwise.' },
  { name: 'run.exit_code', type: 'number', doc: 'Exit code of the entrypoint (unknown when it was killed).' },
  { name: 'run.oom_kills', type: 'number', doc: 'Processes the OOM killer took.' },
  { name: 'run.pids_limit_hits', type: 'number', doc: 'Forks the pids limit refused.' },
  { name: 'run.disk_full', type: 'bool', doc: 'The writable layer filled up.' },
  { name: 'run.stratum', type: 'bool', doc: 'Some connection spoke stratum (mining pool protocol).' },
  { name: 'run.sandbox', type: 'string', doc: "The runtime's name (`gvisor` or `runc` today)." },
  { name: 'run.detonated', type: 'bool', doc: 'The image was run. False for `--static-only` scans and failed runs, where every other run.* field is unknown (so every comparison on it is false).' },
  { name: 'run.connected_names', type: 'strings', doc: 'proc.name of every process that made a connection.' },
  { name: 'run.endpoints', type: 'strings', doc: '`host:port` (or `dst:port`) of every distinct connection endpoint, in order.' },
  { name: 'run.stratum_pool', type: 'string', doc: '`host:port` of the first connection that spoke stratum; "" when none.' },
];

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function runEvent(ctx: BehaviorContext): EventView {
  if (!ctx.detonated) {
    const values: Record<string, FieldValue> = Object.fromEntries(RUN_FIELDS.map((f) => [f.name, null]));
    values['run.detonated'] = false;
    return { kind: 'run', values, cite: { kind: 'run', detonated: false } };
  }
  const r = ctx.result;
  const duration = num(r.durationMs) / 1000;
  const cpu = num(r.cpu?.seconds);
  const portsByDst = new Map<string, Set<number>>();
  for (const c of ctx.connections) {
    const ports = portsByDst.get(c.dst) ?? new Set<number>();
    ports.add(c.port);
    portsByDst.set(c.dst, ports);
  }
  let maxPorts = 0;
  for (const ports of portsByDst.values()) maxPorts = Math.max(maxPorts, ports.size);
  const dnsNames = [...new Set((r.dns ?? []).map((d) => cap(String(d.name ?? ''))))];
  const values: Record<string, FieldValue> = {
    'run.duration_s': duration,
    'run.cpu_seconds': cpu,
    'run.cpu_busy': duration > 0 ? cpu / duration : 0,
    'run.peak_cores': num(r.cpu?.peakCores),
    'run.peak_memory_bytes': num(r.memory?.peakBytes),
    'run.processes': ctx.nodes.length,
    'run.process_names': [...new Set(ctx.nodes.map((n) => n.name))],
    'run.cmdlines': ctx.nodes.map((n) => cap(n.argv.join(' '))),
    'run.connections': ctx.connections.length,
    'run.distinct_dsts': portsByDst.size,
    'run.max_ports_per_dst': maxPorts,
    'run.dns_names': dnsNames,
    'run.dns_name_count': dnsNames.length,
    'run.timed_out': r.timedOut === true,
    'run.killed_by': r.killedBy ?? '',
    'run.exit_code': typeof r.exitCode === 'number' ? r.exitCode : null,
    'run.oom_kills': num(r.limitsHit?.oomKills),
    'run.pids_limit_hits': num(r.limitsHit?.pidsLimitHits),
    'run.disk_full': r.limitsHit?.diskFull === true,
    'run.stratum': ctx.connections.some((c) => c.protocol === 'stratum'),
    'run.sandbox': String(r.sandbox ?? ''),
    'run.detonated': true,
    'run.connected_names': [...new Set(ctx.connections.flatMap((c) => (typeof c.pid === 'number' ? [ctx.nodeOf(c.pid)?.name ?? ''] : [])).filter(Boolean))],
    'run.endpoints': [...new Set(ctx.connections.map((c) => cap(endpoint(c))))],
    'run.stratum_pool': cap(((c) => (c ? endpoint(c) : ''))(ctx.connections.find((c) => c.protocol === 'stratum'))),
  };
  return {
    kind: 'run',
    values,
    cite: {
      kind: 'run',
      sandbox: printable(String(r.sandbox ?? ''), 16),
      durationMs: num(r.durationMs),
      cpuSeconds: cpu,
      cpuBusy: Math.round(num(values['run.cpu_busy']) * 100) / 100,
      processes: ctx.nodes.length,
      connections: ctx.connections.length,
      distinctDsts: portsByDst.size,
    },
  };
}
