/**
 * `--format table`: the report as a person reads it in a terminal. First the verdict and what it rests on (threat
 * categories, the strongest evidence, vulnerability counts, what the detonation saw), then what the image is
 * (digest, platform, OS, layers, packages), then the details: layers, packages, findings, the detonation,
 * vulnerabilities, and the notices met on the way. Columns are aligned and cut to the terminal width; colour only when asked for.
 * Every string from the image goes through `terminalSafe` first (see text.ts).
 */
import { DISPLAY_SEVERITIES, PACKAGE_TYPES, type RunRecord, type Finding, type LayerInfo, type ObservedProcess, type Package, type Report, type ScanNotice } from '../model/index.js';
import { displayWidth, formatBytes, pad, terminalSafe, truncate, wrap } from './text.js';
import { MAX_BEHAVIOR_ROWS, MAX_BEHAVIOR_VALUE_MORE_LINES, MAX_CELL_CHARS, MAX_INFO_ROWS_PER_CATEGORY, MAX_SUMMARY_DNS_NAMES } from './limits.js';

export interface TableOptions {
  color: boolean;
  /** Terminal width in columns (default 120). */
  width?: number;
}

const DEFAULT_WIDTH = 120;
const MIN_WIDTH = 40;
const INDENT = '  ';
const GAP = '  ';


/** SGR codes of the styles used; `color: false` drops them all. */
const STYLES = {
  heading: '1',
  label: '2',
  dim: '2',
  critical: '1;31',
  high: '31',
  moderate: '33',
  low: '36',
  info: '2',
  unknown: '2',
  malicious: '1;31',
  clean: '32',
  warning: '33',
  error: '31',
} as const;
type Style = keyof typeof STYLES;

type Paint = (style: Style | undefined, text: string) => string;

function painter(color: boolean): Paint {
  return (style, text) => (color && style && text.trim().length > 0 ? `\u001b[${STYLES[style]}m${text}\u001b[0m` : text);
}

interface Cell {
  text: string;
  style?: Style;
}

interface Column {
  header: string;
  align?: 'left' | 'right';
  /** Columns that may be cut when the table is wider than the terminal, down to `min` columns; lower ranks first. */
  shrink?: number;
  min?: number;
}

function cell(text: string, style?: Style): Cell {
  return { text: truncate(terminalSafe(text), MAX_CELL_CHARS), ...(style ? { style } : {}) };
}

/**
 * Column widths that fit `available` columns. Shrinkable columns give up width in order of `shrink` (1 first: the
 * least needed, e.g. source package; then names; versions last); within one rank, every column is capped at one
 * common width, the largest that fits, never below its own minimum. Fixed columns keep their natural width.
 */
function fitWidths(natural: readonly number[], columns: readonly Column[], available: number): number[] {
  const widths = [...natural];
  const total = (): number => widths.reduce((a, b) => a + b, 0);
  const ranks = [...new Set(columns.map((c) => c.shrink ?? 0).filter((r) => r > 0))].sort((a, b) => a - b);
  for (const rank of ranks) {
    if (total() <= available) break;
    const inRank = columns.flatMap((c, i) => (c.shrink === rank ? [i] : []));
    const capped = (i: number, cap: number): number => Math.max(Math.min(natural[i] ?? 0, cap), Math.min(natural[i] ?? 0, columns[i]?.min ?? 4));
    const others = total() - inRank.reduce((sum, i) => sum + (widths[i] ?? 0), 0);
    const fits = (cap: number): boolean => others + inRank.reduce((sum, i) => sum + capped(i, cap), 0) <= available;
    let low = 0;
    let high = inRank.reduce((max, i) => Math.max(max, natural[i] ?? 0), 0);
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (fits(mid)) low = mid;
      else high = mid - 1;
    }
    for (const i of inRank) widths[i] = capped(i, low);
  }
  return widths;
}

function renderRows(columns: readonly Column[], rows: readonly Cell[][], width: number, paint: Paint): string[] {
  const natural = columns.map((c, i) => rows.reduce((max, r) => Math.max(max, displayWidth(r[i]?.text ?? '')), displayWidth(c.header)));
  const available = width - INDENT.length - GAP.length * (columns.length - 1);
  let widths = fitWidths(natural, columns, available);
  if (widths.reduce((a, b) => a + b, 0) > available) {
    // Even the minimum widths do not fit: cut every column rather than let the terminal wrap the lines.
    widths = fitWidths(widths, columns.map((c) => ({ ...c, shrink: 1, min: 1 })), available);
  }
  const line = (cells: readonly Cell[], headerRow: boolean): string => {
    const parts = columns.map((column, i) => {
      const w = widths[i] ?? 0;
      const c = cells[i] ?? { text: '' };
      const last = i === columns.length - 1;
      const text = truncate(c.text, w);
      const padded = last && column.align !== 'right' ? text : pad(text, w, column.align);
      return paint(headerRow ? 'label' : c.style, padded);
    });
    return INDENT + parts.join(GAP).trimEnd();
  };
  return [line(columns.map((c) => ({ text: c.header })), true), ...rows.map((r) => line(r, false))];
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function severityRank(severity: string): number {
  const rank = (DISPLAY_SEVERITIES as readonly string[]).indexOf(severity);
  return rank === -1 ? DISPLAY_SEVERITIES.length : rank;
}

function asSeverityStyle(severity: string): Style | undefined {
  return severity in STYLES ? (severity as Style) : undefined;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `deb 140, npm 3`, in the order of the package types. */
function countsByType(packages: readonly Package[]): string {
  const counts = new Map<string, number>();
  for (const p of packages) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
  const types = [...counts.keys()].sort((a, b) => typeRank(a) - typeRank(b) || compareText(a, b));
  return types.map((t) => `${t} ${counts.get(t)}`).join(', ');
}

function typeRank(type: string): number {
  const rank = (PACKAGE_TYPES as readonly string[]).indexOf(type);
  return rank === -1 ? PACKAGE_TYPES.length : rank;
}

/** `/bin/sh -c #(nop)  CMD ["nginx"]` → `CMD ["nginx"]`: the history prefix Docker adds to metadata-only steps. */
function readableCommand(createdBy: string): string {
  return createdBy
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/\s+# buildkit$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function osName(report: Report): string {
  const os = report.image.os;
  if (!os) return 'unknown';
  return os.prettyName ?? [os.id, os.versionId].filter(Boolean).join(' ');
}

/** The strongest findings: the verdict's evidence when the verdict named it, else the most severe findings. */
function topEvidence(report: Report, max: number): { severity: string; category: string; title: string; path?: string }[] {
  const evidence = report.verdict.evidence;
  if (evidence && evidence.length > 0) return evidence.slice(0, max);
  return [...report.findings]
    .filter((f) => f.severity !== 'info')
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || (a.source === b.source ? 0 : a.source === 'dynamic' ? -1 : 1))
    .slice(0, max);
}

/** One line of what the detonation saw, for the summary. */
function behaviorLine(report: Report): string {
  const b = report.behavior;
  if (b === null) return 'not run (--static-only)';
  if ('error' in b) return b.error;
  const ending = b.timedOut ? 'stopped at the deadline' : b.killedBy ? `killed by the ${b.killedBy} limit` : `exit ${b.exitCode ?? '?'}`;
  const parts = [`${plural(b.processes.length, 'process', 'processes')}`];
  if (b.dns.length > 0) parts.push(`DNS ${b.dns.slice(0, MAX_SUMMARY_DNS_NAMES).map((d) => d.name).join(', ')}${b.dns.length > MAX_SUMMARY_DNS_NAMES ? ' …' : ''}`);
  const protocols = [...new Set(b.connections.map((c) => c.protocol))];
  parts.push(b.connections.length > 0 ? `${plural(b.connections.length, 'connection')} (${protocols.join(', ')})` : 'no connections');
  if (b.dropped && b.dropped.length > 0) parts.push(`${plural(b.dropped.length, 'file')} dropped`);
  return `${b.sandbox}, ${(b.durationMs / 1000).toFixed(1)} s, ${ending}: ${parts.join(', ')}`;
}

function summarySection(report: Report, width: number, paint: Paint): string[] {
  const { image, packages, findings, verdict } = report;
  const layerBytes = image.layers.reduce((sum, l) => sum + (Number.isFinite(l.size) ? l.size : 0), 0);
  const command = [...image.config.entrypoint, ...image.config.cmd].join(' ');
  // What a person reads first: the verdict and what it rests on; then what the image is.
  const rows: [label: string, value: string, style?: Style, wrapped?: boolean][] = [
    ['Verdict', `${verdict.malicious ? 'MALICIOUS: ' : ''}${verdict.summary}`, verdict.malicious ? 'malicious' : 'clean', true],
  ];
  if (verdict.categories.length > 0) rows.push(['Threats', verdict.categories.join(', '), verdict.malicious ? 'malicious' : undefined]);
  for (const [i, e] of topEvidence(report, 3).entries()) {
    rows.push([i === 0 ? 'Evidence' : '', `${e.severity} ${e.category}: ${e.title}${e.path ? ` (/${e.path.replace(/^\/+/, '')})` : ''}`, asSeverityStyle(e.severity)]);
  }
  const vulns = verdict.vulnerabilities;
  const vulnTotal = vulns.critical + vulns.high + vulns.moderate + vulns.low + vulns.unknown;
  if (vulnTotal > 0) {
    const parts = (['critical', 'high', 'moderate', 'low', 'unknown'] as const).filter((s) => vulns[s] > 0).map((s) => `${vulns[s]} ${s}`);
    // the worst one, named: what a person looks at first
    const rank = { critical: 4, high: 3, moderate: 2, low: 1, unknown: 0 } as Record<string, number>;
    const named = report.vulnerabilities.filter((v) => v && typeof v === 'object' && typeof v.id === 'string' && typeof v.package === 'string');
    const worst = named.reduce<(typeof named)[number] | undefined>((w, v) => (!w || (rank[v.severity] ?? 0) > (rank[w.severity] ?? 0) ? v : w), undefined);
    const worstText = worst ? `; worst: ${worst.id} in ${worst.package} ${worst.installedVersion} (${worst.severity}${worst.fixedVersion ? `, fixed in ${worst.fixedVersion}` : ', no fix yet'})` : '';
    rows.push(['Vulns', `${parts.join(', ')}${worstText}`]);
  }
  rows.push(['Behavior', behaviorLine(report)]);
  rows.push(
    ['Digest', image.digest],
    ['Platform', image.platform],
    ['OS', osName(report)],
    ['Layers', `${image.layers.length} (${formatBytes(layerBytes)})`],
    ['Packages', packages.length > 0 ? `${packages.length}: ${countsByType(packages)}` : 'none found'],
    ['User', image.config.user || 'root (not set)'],
  );
  if (command) rows.push(['Command', command]);
  if (findings.length > 0) rows.push(['Findings', findingCounts(findings)]);

  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(10, width - INDENT.length - labelWidth - GAP.length);
  const lines = [paint('heading', truncate(terminalSafe(image.reference), width))];
  const hanging = ' '.repeat(INDENT.length + labelWidth + GAP.length);
  for (const [label, value, style, wrapped] of rows) {
    const [first = '', ...more] = wrapped ? wrap(terminalSafe(value), valueWidth) : [truncate(terminalSafe(value), valueWidth)];
    lines.push(`${INDENT}${paint('label', pad(label, labelWidth))}${GAP}${paint(style, first)}`);
    for (const line of more) lines.push(`${hanging}${paint(style, line)}`);
  }
  return lines;
}

function findingCounts(findings: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const parts = [...counts.entries()].sort(([a], [b]) => severityRank(a) - severityRank(b)).map(([s, n]) => `${n} ${s}`);
  return `${findings.length} (${parts.join(', ')})`;
}

function heading(title: string, width: number, paint: Paint): string {
  return paint('heading', truncate(title, width));
}

function layersSection(report: Report, width: number, paint: Paint): string[] {
  const layers: readonly LayerInfo[] = report.image.layers;
  if (layers.length === 0) return [heading('Layers: none', width, paint)];
  const packagesPerLayer = new Map<number, number>();
  for (const p of report.packages) packagesPerLayer.set(p.layer, (packagesPerLayer.get(p.layer) ?? 0) + 1);
  const columns: Column[] = [
    { header: '#', align: 'right' },
    { header: 'SIZE', align: 'right' },
    { header: 'PKGS', align: 'right' },
    { header: 'CREATED BY', shrink: 1, min: 10 },
  ];
  const rows = layers.map((l) => [
    cell(String(l.index)),
    cell(formatBytes(l.size)),
    cell(String(packagesPerLayer.get(l.index) ?? 0), packagesPerLayer.has(l.index) ? undefined : 'dim'),
    cell(readableCommand(l.createdBy ?? '')),
  ]);
  return [heading(`Layers (${layers.length})`, width, paint), ...renderRows(columns, rows, width, paint)];
}

function packagesSection(report: Report, width: number, paint: Paint): string[] {
  const packages = [...report.packages].sort(
    (a, b) => typeRank(a.type) - typeRank(b.type) || compareText(a.name, b.name) || compareText(a.version, b.version) || a.layer - b.layer,
  );
  if (packages.length === 0) return [heading('Packages: none found', width, paint)];
  const source = (p: Package): string => {
    if (!p.sourceName) return '';
    const version = p.sourceVersion && p.sourceVersion !== p.version ? ` ${p.sourceVersion}` : '';
    return p.sourceName !== p.name || version ? `${p.sourceName}${version}` : '';
  };
  const showSource = packages.some((p) => source(p) !== '');
  const columns: Column[] = [
    { header: 'NAME', shrink: 2, min: 12 },
    { header: 'VERSION', shrink: 3, min: 10 },
    { header: 'TYPE' },
    ...(showSource ? [{ header: 'SOURCE', shrink: 1, min: 8 }] : []),
    { header: 'LAYER', align: 'right' },
  ];
  const rows = packages.map((p) => [
    cell(p.name),
    cell(p.version),
    cell(p.type),
    ...(showSource ? [cell(source(p), 'dim')] : []),
    cell(String(p.layer)),
  ]);
  return [heading(`Packages (${packages.length})`, width, paint), ...renderRows(columns, rows, width, paint)];
}

function findingsSection(report: Report, width: number, paint: Paint): string[] {
  if (report.findings.length === 0) return [heading('Findings: none', width, paint)];
  const findings = [...report.findings].sort(
    (a, b) => severityRank(a.severity) - severityRank(b.severity) || compareText(a.category, b.category) || compareText(a.title, b.title),
  );
  const columns: Column[] = [
    { header: 'SEVERITY' },
    { header: 'CATEGORY' },
    { header: 'TITLE', shrink: 2, min: 16 },
    { header: 'PATH', shrink: 1, min: 12 },
    { header: 'LAYER' },
  ];
  const rows = collapseInfo(findings).map((f) => [
    cell(f.severity, asSeverityStyle(f.severity)),
    cell(f.category),
    cell(f.title),
    cell(findingPlace(f)),
    cell(
      f.layer === undefined ? '' : `${f.layer}${typeof f.removedInLayer === 'number' ? ` (removed in ${f.removedInLayer})` : ''}`,
    ),
  ]);
  return [heading(`Findings (${findings.length})`, width, paint), ...renderRows(columns, rows, width, paint)];
}

/** Where a finding is: the file, or the config command, and for an unpacked payload the steps that got it out. */
function findingPlace(f: Finding): string {
  const chain = f.payload ? ` (${f.payload.steps.map((s) => s.method).join(' → ')})` : '';
  if (f.path) return `/${f.path}${chain}`;
  const config = typeof f.evidence?.config === 'string' ? f.evidence.config : '';
  return chain ? `${config || 'config'}${chain}` : '';
}

/** Info findings of a category past the limit become one row naming the count and the directory they share. */
function collapseInfo(findings: readonly Finding[]): Finding[] {
  const infoByCategory = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.severity !== 'info') continue;
    const list = infoByCategory.get(f.category) ?? [];
    list.push(f);
    infoByCategory.set(f.category, list);
  }
  const out: Finding[] = [];
  const collapsed = new Set<string>();
  for (const f of findings) {
    const group = f.severity === 'info' ? infoByCategory.get(f.category)! : undefined;
    if (!group || group.length <= MAX_INFO_ROWS_PER_CATEGORY) {
      out.push(f);
      continue;
    }
    if (collapsed.has(f.category)) continue;
    collapsed.add(f.category);
    const dir = commonDirectory(group.map((g) => g.path ?? ''));
    const { layer: _layer, removedInLayer: _removed, ...rest } = f;
    out.push({ ...rest, title: `${group.length} findings (e.g. ${f.title}); all in the JSON report`, path: dir ? `${dir}/…` : '' });
  }
  return out;
}

function commonDirectory(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let parts = paths[0]!.split('/').slice(0, -1);
  for (const p of paths.slice(1)) {
    const other = p.split('/');
    let i = 0;
    while (i < parts.length && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join('/');
}

/** What the table shows of a vulnerability; the contract's vulnerability type is not settled yet, so read defensively. */
interface VulnerabilityRow {
  id: string;
  severity: string;
  package: string;
  installed: string;
  fixed: string;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function readVulnerability(value: unknown): VulnerabilityRow | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const id = text(v.id);
  if (!id) return undefined;
  const severity = text(v.severity).toLowerCase();
  return {
    id,
    severity: (DISPLAY_SEVERITIES as readonly string[]).includes(severity) ? severity : 'unknown',
    package: text(v.package),
    installed: text(v.installedVersion),
    fixed: text(v.fixedVersion),
  };
}

function vulnerabilitiesSection(report: Report, width: number, paint: Paint): string[] {
  if (!report.tool.advisoryDb && report.vulnerabilities.length === 0) {
    return [heading('Vulnerabilities: not checked (no advisory database)', width, paint)];
  }
  const vulns = report.vulnerabilities.map(readVulnerability).filter((v): v is VulnerabilityRow => v !== undefined);
  const unreadable = report.vulnerabilities.length - vulns.length;
  const db = report.tool.advisoryDb ? `, advisory database built ${report.tool.advisoryDb.builtAt}` : '';
  if (vulns.length === 0 && unreadable === 0) return [heading(`Vulnerabilities: none known${terminalSafe(db)}`, width, paint)];
  vulns.sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || compareText(a.package, b.package) || compareText(a.id, b.id));
  const columns: Column[] = [
    { header: 'SEVERITY' },
    { header: 'ID', shrink: 3, min: 14 },
    { header: 'PACKAGE', shrink: 1, min: 12 },
    { header: 'INSTALLED', shrink: 2, min: 10 },
    { header: 'FIXED IN', shrink: 2, min: 10 },
  ];
  const rows = vulns.map((v) => [
    cell(v.severity, asSeverityStyle(v.severity)),
    cell(v.id),
    cell(v.package),
    cell(v.installed),
    cell(v.fixed || 'no fix', v.fixed ? undefined : 'dim'),
  ]);
  const lines = [heading(`Vulnerabilities (${vulns.length})${terminalSafe(db)}`, width, paint)];
  if (vulns.length > 0) lines.push(...renderRows(columns, rows, width, paint));
  if (unreadable > 0) lines.push(`${INDENT}${paint('dim', `${plural(unreadable, 'entry', 'entries')} not shown: no id`)}`);
  return lines;
}

function noticeLocation(notice: ScanNotice): string {
  const parts: string[] = [];
  if (notice.path) parts.push(`/${notice.path}`);
  if (notice.layer !== undefined) parts.push(`layer ${notice.layer}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function noticesSection(notices: readonly ScanNotice[], width: number, paint: Paint): string[] {
  if (notices.length === 0) return [];
  const lines = [heading(`Notices (${notices.length})`, width, paint)];
  const levelWidth = notices.reduce((max, n) => Math.max(max, n.level.length), 0);
  const textWidth = Math.max(20, width - INDENT.length - levelWidth - GAP.length);
  const hanging = ' '.repeat(INDENT.length + levelWidth + GAP.length);
  for (const notice of notices) {
    const message = terminalSafe(`${notice.message}${noticeLocation(notice)}`);
    const wrapped = wrap(message, textWidth);
    lines.push(`${INDENT}${paint(notice.level, pad(notice.level, levelWidth))}${GAP}${wrapped[0] ?? ''}`);
    for (const more of wrapped.slice(1)) lines.push(`${hanging}${more}`);
  }
  return lines;
}

function more(total: number, shown: number): string {
  return total > shown ? ` … and ${total - shown} more` : '';
}

/** The process tree, depth-first from the roots, each argv indented under its parent. */
function processTree(processes: readonly ObservedProcess[]): { depth: number; process: ObservedProcess }[] {
  const pids = new Set(processes.map((p) => p.pid));
  const children = new Map<number, ObservedProcess[]>();
  const roots: ObservedProcess[] = [];
  for (const p of processes) {
    if (p.ppid !== p.pid && pids.has(p.ppid)) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
    else roots.push(p);
  }
  const out: { depth: number; process: ObservedProcess }[] = [];
  const seen = new Set<ObservedProcess>();
  const visit = (p: ObservedProcess, depth: number): void => {
    if (seen.has(p) || out.length >= processes.length) return;
    seen.add(p);
    out.push({ depth, process: p });
    for (const c of children.get(p.pid) ?? []) if (c !== p) visit(c, Math.min(depth + 1, 12));
  };
  for (const r of roots) visit(r, 0);
  return out;
}

function detonationSection(report: Report, width: number, paint: Paint): string[] {
  const behavior = report.behavior;
  if (behavior === null) return [heading('Detonation: not run (--static-only)', width, paint)];
  if ('error' in behavior) {
    return [heading('Detonation: not done', width, paint), ...wrap(terminalSafe(behavior.error), width - INDENT.length).map((l) => `${INDENT}${paint('warning', l)}`)];
  }
  const b: RunRecord = behavior;
  const ending = b.timedOut ? 'stopped at the deadline' : b.killedBy ? `killed by the ${b.killedBy} limit` : `exit ${b.exitCode ?? '?'}`;
  const lines = [heading(`Detonation (${b.sandbox}, ${(b.durationMs / 1000).toFixed(1)} s, ${ending})`, width, paint)];
  const rows: [string, string][] = [];
  if (b.dns.length > 0) rows.push(['DNS', `${b.dns.slice(0, MAX_BEHAVIOR_ROWS).map((d) => d.name).join(', ')}${more(b.dns.length, MAX_BEHAVIOR_ROWS)}`]);
  const connections = b.connections.slice(0, MAX_BEHAVIOR_ROWS).map((c) => `${c.proto} ${c.host ? `${c.host} (${c.dst})` : c.dst}:${c.port} ${c.protocol}`);
  rows.push(['Network', connections.length > 0 ? `${connections.join('; ')}${more(b.connections.length, MAX_BEHAVIOR_ROWS)}` : 'no connections']);
  const files = b.files.slice(0, MAX_BEHAVIOR_ROWS).map((f) => `${f.op} ${f.path}${f.to ? ` → ${f.to}` : ''}${f.error ? ` (${f.error})` : ''}`);
  if (files.length > 0) rows.push(['Files', `${files.join(', ')}${more(b.files.length, MAX_BEHAVIOR_ROWS)}`]);
  if (b.dropped && b.dropped.length > 0) {
    rows.push(['Dropped', `${b.dropped.slice(0, MAX_BEHAVIOR_ROWS).map((d) => `${d.path} (${formatBytes(d.size)})`).join(', ')}${more(b.dropped.length, MAX_BEHAVIOR_ROWS)}`]);
  }
  rows.push(['Resources', `CPU ${b.cpu.seconds.toFixed(1)} s (peak ${b.cpu.peakCores.toFixed(2)} cores), memory peak ${formatBytes(b.memory.peakBytes)}`]);
  const limits = [
    b.limitsHit.oomKills > 0 ? `memory limit (${b.limitsHit.oomKills} OOM kills)` : '',
    b.limitsHit.pidsLimitHits > 0 ? 'process limit' : '',
    b.limitsHit.diskFull ? 'disk limit' : '',
  ].filter(Boolean);
  if (limits.length > 0) rows.push(['Limits hit', limits.join(', ')]);
  if (b.trace && !b.trace.complete) rows.push(['Trace', `incomplete: ${b.trace.notes.join('; ')}`]);
  const labelWidth = Math.max(...rows.map(([l]) => l.length));
  const valueWidth = Math.max(10, width - INDENT.length - labelWidth - GAP.length);
  const hanging = ' '.repeat(INDENT.length + labelWidth + GAP.length);
  for (const [label, value] of rows) {
    const [first = '', ...rest] = wrap(terminalSafe(value), valueWidth);
    lines.push(`${INDENT}${paint('label', pad(label, labelWidth))}${GAP}${first}`);
    for (const l of rest.slice(0, MAX_BEHAVIOR_VALUE_MORE_LINES)) lines.push(`${hanging}${l}`);
  }
  if (b.processes.length > 0) {
    const tree = processTree(b.processes).slice(0, MAX_BEHAVIOR_ROWS * 2);
    const columns: Column[] = [{ header: 'PID', align: 'right' }, { header: 'PROCESS', shrink: 1, min: 16 }];
    const rowsOut = tree.map(({ depth, process }) => [cell(String(process.pid)), cell(`${'  '.repeat(depth)}${(process.argv.length > 0 ? process.argv : [process.exe]).join(' ')}`)]);
    lines.push(...renderRows(columns, rowsOut, width, paint));
    if (b.processes.length > tree.length) lines.push(`${INDENT}… and ${b.processes.length - tree.length} more processes`);
  }
  return lines;
}

/** What the ignore file kept out of the report, and why: suppressed items must stay visible, not vanish. */
function suppressedSection(report: Report, width: number, paint: Paint): string[] {
  const items = report.suppressed ?? [];
  if (items.length === 0) return [];
  const columns: Column[] = [{ header: 'WHAT', shrink: 2, min: 16 }, { header: 'REASON', shrink: 1, min: 12 }, { header: 'EXPIRES' }, { header: 'IGNORED BY', shrink: 3, min: 10 }];
  const rows = items.map((i) => [
    cell(i.finding ? `${i.finding.rule}${i.finding.path ? ` /${i.finding.path}` : ''}` : i.vulnerability ? `${i.vulnerability.id} in ${i.vulnerability.package}` : '?'),
    cell(i.reason),
    cell(i.expires ?? ''),
    cell(i.ignoredBy),
  ]);
  return [heading(`Suppressed (${items.length})`, width, paint), ...renderRows(columns, rows, width, paint)];
}

function renderOne(report: Report, width: number, paint: Paint): string {
  const sections = [
    summarySection(report, width, paint),
    layersSection(report, width, paint),
    packagesSection(report, width, paint),
    findingsSection(report, width, paint),
    detonationSection(report, width, paint),
    vulnerabilitiesSection(report, width, paint),
    suppressedSection(report, width, paint),
    noticesSection(report.notices ?? [], width, paint),
  ].filter((s) => s.length > 0);
  return sections.map((s) => s.join('\n')).join('\n\n');
}

/** The reports as text tables for a terminal, one block per image, ending in a newline. */
export function renderTable(reports: readonly Report[], options: TableOptions): string {
  const width = Math.max(MIN_WIDTH, Math.floor(options.width && Number.isFinite(options.width) ? options.width : DEFAULT_WIDTH));
  const paint = painter(options.color);
  if (reports.length === 0) return 'No images scanned.\n';
  return `${reports.map((r) => renderOne(r, width, paint)).join('\n\n\n')}\n`;
}
