import { PackageURL } from 'packageurl-js';
import type { OsInfo, PackageType } from '../report/model.js';
import type { CatalogedPackage } from './analyzer.js';

/** A package URL for a language package, whose namespace the cataloger knows (npm scope, Maven group, Go module path). */
export function packageUrl(
  type: PackageType,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Record<string, string | undefined>,
): string {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(qualifiers ?? {})) if (v) q[k] = v;
  return new PackageURL(type, namespace ?? undefined, name, version ?? undefined, Object.keys(q).length ? q : undefined, undefined).toString();
}

const OS_PURL_TYPES = new Set<PackageType>(['deb', 'apk', 'rpm']);

/**
 * OS packages' purls need the distro (`pkg:deb/debian/libssl3@…?arch=amd64&distro=debian-12`), which is only known
 * once the image's os-release has been found, so the merge step computes them here.
 */
export function osPackageUrl(pkg: CatalogedPackage, os: OsInfo | null | undefined): string {
  const fallbackNamespace = pkg.type === 'deb' ? 'debian' : pkg.type === 'apk' ? 'alpine' : 'redhat';
  const namespace = os?.id ?? fallbackNamespace;
  const distro = os ? (os.versionId ? `${os.id}-${os.versionId}` : os.id) : undefined;
  const epoch = typeof pkg.metadata?.epoch === 'number' || typeof pkg.metadata?.epoch === 'string' ? String(pkg.metadata.epoch) : undefined;
  // rpm purls carry the epoch as a qualifier and the version without it (purl-spec, type rpm).
  const version = pkg.type === 'rpm' && epoch && pkg.version.startsWith(`${epoch}:`) ? pkg.version.slice(epoch.length + 1) : pkg.version;
  return packageUrl(pkg.type, namespace, pkg.name, version, {
    arch: pkg.arch,
    epoch: pkg.type === 'rpm' && epoch && epoch !== '0' ? epoch : undefined,
    distro,
    upstream: pkg.sourceName && pkg.sourceName !== pkg.name ? pkg.sourceName : undefined,
  });
}

export function isOsPackageType(type: PackageType): boolean {
  return OS_PURL_TYPES.has(type);
}
