/** The sections of one image's report, but for the detonation (detonation.ts). Each takes the report as parsed JSON. */
import { argvNode, card, code, empty, facts, h, pre, sevBadge, valueNode } from './dom.js';
import { dataTable } from './table.js';
import { arr, bytes, isObj, num, obj, objs, sevOf, sevRank, slash, str, type Rec } from './text.js';
import { FINDING_SEVERITIES, isMaliciousCategory, VULNERABILITY_SEVERITIES } from './vocabulary.js';

const findingSeverity = (v: unknown): string => sevOf(v, FINDING_SEVERITIES);
const vulnSeverity = (v: unknown): string => sevOf(v, VULNERABILITY_SEVERITIES);
const categoryChip = (category: unknown): HTMLElement => h('span', { class: 'chip' + (isMaliciousCategory(category) ? ' bad' : '') }, category);

export function verdictBanner(report: Rec, id: string): HTMLElement {
  const v = obj(report.verdict);
  const malicious = v.malicious === true;
  const el = h('section', { class: 'card verdict' + (malicious ? ' malicious' : ''), id, 'data-section': 'verdict' });
  el.appendChild(h('div', { class: 'verdict-label', 'data-verdict': malicious ? 'malicious' : 'not-malicious' },
    malicious ? 'MALICIOUS' : 'No malicious behaviour or content found'));
  const cats = arr(v.categories);
  if (cats.length > 0) el.appendChild(h('div', { class: 'chips categories' }, cats.map(categoryChip)));
  if (v.summary) el.appendChild(h('p', { class: 'summary' }, v.summary));
  const counts = obj(v.vulnerabilities);
  el.appendChild(h('div', { class: 'counts vuln-counts' }, h('span', { class: 'muted' }, 'Vulnerabilities:'),
    VULNERABILITY_SEVERITIES.map((sev) => h('span', { 'data-severity': sev }, sevBadge(sev), ' ', h('span', { class: 'n' }, str(num(counts[sev]) || 0))))));
  const evidence = objs(v.evidence);
  if (evidence.length > 0) {
    el.appendChild(h('h4', null, 'Strongest evidence'));
    el.appendChild(h('ol', { class: 'evidence' }, evidence.map((e) =>
      h('li', null, sevBadge(findingSeverity(e.severity)), ' ', h('strong', null, e.title), ' ',
        h('span', { class: 'muted' }, '(' + str(e.category) + ', ' + str(e.source) + ', rule ' + str(e.rule) + (e.path ? ', ' + slash(e.path) : '') + ')')))));
  }
  return el;
}

export function advisoryDbText(report: Rec): string {
  const db = obj(report.tool).advisoryDb;
  if (!isObj(db)) return 'vulnerabilities not checked';
  return 'built ' + str(db.builtAt) + ' from ' + arr(db.sources).join(', ') + (db.stale ? ' (stale: older than 7 days)' : '');
}

export function imageFacts(report: Rec, id: string): HTMLElement {
  const img = obj(report.image);
  const cfg = obj(img.config);
  const os = isObj(img.os) ? img.os : null;
  const files = isObj(img.files) ? img.files : null;
  const layers = objs(img.layers);
  const size = layers.reduce((t, l) => t + (num(l.size) || 0), 0);
  const el = card(id, 'Image');
  const labels = isObj(cfg.labels) ? cfg.labels : null;
  el.appendChild(facts([
    ['Reference', code(img.reference)],
    ['Digest', code(img.digest)],
    ['Image ID', img.configDigest ? code(img.configDigest) : null],
    ['Platform', img.platform],
    ['OS', os ? (os.prettyName || [os.id, os.versionId].filter(Boolean).join(' ')) : 'unknown'],
    ['Created', cfg.created],
    ['Layers', layers.length + ' (' + bytes(size) + ')'],
    ['Files', files ? str(files.count) + ' files, ' + bytes(files.bytes) + (num(files.removed) ? ', ' + str(files.removed) + ' removed by later layers' : '') : null],
    ['Packages', String(objs(report.packages).length)],
    ['User', cfg.user === '' ? 'root (not set)' : cfg.user],
    ['Entrypoint', arr(cfg.entrypoint).length ? argvNode(cfg.entrypoint) : null],
    ['Command', arr(cfg.cmd).length ? argvNode(cfg.cmd) : null],
    ['Working dir', cfg.workingDir],
    ['Exposed ports', arr(cfg.exposedPorts).join(', ')],
    ['Environment', arr(cfg.env).length ? h('div', null, arr(cfg.env).map((e) => h('div', null, code(e)))) : null],
    ['Labels', labels && Object.keys(labels).length ? facts(Object.keys(labels).map((k) => [k, code(labels[k])] as const)) : null],
    ['Scanned', report.scannedAt],
    ['Tool', report.tool ? 'detonate ' + str(obj(report.tool).version) : null],
    ['Advisory DB', advisoryDbText(report)],
  ]));
  return el;
}

/** How a payload was got out of the file, one step per item: `base64 (at 15, fed to bash)`, `tar: run.sh` … */
function payloadChain(payload: unknown): HTMLElement | null {
  if (payload === null || typeof payload !== 'object') return null;
  const p = payload as Rec;
  const steps = objs(p.steps);
  if (steps.length === 0) return null;
  return h('div', { class: 'payload' },
    h('ol', { class: 'decode-chain' }, steps.map((s) => {
      const details = [
        s.format !== undefined && s.format !== s.method ? str(s.format) : '',
        num(s.offset) !== null ? 'at ' + str(s.offset) : '',
        s.feeds !== undefined ? 'fed to ' + str(s.feeds) : '',
      ].filter(Boolean);
      return h('li', null, code(str(s.method)), s.name !== undefined ? ': ' : null, s.name !== undefined ? code(str(s.name)) : null,
        details.length ? h('span', { class: 'muted' }, ' (' + details.join(', ') + ')') : null);
    })),
    h('span', { class: 'muted' }, 'payload ' + bytes(p.size) + ', SHA-256 '), code(str(p.sha256)));
}

function findingDetails(f: Rec): HTMLElement {
  const sev = findingSeverity(f.severity);
  const where = f.path ? slash(f.path) : '';
  const layerText = num(f.layer) !== null ? 'layer ' + str(f.layer) + (num(f.removedInLayer) !== null ? ', removed in layer ' + str(f.removedInLayer) : '') : '';
  const d = h('details', { class: 'finding', 'data-severity': sev, 'data-rule': str(f.rule) },
    h('summary', null, sevBadge(sev), categoryChip(f.category),
      h('span', { class: 'title' }, f.title), where ? code(where) : null,
      h('span', { class: 'muted' }, [str(f.source), layerText].filter(Boolean).join(', '))));
  const evidence = f.evidence;
  d.appendChild(h('div', { class: 'body' }, facts([
    ['Rule', code(f.rule)],
    ['Source', f.source === 'dynamic' ? 'dynamic (seen when the image ran)' : f.source],
    ['Path', where ? code(where) : null],
    ['Layer', layerText],
    ['SHA-256', f.sha256 ? code(f.sha256) : null],
    ['Unpacked', payloadChain(f.payload)],
    ['ATT&CK', arr(f.attack).length ? h('span', { class: 'chips' }, arr(f.attack).map((a) => h('span', { class: 'chip mono' }, a))) : null],
    ['Evidence', evidence !== undefined ? h('div', { class: 'evidence' }, valueNode(evidence, 0)) : null],
  ])));
  return d;
}

export function findingsSection(report: Rec, id: string): HTMLElement {
  const findings = objs(report.findings).sort((a, b) =>
    sevRank(findingSeverity(a.severity), FINDING_SEVERITIES) - sevRank(findingSeverity(b.severity), FINDING_SEVERITIES) || str(a.category).localeCompare(str(b.category)));
  const el = card(id, 'Findings', findings.length);
  if (findings.length === 0) {
    el.appendChild(empty('No findings.'));
    return el;
  }
  const toggle = h('button', { type: 'button', class: 'expand-all' }, 'Expand all');
  toggle.addEventListener('click', () => {
    const open = toggle.textContent === 'Expand all';
    el.querySelectorAll('details.finding').forEach((d) => {
      (d as HTMLDetailsElement).open = open;
    });
    toggle.textContent = open ? 'Collapse all' : 'Expand all';
  });
  el.appendChild(h('div', { class: 'filters' }, toggle));
  for (const f of findings) el.appendChild(findingDetails(f));
  return el;
}

export function vulnerabilitiesSection(report: Rec, id: string): HTMLElement {
  const vulns = objs(report.vulnerabilities);
  const el = card(id, 'Vulnerabilities', vulns.length);
  if (!isObj(obj(report.tool).advisoryDb) && vulns.length === 0) {
    el.appendChild(empty('Not checked (no advisory database).'));
    return el;
  }
  el.appendChild(h('p', { class: 'muted' }, 'Advisory database: ' + advisoryDbText(report)));
  if (vulns.length === 0) {
    el.appendChild(empty('No known vulnerabilities.'));
    return el;
  }
  const score = (v: Rec): number | null => num(obj(v.cvss).score);
  const table = dataTable<Rec>([
    { label: 'ID', value: (v) => str(v.id), cell: (v) => [code(v.id), arr(v.aliases).length ? h('div', { class: 'muted' }, arr(v.aliases).join(', ')) : null] },
    { label: 'Severity', nowrap: true, value: (v) => sevRank(vulnSeverity(v.severity), VULNERABILITY_SEVERITIES), cell: (v) => sevBadge(vulnSeverity(v.severity)) },
    { label: 'CVSS', num: true, value: score, cell: (v) => {
      const n = score(v);
      return n !== null ? h('span', { title: str(obj(v.cvss).vector) }, n.toFixed(1)) : '';
    } },
    { label: 'Package', value: (v) => str(v.package), cell: (v) => v.package },
    { label: 'Installed', value: (v) => str(v.installedVersion), cell: (v) => code(v.installedVersion) },
    { label: 'Fixed in', value: (v) => (v.fixedVersion ? str(v.fixedVersion) : ''), cell: (v) =>
      v.fixedVersion ? code(v.fixedVersion) : h('span', { class: 'muted' }, v.wontFix ? 'won\'t fix' : 'no fix yet') },
    { label: 'Layer', num: true, value: (v) => num(v.layer), cell: (v) => str(num(v.layer)) },
    { label: 'Source', value: (v) => str(v.source), cell: (v) => v.source },
    { label: 'Title', value: (v) => str(v.title), cell: (v) => v.title },
  ], vulns, { name: 'vulnerabilities', sortBy: 1, rowAttrs: (v) => ({ 'data-severity': vulnSeverity(v.severity) }) });
  const boxes = new Map<string, HTMLInputElement>();
  const shown = h('span', { class: 'shown' });
  const apply = (): void => {
    const n = table.filter((v) => boxes.get(vulnSeverity(v.severity))?.checked === true);
    shown.textContent = n + ' of ' + vulns.length + ' shown';
  };
  const filters = h('div', { class: 'filters severity-filter', role: 'group', 'aria-label': 'Filter by severity' }, h('span', { class: 'muted' }, 'Severity:'));
  const sevs = vulns.map((v) => vulnSeverity(v.severity));
  for (const sev of VULNERABILITY_SEVERITIES) {
    const count = sevs.filter((x) => x === sev).length;
    const box = h('input', { type: 'checkbox', name: 'severity', value: sev, checked: true, disabled: count === 0 });
    box.addEventListener('change', apply);
    boxes.set(sev, box);
    filters.appendChild(h('label', null, box, sevBadge(sev), ' ' + count));
  }
  filters.appendChild(shown);
  el.appendChild(filters);
  el.appendChild(table.el);
  apply();
  return el;
}

export function packagesSection(report: Rec, id: string): HTMLElement {
  const pkgs = objs(report.packages);
  const el = card(id, 'Packages', pkgs.length);
  if (pkgs.length === 0) {
    el.appendChild(empty('No packages found.'));
    return el;
  }
  const table = dataTable<Rec>([
    { label: 'Name', value: (p) => str(p.name), cell: (p) => p.name },
    { label: 'Version', value: (p) => str(p.version), cell: (p) => code(p.version) },
    { label: 'Type', value: (p) => str(p.type), cell: (p) => p.type },
    { label: 'Source', value: (p) => str(p.sourceName), cell: (p) =>
      p.sourceName ? str(p.sourceName) + (p.sourceVersion && p.sourceVersion !== p.version ? ' ' + str(p.sourceVersion) : '') : '' },
    { label: 'Layer', num: true, value: (p) => num(p.layer), cell: (p) => str(num(p.layer)) },
    { label: 'Licenses', value: (p) => arr(p.licenses).join(', '), cell: (p) => arr(p.licenses).join(', ') },
    { label: 'Package URL', value: (p) => str(p.purl), cell: (p) => code(p.purl) },
  ], pkgs, { name: 'packages' });
  const search = h('input', { type: 'search', placeholder: 'Filter by name, version, license or purl', 'aria-label': 'Filter packages' });
  const types = [...new Set(pkgs.map((p) => str(p.type)))].sort();
  const select = h('select', { 'aria-label': 'Package type' }, h('option', { value: '' }, 'all types'), types.map((t) => h('option', { value: t }, t)));
  const shown = h('span', { class: 'shown' });
  const apply = (): void => {
    const q = search.value.trim().toLowerCase();
    const t = select.value;
    const n = table.filter((p) => {
      if (t && str(p.type) !== t) return false;
      if (!q) return true;
      return [p.name, p.version, p.purl, p.sourceName, arr(p.licenses).join(' ')].some((x) => str(x).toLowerCase().includes(q));
    });
    shown.textContent = n + ' of ' + pkgs.length + ' shown';
  };
  search.addEventListener('input', apply);
  select.addEventListener('change', apply);
  el.appendChild(h('div', { class: 'filters' }, search, select, shown));
  el.appendChild(table.el);
  apply();
  return el;
}

export function layersSection(report: Rec, id: string): HTMLElement {
  const layers = objs(obj(report.image).layers);
  const el = card(id, 'Layers', layers.length);
  if (layers.length === 0) {
    el.appendChild(empty('No layers.'));
    return el;
  }
  const pkgs = objs(report.packages);
  const findings = objs(report.findings);
  const vulns = objs(report.vulnerabilities);
  layers.forEach((l, i) => {
    const index = num(l.index) ?? i;
    const introduced = pkgs.filter((p) => p.layer === index);
    const found = findings.filter((f) => f.layer === index);
    const removed = findings.filter((f) => f.removedInLayer === index);
    const lv = vulns.filter((v) => v.layer === index);
    const box = h('div', { class: 'layer', 'data-layer': String(index) },
      h('div', { class: 'layer-head' }, h('span', { class: 'idx' }, 'Layer ' + index), h('span', null, bytes(l.size)),
        num(l.entries) !== null ? h('span', { class: 'muted' }, str(l.entries) + ' entries') : null,
        num(l.whiteouts) ? h('span', { class: 'muted' }, str(l.whiteouts) + ' deletions') : null,
        h('span', { class: 'muted' }, introduced.length + ' packages, ' + found.length + ' findings, ' + lv.length + ' vulnerabilities')));
    box.appendChild(l.createdBy !== undefined && l.createdBy !== '' ? pre(l.createdBy, { class: 'created-by' }) : h('p', { class: 'empty' }, 'created by: not recorded'));
    box.appendChild(facts([['Diff ID', code(l.diffId)], ['Digest', l.digest && l.digest !== l.diffId ? code(l.digest) : null], ['Media type', l.mediaType]]));
    if (found.length > 0 || removed.length > 0) {
      box.appendChild(h('h4', null, 'Findings'));
      box.appendChild(h('ul', null,
        found.map((f) => h('li', null, sevBadge(findingSeverity(f.severity)), ' ', f.title, f.path ? ' ' : null, f.path ? code(slash(f.path)) : null,
          num(f.removedInLayer) !== null ? h('span', { class: 'muted' }, ' (removed in layer ' + str(f.removedInLayer) + ')') : null)),
        removed.map((f) => h('li', null, h('span', { class: 'muted' }, 'removes: '), f.title, f.path ? ' ' : null, f.path ? code(slash(f.path)) : null,
          h('span', { class: 'muted' }, ' (added in layer ' + str(f.layer) + ')')))));
    }
    if (introduced.length > 0) {
      box.appendChild(h('details', null, h('summary', null, introduced.length + ' packages introduced'),
        h('div', { class: 'chips' }, introduced.map((p) => h('span', { class: 'chip' }, str(p.name) + ' ' + str(p.version) + ' (' + str(p.type) + ')')))));
    }
    el.appendChild(box);
  });
  return el;
}

export function noticesSection(report: Rec, id: string): HTMLElement {
  const notices = objs(report.notices);
  const el = card(id, 'Notices', notices.length);
  if (notices.length === 0) {
    el.appendChild(empty('None: the scan read everything it looked at.'));
    return el;
  }
  el.appendChild(dataTable<Rec>([
    { label: 'Level', value: (n) => str(n.level), cell: (n) => h('span', { class: n.level === 'error' ? 'error' : 'warn' }, n.level) },
    { label: 'Message', value: (n) => str(n.message), cell: (n) => n.message },
    { label: 'Path', value: (n) => str(n.path), cell: (n) => (n.path ? code(slash(n.path)) : '') },
    { label: 'Layer', num: true, value: (n) => num(n.layer), cell: (n) => str(num(n.layer)) },
  ], notices, { name: 'notices' }).el);
  return el;
}

function suppressedText(x: Rec): string {
  if (isObj(x.finding)) return str(x.finding.title);
  return isObj(x.vulnerability) ? str(x.vulnerability.id) : '';
}

export function suppressedSection(report: Rec, id: string): HTMLElement {
  const items = objs(report.suppressed);
  const el = card(id, 'Suppressed by an ignore file', items.length);
  if (items.length === 0) {
    el.appendChild(empty('Nothing suppressed.'));
    return el;
  }
  el.appendChild(dataTable<Rec>([
    { label: 'What', value: (x) => (x.finding ? 'finding' : 'vulnerability'), cell: (x) => (x.finding ? 'finding' : 'vulnerability') },
    { label: 'Item', value: suppressedText, cell: (x) => {
      if (isObj(x.finding)) {
        const f = x.finding;
        return [sevBadge(findingSeverity(f.severity)), ' ', f.title, f.path ? ' ' : null, f.path ? code(slash(f.path)) : null, h('div', { class: 'muted' }, 'rule ' + str(f.rule))];
      }
      const v = obj(x.vulnerability);
      return [sevBadge(vulnSeverity(v.severity)), ' ', code(v.id), ' in ', str(v.package), ' ', code(v.installedVersion)];
    } },
    { label: 'Reason', value: (x) => str(x.reason), cell: (x) => x.reason },
    { label: 'Expires', value: (x) => str(x.expires), cell: (x) => x.expires },
    { label: 'Ignored by', value: (x) => str(x.ignoredBy), cell: (x) => code(x.ignoredBy) },
  ], items, { name: 'suppressed' }).el);
  return el;
}
