/**
 * Makes `examples/example-app.oci.tar`, the small image the README's first command scans: a Debian-like base layer
 * with a dpkg database, an application layer with npm and Python packages, and a layer that deletes a file.
 * Deterministic (fixed mtimes, sorted archive), so re-running it reproduces the committed file byte for byte.
 *   npx tsx scripts/make-example-image.ts
 */
import { writeOciArchive } from '../test/support/image-builder.js';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('../examples/example-app.oci.tar', import.meta.url));

const osRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;

function dpkgEntry(name: string, version: string, arch: string, source?: string): string {
  return [
    `Package: ${name}`,
    'Status: install ok installed',
    'Priority: required',
    'Section: libs',
    'Installed-Size: 100',
    'Maintainer: Debian maintainers <debian@example.invalid>',
    `Architecture: ${arch}`,
    ...(source ? [`Source: ${source}`] : []),
    `Version: ${version}`,
    `Description: ${name} (example entry)`,
    '',
  ].join('\n');
}

const dpkgStatus = [
  dpkgEntry('base-files', '12.4+deb12u5', 'amd64'),
  dpkgEntry('libc6', '2.36-9+deb12u4', 'amd64', 'glibc'),
  dpkgEntry('libssl3', '3.0.11-1~deb12u2', 'amd64', 'openssl'),
  dpkgEntry('zlib1g', '1:1.2.13.dfsg-1', 'amd64', 'zlib'),
  dpkgEntry('bash', '5.2.15-2+b2', 'amd64'),
  dpkgEntry('curl', '7.88.1-10+deb12u5', 'amd64'),
  dpkgEntry('libcurl4', '7.88.1-10+deb12u5', 'amd64', 'curl'),
].join('\n');

const pkgJson = (name: string, version: string, license = 'MIT') => JSON.stringify({ name, version, license, description: `${name} (example)` }, null, 2);

const pythonMetadata = (name: string, version: string) => `Metadata-Version: 2.1
Name: ${name}
Version: ${version}
Summary: ${name} (example)
License: Apache 2.0
`;

await writeOciArchive(out, {
  tag: 'example-app:1.0',
  config: {
    User: 'app',
    Entrypoint: ['node', '/srv/app/server.js'],
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production'],
    ExposedPorts: { '8080/tcp': {} },
    Labels: { 'org.opencontainers.image.title': 'Detonate example app' },
    WorkingDir: '/srv/app',
  },
  layers: [
    {
      createdBy: 'ADD rootfs.tar / # example Debian base',
      entries: [
        { name: 'etc/', type: 'directory' },
        { name: 'usr/lib/os-release', content: osRelease },
        { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
        { name: 'etc/debian_version', content: '12.5\n' },
        { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/srv/app:/usr/sbin/nologin\n' },
        { name: 'etc/group', content: 'root:x:0:\napp:x:1000:\n' },
        { name: 'var/lib/dpkg/status', content: dpkgStatus },
      ],
    },
    {
      createdBy: 'COPY app/ /srv/app/ # buildkit',
      entries: [
        { name: 'srv/app/package.json', content: pkgJson('example-app', '1.0.0') },
        { name: 'srv/app/server.js', content: "require('http').createServer((q, s) => s.end('ok')).listen(8080);\n" },
        { name: 'srv/app/node_modules/lodash/package.json', content: pkgJson('lodash', '4.17.20') },
        { name: 'srv/app/node_modules/@babel/core/package.json', content: pkgJson('@babel/core', '7.23.2') },
        { name: 'srv/app/node_modules/minimist/package.json', content: pkgJson('minimist', '1.2.5') },
        { name: 'usr/lib/python3/dist-packages/requests-2.25.1.dist-info/METADATA', content: pythonMetadata('requests', '2.25.1') },
        { name: 'usr/lib/python3/dist-packages/PyYAML-5.3.1.dist-info/METADATA', content: pythonMetadata('PyYAML', '5.3.1') },
        { name: 'tmp/build-cache.txt', content: 'left over from the build\n' },
      ],
    },
    {
      createdBy: 'RUN rm /tmp/build-cache.txt',
      entries: [{ name: 'tmp/.wh.build-cache.txt', content: '' }],
    },
  ],
});
console.log(`wrote ${out}`);
