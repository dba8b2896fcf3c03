import { worstFirst, type Finding, type FindingCategory, type Report, type Vulnerability } from '../model/index.js';
import { MAX_SARIF_EVIDENCE_CHARS, MAX_SARIF_EVIDENCE_KEYS, MAX_SARIF_FULL_DESCRIPTION_CHARS, MAX_SARIF_SHORT_DESCRIPTION_CHARS } from './limits.js';
import { markdownText } from './markdown.js';

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
  locations: {
    physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
    message?: { text: string };
    properties?: Record<string, unknown>;
  }[];
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
      shortDescription: { text: `${v.id}: ${text}`.slice(0, MAX_SARIF_SHORT_DESCRIPTION_CHARS) },
      fullDescription: { text: text.slice(0, MAX_SARIF_FULL_DESCRIPTION_CHARS) },
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

const CATEGORY_HELP: Record<FindingCategory, string> = {
  cryptominer: 'Cryptocurrency mining: miner binaries, pool configurations, stratum traffic, CPU burn with pool contact.',
  'hacking-tool': 'Offensive tooling: scanners, brute-forcers, exploit or C2 frameworks, credential dumpers.',
  backdoor: 'Remote access: reverse shells, webshells, implants, persistence planted for remote access, trojanised apps.',
  'windows-malware': 'A malicious Windows executable in a Linux image.',
  malware: 'A known-bad family.',
  'malicious-package': 'A dependency known to be malicious (e.g. an OSV MAL- record).',
  secret: 'A secret in the image: private key, cloud or API token. Rotate it and remove it from every layer.',
  misconfiguration: 'A configuration weakness of the image.',
  'windows-pe': 'Windows executables are present (informational; never malicious by itself).',
  suspicious: 'A weak signal worth a look.',
};



const ATTACK_ID = /^T\d{4}(\.\d{3})?$/;

/** `T1059.004` → the ATT&CK page of the technique. */
function attackUrl(id: string): string {
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}

/** A finding's path as a relative artifact URI: dynamic findings name container paths, which may start with `/`. */
function findingUri(f: Finding, report: Report): string {
  const path = (f.path ?? '').replace(/^\/+/, '');
  return uri(path.length > 0 ? path : report.image.reference);
}

/** A finding's evidence, bounded: one short string per key (the JSON report has the whole of it). */
function evidenceSummary(evidence: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!evidence || typeof evidence !== 'object') return undefined;
  const summary: Record<string, string> = {};
  for (const key of Object.keys(evidence).sort().slice(0, MAX_SARIF_EVIDENCE_KEYS)) {
    const value = evidence[key];
    let text: string;
    try {
      text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    } catch {
      text = String(value);
    }
    summary[key] = text.length > MAX_SARIF_EVIDENCE_CHARS ? `${text.slice(0, MAX_SARIF_EVIDENCE_CHARS - 1)}…` : text;
  }
  return Object.keys(summary).length > 0 ? summary : undefined;
}

/** One rule per finding rule id; its severity is that of the worst finding it made. */
function findingRule(id: string, findings: readonly Finding[]): SarifRule {
  const worst = [...findings].sort((a, b) => worstFirst(a.severity, b.severity))[0] as Finding;
  const categories = [...new Set(findings.map((f) => f.category))];
  // only well-formed technique ids: they end up in links
  const attack = [...new Set(findings.flatMap((f) => f.attack ?? []))].filter((t) => ATTACK_ID.test(t));
  const described = findings.map((f) => f.evidence?.description).find((d): d is string => typeof d === 'string' && d.length > 0);
  const description = described ?? worst.title;
  const sources = [...new Set(findings.map((f) => f.source))];
  const categoryHelp = categories.map((c) => `${c}: ${CATEGORY_HELP[c] ?? ''}`);
  const attackText = attack.length > 0 ? `MITRE ATT&CK: ${attack.join(', ')}.` : '';
  return {
    id,
    name: id.replace(/[^A-Za-z0-9]/g, ''),
    shortDescription: { text: `${categories.join(', ')}: ${description}`.slice(0, MAX_SARIF_SHORT_DESCRIPTION_CHARS) },
    fullDescription: { text: `${description} (${sources.join(' and ')} analysis, ${worst.severity}).`.slice(0, MAX_SARIF_FULL_DESCRIPTION_CHARS) },
    help: {
      text: [...categoryHelp, attackText].filter(Boolean).join(' '),
      markdown: [
        ...categoryHelp.map((line) => `**${line.slice(0, line.indexOf(':'))}**${line.slice(line.indexOf(':'))}`),
        ...(attack.length > 0 ? [`MITRE ATT&CK: ${attack.map((t) => `[${t}](${attackUrl(t)})`).join(', ')}`] : []),
        `Detected by rule ${markdownText(id)}: ${markdownText(description)}`,
      ].join('\n\n'),
    },
    ...(attack[0] ? { helpUri: attackUrl(attack[0]) } : {}),
    properties: {
      'security-severity': SECURITY_SEVERITY[worst.severity]!,
      tags: ['security', 'threat', ...categories, ...attack.map((t) => `external/mitre-attack/${t}`)],
      precision: sources.includes('dynamic') ? 'very-high' : 'high',
    },
  };
}

function findingResult(f: Finding, report: Report, ruleIndex: number): SarifResult {
  const removed = f.removedInLayer !== null && f.removedInLayer !== undefined;
  const diffId = f.layer !== undefined ? report.image.layers.find((l) => l.index === f.layer)?.diffId : undefined;
  const where = f.source === 'dynamic'
    ? `${f.path ? `${f.path}, ` : ''}seen when the image ran`
    : `${f.layer !== undefined ? `layer ${f.layer}` : 'image configuration'}${removed ? `, deleted in layer ${f.removedInLayer}, still in the image` : ''}`;
  const evidence = evidenceSummary(f.evidence);
  return {
    ruleId: f.rule,
    ruleIndex,
    level: LEVEL[f.severity] ?? 'warning',
    message: { text: f.title },
    locations: [{
      physicalLocation: { artifactLocation: { uri: findingUri(f, report) }, region: { startLine: 1 } },
      message: { text: `${where} (${report.image.reference})` },
      properties: {
        ...(f.layer !== undefined ? { layer: f.layer } : {}),
        ...(diffId ? { layerDiffId: diffId } : {}),
        ...(removed ? { removedInLayer: f.removedInLayer } : {}),
        ...(f.sha256 ? { sha256: f.sha256 } : {}),
      },
    }],
    partialFingerprints: { 'detonate/v1': `${report.image.digest}:${f.rule}:${f.path ?? ''}:${f.sha256 ?? ''}` },
    properties: {
      category: f.category,
      severity: f.severity,
      source: f.source,
      ...(f.attack?.length ? { attack: f.attack.filter((t) => ATTACK_ID.test(t)) } : {}),
      ...(f.sha256 ? { sha256: f.sha256 } : {}),
      ...(f.layer !== undefined ? { layer: f.layer } : {}),
      ...(removed ? { removedInLayer: f.removedInLayer } : {}),
      ...(evidence ? { evidence } : {}),
    },
  };
}

export function toSarifRun(report: Report): Record<string, unknown> {
  const rules = new Rules();
  const results: SarifResult[] = [];
  const byRule = new Map<string, Finding[]>();
  for (const f of report.findings) byRule.set(f.rule, [...(byRule.get(f.rule) ?? []), f]);
  for (const f of report.findings) results.push(findingResult(f, report, rules.take(f.rule, () => findingRule(f.rule, byRule.get(f.rule) ?? [f]))));
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
    properties: {
      image: report.image.reference,
      digest: report.image.digest,
      platform: report.image.platform,
      ...(report.tool.advisoryDb ? { advisoryDbBuiltAt: report.tool.advisoryDb.builtAt } : {}),
      verdict: { malicious: report.verdict.malicious, categories: report.verdict.categories, summary: report.verdict.summary },
    },
  };
}

/** One SARIF log for all scanned images, a run per image. */
export function renderSarif(reports: readonly Report[]): string {
  const log = { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs: reports.map(toSarifRun) };
  return `${JSON.stringify(log, null, 2)}\n`;
}
