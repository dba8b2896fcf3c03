/**
 * Report objects for the renderer tests, shaped like what a scan of a Debian image with some language packages
 * produces (purls as merge.ts / purl.ts compute them), plus the awkward cases: names with `@`, `/`, `+`, `~`,
 * unicode and terminal escape sequences, duplicate packages, hostile layer commands, and an empty report.
 */
import { isOsPackageType, osPackageUrl, packageUrl, type OsInfo, type Package, type PackageType, type Report } from '../../src/model/index.js';
import type { CatalogedPackage } from '../../src/analyze/analyzer.js';

export const DEBIAN: OsInfo = {
  id: 'debian',
  versionId: '12',
  versionCodename: 'bookworm',
  prettyName: 'Debian GNU/Linux 12 (bookworm)',
  idLike: [],
};

const hex = (seed: string): string => seed.repeat(64).slice(0, 64);

export const IMAGE_DIGEST = `sha256:${hex('4f')}`;
export const LAYER_DIFF_IDS = [`sha256:${hex('a1')}`, `sha256:${hex('b2')}`, `sha256:${hex('c3')}`];

interface PackageSpec {
  type: PackageType;
  name: string;
  version: string;
  namespace?: string;
  layer: number;
  paths: string[];
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  licenses?: string[];
  metadata?: Package['metadata'];
}

/** A package with its purl computed the way the analyzers and the merge step compute it. */
export function pkg(spec: PackageSpec, os: OsInfo | null = DEBIAN): Package {
  const { namespace, ...rest } = spec;
  let purl: string;
  if (isOsPackageType(spec.type)) {
    const cataloged: CatalogedPackage = { ...rest };
    purl = osPackageUrl(cataloged, os);
  } else {
    const shortName = namespace && spec.name.startsWith(`${namespace}/`) ? spec.name.slice(namespace.length + 1) : spec.name;
    purl = packageUrl(spec.type, namespace, shortName, spec.version);
  }
  return { ...rest, purl };
}

export function debianPackages(): Package[] {
  return [
    pkg({ type: 'deb', name: 'libssl3', version: '3.0.11-1~deb12u2', sourceName: 'openssl', sourceVersion: '3.0.11-1~deb12u2', arch: 'amd64', layer: 0, paths: ['var/lib/dpkg/status'], licenses: ['Apache-2.0'] }),
    pkg({ type: 'deb', name: 'libstdc++6', version: '12.2.0-14', sourceName: 'gcc-12', arch: 'amd64', layer: 0, paths: ['var/lib/dpkg/status'], licenses: ['GPL-3.0-or-later WITH GCC-exception-3.1', 'GFDL-1.2'] }),
    pkg({ type: 'deb', name: 'bash', version: '5.2.15-2+b2', sourceName: 'bash', sourceVersion: '5.2.15-2', arch: 'amd64', layer: 0, paths: ['var/lib/dpkg/status'], licenses: ['GPL-3+'] }),
    pkg({ type: 'deb', name: 'tzdata', version: '2024a-0+deb12u1', arch: 'all', layer: 1, paths: ['var/lib/dpkg/status'], metadata: { maintainer: 'GNU Libc Maintainers', essential: false } }),
  ];
}

export function languagePackages(): Package[] {
  return [
    pkg({ type: 'npm', namespace: '@babel', name: '@babel/core', version: '7.24.0', layer: 2, paths: ['app/node_modules/@babel/core/package.json'], licenses: ['MIT'] }),
    pkg({ type: 'npm', name: 'lodash', version: '4.17.21', layer: 2, paths: ['app/node_modules/lodash/package.json'], licenses: ['mit'] }),
    // The same package installed twice (nested node_modules): two entries with the same purl.
    pkg({ type: 'npm', name: 'lodash', version: '4.17.21', layer: 2, paths: ['app/node_modules/a/node_modules/lodash/package.json'], licenses: ['MIT'] }),
    pkg({ type: 'pypi', name: 'Jinja2', version: '3.1.3', layer: 2, paths: ['usr/lib/python3/dist-packages/Jinja2-3.1.3.dist-info/METADATA'], licenses: ['BSD License'] }),
    pkg({ type: 'golang', namespace: 'github.com/spf13', name: 'github.com/spf13/cobra', version: 'v1.8.0', layer: 2, paths: ['usr/local/bin/tool'] }),
    pkg({ type: 'golang', name: 'stdlib', version: '1.22.1', layer: 2, paths: ['usr/local/bin/tool'], licenses: ['BSD-3-Clause'] }),
    pkg({ type: 'maven', namespace: 'org.apache.logging.log4j', name: 'log4j-core', version: '2.14.1', layer: 2, paths: ['opt/app/lib/log4j-core-2.14.1.jar'], licenses: ['Apache-2.0 OR MIT'] }),
    pkg({ type: 'cargo', name: 'ring', version: '0.17.8', layer: 2, paths: ['usr/local/bin/tool'], licenses: ['LicenseRef-ring'] }),
    pkg({ type: 'gem', name: 'nokogiri', version: '1.16.2-x86_64-linux', layer: 2, paths: ['usr/local/bundle/specifications/nokogiri-1.16.2-x86_64-linux.gemspec'], licenses: ['MIT', 'MIT'] }),
    pkg({ type: 'nuget', name: 'Newtonsoft.Json', version: '13.0.3', layer: 2, paths: ['app/App.deps.json'] }),
    // Odd names: unicode, `+`, `~`, and a name carrying a terminal escape sequence and a right-to-left override.
    pkg({ type: 'pypi', name: 'zope.interface', version: '6.2~rc1+local', layer: 2, paths: ['usr/lib/python3/dist-packages/zope.interface-6.2.dist-info/METADATA'] }),
    pkg({ type: 'npm', name: 'ünïcödé-包', version: '1.0.0', layer: 2, paths: ['app/node_modules/ünïcödé-包/package.json'], licenses: ['ISC'] }),
    pkg({ type: 'npm', name: 'evil\u001b[2Jname\u202egnp.exe', version: '0.0.1', layer: 2, paths: ['app/node_modules/evil/package.json'] }),
  ];
}

export function debianReport(overrides: Partial<Report> = {}): Report {
  const packages = [...debianPackages(), ...languagePackages()];
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: '0.1.0', advisoryDb: null },
    image: {
      reference: 'docker.io/library/example:1.0',
      digest: IMAGE_DIGEST,
      configDigest: `sha256:${hex('cf')}`,
      platform: 'linux/amd64',
      os: DEBIAN,
      layers: [
        { index: 0, diffId: LAYER_DIFF_IDS[0] as string, digest: `sha256:${hex('d0')}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 29_153_245, createdBy: '/bin/sh -c #(nop) ADD file:6e5a7f1b2c3d4e5f in / ', entries: 8934, whiteouts: 0 },
        { index: 1, diffId: LAYER_DIFF_IDS[1] as string, size: 1_843, createdBy: 'RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/* # buildkit', entries: 120, whiteouts: 3 },
        { index: 2, diffId: LAYER_DIFF_IDS[2] as string, size: 48_120_000, createdBy: 'COPY app /app\n\u001b]0;pwned\u0007 # buildkit', entries: 4100, whiteouts: 0 },
      ],
      config: {
        user: 'app',
        entrypoint: ['/usr/local/bin/tool'],
        cmd: ['serve', '--port', '8080'],
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        exposedPorts: ['8080/tcp'],
        labels: { 'org.opencontainers.image.source': 'https://example.test/app', maintainer: 'someone' },
        architecture: 'amd64',
        os: 'linux',
      },
      files: { count: 13154, bytes: 201_000_000, removed: 3 },
    },
    packages,
    vulnerabilities: [],
    findings: [
      { category: 'secret', severity: 'high', title: 'AWS access key', source: 'static', rule: 'secret/aws-access-key', path: 'app/.env', layer: 2, removedInLayer: null, attack: ['T1552.001'] },
      { category: 'windows-pe', severity: 'info', title: 'Windows executable (.NET assembly)', source: 'static', rule: 'pe/present', path: 'app/tools/helper.dll', layer: 2, removedInLayer: null },
      { category: 'cryptominer', severity: 'critical', title: 'XMRig miner binary', source: 'static', rule: 'yara/xmrig', path: 'tmp/xmrig', layer: 1, removedInLayer: 2, sha256: hex('9e') },
    ],
    behavior: null,
    verdict: {
      malicious: true,
      categories: ['cryptominer', 'secret', 'windows-pe'],
      vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 },
      summary: 'Debian GNU/Linux 12 (bookworm), 17 packages in 3 layers; findings: cryptominer, secret, windows-pe.',
    },
    notices: [
      { level: 'warning', message: 'skipped a file larger than the 64 MiB analysis limit', path: 'opt/huge.bin', layer: 2 },
      { level: 'error', message: 'unreadable package database: truncated record at byte 4096' },
    ],
    scannedAt: '2024-03-01T12:34:56.789Z',
    ...overrides,
  };
}

/** An image with nothing in it: no OS, no layers, no packages (a `FROM scratch` image with one empty layer). */
export function emptyReport(): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: '0.1.0' },
    image: {
      reference: 'docker-archive:/tmp/scratch image.tar',
      digest: `sha256:${hex('e3')}`,
      platform: 'linux/arm64/v8',
      os: null,
      layers: [],
      config: { user: '', entrypoint: [], cmd: [], env: [], exposedPorts: [], labels: {} },
    },
    packages: [],
    vulnerabilities: [],
    findings: [],
    behavior: null,
    verdict: {
      malicious: false,
      categories: [],
      vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 },
      summary: 'unknown OS, 0 packages in 0 layers.',
    },
  };
}

/** An Alpine image scanned from a registry by digest, with apk packages and vulnerabilities matched. */
export function alpineReport(): Report {
  const os: OsInfo = { id: 'alpine', versionId: '3.19.1', prettyName: 'Alpine Linux v3.19' };
  const packages = [
    pkg({ type: 'apk', name: 'musl', version: '1.2.4_git20230717-r4', arch: 'x86_64', layer: 0, paths: ['lib/apk/db/installed'], licenses: ['MIT'] }, os),
    pkg({ type: 'apk', name: 'busybox', version: '1.36.1-r15', arch: 'x86_64', layer: 0, paths: ['lib/apk/db/installed'], licenses: ['GPL-2.0-only'] }, os),
    pkg({ type: 'apk', name: 'libcrypto3', version: '3.1.4-r5', sourceName: 'openssl', arch: 'x86_64', layer: 0, paths: ['lib/apk/db/installed'], licenses: ['Apache-2.0'] }, os),
  ];
  return debianReport({
    image: {
      reference: 'ghcr.io/owner/team/alpine-app@sha256:' + hex('ab'),
      digest: `sha256:${hex('ab')}`,
      platform: 'linux/amd64',
      os,
      layers: [{ index: 0, diffId: `sha256:${hex('0a')}`, size: 3_408_729, createdBy: 'ADD alpine-minirootfs-3.19.1-x86_64.tar.gz / # buildkit' }],
      config: { user: '', entrypoint: [], cmd: ['/bin/sh'], env: [], exposedPorts: [], labels: {} },
    },
    packages,
    findings: [],
    notices: [],
    tool: { name: 'detonate', version: '0.1.0', advisoryDb: { builtAt: '2024-03-01T00:00:00Z', sources: ['osv:Alpine'] } },
    vulnerabilities: [
      { id: 'CVE-2024-0727', aliases: [], package: 'libcrypto3', purl: packages[2]?.purl, installedVersion: '3.1.4-r5', fixedVersion: '3.1.4-r6', severity: 'moderate', source: 'osv:Alpine', layer: 0 },
      { id: 'CVE-2023-42363', package: 'busybox', installedVersion: '1.36.1-r15', fixedVersion: null, severity: 'critical', layer: 0 },
      'not an object',
      { aliases: ['GHSA-xxxx'] },
      // deliberately malformed entries: renderers must cope with reports from older or foreign producers
    ] as unknown as Report['vulnerabilities'],
    verdict: {
      malicious: false,
      categories: [],
      vulnerabilities: { critical: 1, high: 0, moderate: 1, low: 0, unknown: 0 },
      summary: 'Alpine Linux v3.19, 3 packages in 1 layers.',
    },
  });
}
