/** The detonation section: what the image did when it ran (`behavior`). */
import { timelineChart, resourceCharts, type TimelineEvent } from './charts.js';
import { argvNode, bytesPre, card, code, empty, facts, h, pre, valueNode } from './dom.js';
import { dataTable } from './table.js';
import { arr, bytes, isObj, ms, num, obj, objs, octal, str, type Rec } from './text.js';
import { KILLED_BY } from './vocabulary.js';

const killedByText = (v: unknown): string =>
  typeof v === 'string' && Object.prototype.hasOwnProperty.call(KILLED_BY, v) ? KILLED_BY[v as keyof typeof KILLED_BY] : str(v);

export function detonationSection(report: Rec, id: string): HTMLElement {
  const b = report.behavior;
  const el = card(id, 'Detonation');
  if (b === null || b === undefined) {
    el.appendChild(empty('Not detonated (static analysis only).'));
    return el;
  }
  if (!isObj(b)) {
    el.appendChild(empty('No usable detonation record.'));
    return el;
  }
  if (typeof b.error === 'string' && b.processes === undefined) {
    el.appendChild(h('p', { class: 'error' }, 'The image could not be run: ', b.error));
    return el;
  }
  const procs = objs(b.processes);
  const limits = obj(b.limitsHit);
  const limitText: string[] = [];
  if (num(limits.oomKills)) limitText.push(str(limits.oomKills) + ' out-of-memory kills');
  if (num(limits.pidsLimitHits)) limitText.push(str(limits.pidsLimitHits) + ' refused forks (process limit)');
  if (limits.diskFull) limitText.push('disk full');
  const timings = obj(b.timings);
  const cpu = isObj(b.cpu) ? b.cpu : null;
  const fixed2 = (v: unknown): string => num(v)?.toFixed(2) ?? '?';
  const peakPids = num(obj(b.pids).peak);
  el.appendChild(facts([
    ['Sandbox', b.sandbox],
    ['Ran for', ms(b.durationMs) + (b.timedOut ? ' (stopped at the deadline)' : '')],
    ['Exit code', b.exitCode === null ? (b.timedOut ? 'none (still running)' : 'none') : str(b.exitCode)],
    ['Ended by', b.killedBy ? killedByText(b.killedBy) : null],
    ['Limits hit', h('span', { class: limitText.length ? 'warn' : 'muted', 'data-limits': '' }, limitText.length ? limitText.join(', ') : 'none')],
    ['CPU', cpu ? fixed2(cpu.seconds) + ' s, peak ' + fixed2(cpu.peakCores) + ' cores' : null],
    ['Memory peak', isObj(b.memory) ? bytes(b.memory.peakBytes) : null],
    ['Processes', procs.length + (peakPids !== null ? ' (peak ' + peakPids + ' at once)' : '')],
    ['Timings', 'setup ' + ms(timings.setupMs) + (num(timings.firstExecMs) !== null ? ', first exec at ' + ms(timings.firstExecMs) : '') + ', teardown ' + ms(timings.teardownMs)],
  ]));

  el.appendChild(h('h4', null, 'CPU and memory'));
  el.appendChild(resourceCharts(objs(b.series)));

  el.appendChild(h('h4', null, 'Process tree (' + procs.length + ')'));
  el.appendChild(processTree(procs));

  el.appendChild(h('h4', null, 'Timeline'));
  el.appendChild(timeline(b, procs));

  const dns = objs(b.dns);
  el.appendChild(h('h4', null, 'DNS queries (' + dns.length + ')'));
  el.appendChild(dns.length === 0 ? empty('No DNS queries.') : dataTable<Rec>([
    { label: 'Name', value: (d) => str(d.name), cell: (d) => code(d.name) },
    { label: 'Type', value: (d) => str(d.type), cell: (d) => d.type },
    { label: 'PID', num: true, value: (d) => num(d.pid), cell: (d) => str(num(d.pid)) },
  ], dns, { name: 'dns' }).el);

  const conns = objs(b.connections);
  el.appendChild(h('h4', null, 'Connections (' + conns.length + ')'));
  el.appendChild(conns.length === 0 ? empty('No connections.') : dataTable<Rec>([
    { label: 'Proto', value: (c) => str(c.proto), cell: (c) => c.proto },
    { label: 'Destination', value: (c) => str(c.dst) + ':' + str(c.port), cell: (c) => code(str(c.dst) + ':' + str(c.port)) },
    { label: 'Host', value: (c) => str(c.host), cell: (c) => (c.host ? code(c.host) : '') },
    { label: 'Protocol', value: (c) => str(c.protocol), cell: (c) => c.protocol },
    { label: 'PID', num: true, value: (c) => num(c.pid), cell: (c) => str(num(c.pid)) },
    { label: 'First bytes', value: (c) => str(c.firstBytes), cell: (c) => [
      c.firstBytes ? bytesPre(c.firstBytes, { class: 'first-bytes' }) : h('span', { class: 'muted' }, '(nothing sent)'),
      isObj(c.details) && Object.keys(c.details).length ? h('details', null, h('summary', null, 'details'), h('div', { class: 'evidence' }, valueNode(c.details, 0))) : null,
    ] },
  ], conns, { name: 'connections' }).el);

  const files = objs(b.files);
  el.appendChild(h('h4', null, 'File operations (' + files.length + ')'));
  el.appendChild(files.length === 0 ? empty('No file changes seen.') : dataTable<Rec>([
    { label: 'Op', value: (f) => str(f.op), cell: (f) => f.op },
    { label: 'Path', value: (f) => str(f.path), cell: (f) => [code(f.path), f.to !== undefined ? [' \u2192 ', code(f.to)] : null] },
    { label: 'Mode', value: (f) => num(f.mode), cell: (f) => (f.mode !== undefined ? code(octal(f.mode)) : '') },
    { label: 'PID', num: true, value: (f) => num(f.pid), cell: (f) => str(num(f.pid)) },
    { label: 'Result', value: (f) => str(f.error), cell: (f) => (f.error ? h('span', { class: 'warn' }, 'failed: ' + str(f.error)) : 'done') },
  ], files, { name: 'files' }).el);

  const dropped = objs(b.dropped);
  el.appendChild(h('h4', null, 'Dropped files (' + dropped.length + ')'));
  el.appendChild(dropped.length === 0 ? empty('No files left behind.') : dataTable<Rec>([
    { label: 'Path', value: (f) => str(f.path), cell: (f) => code(f.path) },
    { label: 'Size', num: true, value: (f) => num(f.size), cell: (f) => bytes(f.size) },
    { label: 'Mode', value: (f) => num(f.mode), cell: (f) => code(octal(f.mode)) },
    { label: 'SHA-256', value: (f) => str(f.sha256), cell: (f) => code(f.sha256) },
  ], dropped, { name: 'dropped' }).el);

  const kills = objs(b.kills);
  if (kills.length > 0) {
    el.appendChild(h('h4', null, 'Signals sent (' + kills.length + ')'));
    el.appendChild(dataTable<Rec>([
      { label: 'PID', num: true, value: (k) => num(k.pid), cell: (k) => str(num(k.pid)) },
      { label: 'Signal', value: (k) => str(k.signal), cell: (k) => k.signal },
      { label: 'Target', num: true, value: (k) => num(k.target), cell: (k) => str(num(k.target)) },
      { label: 'Target program', value: (k) => str(k.targetExe), cell: (k) => (k.targetExe ? code(k.targetExe) : '') },
    ], kills, { name: 'kills' }).el);
  }

  const failedExecs = objs(b.failedExecs);
  if (failedExecs.length > 0) {
    el.appendChild(h('h4', null, 'Programs it failed to start (' + failedExecs.length + ')'));
    el.appendChild(dataTable<Rec>([
      { label: 'At', num: true, value: (x) => num(x.atMs), cell: (x) => str(num(x.atMs)) + ' ms' },
      { label: 'PID', num: true, value: (x) => num(x.pid), cell: (x) => str(num(x.pid)) },
      { label: 'Program', value: (x) => str(x.exe), cell: (x) => code(x.exe) },
      { label: 'Command line', value: (x) => arr(x.argv).map(str).join(' '), cell: (x) => argvNode(arr(x.argv)) },
      { label: 'Error', value: (x) => str(x.error), cell: (x) => code(x.error) },
    ], failedExecs, { name: 'failed-execs' }).el);
  }

  const out = isObj(b.output) ? b.output : null;
  if (out && (out.stdout || out.stderr)) {
    el.appendChild(h('h4', null, 'Output' + (out.truncated ? ' (start only)' : '')));
    if (out.stdout) el.appendChild(h('div', null, h('div', { class: 'muted' }, 'stdout'), pre(out.stdout, { class: 'stdout' })));
    if (out.stderr) el.appendChild(h('div', null, h('div', { class: 'muted' }, 'stderr'), pre(out.stderr, { class: 'stderr' })));
  }
  return el;
}

/** The processes as a tree by parent pid; a record whose parent chain loops is shown at the top level rather than lost. */
function processTree(procs: readonly Rec[]): HTMLElement {
  if (procs.length === 0) return empty('No processes were seen.');
  const byPid = new Map<number, Rec>();
  for (const p of procs) {
    const pid = num(p.pid);
    if (pid !== null && !byPid.has(pid)) byPid.set(pid, p);
  }
  const children = new Map<number, Rec[]>();
  const roots: Rec[] = [];
  for (const p of procs) {
    const ppid = num(p.ppid);
    const parent = ppid === null ? undefined : byPid.get(ppid);
    if (ppid !== null && parent && parent !== p && p.ppid !== p.pid) {
      const siblings = children.get(ppid);
      if (siblings) siblings.push(p);
      else children.set(ppid, [p]);
    } else roots.push(p);
  }
  const seen = new Set<Rec>();
  function node(p: Rec): HTMLElement {
    const li = h('li', { 'data-pid': str(num(p.pid)) }, h('span', { class: 'proc' },
      h('span', { class: 'pid' }, '[' + str(p.pid) + '] +' + ms(p.startMs)),
      h('span', { class: 'exe mono' }, p.exe),
      argvNode(p.argv)));
    if (seen.has(p)) return li;
    seen.add(p);
    const pid = num(p.pid);
    const kids = (pid === null ? undefined : children.get(pid)) ?? [];
    if (kids.length > 0) li.appendChild(h('ul', null, kids.map(node)));
    return li;
  }
  const tree = h('ul', { class: 'tree', 'data-tree': 'processes' }, roots.map(node));
  for (const p of procs) if (!seen.has(p)) tree.appendChild(node(p));
  return tree;
}

/** Every event in time order. Events without a time of their own are placed at their process's start. */
function timeline(b: Rec, procs: readonly Rec[]): HTMLElement {
  const startOf = new Map<number, number | null>();
  for (const p of procs) {
    const pid = num(p.pid);
    if (pid !== null && !startOf.has(pid)) startOf.set(pid, num(p.startMs));
  }
  const events: TimelineEvent[] = [];
  const push = (e: Omit<TimelineEvent, 'i'>): void => {
    events.push({ ...e, i: events.length });
  };
  for (const p of procs) push({ t: num(p.startMs), exact: true, pid: p.pid, kind: 'exec', text: [str(p.exe), ...arr(p.argv).slice(1).map(str)].join(' ') });
  // events carry their own time (atMs) when the run recorded it; else they happened at or after their process's start
  const when = (x: Rec): { t: number | null; exact: boolean } => {
    const t = num(x.atMs);
    if (t !== null) return { t, exact: true };
    const pid = num(x.pid);
    return { t: (pid === null ? undefined : startOf.get(pid)) ?? null, exact: false };
  };
  for (const d of objs(b.dns)) push({ ...when(d), pid: d.pid, kind: 'dns', text: str(d.type) + ' ' + str(d.name) });
  for (const c of objs(b.connections)) {
    push({ ...when(c), pid: c.pid, kind: 'connect', text: str(c.proto) + ' ' + str(c.dst) + ':' + str(c.port) + (c.host ? ' (' + str(c.host) + ')' : '') + ' ' + str(c.protocol) });
  }
  for (const f of objs(b.files)) {
    push({ ...when(f), pid: f.pid, kind: 'file', text: str(f.op) + ' ' + str(f.path) + (f.to !== undefined ? ' \u2192 ' + str(f.to) : '') + (f.error ? ' (failed: ' + str(f.error) + ')' : '') });
  }
  if (events.length === 0) return empty('Nothing happened.');
  events.sort((a, z) => {
    if (a.t === null || z.t === null) return Number(a.t === null) - Number(z.t === null) || a.i - z.i;
    return a.t - z.t || (a.kind === 'exec' ? 0 : 1) - (z.kind === 'exec' ? 0 : 1) || a.i - z.i;
  });
  const wrap = h('div', { class: 'timeline' });
  wrap.appendChild(timelineChart(b, procs, events));
  wrap.appendChild(dataTable<TimelineEvent>([
    { label: 'Time', num: true, nowrap: true, value: (e) => e.t, cell: (e) => (e.t === null ? h('span', { class: 'muted' }, '?') : (e.exact ? '' : '\u2265 ') + ms(e.t)) },
    { label: 'PID', num: true, value: (e) => num(e.pid), cell: (e) => str(num(e.pid)) },
    { label: 'Event', nowrap: true, value: (e) => e.kind, cell: (e) => h('span', null, h('span', { class: 'swatch ev-' + e.kind }), e.kind) },
    { label: 'What', value: (e) => e.text, cell: (e) => code(e.text) },
  ], events, { name: 'timeline' }).el);
  return wrap;
}
