/**
 * `--format cyclonedx`: a CycloneDX 1.6 JSON BOM of the image (https://cyclonedx.org/docs/1.6/json/).
 *
 * The image is `metadata.component` (type `container`, purl `pkg:oci/…`), the OS found in it a component of type
 * `operating-system`, and every package a `library` component carrying its purl, licenses, and where Detonate found
 * it (`detonate:*` properties and `evidence.occurrences`). The dependency graph says only what is known: the image
 * contains every component. Several images give a JSON array of BOMs, one per image.
 *
 * Built from plain objects: @cyclonedx/cyclonedx-library is a dev dependency, used by the tests for its schemas.
 */
import type { OsInfo, Package, Report } from './model.js';
import { combinedLicenseExpression, parseLicenseExpression, spdxLicenseId } from './license-expression.js';
import { documentUuid, imageIdentity, metadataPairs, UniqueIds, type SbomOptions } from './sbom-common.js';

export type CycloneDxLicense = { license: { id: string } | { name: string } } | { expression: string };

export interface CycloneDxProperty {
  name: string;
  value: string;
}

export interface CycloneDxComponent {
  type: 'application' | 'container' | 'library' | 'operating-system';
  'bom-ref'?: string;
  name: string;
  version?: string;
  description?: string;
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
  for (const pkg of report.packages) components.push(packageComponent(pkg, report, ids));
  const metadataProperties: CycloneDxProperty[] = [];
  if (report.scannedAt) metadataProperties.push({ name: 'detonate:scannedAt', value: report.scannedAt });
  if (report.tool.advisoryDb) {
    metadataProperties.push({ name: 'detonate:advisoryDb:builtAt', value: report.tool.advisoryDb.builtAt });
    for (const source of report.tool.advisoryDb.sources) metadataProperties.push({ name: 'detonate:advisoryDb:source', value: source });
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${documentUuid(options)}`,
    version: 1,
    metadata: {
      timestamp: (options.now ?? new Date()).toISOString(),
      tools: { components: [{ type: 'application', name: report.tool.name, version: report.tool.version }] },
      component: image,
      ...(metadataProperties.length > 0 ? { properties: metadataProperties } : {}),
    },
    components,
    dependencies: [{ ref: image['bom-ref'] as string, dependsOn: components.map((c) => c['bom-ref'] as string) }],
  };
}

/** CycloneDX JSON: one BOM for one image, an array of BOMs for several; 2-space indent, trailing newline. */
export function renderCycloneDx(reports: readonly Report[], options: SbomOptions = {}): string {
  const boms = reports.map((report) => toCycloneDx(report, options));
  return `${JSON.stringify(boms.length === 1 ? boms[0] : boms, null, 2)}\n`;
}
