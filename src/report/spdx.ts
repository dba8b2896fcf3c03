/**
 * `--format spdx`: an SPDX 2.3 JSON document of the image (https://spdx.github.io/spdx-spec/v2.3/).
 *
 * The document DESCRIBES the image (a package with purpose CONTAINER and a `pkg:oci` purl), which CONTAINS the OS
 * (purpose OPERATING-SYSTEM) and every package found, each with its purl as a PACKAGE-MANAGER external reference
 * and the layer it came from in `sourceInfo`. Several images give a JSON array of documents, one per image.
 *
 * Licenses: Detonate reads what a package declares and concludes nothing, so `licenseConcluded` is NOASSERTION and
 * `licenseDeclared` holds the declared licenses when they form a valid SPDX expression (NOASSERTION otherwise; the
 * declared text then goes to `licenseComments`, so nothing is lost).
 */
import type { OsInfo, Package, Report } from '../model/index.js';
import { isOsPackageType } from '../model/index.js';
import { combinedLicenseExpression } from './license-expression.js';
import { documentUuid, imageIdentity, metadataPairs, UniqueIds, type SbomOptions } from './sbom-common.js';
import { MAX_SPDX_ID_PART_CHARS } from './limits.js';

const NOASSERTION = 'NOASSERTION';

export interface SpdxExternalRef {
  referenceCategory: 'PACKAGE-MANAGER';
  referenceType: 'purl';
  referenceLocator: string;
}

export interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  supplier?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  checksums?: { algorithm: 'SHA256'; checksumValue: string }[];
  sourceInfo?: string;
  licenseConcluded: string;
  licenseDeclared: string;
  licenseComments?: string;
  copyrightText: string;
  description?: string;
  comment?: string;
  externalRefs?: SpdxExternalRef[];
  primaryPackagePurpose?: 'CONTAINER' | 'OPERATING-SYSTEM' | 'LIBRARY';
}

export interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: 'DESCRIBES' | 'CONTAINS';
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; comment?: string };
  packages: SpdxPackage[];
  relationships: SpdxRelationship[];
}

export interface SpdxOptions extends SbomOptions {
  /**
   * Start of `documentNamespace`, which SPDX wants to be a unique URI without `#`. The default host is under the
   * reserved `.invalid` top-level domain (RFC 2606): it names the document and is never fetched.
   */
  namespaceBase?: string;
}

const DEFAULT_NAMESPACE_BASE = 'https://detonate.invalid/spdx';

/** SPDX 2.3 identifiers are `SPDXRef-` followed by letters, digits, `.` and `-` only. */
function idPart(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_SPDX_ID_PART_CHARS);
  return cleaned.length > 0 ? cleaned : 'x';
}

/** SPDX wants UTC to the second: `2024-01-02T03:04:05Z`. */
function spdxDate(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function purlRef(purl: string): SpdxExternalRef[] | undefined {
  return purl ? [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }] : undefined;
}

function sourceInfo(pkg: Package, report: Report): string {
  const layer = report.image.layers.find((l) => l.index === pkg.layer);
  let text = `found in layer ${pkg.layer}${layer?.diffId ? ` (${layer.diffId})` : ''}`;
  if (pkg.paths.length > 0) text += ` at ${pkg.paths.map((p) => `/${p}`).join(', ')}`;
  if (pkg.sourceName && (pkg.sourceName !== pkg.name || (pkg.sourceVersion && pkg.sourceVersion !== pkg.version))) {
    text += `; built from source package ${pkg.sourceName}${pkg.sourceVersion ? ` ${pkg.sourceVersion}` : ''}`;
  }
  return text;
}

function packageElement(pkg: Package, report: Report, ids: UniqueIds): SpdxPackage {
  const declared = (pkg.licenses ?? []).map((l) => l.trim()).filter((l) => l.length > 0);
  const expression = combinedLicenseExpression(declared);
  // A LicenseRef would have to be defined in the document with its text, which Detonate does not have.
  const licenseDeclared = expression && !expression.usesLicenseRef ? expression.expression : NOASSERTION;
  const metadata = metadataPairs(pkg.metadata).map(([k, v]) => `${k}: ${v}`);
  const externalRefs = purlRef(pkg.purl);
  return {
    name: pkg.name,
    SPDXID: ids.take(`SPDXRef-Package-${pkg.type}-${idPart(pkg.name)}${pkg.version ? `-${idPart(pkg.version)}` : ''}`),
    ...(pkg.version ? { versionInfo: pkg.version } : {}),
    supplier: NOASSERTION,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    sourceInfo: sourceInfo(pkg, report),
    licenseConcluded: NOASSERTION,
    licenseDeclared,
    ...(licenseDeclared === NOASSERTION && declared.length > 0 ? { licenseComments: `Declared by the package as: ${declared.join('; ')}` } : {}),
    copyrightText: NOASSERTION,
    ...(metadata.length > 0 ? { comment: metadata.join('\n') } : {}),
    ...(externalRefs ? { externalRefs } : {}),
    // OS packages are programs as often as libraries; language packages are libraries.
    ...(isOsPackageType(pkg.type) ? {} : { primaryPackagePurpose: 'LIBRARY' as const }),
  };
}

function osElement(os: OsInfo, ids: UniqueIds): SpdxPackage {
  return {
    name: os.id,
    SPDXID: ids.take(`SPDXRef-OperatingSystem-${idPart(os.id)}${os.versionId ? `-${idPart(os.versionId)}` : ''}`),
    ...(os.versionId ? { versionInfo: os.versionId } : {}),
    supplier: NOASSERTION,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    ...(os.prettyName ? { description: os.prettyName } : {}),
    primaryPackagePurpose: 'OPERATING-SYSTEM',
  };
}

function imageElement(report: Report, ids: UniqueIds): SpdxPackage {
  const identity = imageIdentity(report.image);
  const sha256 = /^sha256:([0-9a-f]{64})$/.exec(report.image.digest)?.[1];
  return {
    name: identity.repositoryUrl ?? identity.name,
    SPDXID: ids.take(`SPDXRef-Image-${idPart(identity.name)}`),
    ...(report.image.digest ? { versionInfo: report.image.digest } : {}),
    supplier: NOASSERTION,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    ...(sha256 ? { checksums: [{ algorithm: 'SHA256', checksumValue: sha256 }] } : {}),
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    description: `Container image ${report.image.reference} (${report.image.platform})`,
    externalRefs: purlRef(identity.purl) ?? [],
    primaryPackagePurpose: 'CONTAINER',
  };
}

/** The SPDX 2.3 document of one report, as a plain object. */
export function toSpdx(report: Report, options: SpdxOptions = {}): SpdxDocument {
  const ids = new UniqueIds('-');
  ids.take('SPDXRef-DOCUMENT');
  const image = imageElement(report, ids);
  const contained: SpdxPackage[] = [];
  if (report.image.os) contained.push(osElement(report.image.os, ids));
  for (const pkg of report.packages) contained.push(packageElement(pkg, report, ids));
  const uuid = documentUuid(options);
  const base = (options.namespaceBase ?? DEFAULT_NAMESPACE_BASE).replace(/\/+$/, '');
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: report.image.reference,
    documentNamespace: `${base}/${encodeURIComponent(imageIdentity(report.image).name)}-${uuid}`,
    creationInfo: {
      created: spdxDate(options.now ?? new Date()),
      creators: [`Tool: ${report.tool.name}-${report.tool.version}`],
    },
    packages: [image, ...contained],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: image.SPDXID },
      ...contained.map((p): SpdxRelationship => ({ spdxElementId: image.SPDXID, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID })),
    ],
  };
}

/** SPDX 2.3 JSON: one document for one image, an array of documents for several; 2-space indent, trailing newline. */
export function renderSpdx(reports: readonly Report[], options: SpdxOptions = {}): string {
  const documents = reports.map((report) => toSpdx(report, options));
  return `${JSON.stringify(documents.length === 1 ? documents[0] : documents, null, 2)}\n`;
}
