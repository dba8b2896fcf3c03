/**
 * The registry source against a real registry: Debian's docker-registry (distribution 2.8) on 127.0.0.1, images
 * pushed from the real archives in shared/images with skopeo. Covers tags, digests, OCI indexes and Docker manifest
 * lists with platform selection, token auth (a JWT issuer run by the test) and htpasswd Basic auth with credentials
 * from a temp DOCKER_CONFIG.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { resolveLimits } from '../../src/config/limits.js';
import { BlobCache, cacheRoot } from '../../src/image/cache.js';
import { openRegistrySource, type RegistrySourceOptions } from '../../src/image/registry/index.js';
import type { PlatformSelector, ResolvedImage } from '../../src/image/types.js';
import { formatPlatform } from '../../src/image/types.js';
import { analyzeImage } from '../../src/scan/scan.js';
import { silentProgress } from '../../src/progress/progress.js';
import { imagesDir } from '../support/paths.js';
import {
  copyToLayout,
  dockerConfigDir,
  readLayoutIndex,
  sha256,
  startRegistry,
  tempDir,
  writeLayoutBlob,
  type RealRegistry,
} from '../support/registry.js';
import { makeSigningKey, startTokenIssuer, type TokenIssuer } from '../support/token-issuer.js';

const DIVE_DOCKER = `docker-archive:${join(imagesDir, 'dive', 'test-docker-image.tar')}`;
const DIVE_OCI_GZIP = `oci-archive:${join(imagesDir, 'dive', 'test-oci-gzip-image.tar')}`;
const DIVE_OCI_ZSTD = `oci-archive:${join(imagesDir, 'dive', 'test-oci-zstd-image.tar')}`;
const HELLO_WORLD = `docker-archive:${join(imagesDir, 'ggcr', 'hello-world-v25.tar')}`;

const cleanups: (() => void | Promise<void>)[] = [];
let cacheCount = 0;
let savedCacheDir: string | undefined;

beforeAll(() => {
  const cache = tempDir('registry-cache');
  savedCacheDir = process.env.DETONATE_CACHE_DIR;
  process.env.DETONATE_CACHE_DIR = cache.path;
  cleanups.push(cache.remove);
});
afterAll(async () => {
  for (const f of cleanups.reverse()) await f();
  if (savedCacheDir === undefined) delete process.env.DETONATE_CACHE_DIR;
  else process.env.DETONATE_CACHE_DIR = savedCacheDir;
});

/** A cache of its own, so one test's downloads cannot hide another's. */
function freshCache(): BlobCache {
  return new BlobCache(join(cacheRoot(), `cache-${cacheCount++}`));
}

const limits = resolveLimits();
const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64' };

/** A DOCKER_CONFIG with no credentials, so the machine's own ~/.docker never leaks into a test. */
function emptyDockerConfig(): NodeJS.ProcessEnv {
  const dir = dockerConfigDir({});
  cleanups.push(dir.remove);
  return { DOCKER_CONFIG: dir.path };
}

/** Resolves `ref`; the source stays open (its layers can be read) until the file's cleanup. */
async function resolveRef(ref: string, platform: PlatformSelector, options: Partial<RegistrySourceOptions> = {}): Promise<ResolvedImage[]> {
  const source = await openRegistrySource(ref, { limits, cache: freshCache(), env: emptyDockerConfig(), retry: { baseDelayMs: 10 }, ...options });
  cleanups.push(() => source.close());
  return source.resolve(platform);
}

async function hashStream(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

interface RawManifest {
  config: { digest: string };
  layers: { digest: string; size: number }[];
  manifests?: { digest: string; platform?: { os: string; architecture: string; variant?: string } }[];
}

describe('docker-registry without auth', () => {
  let registry: RealRegistry;
  let diveManifest: string;
  let ociManifest: string;

  beforeAll(async () => {
    registry = await startRegistry();
    cleanups.push(() => registry.stop());
    await Promise.all([registry.push(DIVE_DOCKER, 'dive/docker:v1'), registry.push(DIVE_OCI_GZIP, 'dive/oci:latest')]);
    [diveManifest, ociManifest] = await Promise.all([registry.rawManifest('dive/docker:v1'), registry.rawManifest('dive/oci:latest')]);
  });

  it('resolves a tag to the manifest, config and layers that skopeo pushed, and streams verified layers', async () => {
    const cache = freshCache();
    const source = await openRegistrySource(`${registry.host}/dive/docker:v1`, { limits, cache, env: emptyDockerConfig() });
    try {
      const [image, ...rest] = await source.resolve(amd64);
      expect(rest).toHaveLength(0);
      const raw = JSON.parse(diveManifest) as RawManifest;
      expect(image!.reference).toBe(`${registry.host}/dive/docker:v1`);
      expect(image!.digest).toBe(sha256(diveManifest));
      expect(image!.indexDigest).toBeUndefined();
      expect(formatPlatform(image!.platform)).toBe('linux/amd64');
      expect(image!.configDigest).toBe(raw.config.digest);
      expect(image!.layers.map((l) => l.digest)).toEqual(raw.layers.map((l) => l.digest));
      expect(image!.layers).toHaveLength(14);
      expect(image!.layers.map((l) => l.diffId)).toEqual(image!.config.rootfs?.diff_ids);
      expect(image!.layers.some((l) => /mkdir -p \/root\/example\/really\/nested/.test(l.createdBy ?? ''))).toBe(true);
      for (const layer of image!.layers) {
        const got = await hashStream(await layer.open());
        expect(got).toEqual({ digest: layer.digest, size: layer.size });
        expect(await cache.has(layer.digest)).toBe(true);
      }
      // the config and the manifest are cached by digest too
      expect(await cache.has(image!.configDigest)).toBe(true);
      expect(await cache.has(image!.digest)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('feeds the layer walker: the merged view matches the docker archive it was pushed from', async () => {
    const [image] = await resolveRef(`${registry.host}/dive/docker:v1`, amd64);
    const { merged: view } = await analyzeImage(image!, { limits, cacheDir: join(cacheRoot(), 'analysis'), progress: silentProgress, noLayerCache: true });
    const layerOf = (p: string) => view.files.get(p)?.layer;
    expect(layerOf('bin/busybox')).toBe(0);
    expect(layerOf('root/.data/tag.sh')).toBe(10);
    expect(layerOf('root/saved.txt')).toBe(13);
    expect([...view.files.keys()].filter((p) => p.startsWith('root/example'))).toEqual([]);
    expect(view.removed.filter((f) => f.path === 'root/example/somefile2.txt').map((f) => [f.layer, f.removedInLayer])).toEqual([[5, 9]]);
  });

  it('pulls by digest, and by tag@digest where the digest wins over a tag that does not exist', async () => {
    const digest = sha256(ociManifest);
    const [byDigest] = await resolveRef(`${registry.host}/dive/oci@${digest}`, arm64, { platformExplicit: true });
    expect(byDigest!.digest).toBe(digest);
    expect(byDigest!.reference).toBe(`${registry.host}/dive/oci@${digest}`);
    const [both] = await resolveRef(`${registry.host}/dive/oci:no-such-tag@${digest}`, arm64);
    expect(both!.digest).toBe(digest);
    expect(both!.layers.map((l) => l.digest)).toEqual((JSON.parse(ociManifest) as RawManifest).layers.map((l) => l.digest));
  });

  it('reaches the registry as localhost too, and re-resolves a digest from the cache', async () => {
    const digest = sha256(ociManifest);
    const cache = freshCache();
    const port = registry.host.split(':')[1];
    const [first] = await resolveRef(`localhost:${port}/dive/oci@${digest}`, 'all', { cache });
    expect(first!.digest).toBe(digest);
    // Every document is now in the cache: a registry that cannot be reached is not needed.
    const [again] = await resolveRef(`localhost:1/dive/oci@${digest}`, 'all', { cache, retry: { attempts: 1 } });
    expect(again!.configDigest).toBe(first!.configDigest);
  });

  it('follows docker pull --platform for a single-platform image', async () => {
    // asked explicitly for another platform: an error naming the one it has
    await expect(resolveRef(`${registry.host}/dive/oci:latest`, amd64, { platformExplicit: true })).rejects.toThrow(
      /single-platform image for linux\/arm64, which does not match the requested platform linux\/amd64[\s\S]*--platform linux\/arm64/,
    );
    // the host's default platform: scanned anyway, with a note
    const notes: string[] = [];
    const progress = { task: () => ({ update: () => {}, finish: () => {} }), log: (m: string) => notes.push(m), stop: () => {} };
    const [image] = await resolveRef(`${registry.host}/dive/oci:latest`, amd64, { platformExplicit: false, progress });
    expect(formatPlatform(image!.platform)).toBe('linux/arm64');
    expect(notes.join('\n')).toMatch(/only available for linux\/arm64/);
    // 'all' on a single manifest is that one image
    expect(await resolveRef(`${registry.host}/dive/oci:latest`, 'all')).toHaveLength(1);
  });

  it('says when an image or tag does not exist', async () => {
    await expect(resolveRef(`${registry.host}/dive/docker:nope`, amd64)).rejects.toThrow(/image or tag not found: 127\.0\.0\.1:\d+\/dive\/docker:nope[\s\S]*hint:/);
    await expect(resolveRef(`${registry.host}/no/such/repo`, amd64)).rejects.toThrow(/image or tag not found/);
  });

  it('says when nothing listens on the registry port', async () => {
    const port = registry.host.split(':')[1];
    await expect(resolveRef(`127.0.0.1:${Number(port) === 1 ? 2 : 1}/x`, amd64, { retry: { attempts: 2, baseDelayMs: 1 } })).rejects.toThrow(
      /could not connect to 127\.0\.0\.1:\d+: connection refused[\s\S]*hint: check the registry host and port/,
    );
  });
});

describe('multi-platform images in docker-registry', () => {
  let registry: RealRegistry;
  let indexDigest: string;
  let listDigest: string;
  const children: Record<string, string> = {};

  beforeAll(async () => {
    registry = await startRegistry();
    cleanups.push(() => registry.stop());

    // An OCI index of two real images (amd64 docker image, arm64 zstd image) plus a BuildKit-style attestation.
    const layout = tempDir('multi-layout');
    cleanups.push(layout.remove);
    await copyToLayout(DIVE_DOCKER, layout.path, 'amd64');
    await copyToLayout(DIVE_OCI_ZSTD, layout.path, 'arm64');
    const { manifests } = await readLayoutIndex(layout.path);
    const [amd, arm] = [manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'amd64')!, manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'arm64')!];
    const statement = await writeLayoutBlob(layout.path, JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document' }));
    const attestationConfig = await writeLayoutBlob(layout.path, '{}');
    const attestation = await writeLayoutBlob(
      layout.path,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...attestationConfig },
        layers: [{ mediaType: 'application/vnd.in-toto+json', ...statement }],
      }),
    );
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: amd.mediaType, digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: arm.mediaType, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...attestation,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd.digest },
        },
      ],
    });
    const indexBlob = await writeLayoutBlob(layout.path, index);
    indexDigest = indexBlob.digest;
    children.amd64 = amd.digest;
    children.arm64 = arm.digest;
    await fs.writeFile(
      join(layout.path, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...indexBlob, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }),
    );
    await registry.push(`oci:${layout.path}:multi`, 'multi:latest', { all: true });

    // A Docker manifest list over two docker v2s2 images, written by hand as `docker manifest push` would.
    await Promise.all([registry.push(DIVE_DOCKER, 'list:amd64', { format: 'v2s2' }), registry.push(HELLO_WORLD, 'list:arm64', { format: 'v2s2' })]);
    const [amdRaw, armRaw] = await Promise.all([registry.rawManifest('list:amd64'), registry.rawManifest('list:arm64')]);
    children.listAmd64 = sha256(amdRaw);
    children.listArm64 = sha256(armRaw);
    const list = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      manifests: [
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: children.listAmd64, size: Buffer.byteLength(amdRaw), platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: children.listArm64, size: Buffer.byteLength(armRaw), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      ],
    });
    await registry.putManifest('list', 'latest', list, 'application/vnd.docker.distribution.manifest.list.v2+json');
    listDigest = sha256(list);
  });

  it('the pushed index is the one we wrote', async () => {
    expect(sha256(await registry.rawManifest('multi:latest'))).toBe(indexDigest);
  });

  it('OCI index: picks each platform, with the index digest recorded', async () => {
    const [a] = await resolveRef(`${registry.host}/multi`, amd64, { platformExplicit: true });
    expect(a!.digest).toBe(children.amd64);
    expect(a!.indexDigest).toBe(indexDigest);
    expect(a!.layers).toHaveLength(14);
    expect(formatPlatform(a!.platform)).toBe('linux/amd64');

    const [b] = await resolveRef(`${registry.host}/multi`, arm64, { platformExplicit: true });
    expect(b!.digest).toBe(children.arm64);
    expect(formatPlatform(b!.platform)).toBe('linux/arm64/v8');
    const layer = b!.layers[0]!;
    expect(layer.mediaType).toMatch(/zstd/);
    expect(await hashStream(await layer.open())).toEqual({ digest: layer.digest, size: layer.size });
    const { merged: view } = await analyzeImage(b!, { limits, cacheDir: join(cacheRoot(), 'analysis'), progress: silentProgress, noLayerCache: true });
    expect(view.files.get('README.md')?.size).toBe(11189);

    const [v8] = await resolveRef(`${registry.host}/multi`, { os: 'linux', architecture: 'arm64', variant: 'v8' }, { platformExplicit: true });
    expect(v8!.digest).toBe(children.arm64);
  });

  it('OCI index: --platform all gives every image and skips the attestation', async () => {
    const all = await resolveRef(`${registry.host}/multi:latest`, 'all');
    expect(all.map((i) => i.digest)).toEqual([children.amd64, children.arm64]);
    expect(all.map((i) => formatPlatform(i.platform))).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(all.every((i) => i.indexDigest === indexDigest)).toBe(true);
  });

  it('OCI index: a platform it lacks is an error listing the ones it has', async () => {
    await expect(resolveRef(`${registry.host}/multi`, { os: 'linux', architecture: 's390x' }, { platformExplicit: true })).rejects.toThrow(
      /no image for platform linux\/s390x[\s\S]*available: linux\/amd64, linux\/arm64\/v8/,
    );
    await expect(resolveRef(`${registry.host}/multi`, { os: 'linux', architecture: 'arm64', variant: 'v7' })).rejects.toThrow(/no image for platform linux\/arm64\/v7/);
  });

  it('Docker manifest list: picks each platform and all', async () => {
    const [a] = await resolveRef(`${registry.host}/list`, amd64);
    expect(a!.digest).toBe(children.listAmd64);
    expect(a!.indexDigest).toBe(listDigest);
    expect(a!.layers).toHaveLength(14);
    const [b] = await resolveRef(`${registry.host}/list:latest`, arm64);
    expect(b!.digest).toBe(children.listArm64);
    expect(b!.config.config?.Cmd).toEqual(['/hello']);
    const all = await resolveRef(`${registry.host}/list@${listDigest}`, 'all');
    expect(all.map((i) => i.digest)).toEqual([children.listAmd64, children.listArm64]);
    for (const image of all) {
      for (const layer of image.layers.slice(0, 2)) expect((await hashStream(await layer.open())).digest).toBe(layer.digest);
    }
  });
});

describe('docker-registry with token auth', () => {
  let registry: RealRegistry;
  let issuer: TokenIssuer;
  const USER = 'alice';
  const PASSWORD = 's3cret-pw';
  const env = (auths: Record<string, unknown>) => {
    const dir = dockerConfigDir({ auths });
    cleanups.push(dir.remove);
    return { DOCKER_CONFIG: dir.path };
  };

  beforeAll(async () => {
    const keys = tempDir('token-keys');
    cleanups.push(keys.remove);
    const key = await makeSigningKey(keys.path);
    issuer = await startTokenIssuer({ key, users: { [USER]: PASSWORD }, service: 'detonate-test' });
    cleanups.push(() => issuer.stop());
    registry = await startRegistry({ auth: { kind: 'token', realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootCertBundle: key.certPath } });
    cleanups.push(() => registry.stop());
    await Promise.all([
      registry.push(DIVE_OCI_GZIP, 'private/app:1.0', { creds: `${USER}:${PASSWORD}` }),
      registry.push(DIVE_DOCKER, 'private/big:1', { creds: `${USER}:${PASSWORD}` }),
    ]);
  });

  it('pulls with credentials from DOCKER_CONFIG, sending them to the token service, one token per scope', async () => {
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const source = await openRegistrySource(`${registry.host}/private/app:1.0`, { limits, cache: freshCache(), env: env({ [registry.host]: { auth } }) });
    const before = issuer.requests.length;
    try {
      const [image] = await source.resolve('all');
      for (const layer of image!.layers) expect((await hashStream(await layer.open())).digest).toBe(layer.digest);
      const asked = issuer.requests.slice(before);
      expect(asked).toEqual([{ user: USER, scopes: ['repository:private/app:pull'], service: 'detonate-test', method: 'GET', outcome: 'granted' }]);
      expect(source.client.auth.tokenRequests).toBe(1);
    } finally {
      await source.close();
    }
  });

  it('layers opened in parallel share one token request', async () => {
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const options = { limits, cache: freshCache(), env: env({ [registry.host]: { auth } }) };
    const first = await openRegistrySource(`${registry.host}/private/big:1`, options);
    cleanups.push(() => first.close());
    const [resolved] = await first.resolve(amd64);
    // By digest, a second source finds manifest and config in the cache: it has no token when the layers open.
    const second = await openRegistrySource(`${registry.host}/private/big@${resolved!.digest}`, options);
    cleanups.push(() => second.close());
    const [image] = await second.resolve(amd64);
    expect(second.client.auth.tokenRequests).toBe(0);
    expect(image!.layers).toHaveLength(14);
    const digests = await Promise.all(image!.layers.map(async (l) => (await hashStream(await l.open())).digest));
    expect(digests).toEqual(image!.layers.map((l) => l.digest));
    expect(second.client.auth.tokenRequests).toBe(1);
  });

  it('takes the token from an access_token field as well', async () => {
    issuer.field = 'access_token';
    try {
      const [image] = await resolveRef(`${registry.host}/private/app:1.0`, 'all', { env: env({ [`https://${registry.host}`]: { username: USER, password: PASSWORD } }) });
      expect(image!.layers.length).toBeGreaterThan(0);
    } finally {
      issuer.field = 'token';
    }
  });

  it('a wrong password fails with an error that says to log in', async () => {
    const auth = Buffer.from(`${USER}:wrong`).toString('base64');
    await expect(resolveRef(`${registry.host}/private/app:1.0`, 'all', { env: env({ [registry.host]: { auth } }) })).rejects.toThrow(
      new RegExp(`authentication to ${registry.host.replace(/\./g, '\\.')} failed: its token service refused user "alice"[\\s\\S]*docker login ${registry.host.replace(/\./g, '\\.')}[\\s\\S]*DOCKER_CONFIG`),
    );
  });

  it('without credentials the anonymous token is refused access, and the error says to log in', async () => {
    await expect(resolveRef(`${registry.host}/private/app:1.0`, 'all')).rejects.toThrow(
      /pull access denied for 127\.0\.0\.1:\d+\/private\/app:1\.0: the repository does not exist or requires authentication[\s\S]*hint: log in with "docker login/,
    );
    expect(issuer.requests.at(-1)?.outcome).toBe('anonymous');
  });
});

describe('docker-registry with htpasswd (Basic) auth', () => {
  let registry: RealRegistry;
  const USER = 'bob';
  const PASSWORD = 'hunter2-but-longer';
  const env = (config: unknown) => {
    const dir = dockerConfigDir(config);
    cleanups.push(dir.remove);
    return { DOCKER_CONFIG: dir.path };
  };

  beforeAll(async () => {
    registry = await startRegistry({ auth: { kind: 'htpasswd', users: { [USER]: PASSWORD } } });
    cleanups.push(() => registry.stop());
    await registry.push(DIVE_OCI_GZIP, 'team/tool:2', { creds: `${USER}:${PASSWORD}` });
  });

  it('pulls with auths.<host>.auth and with username/password fields', async () => {
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const [a] = await resolveRef(`${registry.host}/team/tool:2`, 'all', { env: env({ auths: { [registry.host]: { auth } } }) });
    for (const layer of a!.layers) expect((await hashStream(await layer.open())).digest).toBe(layer.digest);
    const [b] = await resolveRef(`${registry.host}/team/tool:2`, 'all', { env: env({ auths: { [`http://${registry.host}/v2/`]: { username: USER, password: PASSWORD } } }) });
    expect(b!.digest).toBe(a!.digest);
  });

  it('a wrong password is refused with a hint to log in', async () => {
    const auth = Buffer.from(`${USER}:nope`).toString('base64');
    await expect(resolveRef(`${registry.host}/team/tool:2`, 'all', { env: env({ auths: { [registry.host]: { auth } } }) })).rejects.toThrow(
      /authentication to 127\.0\.0\.1:\d+ failed for 127\.0\.0\.1:\d+\/team\/tool:2[\s\S]*were refused; log in with "docker login 127\.0\.0\.1:\d+" or check \$DOCKER_CONFIG/,
    );
  });

  it('no credentials, or an unreadable config, is an error that names the config file', async () => {
    const e = env({});
    await expect(resolveRef(`${registry.host}/team/tool:2`, 'all', { env: e })).rejects.toThrow(
      new RegExp(`pull access denied[\\s\\S]*check \\$DOCKER_CONFIG \\(${e.DOCKER_CONFIG}/config\\.json\\)`),
    );
    await expect(resolveRef(`${registry.host}/team/tool:2`, 'all', { env: env('{ not json') })).rejects.toThrow(/pull access denied[\s\S]*note: cannot parse .*config\.json/);
  });
});
