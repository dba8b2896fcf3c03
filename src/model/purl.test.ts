import { describe, expect, it } from 'vitest';
import { PackageURL } from 'packageurl-js';
import { packageUrl, osPackageUrl } from './purl.js';

// packageurl-js, the reference implementation, is the oracle for Detonate's own encoder.
const CASES: [string, string | undefined, string, string | undefined, Record<string, string>?][] = [
  ['deb', 'debian', 'libssl3', '1:3.0.11-1~deb12u2', { arch: 'amd64', distro: 'debian-12', upstream: 'openssl' }],
  ['deb', 'Ubuntu', 'libC++1', '1.0+dfsg', { distro: 'ubuntu-22.04' }],
  ['apk', 'alpine', 'musl', '1.2.4-r2', { arch: 'x86_64', distro: 'alpine-3.19.1' }],
  ['rpm', 'RedHat', 'NetworkManager', '1.40.16-1.el8', { arch: 'x86_64', epoch: '1', distro: 'rhel-8.9' }],
  ['npm', '@babel', 'core', '7.0.0+build.1'],
  ['npm', undefined, 'Ünïcode', '1.0.0'],
  ['npm', '@Scope', 'Name', '1.0.0-rc.1'],
  ['pypi', undefined, 'Django_Rest_framework', '3.14.0'],
  ['pypi', undefined, 'zope.interface', '5.0'],
  ['golang', 'github.com/Azure/go-autorest', 'autorest', 'v0.11.29'],
  ['golang', 'github.com/foo/bar', 'v2', 'v2.0.0-20210101000000-abcdef123456'],
  ['golang', undefined, 'stdlib', '1.21.5'],
  ['maven', 'org.apache.logging.log4j', 'log4j-core', '2.14.1', { type: 'jar' }],
  ['gem', undefined, 'a b', '1.0 beta'],
  ['nuget', undefined, 'Newtonsoft.Json', '13.0.1'],
  ['cargo', undefined, 'serde', '1.0.193'],
  ['generic', undefined, 'x/y?z#w', '1@2', { q: 'a b&c=d+e' }],
  ['oci', undefined, 'Example-App', 'sha256:abc', { repository_url: 'registry.example.test/team/app', arch: 'amd64' }],
];

describe('packageUrl', () => {
  it.each(CASES)('pkg:%s/%s/%s@%s encodes as packageurl-js does', (type, ns, name, version, qualifiers) => {
    const expected = new PackageURL(type, ns, name, version, qualifiers, undefined).toString();
    expect(packageUrl(type as Parameters<typeof packageUrl>[0], ns, name, version, qualifiers)).toBe(expected);
  });

  it('puts the distro on OS packages and the epoch in an rpm qualifier', () => {
    const os = { id: 'rhel', versionId: '9.3' };
    expect(osPackageUrl({ name: 'openssl-libs', version: '1:3.0.7-24.el9', type: 'rpm', arch: 'x86_64', sourceName: 'openssl', metadata: { epoch: 1 } }, os))
      .toBe('pkg:rpm/rhel/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rhel-9.3&epoch=1&upstream=openssl');
    expect(osPackageUrl({ name: 'zlib1g', version: '1:1.2.13.dfsg-1', type: 'deb', arch: 'amd64', sourceName: 'zlib' }, { id: 'debian', versionId: '12' }))
      .toBe('pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib');
    expect(osPackageUrl({ name: 'musl', version: '1.2.4-r2', type: 'apk' }, null)).toBe('pkg:apk/alpine/musl@1.2.4-r2');
  });
});
