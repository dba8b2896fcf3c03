/**
 * The SPDX 2.3 constraints that an SPDX JSON document must meet, written down as checks, because no npm package
 * ships the official SPDX 2.3 JSON schema or a validator (the SPDX 3 schema in @cyclonedx/cdxgen is another format).
 *
 * Sources: the SPDX 2.3 specification (clauses 6 document creation information, 7 package information, 11
 * relationships, Annex D license expressions, Annex F external repository identifiers) and the shape of the
 * official `schemas/spdx-schema.json` of spdx/spdx-spec (required properties, `additionalProperties: false`, the
 * SPDXID and date patterns, the enumerations). Only the parts a Detonate document uses are checked in depth (no
 * files, snippets or annotations); anything else present is reported as unexpected.
 *
 * License identifiers are checked against the SPDX list enumerated by CycloneDX's spdx.schema.json, read from
 * node_modules, so that the check does not depend on the renderer's own copy of the list.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';

const SPDX_ID = /^SPDXRef-[A-Za-z0-9.-]+$/;
/** UTC to the second, as the official schema's pattern for every date. */
const DATE = /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]|23:59:60)Z$/;

const DOCUMENT_KEYS = new Set([
  '$schema', 'SPDXID', 'annotations', 'comment', 'creationInfo', 'dataLicense', 'externalDocumentRefs',
  'hasExtractedLicensingInfos', 'name', 'revieweds', 'spdxVersion', 'documentNamespace', 'documentDescribes',
  'packages', 'files', 'snippets', 'relationships',
]);
const CREATION_INFO_KEYS = new Set(['comment', 'created', 'creators', 'licenseListVersion']);
const PACKAGE_KEYS = new Set([
  'SPDXID', 'annotations', 'attributionTexts', 'builtDate', 'checksums', 'comment', 'copyrightText', 'description',
  'downloadLocation', 'externalRefs', 'filesAnalyzed', 'hasFiles', 'homepage', 'licenseComments', 'licenseConcluded',
  'licenseDeclared', 'licenseInfoFromFiles', 'name', 'originator', 'packageFileName', 'packageVerificationCode',
  'primaryPackagePurpose', 'releaseDate', 'sourceInfo', 'summary', 'supplier', 'validUntilDate', 'versionInfo',
]);
const STRING_PACKAGE_KEYS = [
  'comment', 'copyrightText', 'description', 'downloadLocation', 'homepage', 'licenseComments', 'licenseConcluded',
  'licenseDeclared', 'name', 'originator', 'packageFileName', 'sourceInfo', 'summary', 'supplier', 'versionInfo',
];
const PURPOSES = new Set(['OTHER', 'INSTALL', 'ARCHIVE', 'FIRMWARE', 'APPLICATION', 'FRAMEWORK', 'LIBRARY', 'CONTAINER', 'SOURCE', 'DEVICE', 'OPERATING-SYSTEM', 'FILE']);
const REFERENCE_CATEGORIES = new Set(['OTHER', 'PERSISTENT-ID', 'PERSISTENT_ID', 'SECURITY', 'PACKAGE-MANAGER', 'PACKAGE_MANAGER']);
const CHECKSUM_ALGORITHMS = new Set([
  'SHA1', 'BLAKE3', 'SHA3-384', 'SHA256', 'SHA384', 'BLAKE2b-512', 'BLAKE2b-256', 'SHA3-512', 'MD2', 'ADLER32', 'MD4',
  'SHA3-256', 'BLAKE2b-384', 'SHA512', 'MD6', 'MD5', 'SHA224',
]);
const RELATIONSHIP_TYPES = new Set([
  'VARIANT_OF', 'COPY_OF', 'PATCH_FOR', 'TEST_DEPENDENCY_OF', 'CONTAINED_BY', 'DATA_FILE_OF', 'OPTIONAL_COMPONENT_OF',
  'ANCESTOR_OF', 'GENERATES', 'CONTAINS', 'OPTIONAL_DEPENDENCY_OF', 'FILE_ADDED', 'REQUIREMENT_DESCRIPTION_FOR',
  'DEV_DEPENDENCY_OF', 'DEPENDENCY_OF', 'BUILD_DEPENDENCY_OF', 'DESCRIBES', 'PREREQUISITE_FOR', 'HAS_PREREQUISITE',
  'PROVIDED_DEPENDENCY_OF', 'DYNAMIC_LINK', 'DESCRIBED_BY', 'METAFILE_OF', 'DEPENDENCY_MANIFEST_OF', 'PATCH_APPLIED',
  'RUNTIME_DEPENDENCY_OF', 'TEST_OF', 'TEST_TOOL_OF', 'DEPENDS_ON', 'SPECIFICATION_FOR', 'FILE_MODIFIED',
  'DISTRIBUTION_ARTIFACT', 'AMENDS', 'DOCUMENTATION_OF', 'GENERATED_FROM', 'STATIC_LINK', 'OTHER', 'BUILD_TOOL_OF',
  'TEST_CASE_OF', 'PACKAGE_OF', 'DESCENDANT_OF', 'FILE_DELETED', 'EXPANDED_FROM_ARCHIVE', 'DEV_TOOL_OF', 'EXAMPLE_OF',
]);
/** Annex F: a purl locator is `pkg:type/…` without spaces (the type is letters, digits, `.`, `+`, `-`). */
const PURL = /^pkg:[A-Za-z][A-Za-z0-9.+-]*\/\S+$/;

let knownLicenseIds: Set<string> | undefined;
function licenseIds(): Set<string> {
  if (!knownLicenseIds) {
    const schema = JSON.parse(
      readFileSync(join(repoRoot, 'node_modules/@cyclonedx/cyclonedx-library/res/schema/spdx.SNAPSHOT.schema.json'), 'utf8'),
    ) as { enum: string[] };
    knownLicenseIds = new Set(schema.enum);
  }
  return knownLicenseIds;
}

/**
 * Annex D: an expression of license ids (with an optional `+`), `LicenseRef-`s defined in the document, `WITH`
 * exceptions, `AND`, `OR` and parentheses; or NONE / NOASSERTION. Checked token by token plus balanced parentheses
 * and alternation of operands and operators.
 */
function licenseProblem(value: string, definedRefs: ReadonlySet<string>): string | undefined {
  if (value === 'NONE' || value === 'NOASSERTION') return undefined;
  const tokens = value.replace(/[()]/g, ' $& ').trim().split(/\s+/);
  let depth = 0;
  let expectOperand = true;
  let afterWith = false;
  for (const token of tokens) {
    if (token === '(') {
      if (!expectOperand) return `"(" after an operand in "${value}"`;
      depth++;
    } else if (token === ')') {
      if (expectOperand || --depth < 0) return `unbalanced ")" in "${value}"`;
    } else if (token === 'AND' || token === 'OR' || token === 'WITH') {
      if (expectOperand) return `operator ${token} without an operand in "${value}"`;
      expectOperand = true;
      afterWith = token === 'WITH';
    } else {
      if (!expectOperand) return `two operands in a row in "${value}"`;
      const id = token.endsWith('+') ? token.slice(0, -1) : token;
      if (/^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/.test(token)) {
        if (!token.startsWith('DocumentRef-') && !definedRefs.has(token)) return `${token} is not defined in hasExtractedLicensingInfos`;
      } else if (!licenseIds().has(afterWith ? token : id)) {
        return `"${token}" is not on the SPDX license list (in "${value}")`;
      }
      expectOperand = false;
      afterWith = false;
    }
  }
  if (expectOperand || depth !== 0) return `incomplete expression "${value}"`;
  return undefined;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every way `doc` breaks SPDX 2.3 (JSON); empty when it is a valid document. */
export function spdx23Problems(doc: unknown): string[] {
  const problems: string[] = [];
  const say = (where: string, what: string): void => void problems.push(`${where}: ${what}`);
  if (!isObject(doc)) return ['the document is not a JSON object'];

  for (const key of Object.keys(doc)) if (!DOCUMENT_KEYS.has(key)) say('document', `unexpected property "${key}"`);
  for (const key of ['SPDXID', 'creationInfo', 'dataLicense', 'name', 'spdxVersion', 'documentNamespace']) {
    if (!(key in doc)) say('document', `missing required "${key}"`);
  }
  if (doc.spdxVersion !== 'SPDX-2.3') say('spdxVersion', `must be "SPDX-2.3", is ${JSON.stringify(doc.spdxVersion)}`);
  if (doc.dataLicense !== 'CC0-1.0') say('dataLicense', 'must be "CC0-1.0" (clause 6.2)');
  if (doc.SPDXID !== 'SPDXRef-DOCUMENT') say('SPDXID', 'must be "SPDXRef-DOCUMENT" (clause 6.3)');
  if (typeof doc.name !== 'string') say('name', 'must be a string');
  const ns = doc.documentNamespace;
  if (typeof ns !== 'string') say('documentNamespace', 'must be a string');
  else {
    // Clause 6.5: an absolute URI that is unique to the document and has no "#" part.
    if (ns.includes('#')) say('documentNamespace', 'must not contain "#"');
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(ns)) say('documentNamespace', `"${ns}" is not an absolute URI`);
    else {
      try {
        new URL(ns);
      } catch {
        say('documentNamespace', `"${ns}" does not parse as a URI`);
      }
    }
  }

  const info = doc.creationInfo;
  if (!isObject(info)) say('creationInfo', 'must be an object');
  else {
    for (const key of Object.keys(info)) if (!CREATION_INFO_KEYS.has(key)) say('creationInfo', `unexpected property "${key}"`);
    if (typeof info.created !== 'string' || !DATE.test(info.created)) say('creationInfo.created', `${JSON.stringify(info.created)} is not YYYY-MM-DDThh:mm:ssZ`);
    const creators = info.creators;
    if (!Array.isArray(creators) || creators.length === 0) say('creationInfo.creators', 'must be a non-empty array');
    else {
      for (const c of creators) {
        // Clause 6.8: "Person: …", "Organization: …" or "Tool: name-version".
        if (typeof c !== 'string' || !/^(Person|Organization|Tool): \S.*$/.test(c)) say('creationInfo.creators', `${JSON.stringify(c)} is not "Tool: …", "Person: …" or "Organization: …"`);
      }
    }
  }

  const definedRefs = new Set<string>();
  if (Array.isArray(doc.hasExtractedLicensingInfos)) {
    for (const info of doc.hasExtractedLicensingInfos) if (isObject(info) && typeof info.licenseId === 'string') definedRefs.add(info.licenseId);
  }

  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  const packages = doc.packages ?? [];
  if (!Array.isArray(packages)) say('packages', 'must be an array');
  else {
    packages.forEach((p: unknown, i: number) => {
      const where = `packages[${i}]`;
      if (!isObject(p)) return say(where, 'must be an object');
      for (const key of Object.keys(p)) if (!PACKAGE_KEYS.has(key)) say(where, `unexpected property "${key}"`);
      for (const key of ['SPDXID', 'downloadLocation', 'name']) if (!(key in p)) say(where, `missing required "${key}"`);
      for (const key of STRING_PACKAGE_KEYS) if (key in p && typeof p[key] !== 'string') say(where, `"${key}" must be a string`);
      if (typeof p.SPDXID !== 'string' || !SPDX_ID.test(p.SPDXID)) say(where, `SPDXID ${JSON.stringify(p.SPDXID)} does not match SPDXRef-[A-Za-z0-9.-]+`);
      else if (ids.has(p.SPDXID)) say(where, `SPDXID ${p.SPDXID} is used twice`);
      else ids.add(p.SPDXID);
      if ('filesAnalyzed' in p && typeof p.filesAnalyzed !== 'boolean') say(where, 'filesAnalyzed must be a boolean');
      if (p.filesAnalyzed === false && ('packageVerificationCode' in p || 'hasFiles' in p)) {
        say(where, 'a package with filesAnalyzed false has no packageVerificationCode and no files (clause 7.8)');
      }
      if (typeof p.downloadLocation === 'string' && !/^(NONE|NOASSERTION|[a-z][a-z0-9+.-]*:\S+)$/i.test(p.downloadLocation)) {
        say(where, `downloadLocation "${p.downloadLocation}" is not NONE, NOASSERTION or a URL`);
      }
      for (const key of ['supplier', 'originator']) {
        const v = p[key];
        if (typeof v === 'string' && !/^(NOASSERTION|(Person|Organization): \S.*)$/.test(v)) say(where, `${key} "${v}" is not NOASSERTION, "Person: …" or "Organization: …"`);
      }
      for (const key of ['licenseConcluded', 'licenseDeclared']) {
        const v = p[key];
        if (typeof v === 'string') {
          const problem = licenseProblem(v, definedRefs);
          if (problem) say(`${where}.${key}`, problem);
        }
      }
      for (const key of ['builtDate', 'releaseDate', 'validUntilDate']) {
        if (key in p && (typeof p[key] !== 'string' || !DATE.test(p[key] as string))) say(where, `${key} is not YYYY-MM-DDThh:mm:ssZ`);
      }
      if ('primaryPackagePurpose' in p && !PURPOSES.has(p.primaryPackagePurpose as string)) say(where, `primaryPackagePurpose ${JSON.stringify(p.primaryPackagePurpose)} is not allowed`);
      if ('checksums' in p) {
        if (!Array.isArray(p.checksums)) say(where, 'checksums must be an array');
        else {
          for (const c of p.checksums) {
            if (!isObject(c) || !CHECKSUM_ALGORITHMS.has(c.algorithm as string) || typeof c.checksumValue !== 'string' || !/^[0-9a-f]+$/.test(c.checksumValue)) {
              say(where, `bad checksum ${JSON.stringify(c)}`);
            }
          }
        }
      }
      if ('externalRefs' in p) {
        if (!Array.isArray(p.externalRefs)) say(where, 'externalRefs must be an array');
        else {
          p.externalRefs.forEach((ref: unknown, j: number) => {
            const at = `${where}.externalRefs[${j}]`;
            if (!isObject(ref)) return say(at, 'must be an object');
            for (const key of Object.keys(ref)) if (!['comment', 'referenceCategory', 'referenceLocator', 'referenceType'].includes(key)) say(at, `unexpected property "${key}"`);
            if (!REFERENCE_CATEGORIES.has(ref.referenceCategory as string)) say(at, `referenceCategory ${JSON.stringify(ref.referenceCategory)} is not allowed`);
            if (typeof ref.referenceType !== 'string') say(at, 'referenceType must be a string');
            if (typeof ref.referenceLocator !== 'string' || /\s/.test(ref.referenceLocator)) say(at, 'referenceLocator must be a string without spaces');
            if (ref.referenceType === 'purl') {
              if (!String(ref.referenceCategory).startsWith('PACKAGE')) say(at, 'a purl is a PACKAGE-MANAGER reference (Annex F)');
              if (!PURL.test(String(ref.referenceLocator))) say(at, `"${String(ref.referenceLocator)}" is not a purl`);
            }
          });
        }
      }
    });
  }

  const relationships = doc.relationships ?? [];
  if (!Array.isArray(relationships)) say('relationships', 'must be an array');
  else {
    let describes = 0;
    relationships.forEach((r: unknown, i: number) => {
      const where = `relationships[${i}]`;
      if (!isObject(r)) return say(where, 'must be an object');
      for (const key of Object.keys(r)) if (!['spdxElementId', 'comment', 'relatedSpdxElement', 'relationshipType'].includes(key)) say(where, `unexpected property "${key}"`);
      if (!RELATIONSHIP_TYPES.has(r.relationshipType as string)) say(where, `relationshipType ${JSON.stringify(r.relationshipType)} is not allowed`);
      for (const key of ['spdxElementId', 'relatedSpdxElement']) {
        const v = r[key];
        if (typeof v !== 'string') say(where, `missing ${key}`);
        else if (v !== 'NONE' && v !== 'NOASSERTION' && !v.startsWith('DocumentRef-') && !ids.has(v)) say(where, `${key} ${v} names no element of the document`);
      }
      if (r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES') describes++;
    });
    // Clause 6.1 / 11: a document DESCRIBES at least one element (or lists it in the deprecated documentDescribes).
    if (describes === 0 && !Array.isArray(doc.documentDescribes)) say('relationships', 'the document DESCRIBES nothing');
  }
  return problems;
}
