import type { Finding, Report, Vulnerability } from './model.js';

/**
 * SARIF 2.1.0 (as GitHub code scanning reads it): one run per image; a rule per advisory or detector rule, a
 * result per (rule, package or file). Vulnerabilities and threat findings both become results; the severity goes
 * into `level` and, for GitHub, into the rule's `security-severity` score.
 */

type Level = 'error' | 'warning' | 'note';

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  helpUri?: string;
  properties: { 'security-severity': string; tags: string[]; precision: 'very-high' | 'high' | 'medium' };
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: Level;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } }; message?: { text: string } }[];
  partialFingerprints: Record<string, string>;
  properties?: Record<string, unknown>;
}

const LEVEL: Record<string, Level> = { critical: 'error', high: 'error', moderate: 'warning', low: 'note', info: 'note', unknown: 'warning' };
/** GitHub's `security-severity`: a CVSS-like score it buckets as critical ≥ 9, high ≥ 7, medium ≥ 4, low. */
const SECURITY_SEVERITY: Record<string, string> = { critical: '9.5', high: '8.0', moderate: '5.5', low: '2.0', info: '0.0', unknown: '5.0' };

/** Artifact URIs must be relative URIs: percent-encode what a path may hold. */
function uri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function helpUri(id: string): string | undefined {
  if (/^CVE-\d+-\d+$/.test(id)) return `https://nvd.nist.gov/vuln/detail/${id}`;
  if (/^GHSA-/.test(id)) return `https://github.com/advisories/${id}`;
  if (/^(GO|PYSEC|RUSTSEC|MAL|OSV)-/.test(id)) return `https://osv.dev/vulnerability/${id}`;
  return undefined;
}

class Rules {
  readonly list: SarifRule[] = [];
  private readonly index = new Map<string, number>();

  take(id: string, make: () => SarifRule): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.list.push(make()) - 1;
      this.index.set(id, i);
    }
    return i;
  }
}

function vulnerabilityResult(v: Vulnerability, report: Report, rules: Rules): SarifResult {
  const ruleIndex = rules.take(v.id, () => {
    const text = v.title ?? `${v.id} in ${v.package}`;
    const fix = v.fixedVersion ? `Upgrade ${v.package} to ${v.fixedVersion} or later.` : v.wontFix ? 'The distribution will not fix this.' : 'No fixed version is known yet.';
    const link = helpUri(v.id);
    return {
      id: v.id,
      name: v.id.replace(/[^A-Za-z0-9]/g, ''),
      shortDescription: { text: `${v.id}: ${text}`.slice(0, 1000) },
      fullDescription: { text: text.slice(0, 4000) },
      help: {
        text: `${v.id} (${v.severity})${v.aliases.length ? `, also ${v.aliases.join(', ')}` : ''}. ${fix}`,
        markdown: `**${v.id}** (${v.severity})${v.aliases.length ? `, also ${v.aliases.join(', ')}` : ''}\n\n${fix}`,
      },
      ...(link ? { helpUri: link } : {}),
      properties: { 'security-severity': v.cvss ? v.cvss.score.toFixed(1) : SECURITY_SEVERITY[v.severity]!, tags: ['security', 'vulnerability'], precision: 'very-high' },
    };
  });
  const pkg = report.packages.find((p) => p.purl === v.purl);
  const path = pkg?.paths[0] ?? report.image.reference;
  return {
    ruleId: v.id,
    ruleIndex,
    level: LEVEL[v.severity] ?? 'warning',
    message: { text: `${v.package} ${v.installedVersion} is affected by ${v.id} (${v.severity})${v.fixedVersion ? `; fixed in ${v.fixedVersion}` : ''}. Image: ${report.image.reference}, layer ${v.layer}.` },
    locations: [{ physicalLocation: { artifactLocation: { uri: uri(path) }, region: { startLine: 1 } }, message: { text: `${v.purl} (layer ${v.layer})` } }],
    partialFingerprints: { 'detonate/v1': `${report.image.digest}:${v.id}:${v.purl}` },
    properties: { purl: v.purl, installedVersion: v.installedVersion, fixedVersion: v.fixedVersion, layer: v.layer },
  };
}

function findingResult(f: Finding, report: Report, rules: Rules): SarifResult {
  const ruleIndex = rules.take(f.rule, () => ({
    id: f.rule,
    name: f.rule.replace(/[^A-Za-z0-9]/g, ''),
    shortDescription: { text: f.title.slice(0, 1000) },
    fullDescription: { text: `${f.category}: ${f.title}`.slice(0, 4000) },
    help: { text: `${f.category} (${f.severity})${f.attack?.length ? `, ATT&CK ${f.attack.join(', ')}` : ''}`, markdown: `**${f.category}** (${f.severity})${f.attack?.length ? `, ATT&CK ${f.attack.join(', ')}` : ''}` },
    properties: { 'security-severity': SECURITY_SEVERITY[f.severity]!, tags: ['security', f.category], precision: 'high' },
  }));
  const path = f.path ?? report.image.reference;
  const removed = f.removedInLayer !== null && f.removedInLayer !== undefined ? ` (deleted in layer ${f.removedInLayer}, still in the image)` : '';
  return {
    ruleId: f.rule,
    ruleIndex,
    level: LEVEL[f.severity] ?? 'warning',
    message: { text: `${f.title}${removed}. Image: ${report.image.reference}${f.layer !== undefined ? `, layer ${f.layer}` : ''}.` },
    locations: [{ physicalLocation: { artifactLocation: { uri: uri(path) }, region: { startLine: 1 } } }],
    partialFingerprints: { 'detonate/v1': `${report.image.digest}:${f.rule}:${f.path ?? ''}:${f.sha256 ?? ''}` },
    properties: { category: f.category, source: f.source, ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(f.layer !== undefined ? { layer: f.layer } : {}) },
  };
}

export function toSarifRun(report: Report): Record<string, unknown> {
  const rules = new Rules();
  const results: SarifResult[] = [];
  for (const f of report.findings) results.push(findingResult(f, report, rules));
  for (const raw of report.vulnerabilities as unknown[]) {
    // reports from other producers may hold entries that are not well-formed vulnerabilities: leave them out
    const v = raw as Partial<Vulnerability> | null;
    if (!v || typeof v !== 'object' || typeof v.id !== 'string' || typeof v.package !== 'string' || typeof v.purl !== 'string' || typeof v.installedVersion !== 'string') continue;
    results.push(vulnerabilityResult({ ...v, aliases: Array.isArray(v.aliases) ? v.aliases : [], severity: v.severity ?? 'unknown', layer: v.layer ?? 0 } as Vulnerability, report, rules));
  }
  return {
    tool: { driver: { name: 'detonate', version: report.tool.version, semanticVersion: report.tool.version, rules: rules.list } },
    automationDetails: { id: `detonate/${report.image.reference}/${report.image.platform}` },
    results,
    properties: { image: report.image.reference, digest: report.image.digest, platform: report.image.platform, ...(report.tool.advisoryDb ? { advisoryDbBuiltAt: report.tool.advisoryDb.builtAt } : {}) },
  };
}

/** One SARIF log for all scanned images, a run per image. */
export function renderSarif(reports: readonly Report[]): string {
  const log = { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs: reports.map(toSarifRun) };
  return `${JSON.stringify(log, null, 2)}\n`;
}
