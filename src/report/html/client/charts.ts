/** SVG charts of a run: the timeline of processes and their events, and the cgroup samples (CPU, memory, pids). */
import { empty, h, s } from './dom.js';
import { bytes, ms, num, str, type Rec } from './text.js';
import { MAX_TIMELINE_LANES } from '../../limits.js';

export type EventKind = 'exec' | 'dns' | 'connect' | 'file';
const EVENT_KINDS: readonly EventKind[] = ['exec', 'dns', 'connect', 'file'];

/** One row of the timeline. `exact`: `t` is when it happened, not its process's start. `i`: order of record. */
export interface TimelineEvent {
  t: number | null;
  exact: boolean;
  pid: unknown;
  kind: EventKind;
  text: string;
  i: number;
}

/** Events of one process at the same time are drawn side by side, by kind. */
const LANE_OFFSETS: Readonly<Record<EventKind, number>> = { exec: 0, dns: 3, connect: 6, file: 9 };

export function timelineChart(b: Rec, procs: readonly Rec[], events: readonly TimelineEvent[]): HTMLElement {
  let end = num(b.durationMs) || 0;
  for (const e of events) if (e.t !== null && e.t > end) end = e.t;
  if (end <= 0) end = 1;
  const lanes = procs.slice(0, MAX_TIMELINE_LANES);
  const W = 900, left = 70, right = 10, laneH = 16, top = 8;
  const H = top + Math.max(lanes.length, 1) * laneH + 26;
  const x = (t: number): number => left + (W - left - right) * Math.max(0, Math.min(1, t / end));
  const svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Timeline of processes and their events' });
  lanes.forEach((p, i) => {
    const y = top + i * laneH + laneH / 2;
    const t0 = num(p.startMs) || 0;
    svg.appendChild(s('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' }, 'pid ' + str(p.pid)));
    svg.appendChild(s('line', { class: 'lane', x1: left, x2: W - right, y1: y, y2: y }));
    svg.appendChild(s('line', { class: 'run', x1: x(t0), x2: W - right, y1: y, y2: y }, s('title', null, str(p.exe))));
    for (const e of events) {
      if (e.pid !== p.pid || e.t === null) continue;
      svg.appendChild(s('circle', { class: 'ev-' + e.kind, cx: x(e.t) + LANE_OFFSETS[e.kind], cy: y, r: 4 }, s('title', null, e.kind + ': ' + e.text)));
    }
  });
  const axisY = top + Math.max(lanes.length, 1) * laneH + 4;
  svg.appendChild(s('line', { class: 'axis', x1: left, x2: W - right, y1: axisY, y2: axisY }));
  for (let k = 0; k <= 4; k++) {
    const t = (end * k) / 4;
    svg.appendChild(s('text', { x: x(t), y: axisY + 14, 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle' }, ms(t)));
  }
  const legend = h('div', { class: 'legend' }, EVENT_KINDS.map((k) => h('span', null, h('span', { class: 'swatch ev-' + k }), k)),
    procs.length > MAX_TIMELINE_LANES ? h('span', null, 'first ' + MAX_TIMELINE_LANES + ' of ' + procs.length + ' processes drawn; the table lists all') : null,
    h('span', null, 'events other than exec are drawn at their process\'s start'));
  return h('div', null, svg, legend);
}

interface Point {
  t: number;
  v: number;
}

export function resourceCharts(series: readonly Rec[]): HTMLElement {
  const pts = series.flatMap((p) => {
    const t = num(p.t);
    return t === null ? [] : [{ t, sample: p }];
  }).sort((a, b) => a.t - b.t);
  if (pts.length === 0) return empty('No resource samples were taken.');
  // CPU: the cores used between two samples (the first from the start of the run)
  const cpu: Point[] = pts.map((p, i) => {
    const prev = pts[i - 1];
    const dt = (p.t - (prev?.t ?? 0)) / 1000;
    const dc = (num(p.sample.cpuSeconds) || 0) - (prev ? num(prev.sample.cpuSeconds) || 0 : 0);
    return { t: p.t, v: dt > 0 ? Math.max(0, dc / dt) : 0 };
  });
  const mem = pts.map((p) => ({ t: p.t, v: num(p.sample.memoryBytes) || 0 }));
  const pids = pts.map((p) => ({ t: p.t, v: num(p.sample.pids) || 0 }));
  return h('div', { class: 'charts' },
    chart('CPU (cores)', 'cpu', cpu, (v) => v.toFixed(2)),
    chart('Memory', 'mem', mem, bytes),
    chart('Processes', 'pids', pids, (v) => String(Math.round(v))));
}

function chart(title: string, cls: string, points: readonly Point[], fmt: (v: number) => string): HTMLElement {
  const W = 420, H = 180, left = 64, right = 12, top = 12, bottom = 26;
  const tMax = points.reduce((m, p) => Math.max(m, p.t), 0) || 1;
  const peak = points.reduce((m, p) => Math.max(m, p.v), 0);
  const vMax = peak > 0 ? peak : 1;
  const x = (t: number): number => left + ((W - left - right) * t) / tMax;
  const y = (v: number): number => top + (H - top - bottom) * (1 - v / vMax);
  const svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title + ' over the run', 'data-chart': cls });
  svg.appendChild(s('line', { class: 'axis', x1: left, x2: left, y1: top, y2: H - bottom }));
  svg.appendChild(s('line', { class: 'axis', x1: left, x2: W - right, y1: H - bottom, y2: H - bottom }));
  for (const f of [0, 0.5, 1]) {
    svg.appendChild(s('text', { x: left - 6, y: y(vMax * f) + 4, 'text-anchor': 'end' }, fmt(vMax * f)));
    svg.appendChild(s('line', { class: 'axis', x1: left, x2: W - right, y1: y(vMax * f), y2: y(vMax * f), 'stroke-dasharray': '2 4' }));
  }
  svg.appendChild(s('text', { x: left, y: H - 8 }, '0 s'));
  svg.appendChild(s('text', { x: W - right, y: H - 8, 'text-anchor': 'end' }, ms(tMax)));
  let d = points.map((p, i) => (i === 0 ? 'M' : 'L') + x(p.t).toFixed(1) + ' ' + y(p.v).toFixed(1)).join(' ');
  const first = points[0];
  if (points.length === 1 && first) d += ' L' + (x(first.t) + 2).toFixed(1) + ' ' + y(first.v).toFixed(1);
  svg.appendChild(s('path', { class: cls, d }));
  return h('figure', { class: 'chart' }, h('figcaption', { class: 'muted' }, title + ', peak ' + fmt(peak)), svg);
}
