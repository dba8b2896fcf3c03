/**
 * The image sets of the scale bench (bench/scale.bench.ts), pushed straight through the registry API (each blob
 * uploaded once, mounted into every other repository that uses it, one manifest per image): a few hundred images
 * take seconds, where `skopeo copy` would take minutes.
 *
 * - `staticImageSet`: small distinct images made like real ones, a base, sometimes a language runtime and a
 *   dependencies layer, and an application layer of their own:
 *     busybox + app                                   (a quarter: static tools)
 *     debian (dpkg status) + python + deps + app      (about a third)
 *     alpine (apk db) + node + deps + app             (a quarter)
 *     debian + app                                    (the rest)
 *   The bases and runtimes are shared by every image of their kind, a dependencies layer by a group of
 *   `DEPS_GROUP` images, the app layer by none: the layer dedupe has something to find, and the package databases
 *   give the inventory work.
 * - `detonationImageSet`: busybox images whose entrypoint is a program from test/detonate/fixtures/samples/, on one
 *   shared busybox layer.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { busyboxRootEntries } from '../test/support/busybox-root.js';
import { expectStatus, registryRequest } from '../test/support/crawl-fixtures.js';
import { layerTar, type EntrySpec } from '../test/support/image-builder.js';
import { seededRandom } from '../test/support/prng.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Images that share one dependencies layer (a team's images built from one lock file). */
const DEPS_GROUP = 8;
const PUSH_WIDTH = 8;

export interface LayerBlob {
  /** What the layer is, for the tally (`base:debian`, `app:17` …). */
  name: string;
  blob: Buffer;
  digest: string;
  diffId: string;
}

export interface BenchImage {
  repository: string;
  tag: string;
  layers: LayerBlob[];
  config: Record<string, unknown>;
}

export interface PushedImage extends BenchImage {
  manifestDigest: string;
}

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function layer(name: string, entries: EntrySpec[]): Promise<LayerBlob> {
  const tar = await layerTar(entries);
  const blob = gzipSync(tar, { level: 6 });
  return { name, blob, digest: sha256(blob), diffId: sha256(tar) };
}

/** The same set on every run. */
const random = seededRandom;

function randomBytes(next: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

const dirs = (...names: string[]): EntrySpec[] => names.map((name) => ({ name, type: 'directory' as const }));

function busyboxEntries(busybox: string): EntrySpec[] {
  return [...busyboxRootEntries(busybox, ['www/']), { name: 'www/index.html', content: '<html><body>hello</body></html>\n' }];
}

/** The first `count` packages of this machine's dpkg database: a real status file, as a Debian base has. */
function dpkgStatus(count: number): { status: string; names: string[] } {
  let text = '';
  try {
    text = readFileSync('/var/lib/dpkg/status', 'utf8');
  } catch {
    // not a Debian machine: a few made-up stanzas
  }
  let stanzas = text.split(/\n\n+/).filter((s) => /^Package: /m.test(s) && /^Status: install ok installed$/m.test(s)).slice(0, count);
  if (stanzas.length === 0) {
    stanzas = Array.from({ length: count }, (_, i) => `Package: libbench${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.${i}-1\nDescription: bench package ${i}\n`);
  }
  return { status: `${stanzas.join('\n\n')}\n`, names: stanzas.map((s) => /^Package: (\S+)/m.exec(s)![1]!) };
}

const ALPINE_PACKAGES: readonly [string, string, string][] = [
  ['alpine-baselayout', '3.4.3-r2', 'alpine-baselayout'], ['alpine-keys', '2.4-r1', 'alpine-keys'], ['apk-tools', '2.14.0-r5', 'apk-tools'],
  ['busybox', '1.36.1-r15', 'busybox'], ['ca-certificates-bundle', '20230506-r0', 'ca-certificates'], ['libc-utils', '0.7.2-r5', 'libc-dev'],
  ['libcrypto3', '3.1.4-r1', 'openssl'], ['libssl3', '3.1.4-r1', 'openssl'], ['musl', '1.2.4-r2', 'musl'], ['musl-utils', '1.2.4-r2', 'musl'],
  ['scanelf', '1.3.7-r2', 'pax-utils'], ['ssl_client', '1.36.1-r15', 'busybox'], ['zlib', '1.3-r2', 'zlib'], ['libstdc++', '13.2.1_git20231014-r0', 'gcc'],
  ['libgcc', '13.2.1_git20231014-r0', 'gcc'], ['c-ares', '1.24.0-r0', 'c-ares'], ['nghttp2-libs', '1.58.0-r0', 'nghttp2'], ['icu-libs', '74.1-r0', 'icu'],
];

const NPM_PACKAGES: readonly [string, string][] = [
  ['express', '4.17.1'], ['lodash', '4.17.15'], ['minimist', '1.2.0'], ['debug', '2.6.8'], ['qs', '6.5.2'], ['body-parser', '1.19.0'],
  ['cookie', '0.4.0'], ['send', '0.17.1'], ['mime', '1.4.1'], ['ms', '2.0.0'], ['axios', '0.21.0'], ['node-fetch', '2.6.0'],
  ['moment', '2.29.1'], ['jsonwebtoken', '8.5.1'], ['semver', '5.7.1'], ['yargs-parser', '13.1.1'], ['glob-parent', '5.1.1'],
  ['ws', '7.4.5'], ['underscore', '1.12.0'], ['handlebars', '4.7.6'], ['ejs', '3.1.5'], ['path-to-regexp', '0.1.7'], ['uuid', '8.3.2'],
  ['chalk', '4.1.0'], ['commander', '6.2.0'], ['dotenv', '8.2.0'], ['async', '2.6.3'], ['tar', '4.4.13'], ['y18n', '4.0.0'], ['ini', '1.3.5'],
];

const PYPI_PACKAGES: readonly [string, string][] = [
  ['requests', '2.25.1'], ['urllib3', '1.26.4'], ['certifi', '2020.12.5'], ['idna', '2.10'], ['chardet', '4.0.0'], ['flask', '1.1.2'],
  ['jinja2', '2.11.2'], ['werkzeug', '1.0.1'], ['pyyaml', '5.3.1'], ['django', '3.1.7'], ['pillow', '8.1.0'], ['cryptography', '3.3.1'],
  ['numpy', '1.19.5'], ['six', '1.15.0'], ['setuptools', '50.3.2'], ['gunicorn', '20.0.4'], ['sqlalchemy', '1.3.23'], ['click', '7.1.2'],
  ['itsdangerous', '1.1.0'], ['markupsafe', '1.1.1'], ['lxml', '4.6.2'], ['paramiko', '2.7.2'],
];

const npmEntries = (root: string, packages: readonly [string, string][]): EntrySpec[] =>
  packages.flatMap(([name, version]) => [
    { name: `${root}/${name}/package.json`, content: JSON.stringify({ name, version, main: 'index.js', license: 'MIT' }, null, 2) },
    { name: `${root}/${name}/index.js`, content: `module.exports = require('./lib/${name}');\n` },
  ]);

const pypiEntries = (root: string, packages: readonly [string, string][]): EntrySpec[] =>
  packages.flatMap(([name, version]) => [
    { name: `${root}/${name}-${version}.dist-info/METADATA`, content: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: ${name}\n` },
    { name: `${root}/${name}/__init__.py`, content: `__version__ = "${version}"\n` },
  ]);

function pick<T>(next: () => number, items: readonly T[], min: number, max: number): T[] {
  const n = min + Math.floor(next() * (max - min + 1));
  return [...items].map((item) => ({ item, key: next() })).sort((a, b) => a.key - b.key).slice(0, n).map((x) => x.item);
}

type Kind = 'busybox' | 'python' | 'node' | 'debian';

function kindOf(n: number): Kind {
  const r = n % 20;
  return r < 5 ? 'busybox' : r < 12 ? 'python' : r < 17 ? 'node' : 'debian';
}

/** `count` distinct images, `bench/sN:1`, deterministic for a given count and busybox binary. */
export async function staticImageSet(count: number, busybox: string): Promise<BenchImage[]> {
  const { status, names } = dpkgStatus(120);
  const busyboxBase = await layer('base:busybox', busyboxEntries(busybox));
  const debianBase = await layer('base:debian', [
    ...dirs('bin/', 'etc/', 'var/', 'var/lib/', 'var/lib/dpkg/', 'usr/', 'usr/share/', 'usr/share/doc/'),
    { name: 'etc/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' },
    { name: 'etc/debian_version', content: '12.5\n' },
    { name: 'bin/busybox', content: readFileSync(busybox), mode: 0o755 },
    { name: 'var/lib/dpkg/status', content: status },
    ...names.map((name) => ({ name: `usr/share/doc/${name}/copyright`, content: `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: ${name}\n` })),
  ]);
  const alpineBase = await layer('base:alpine', [
    ...dirs('bin/', 'etc/', 'lib/', 'lib/apk/', 'lib/apk/db/'),
    { name: 'etc/os-release', content: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' },
    { name: 'etc/alpine-release', content: '3.19.1\n' },
    { name: 'bin/busybox', content: readFileSync(busybox), mode: 0o755 },
    { name: 'lib/apk/db/installed', content: ALPINE_PACKAGES.map(([p, v, o]) => `C:Q1${sha256(p).slice(7, 35)}=\nP:${p}\nV:${v}\nA:x86_64\nS:100000\nI:300000\nT:${p}\nL:MIT\no:${o}\n`).join('\n') },
  ]);
  const pythonRuntime = await layer('runtime:python', [
    ...dirs('usr/local/', 'usr/local/lib/', 'usr/local/lib/python3.11/', 'usr/local/lib/python3.11/site-packages/'),
    { name: 'usr/local/bin/python3', content: randomBytes(random(311), 200_000), mode: 0o755 },
    ...pypiEntries('usr/local/lib/python3.11/site-packages', [['pip', '23.0.1'], ['setuptools', '65.5.1'], ['wheel', '0.38.4']]),
  ]);
  const nodeRuntime = await layer('runtime:node', [
    ...dirs('usr/local/', 'usr/local/bin/', 'usr/local/lib/', 'usr/local/lib/node_modules/'),
    { name: 'usr/local/bin/node', content: randomBytes(random(18), 300_000), mode: 0o755 },
    ...npmEntries('usr/local/lib/node_modules', [['npm', '10.2.4'], ['corepack', '0.23.0']]),
  ]);

  const deps = new Map<string, LayerBlob>();
  const depsLayer = async (kind: 'python' | 'node', group: number): Promise<LayerBlob> => {
    const key = `${kind}:${group}`;
    const known = deps.get(key);
    if (known) return known;
    const next = random(1000 + group * 2 + (kind === 'node' ? 1 : 0));
    const made = kind === 'node'
      ? await layer(`deps:${key}`, [...dirs('app/', 'app/node_modules/'), ...npmEntries('app/node_modules', pick(next, NPM_PACKAGES, 8, 20))])
      : await layer(`deps:${key}`, [...dirs('usr/local/lib/python3.11/site-packages/'), ...pypiEntries('usr/local/lib/python3.11/site-packages', pick(next, PYPI_PACKAGES, 5, 12))]);
    deps.set(key, made);
    return made;
  };

  const images: BenchImage[] = [];
  const ofKind = new Map<Kind, number>();
  for (let n = 0; n < count; n++) {
    const next = random(n + 1);
    const kind = kindOf(n);
    const group = Math.floor((ofKind.get(kind) ?? 0) / DEPS_GROUP); // every DEPS_GROUP images of a kind share one
    ofKind.set(kind, (ofKind.get(kind) ?? 0) + 1);
    const main = kind === 'node' ? 'app/server.js' : kind === 'python' ? 'app/main.py' : 'app/run.sh';
    const app = await layer(`app:${n}`, [
      ...dirs('app/'),
      { name: main, content: `// service ${n}\n${kind === 'node' ? `require('express')().listen(${3000 + n});` : `print("service ${n}")`}\n`, mode: 0o755 },
      { name: 'app/config.json', content: JSON.stringify({ service: `s${n}`, port: 3000 + n, replicas: 1 + (n % 3) }) },
      { name: 'app/assets.bin', content: randomBytes(next, 4096 + Math.floor(next() * 28_672)) },
      ...(kind === 'python' ? [{ name: 'app/requirements.txt', content: pick(next, PYPI_PACKAGES, 2, 5).map(([p, v]) => `${p}==${v}`).join('\n') + '\n' }] : []),
    ]);
    const layers =
      kind === 'busybox' ? [busyboxBase, app]
        : kind === 'python' ? [debianBase, pythonRuntime, await depsLayer('python', group), app]
          : kind === 'node' ? [alpineBase, nodeRuntime, await depsLayer('node', group), app]
            : [debianBase, app];
    const cmd = kind === 'node' ? ['node', '/app/server.js'] : kind === 'python' ? ['python3', '/app/main.py'] : ['/bin/sh', '/app/run.sh'];
    images.push({ repository: `bench/s${n}`, tag: '1', layers, config: { Cmd: cmd, Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], WorkingDir: '/app' } });
  }
  return images;
}

/** One image per sample program (`name` → the script), each `bench/dNAME:1`, on one shared busybox layer. */
export async function detonationImageSet(samples: readonly { name: string; script: string }[], busybox: string): Promise<BenchImage[]> {
  const base = await layer('base:busybox', busyboxEntries(busybox));
  const images: BenchImage[] = [];
  for (const sample of samples) {
    const own = await layer(`sample:${sample.name}`, [{ name: 'sample.sh', content: sample.script, mode: 0o755 }]);
    images.push({
      repository: `bench/d-${sample.name}`,
      tag: '1',
      layers: [base, own],
      config: { Cmd: ['/bin/sh', '/sample.sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'], WorkingDir: '/' },
    });
  }
  return images;
}

/** Distinct layers and layer uses of a set: the best hit rate a layer dedupe can reach on it is 1 - distinct/uses. */
export function layerTally(images: readonly BenchImage[]): { uses: number; distinct: number } {
  const seen = new Set<string>();
  let uses = 0;
  for (const image of images) {
    for (const l of image.layers) {
      uses++;
      seen.add(l.diffId);
    }
  }
  return { uses, distinct: seen.size };
}

// ---- Pushing through the registry API -------------------------------------------------------------------------


/** Pushes every image (blobs uploaded once, mounted elsewhere; a pool of `PUSH_WIDTH` repositories at a time). */
export async function pushImages(host: string, images: readonly BenchImage[]): Promise<PushedImage[]> {
  /** The repository each blob was first uploaded to, once its upload is done. */
  const homes = new Map<string, Promise<string>>();
  const ensureBlob = async (repository: string, digest: string, data: Buffer): Promise<void> => {
    const home = homes.get(digest);
    if (home) {
      const from = await home;
      if (from !== repository) await expectStatus(registryRequest('POST', `http://${host}/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}`), 201, `mount ${digest} into ${repository}`);
      return;
    }
    const upload = (async () => {
      const start = await expectStatus(registryRequest('POST', `http://${host}/v2/${repository}/blobs/uploads/`), 202, `start upload to ${repository}`);
      const location = new URL(String(start.headers.location), `http://${host}`);
      location.searchParams.set('digest', digest);
      await expectStatus(registryRequest('PUT', location.href, { 'content-type': 'application/octet-stream' }, data), 201, `upload ${digest} to ${repository}`);
      return repository;
    })();
    homes.set(digest, upload);
    await upload;
  };
  const pushed: PushedImage[] = new Array(images.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PUSH_WIDTH, images.length) }, async () => {
      while (next < images.length) {
        const i = next++;
        const image = images[i]!;
        const config = Buffer.from(JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          created: '2024-01-01T00:00:00Z',
          config: image.config,
          rootfs: { type: 'layers', diff_ids: image.layers.map((l) => l.diffId) },
          history: image.layers.map((l) => ({ created: '2024-01-01T00:00:00Z', created_by: l.name })),
        }));
        const configDigest = sha256(config);
        for (const l of image.layers) await ensureBlob(image.repository, l.digest, l.blob);
        await ensureBlob(image.repository, configDigest, config);
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
          layers: image.layers.map((l) => ({ mediaType: OCI_LAYER_GZIP, digest: l.digest, size: l.blob.length })),
        });
        await expectStatus(registryRequest('PUT', `http://${host}/v2/${image.repository}/manifests/${image.tag}`, { 'content-type': OCI_MANIFEST }, manifest), 201, `put ${image.repository}:${image.tag}`);
        pushed[i] = { ...image, manifestDigest: sha256(manifest) };
      }
    }),
  );
  return pushed;
}
