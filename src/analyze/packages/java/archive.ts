import type { AnalysisOutput, CatalogedPackage } from '../../analyzer.js';
import { packageUrl } from '../../../model/index.js';
import type { ZipLimits } from '../../../util/limits.js';
import { ZipFormatError, listZip, newZipBudget, readZipEntry, type ZipBudget, type ZipEntry } from '../../../util/zip.js';
import {
  fileNameCoordinates,
  javaArchiveExtension,
  manifestCoordinates,
  manifestGroupId,
  parseManifest,
  pomPropertiesCoordinates,
  type Manifest,
  type MavenCoordinates,
} from './parse.js';
import { MAX_JAVA_METADATA_BYTES, MAX_JAVA_NESTED_ARCHIVES } from '../../limits.js';

export interface JavaArchiveLimits {
  /** How many archives deep to descend (a jar in a war in an ear is depth 2). */
  maxDepth: number;
  /** Total bytes expanded from one top-level archive, nested archives included. */
  maxExpandedBytes: number;
  maxEntries?: number;
}

export type Notice = NonNullable<AnalysisOutput['notices']>[number];

/** How a package's coordinates were established, most reliable first. */
export type IdentifiedBy = 'pom.properties' | 'manifest' | 'filename';

interface Walk {
  limits: JavaArchiveLimits;
  zipLimits: Partial<ZipLimits>;
  budget: ZipBudget;
  packages: Map<string, CatalogedPackage>;
  notices: Notice[];
  archivesOpened: number;
  archiveLimitReported: boolean;
}

/**
 * Catalogs a Java archive and the archives nested in it. `path` names the archive in the image; a nested
 * archive is named `outer.war!/WEB-INF/lib/x.jar`, and that is the path its packages get.
 */
export function catalogJavaArchive(content: Buffer, path: string, limits: JavaArchiveLimits): { packages: CatalogedPackage[]; notices: Notice[] } {
  const walk: Walk = {
    limits,
    zipLimits: { maxEntryBytes: limits.maxExpandedBytes, maxTotalBytes: limits.maxExpandedBytes, ...(limits.maxEntries !== undefined ? { maxEntries: limits.maxEntries } : {}) },
    budget: newZipBudget(),
    packages: new Map(),
    notices: [],
    archivesOpened: 0,
    archiveLimitReported: false,
  };
  readArchive(walk, content, path, 0);
  return { packages: [...walk.packages.values()], notices: walk.notices };
}

function readArchive(walk: Walk, content: Buffer, path: string, depth: number): void {
  walk.archivesOpened++;
  let entries: ZipEntry[];
  try {
    entries = listZip(content, walk.zipLimits);
  } catch (err) {
    if (!(err instanceof ZipFormatError)) throw err;
    walk.notices.push({ level: 'warning', message: `not a readable Java archive: ${err.message}`, path });
    return;
  }
  readEntries(walk, content, entries, path, depth);
}

function readMetadata(walk: Walk, content: Buffer, entry: ZipEntry, path: string): string | undefined {
  if (entry.uncompressedSize > MAX_JAVA_METADATA_BYTES) {
    walk.notices.push({ level: 'warning', message: `${entry.name} is ${entry.uncompressedSize} bytes; skipped`, path });
    return undefined;
  }
  try {
    return readZipEntry(content, entry, walk.zipLimits, walk.budget).toString('utf8');
  } catch (err) {
    if (!(err instanceof ZipFormatError)) throw err;
    walk.notices.push({ level: 'warning', message: `cannot read ${entry.name}: ${err.message}`, path });
    return undefined;
  }
}

function readEntries(walk: Walk, content: Buffer, entries: ZipEntry[], path: string, depth: number): void {
  const fromPom: { coordinates: MavenCoordinates; entry: string }[] = [];
  let manifest: Manifest | undefined;
  const nested: ZipEntry[] = [];

  for (const entry of entries) {
    if (entry.isDirectory) continue;
    const name = entry.name;
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base === 'pom.properties') {
      // Maven puts its own under META-INF/maven/<group>/<artifact>/; shading tools sometimes move them elsewhere.
      const text = readMetadata(walk, content, entry, path);
      const coordinates = text === undefined ? undefined : pomPropertiesCoordinates(text);
      if (coordinates) fromPom.push({ coordinates, entry: name });
    } else if (name.toUpperCase() === 'META-INF/MANIFEST.MF') {
      const text = readMetadata(walk, content, entry, path);
      if (text !== undefined) manifest = parseManifest(text);
    } else if (javaArchiveExtension(name)) {
      nested.push(entry);
    }
  }

  for (const { coordinates, entry } of fromPom) addPackage(walk, coordinates, path, 'pom.properties', { pomProperties: entry });

  if (!describesArchive(path, fromPom.map((p) => p.coordinates), manifest)) {
    // Without its own pom.properties, a versioned file name is the better witness of artifact and version (of the
    // 363 such jars in a local Maven repository, the name was right for 362, the manifest for about 210); the
    // manifest still supplies a group it states outright. An unversioned name (app.jar) leaves the manifest alone.
    const fromName = fileNameCoordinates(path);
    const groupId = manifest ? manifestGroupId(manifest) : undefined;
    const fromManifest = manifest ? manifestCoordinates(manifest) : undefined;
    if (fromName) addPackage(walk, { groupId: groupId ?? '', ...fromName }, path, 'filename');
    else if (fromManifest) addPackage(walk, fromManifest, path, 'manifest');
  }

  for (const entry of nested) readNested(walk, content, entry, path, depth + 1);
}

/**
 * Whether one of the archive's pom.properties is the archive's own, so its manifest and file name add nothing:
 * its artifact and version match the file name (`gizmo-1.1.jar`, or `io.quarkus.gizmo.gizmo-1.1.jar` with the
 * group in front), or the manifest names it, or the file name says nothing and there is only one.
 */
function describesArchive(path: string, poms: MavenCoordinates[], manifest: Manifest | undefined): boolean {
  if (poms.length === 0) return false;
  const fromName = fileNameCoordinates(path);
  if (fromName) {
    return poms.some(
      (p) => p.version === fromName.version && [p.artifactId, `${p.groupId}.${p.artifactId}`, `${p.groupId}-${p.artifactId}`].includes(fromName.artifactId),
    );
  }
  const title = manifest?.get('implementation-title') ?? manifest?.get('bundle-symbolicname')?.split(';')[0]?.trim();
  const version = manifest?.get('implementation-version') ?? manifest?.get('bundle-version');
  if (title && version && poms.some((p) => p.version === version && [p.artifactId, `${p.groupId}.${p.artifactId}`].includes(title))) return true;
  return poms.length === 1;
}

function addPackage(walk: Walk, c: MavenCoordinates, path: string, identifiedBy: IdentifiedBy, extra: Record<string, string> = {}): void {
  let purl: string;
  try {
    // packageurl requires a namespace for maven; with the group unknown, use the artifact (as Syft does) and say so.
    purl = packageUrl('maven', c.groupId || c.artifactId, c.artifactId, c.version);
  } catch {
    return;
  }
  const existing = walk.packages.get(purl);
  if (existing) {
    if (!existing.paths!.includes(path)) existing.paths!.push(path);
    return;
  }
  const metadata: Record<string, string | boolean> = { artifactId: c.artifactId, identifiedBy, ...extra };
  if (c.groupId) metadata.groupId = c.groupId;
  else metadata.groupIdUnknown = true;
  walk.packages.set(purl, {
    // The `group:artifact` name is what advisories (GHSA, OSV "Maven") use, so the vulnerability matcher keys on it.
    name: c.groupId ? `${c.groupId}:${c.artifactId}` : c.artifactId,
    version: c.version,
    type: 'maven',
    purl,
    paths: [path],
    metadata,
  });
}

function readNested(walk: Walk, content: Buffer, entry: ZipEntry, outerPath: string, depth: number): void {
  const path = `${outerPath}!/${entry.name}`;
  if (depth > walk.limits.maxDepth) {
    walk.notices.push({ level: 'warning', message: `archive nested ${depth} deep (limit ${walk.limits.maxDepth}); not read`, path });
    return;
  }
  if (walk.archivesOpened >= MAX_JAVA_NESTED_ARCHIVES) {
    if (!walk.archiveLimitReported) {
      walk.notices.push({ level: 'warning', message: `more than ${MAX_JAVA_NESTED_ARCHIVES} nested archives; the rest not read`, path: outerPath });
      walk.archiveLimitReported = true;
    }
    return;
  }
  let inner: Buffer;
  try {
    inner = readZipEntry(content, entry, walk.zipLimits, walk.budget);
  } catch (err) {
    if (!(err instanceof ZipFormatError)) throw err;
    walk.notices.push({ level: 'warning', message: `nested archive not read: ${err.message}`, path });
    return;
  }
  // A self-containing archive (a zip quine) or a fan-out of copies ends at the depth, count or byte limit.
  readArchive(walk, inner, path, depth);
}
