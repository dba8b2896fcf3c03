/**
 * `--format cyclonedx`: a CycloneDX 1.6 JSON BOM of the image (https://cyclonedx.org/docs/1.6/json/).
 *
 * The image is `metadata.component` (type `container`, purl `pkg:oci/…`), the OS found in it a component of type
 * `operating-system`, and every package a `library` component carrying its purl, licenses, and where Detonate found
 * it (`detonate:*` properties and `evidence.occurrences`). The dependency graph says only what is known: the image
 * contains every component. Several images give a JSON array of BOMs, one per image.
 *
 * Threat findings: CycloneDX has no finding type of its own for malware or secrets, so each file a finding names is a
 * `file` component (its path, SHA-256 when known, `evidence.occurrences`) and each finding an `annotation` on that
 * file (or on the image, for findings without a file) written by the detonate tool component: "<severity>
 * <category>: <title> (rule …; ATT&CK …)". Machine-readable, under the `detonate:` property namespace:
 *   - on a flagged file: `detonate:threat:category` and `detonate:threat:rule` (one property per distinct value),
 *     `detonate:threat:severity` (the worst), `detonate:threat:source` (static | dynamic), `detonate:layer`,
 *     `detonate:layerDiffId`, `detonate:removedInLayer`, `detonate:droppedAtRuntime` (true: written when it ran);
 *   - in `metadata.properties`: `detonate:verdict:malicious` (true | false), `detonate:verdict:category` (one per
 *     category) and `detonate:verdict:summary`.
 *
 * Built from plain objects: @cyclonedx/cyclonedx-library is a dev dependency, used by the tests for its schemas.
 */
import { worstFirst, type Finding, type OsInfo, type Package, type Report, type Severity, type Vulnerability } from '../model/index.js';
import { combinedLicenseExpression, parseLicenseExpression, spdxLicenseId } from './license-expression.js';
import { documentUuid, imageIdentity, metadataPairs, UniqueIds, type SbomOptions } from './sbom-common.js';

export type CycloneDxLicense = { license: { id: string } | { name: string } } | { expression: string };

export interface CycloneDxProperty {
  name: string;
  value: string;
}

export interface CycloneDxComponent {
  type: 'application' | 'container' | 'library' | 'operating-system' | 'file';
  'bom-ref'?: string;
  name: string;
  version?: string;
  description?: string;
  hashes?: { alg: 'SHA-256'; content: string }[];
  purl?: string;
  licenses?: CycloneDxLicense[];
  evidence?: { occurrences: { location: string }[] };
  properties?: CycloneDxProperty[];
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.6';
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: CycloneDxComponent[] };
    component: CycloneDxComponent;
    properties?: CycloneDxProperty[];
  };
  components: CycloneDxComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
  vulnerabilities?: CycloneDxVulnerability[];
  annotations?: CycloneDxAnnotation[];
}

/** A finding, as a tool's comment on the file (or image) it is about. */
export interface CycloneDxAnnotation {
  'bom-ref': string;
  subjects: string[];
  annotator: { component: CycloneDxComponent };
  timestamp: string;
  text: string;
}

export interface CycloneDxVulnerability {
  'bom-ref': string;
  id: string;
  source: { name: string };
  references?: { id: string; source: { name: string } }[];
  ratings: { score?: number; severity: 'critical' | 'high' | 'medium' | 'low' | 'unknown'; method?: 'CVSSv2' | 'CVSSv3' | 'CVSSv31' | 'CVSSv4' | 'other'; vector?: string; source?: { name: string } }[];
  description?: string;
  recommendation?: string;
  affects: { ref: string; versions: { version: string; status: 'affected' }[] }[];
  analysis?: { state: 'exploitable' | 'in_triage'; response?: 'will_not_fix'[] };
}

/** Where an id comes from, by its prefix, for CycloneDX `source` / `references`. */
function advisorySourceName(id: string): string {
  const prefix = /^([A-Z]+)-/.exec(id)?.[1] ?? 'other';
  const names: Record<string, string> = { CVE: 'NVD', GHSA: 'GitHub', DSA: 'Debian', DLA: 'Debian', DTSA: 'Debian', GO: 'Go', PYSEC: 'PyPA', RUSTSEC: 'RustSec', OSV: 'OSV', MAL: 'OSV' };
  return names[prefix] ?? prefix;
}

function cvssMethod(vector: string): CycloneDxVulnerability['ratings'][number]['method'] {
  if (vector.startsWith('CVSS:4.')) return 'CVSSv4';
  if (vector.startsWith('CVSS:3.1')) return 'CVSSv31';
  if (vector.startsWith('CVSS:3.')) return 'CVSSv3';
  return vector.includes('Au:') ? 'CVSSv2' : 'other';
}

/**
 * The vulnerabilities section: one entry per advisory, affecting every component it was matched on. Entries that
 * are not well-formed vulnerabilities (reports from other producers) are left out rather than breaking the BOM.
 */
function cycloneDxVulnerabilities(report: Report, refByPurl: Map<string, string>, ids: UniqueIds): CycloneDxVulnerability[] {
  const byId = new Map<string, CycloneDxVulnerability>();
  for (const raw of report.vulnerabilities as unknown[]) {
    if (!raw || typeof raw !== 'object') continue;
    const v = raw as Partial<Vulnerability>;
    if (typeof v.id !== 'string' || typeof v.purl !== 'string' || typeof v.installedVersion !== 'string') continue;
    const ref = refByPurl.get(v.purl);
    if (!ref) continue;
    let entry = byId.get(v.id);
    if (!entry) {
      const severity = v.severity === 'moderate' ? 'medium' : v.severity === 'critical' || v.severity === 'high' || v.severity === 'low' ? v.severity : 'unknown';
      const rating: CycloneDxVulnerability['ratings'][number] = v.cvss && typeof v.cvss.vector === 'string'
        ? { score: v.cvss.score, severity, method: cvssMethod(v.cvss.vector), vector: v.cvss.vector }
        : { severity, method: 'other', ...(v.severitySource ? { source: { name: v.severitySource } } : {}) };
      const aliases = Array.isArray(v.aliases) ? v.aliases.filter((a): a is string => typeof a === 'string') : [];
      entry = {
        'bom-ref': ids.take(`vuln:${v.id}`),
        id: v.id,
        source: { name: advisorySourceName(v.id) },
        ...(aliases.length > 0 ? { references: aliases.map((a) => ({ id: a, source: { name: advisorySourceName(a) } })) } : {}),
        ratings: [rating],
        ...(typeof v.title === 'string' ? { description: v.title } : {}),
        affects: [],
      };
      byId.set(v.id, entry);
    }
    entry.affects.push({ ref, versions: [{ version: v.installedVersion, status: 'affected' }] });
    if (typeof v.fixedVersion === 'string' && !entry.recommendation) entry.recommendation = `Upgrade ${v.package ?? 'the package'} to ${v.fixedVersion} or later`;
    if (v.wontFix) entry.analysis = { state: 'exploitable', response: ['will_not_fix'] };
  }
  return [...byId.values()];
}

/**
 * CycloneDX licenses are either a list of single licenses (an SPDX id, or a free-text name) or exactly one SPDX
 * expression. Declared licenses that together form a compound expression (`MIT OR Apache-2.0`, or several licenses
 * that all apply) become that expression; otherwise each is an entry of its own, with its SPDX id where it has one.
 */
export function cycloneDxLicenses(licenses: readonly string[] | undefined): CycloneDxLicense[] | undefined {
  const declared = [...new Set((licenses ?? []).map((l) => l.trim()).filter((l) => l.length > 0))];
  if (declared.length === 0) return undefined;
  const combined = combinedLicenseExpression(declared);
  if (combined && !combined.simple && declared.some((l) => !parseLicenseExpression(l)?.simple)) {
    return [{ expression: combined.expression }];
  }
  return declared.map((text) => {
    const id = spdxLicenseId(text);
    return { license: id ? { id } : { name: text } };
  });
}

function packageProperties(pkg: Package, report: Report): CycloneDxProperty[] {
  const properties: CycloneDxProperty[] = [
    { name: 'detonate:type', value: pkg.type },
    { name: 'detonate:layer', value: String(pkg.layer) },
  ];
  const layer = report.image.layers.find((l) => l.index === pkg.layer);
  if (layer?.diffId) properties.push({ name: 'detonate:layerDiffId', value: layer.diffId });
  for (const path of pkg.paths) properties.push({ name: 'detonate:path', value: path });
  if (pkg.sourceName) properties.push({ name: 'detonate:sourceName', value: pkg.sourceName });
  if (pkg.sourceVersion) properties.push({ name: 'detonate:sourceVersion', value: pkg.sourceVersion });
  if (pkg.arch) properties.push({ name: 'detonate:arch', value: pkg.arch });
  for (const [key, value] of metadataPairs(pkg.metadata)) properties.push({ name: `detonate:metadata:${key}`, value });
  return properties;
}

function packageComponent(pkg: Package, report: Report, ids: UniqueIds): CycloneDxComponent {
  const licenses = cycloneDxLicenses(pkg.licenses);
  return {
    type: 'library',
    'bom-ref': ids.take(pkg.purl || `${pkg.type}:${pkg.name}@${pkg.version}`),
    name: pkg.name,
    ...(pkg.version ? { version: pkg.version } : {}),
    ...(pkg.purl ? { purl: pkg.purl } : {}),
    ...(licenses ? { licenses } : {}),
    ...(pkg.paths.length > 0 ? { evidence: { occurrences: [...new Set(pkg.paths)].map((path) => ({ location: `/${path}` })) } } : {}),
    properties: packageProperties(pkg, report),
  };
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The files threat findings name, one `file` component each, with the findings' summary as properties. */
function flaggedFileComponents(report: Report, ids: UniqueIds): { components: CycloneDxComponent[]; refByPath: Map<string, string> } {
  const byPath = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const path = typeof f.path === 'string' ? f.path.replace(/^\/+/, '') : '';
    if (path.length === 0) continue;
    byPath.set(path, [...(byPath.get(path) ?? []), f]);
  }
  const components: CycloneDxComponent[] = [];
  const refByPath = new Map<string, string>();
  for (const [path, findings] of byPath) {
    const properties: CycloneDxProperty[] = [];
    const distinct = (values: string[], name: string): void => {
      for (const value of [...new Set(values)]) properties.push({ name, value });
    };
    distinct(findings.map((f) => f.category), 'detonate:threat:category');
    distinct(findings.map((f) => f.rule), 'detonate:threat:rule');
    const worst = findings.map((f) => f.severity).sort(worstFirst)[0] as Severity;
    properties.push({ name: 'detonate:threat:severity', value: worst });
    distinct(findings.map((f) => f.source), 'detonate:threat:source');
    const located = findings.find((f) => f.layer !== undefined);
    if (located?.layer !== undefined) {
      properties.push({ name: 'detonate:layer', value: String(located.layer) });
      const diffId = report.image.layers.find((l) => l.index === located.layer)?.diffId;
      if (diffId) properties.push({ name: 'detonate:layerDiffId', value: diffId });
    }
    const removed = findings.find((f) => typeof f.removedInLayer === 'number')?.removedInLayer;
    if (typeof removed === 'number') properties.push({ name: 'detonate:removedInLayer', value: String(removed) });
    if (findings.some((f) => f.evidence?.droppedAtRuntime === true)) properties.push({ name: 'detonate:droppedAtRuntime', value: 'true' });
    const sha256 = findings.map((f) => f.sha256).find((h): h is string => typeof h === 'string' && SHA256.test(h));
    const ref = ids.take(`file:/${path}`);
    refByPath.set(path, ref);
    components.push({
      type: 'file',
      'bom-ref': ref,
      name: path,
      ...(sha256 ? { hashes: [{ alg: 'SHA-256', content: sha256 }] } : {}),
      evidence: { occurrences: [{ location: `/${path}` }] },
      properties,
    });
  }
  return { components, refByPath };
}

function findingText(f: Finding): string {
  const where = f.source === 'dynamic'
    ? 'seen when the image ran'
    : f.layer !== undefined ? `layer ${f.layer}${typeof f.removedInLayer === 'number' ? `, deleted in layer ${f.removedInLayer} but still in the image` : ''}` : 'image configuration';
  const attack = Array.isArray(f.attack) && f.attack.length > 0 ? `; MITRE ATT&CK ${f.attack.join(', ')}` : '';
  return `${f.severity} ${f.category}: ${f.title} (rule ${f.rule}; ${where}${attack})`;
}

/** One annotation per finding, on its file, or on the image when it names no file. */
function findingAnnotations(
  report: Report, imageRef: string, refByPath: Map<string, string>, tool: CycloneDxComponent, timestamp: string, ids: UniqueIds,
): CycloneDxAnnotation[] {
  return report.findings.map((f) => {
    const path = typeof f.path === 'string' ? f.path.replace(/^\/+/, '') : '';
    return {
      'bom-ref': ids.take(`finding:${f.rule}:${path}`),
      subjects: [refByPath.get(path) ?? imageRef],
      annotator: { component: tool },
      timestamp,
      text: findingText(f),
    };
  });
}

function osComponent(os: OsInfo, ids: UniqueIds): CycloneDxComponent {
  return {
    type: 'operating-system',
    'bom-ref': ids.take(`os:${os.id}${os.versionId ? `@${os.versionId}` : ''}`),
    name: os.id,
    ...(os.versionId ? { version: os.versionId } : {}),
    ...(os.prettyName ? { description: os.prettyName } : {}),
    ...(os.versionCodename ? { properties: [{ name: 'detonate:os:versionCodename', value: os.versionCodename }] } : {}),
  };
}

function imageComponent(report: Report, ids: UniqueIds): CycloneDxComponent {
  const identity = imageIdentity(report.image);
  const properties: CycloneDxProperty[] = [
    { name: 'detonate:image:reference', value: report.image.reference },
    { name: 'detonate:image:platform', value: report.image.platform },
  ];
  if (report.image.configDigest) properties.push({ name: 'detonate:image:configDigest', value: report.image.configDigest });
  for (const layer of report.image.layers) {
    properties.push({ name: 'detonate:image:layerDiffId', value: `${layer.index} ${layer.diffId}` });
  }
  return {
    type: 'container',
    'bom-ref': ids.take(identity.purl),
    name: identity.repositoryUrl ?? identity.name,
    ...(report.image.digest ? { version: report.image.digest } : {}),
    purl: identity.purl,
    properties,
  };
}

/** The CycloneDX 1.6 BOM of one report, as a plain object. */
export function toCycloneDx(report: Report, options: SbomOptions = {}): CycloneDxBom {
  const ids = new UniqueIds('|');
  const image = imageComponent(report, ids);
  const components: CycloneDxComponent[] = [];
  if (report.image.os) components.push(osComponent(report.image.os, ids));
  const refByPurl = new Map<string, string>();
  for (const pkg of report.packages) {
    const component = packageComponent(pkg, report, ids);
    components.push(component);
    if (pkg.purl && !refByPurl.has(pkg.purl)) refByPurl.set(pkg.purl, component['bom-ref'] as string);
  }
  const flagged = flaggedFileComponents(report, ids);
  components.push(...flagged.components);
  const vulnerabilities = cycloneDxVulnerabilities(report, refByPurl, ids);
  const timestamp = (options.now ?? new Date()).toISOString();
  const tool: CycloneDxComponent = { type: 'application', name: report.tool.name, version: report.tool.version };
  const annotations = findingAnnotations(report, image['bom-ref'] as string, flagged.refByPath, tool, timestamp, ids);
  const metadataProperties: CycloneDxProperty[] = [];
  if (report.scannedAt) metadataProperties.push({ name: 'detonate:scannedAt', value: report.scannedAt });
  if (report.tool.advisoryDb) {
    metadataProperties.push({ name: 'detonate:advisoryDb:builtAt', value: report.tool.advisoryDb.builtAt });
    for (const source of report.tool.advisoryDb.sources) metadataProperties.push({ name: 'detonate:advisoryDb:source', value: source });
  }
  metadataProperties.push({ name: 'detonate:verdict:malicious', value: String(report.verdict.malicious) });
  for (const category of report.verdict.categories) metadataProperties.push({ name: 'detonate:verdict:category', value: category });
  metadataProperties.push({ name: 'detonate:verdict:summary', value: report.verdict.summary });
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${documentUuid(options)}`,
    version: 1,
    metadata: {
      timestamp,
      tools: { components: [tool] },
      component: image,
      ...(metadataProperties.length > 0 ? { properties: metadataProperties } : {}),
    },
    components,
    dependencies: [{ ref: image['bom-ref'] as string, dependsOn: components.map((c) => c['bom-ref'] as string) }],
    ...(vulnerabilities.length > 0 ? { vulnerabilities } : {}),
    ...(annotations.length > 0 ? { annotations } : {}),
  };
}

/** CycloneDX JSON: one BOM for one image, an array of BOMs for several; 2-space indent, trailing newline. */
export function renderCycloneDx(reports: readonly Report[], options: SbomOptions = {}): string {
  const boms = reports.map((report) => toCycloneDx(report, options));
  return `${JSON.stringify(boms.length === 1 ? boms[0] : boms, null, 2)}\n`;
}
