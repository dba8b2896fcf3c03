import { printable } from '../../analyze/threats/evidence.js';
import type { Finding } from '../../model/index.js';
import { baseName, cap, endpoint, scriptOf, type BehaviorContext, type ProcessNode } from '../context.js';
import type { EventView, FieldSpec, FieldValue } from '../types.js';

export const FINDING_FIELDS: FieldSpec[] = [
  { name: 'finding.category', type: 'string', doc: 'The finding\'s category (`cryptominer`, `backdoor`, `hacking-tool`, …).' },
  { name: 'finding.severity', type: 'string', doc: '`critical`, `high`, `moderate`, `low` or `info`.' },
  { name: 'finding.source', type: 'string', doc: '`static` (found in the image\'s files) or `dynamic` (seen when it ran, or in a file it dropped).' },
  { name: 'finding.rule', type: 'string', doc: 'The id of the rule or detector that made it (`yara/Cryptominer_XMRig`, `behavior.cryptominer.stratum`, …).' },
  { name: 'finding.title', type: 'string', doc: 'Its title.' },
  { name: 'finding.path', type: 'string', doc: 'The file it is about, without a leading slash ("" when none).' },
  { name: 'finding.name', type: 'string', doc: 'Basename of finding.path.' },
  { name: 'finding.layer', type: 'number', doc: 'Index of the layer that added the file (unknown for dynamic findings).' },
  { name: 'finding.removed', type: 'bool', doc: 'A later layer deleted the file: it is in the image\'s history, not in its filesystem.' },
  { name: 'finding.sha256', type: 'string', doc: 'SHA-256 of the file ("" when none).' },
  { name: 'finding.attack', type: 'strings', doc: 'Its ATT&CK technique ids.' },
  { name: 'finding.dropped', type: 'bool', doc: 'The file was written by the sample at run time (a static detector\'s hit on a dropped file).' },
  { name: 'finding.family', type: 'string', doc: 'The program family a detector named (`evidence.family`, e.g. XMRig, spelt as in the title); "" when none.' },
  { name: 'finding.label', type: 'string', doc: 'How a summary names the file: `XMRig hidden in start.sh (base64 → gzip)` for a finding in an unpacked payload, `XMRig renamed as kdevtmpfsi` for a program of a known family under another name, `XMRig` under its own, `XMRig (config.json)` for a family\'s config or script, else the file\'s name.' },
  { name: 'finding.unpacked', type: 'bool', doc: 'Found in a payload unpacked from the file (an archive member, a decoded blob, what a self-extracting script carries), not in the file\'s own bytes.' },
  { name: 'finding.decoding', type: 'strings', doc: 'How that payload was got out, outermost first (`base64`, `gzip`, `tar`, `self-extracting`, `heredoc` …); empty when not unpacked.' },
  { name: 'finding.evidence.pool', type: 'string', doc: 'The mining pool the static evidence names (`host:port` of a stratum URL, a config\'s first pool, a listed pool domain); "" when none.' },
  { name: 'finding.endpoint', type: 'string', doc: 'The `host:port` the static evidence names (a reverse shell\'s target, a stratum URL); "" when none.' },
  { name: 'finding.executed', type: 'bool', doc: 'A process of the run executed the file, as its program or as the script of a shell or interpreter (unknown when not run).' },
  { name: 'finding.connected', type: 'bool', doc: 'A process that executed the file, or a descendant of one, made a connection (unknown when not run).' },
  { name: 'finding.connection', type: 'string', doc: '`host:port` of the first such connection; "" when none.' },
  { name: 'finding.dynamic_categories', type: 'strings', doc: 'Categories of the report\'s dynamic findings (what the run showed).' },
  { name: 'finding.dynamic_rules', type: 'strings', doc: 'Rule ids of the report\'s dynamic findings.' },
];

const str = (v: unknown): string => (typeof v === 'string' ? cap(v) : typeof v === 'number' ? String(v) : '');

function hostPort(host: unknown, port: unknown): string {
  const h = str(host);
  if (!h) return '';
  return typeof port === 'number' ? `${h}:${port}` : h;
}

/** The family as the title spells it (`XMRig` from "XMRig cryptominer"), else as the detector wrote it. */
function familyOf(f: Finding): string {
  const family = str(f.evidence?.family);
  if (!family) return '';
  const at = f.title.toLowerCase().indexOf(family.toLowerCase());
  return at >= 0 ? f.title.slice(at, at + family.length) : family;
}

function poolOf(f: Finding): string {
  const e = f.evidence ?? {};
  if (Array.isArray(e.pools) && e.pools.length > 0) return str(e.pools[0]);
  if (f.category !== 'cryptominer') return '';
  return hostPort(e.host, e.port);
}

function isDescendant(node: ProcessNode, of: ReadonlySet<ProcessNode>, ctx: BehaviorContext): boolean {
  return of.has(node) || ctx.ancestors(node).some((a) => of.has(a));
}

export function findingEvents(ctx: BehaviorContext): EventView[] {
  const dynamic = ctx.findings.filter((f) => f.source === 'dynamic');
  const dynamicCategories = [...new Set(dynamic.map((f) => f.category))];
  const dynamicRules = [...new Set(dynamic.map((f) => cap(f.rule)))];
  return ctx.findings.map((f, index) => {
    const path = str(f.path).replace(/^\/+/, '');
    const name = baseName(path);
    const family = familyOf(f);
    const ev = f.evidence ?? {};
    // A program found by content (not a config or script line naming the family) under a name that hides it.
    const program = !('line' in ev) && !('pools' in ev) && !('excerpt' in ev);
    const renamed = program && family !== '' && name !== '' && !name.toLowerCase().includes(family.toLowerCase());
    const decoding = (f.payload?.steps ?? []).map((step) => step.method);
    const hidden = decoding.length > 0 ? `${family || 'payload'} hidden in ${name || 'a file'} (${decoding.join(' → ')})` : undefined;
    const values: Record<string, FieldValue> = {
      'finding.category': f.category,
      'finding.severity': f.severity,
      'finding.source': f.source,
      'finding.rule': cap(f.rule),
      'finding.title': cap(f.title),
      'finding.path': path,
      'finding.name': name,
      'finding.layer': typeof f.layer === 'number' ? f.layer : null,
      'finding.removed': typeof f.removedInLayer === 'number',
      'finding.sha256': str(f.sha256),
      'finding.attack': (f.attack ?? []).map(str),
      'finding.dropped': f.evidence?.droppedAtRuntime === true,
      'finding.family': family,
      'finding.unpacked': decoding.length > 0,
      'finding.decoding': decoding,
      'finding.label': hidden ?? (renamed ? `${family} renamed as ${name}` : family && !program && name ? `${family} (${name})` : family || name),
      'finding.evidence.pool': poolOf(f),
      'finding.endpoint': hostPort(f.evidence?.host, f.evidence?.port) || poolOf(f),
      'finding.executed': null,
      'finding.connected': null,
      'finding.connection': '',
      'finding.dynamic_categories': dynamicCategories,
      'finding.dynamic_rules': dynamicRules,
    };
    if (ctx.detonated && path) {
      const abs = `/${path}`;
      const runners = new Set(ctx.nodes.filter((n) => n.record.exe === abs || ctx.resolveWritten(scriptOf(n.name, n.argv)) === abs));
      values['finding.executed'] = runners.size > 0;
      const connection = runners.size === 0 ? undefined : ctx.connections.find((c) => {
        const node = typeof c.pid === 'number' ? ctx.nodeOf(c.pid) : undefined;
        return node !== undefined && isDescendant(node, runners, ctx);
      });
      values['finding.connected'] = connection !== undefined;
      values['finding.connection'] = connection ? cap(endpoint(connection)) : '';
    }
    return {
      kind: 'finding',
      values,
      cite: {
        kind: 'finding',
        rule: printable(f.rule, 120),
        category: f.category,
        severity: f.severity,
        source: f.source,
        ...(path ? { path: printable(path) } : {}),
        ...(typeof f.layer === 'number' ? { layer: f.layer } : {}),
        ...(typeof f.removedInLayer === 'number' ? { removedInLayer: f.removedInLayer } : {}),
      },
      ...(path ? { path } : {}),
      index,
    };
  });
}
