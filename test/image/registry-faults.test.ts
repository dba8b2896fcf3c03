/**
 * The registry client against a misbehaving registry: a small Node server on 127.0.0.1 serving a real image (the
 * dive OCI test image, copied into a layout by skopeo) and answering some requests wrongly: 429 with Retry-After,
 * 5xx, blobs whose bytes do not match their digest, truncated blobs, garbage and endless manifests, absurd sizes,
 * stalls, redirects to blob storage on another host, TLS with an untrusted certificate and plain HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { resolveLimits, type Limits } from '../../src/config/limits.js';
import { BlobCache, cacheRoot } from '../../src/image/cache.js';
import { DigestMismatchError, ImageError } from '../../src/image/errors.js';
import { MANIFEST_ACCEPT } from '../../src/image/manifest.js';
import { openRegistrySource, type RegistrySource, type RegistrySourceOptions } from '../../src/image/registry/index.js';
import type { ResolvedImage } from '../../src/image/types.js';
import { imagesDir } from '../support/paths.js';
import { copyToLayout, dockerConfigDir, FakeRegistry, tempDir, type FakeRegistryOptions } from '../support/registry.js';

const run = promisify(execFile);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const cleanups: (() => void | Promise<void>)[] = [];
let layoutDir: string;
let emptyConfig: string;
let savedCacheDir: string | undefined;
let cacheCount = 0;

beforeAll(async () => {
  const cache = tempDir('registry-faults-cache');
  savedCacheDir = process.env.DETONATE_CACHE_DIR;
  process.env.DETONATE_CACHE_DIR = cache.path;
  cleanups.push(cache.remove);
  const layout = tempDir('faults-layout');
  cleanups.push(layout.remove);
  layoutDir = layout.path;
  await copyToLayout(`oci-archive:${join(imagesDir, 'dive', 'test-oci-gzip-image.tar')}`, layoutDir, 'v1');
  const config = dockerConfigDir({});
  cleanups.push(config.remove);
  emptyConfig = config.path;
});
afterAll(async () => {
  for (const f of cleanups.reverse()) await f();
  if (savedCacheDir === undefined) delete process.env.DETONATE_CACHE_DIR;
  else process.env.DETONATE_CACHE_DIR = savedCacheDir;
});

function freshCache(): BlobCache {
  return new BlobCache(join(cacheRoot(), `cache-${cacheCount++}`));
}

async function fake(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const registry = new FakeRegistry(options);
  await registry.loadLayout(layoutDir);
  await registry.start();
  cleanups.push(() => registry.stop());
  return registry;
}

const FAST_RETRY = { attempts: 4, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 5_000 };

async function source(ref: string, options: Partial<RegistrySourceOptions> = {}): Promise<RegistrySource> {
  const s = await openRegistrySource(ref, { limits: resolveLimits(), cache: freshCache(), env: { DOCKER_CONFIG: emptyConfig }, retry: FAST_RETRY, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function resolveAll(ref: string, options: Partial<RegistrySourceOptions> = {}): Promise<ResolvedImage[]> {
  return (await source(ref, options)).resolve('all');
}

async function hashStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** The manifest, config and layer of the served image. */
function served(registry: FakeRegistry): { manifestDigest: string; manifest: { config: { digest: string; size: number }; layers: { digest: string; size: number; mediaType: string }[] } } {
  const manifestDigest = registry.tags.get('v1')!;
  return { manifestDigest, manifest: JSON.parse(registry.manifests.get(manifestDigest)!.body.toString()) };
}

const isBlob = (path: string, digest: string) => path.endsWith(`/blobs/${digest}`);
const isManifest = (path: string) => path.includes('/manifests/');

describe('the fake registry itself', () => {
  it('serves the image correctly when nothing is wrong', async () => {
    const registry = await fake();
    const [image] = await resolveAll(`${registry.host}/app:v1`);
    const { manifestDigest, manifest } = served(registry);
    expect(image!.digest).toBe(manifestDigest);
    expect(image!.layers.map((l) => l.digest)).toEqual(manifest.layers.map((l) => l.digest));
    for (const layer of image!.layers) expect(await hashStream(await layer.open())).toBe(layer.digest);
    const manifestRequest = registry.requests.find((r) => isManifest(r.path))!;
    expect(manifestRequest.headers.accept).toBe(MANIFEST_ACCEPT);
    expect(manifestRequest.headers['user-agent']).toMatch(/^detonate\//);
  });
});

describe.concurrent('rate limits and server errors', () => {
  it('waits for Retry-After in seconds on 429, then succeeds', async () => {
    const registry = await fake();
    let refused = 0;
    registry.handle = (_req, res, path) => {
      if (!isManifest(path) || refused++ > 0) return false;
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
      return true;
    };
    const started = Date.now();
    const [image] = await resolveAll(`${registry.host}/app:v1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(image!.digest).toBe(served(registry).manifestDigest);
    expect(registry.requests.filter((r) => isManifest(r.path))).toHaveLength(2);
  });

  it('waits for a Retry-After HTTP date on 503', async () => {
    const registry = await fake();
    let refused = 0;
    registry.handle = (_req, res, path) => {
      const { manifest } = served(registry);
      if (!isBlob(path, manifest.config.digest) || refused++ > 0) return false;
      res.writeHead(503, { 'retry-after': new Date(Date.now() + 1500).toUTCString() }).end('busy');
      return true;
    };
    const started = Date.now();
    await resolveAll(`${registry.host}/app:v1`);
    // HTTP dates have one-second resolution
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(refused).toBe(2);
  });

  it('does not wait for an absurd Retry-After: it says when to come back', async () => {
    const registry = await fake();
    registry.handle = (_req, res, path) => {
      if (!isManifest(path)) return false;
      res.writeHead(429, { 'retry-after': '3600' }).end();
      return true;
    };
    const started = Date.now();
    const error = await errorOf(resolveAll(`${registry.host}/app:v1`));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.message).toMatch(/answered 429 Too Many Requests .*rate limited; it asks to retry after 3600s/);
    expect(error.message).toMatch(/hint: wait and retry; on Docker Hub, logging in/);
    expect(registry.requests.filter((r) => isManifest(r.path))).toHaveLength(1);
  });

  it('gives up on a registry that keeps rate limiting, after a bounded number of tries', async () => {
    const registry = await fake();
    registry.handle = (_req, res, path) => {
      if (!isManifest(path)) return false;
      res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] }));
      return true;
    };
    const error = await errorOf(resolveAll(`${registry.host}/app:v1`));
    expect(error.message).toMatch(/429 Too Many Requests \(TOOMANYREQUESTS: You have reached your pull rate limit\.\).*rate limited after 4 attempts/);
    expect(registry.requests.filter((r) => isManifest(r.path))).toHaveLength(4);
  });

  it('retries 500s with backoff and succeeds when they stop', async () => {
    const registry = await fake();
    let failures = 0;
    registry.handle = (_req, res, path) => {
      if (!isManifest(path) || failures >= 2) return false;
      failures++;
      res.writeHead(500).end('oops');
      return true;
    };
    const [image] = await resolveAll(`${registry.host}/app:v1`);
    expect(image!.layers.length).toBe(1);
    expect(failures).toBe(2);
  });

  it('reports a registry that keeps failing, with the status, its message and the attempt count', async () => {
    const registry = await fake();
    registry.handle = (_req, res, path) => {
      if (!isManifest(path)) return false;
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'backend down' }] }));
      return true;
    };
    const error = await errorOf(resolveAll(`${registry.host}/app:v1`));
    expect(error).toBeInstanceOf(ImageError);
    expect(error.message).toMatch(/answered 502 Bad Gateway \(UNKNOWN: backend down\) to \/v2\/app\/manifests\/v1 after 4 attempts[\s\S]*hint: the registry is failing/);
  });

  it('does not retry a 501 or a 4xx', async () => {
    const registry = await fake();
    registry.handle = (_req, res, path) => {
      if (!isManifest(path)) return false;
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'bad' }] }));
      return true;
    };
    await expect(resolveAll(`${registry.host}/app:v1`)).rejects.toThrow(/refused the request for .*: 400 \(MANIFEST_INVALID: bad\)/);
    expect(registry.requests.filter((r) => isManifest(r.path))).toHaveLength(1);
  });
});

describe.concurrent('blobs that are not what their digest says', () => {
  it('a blob whose bytes do not match its digest is a DigestMismatchError and is not cached', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    const layer = manifest.layers[0]!;
    const original = registry.blobs.get(layer.digest)!;
    const tampered = Buffer.from(original);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 10) ^ 0xff, tampered.length - 10);
    registry.blobs.set(layer.digest, tampered);
    const cache = freshCache();
    const [image] = await resolveAll(`${registry.host}/app:v1`, { cache });
    const error = await errorOf(image!.layers[0]!.open());
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error.message).toMatch(new RegExp(`digest mismatch: expected ${layer.digest}`));
    expect(await cache.has(layer.digest)).toBe(false);
    // nothing half-written is left behind
    const leftovers = await fs.readdir(join(cache.dir, 'sha256'));
    expect(leftovers.filter((f) => f.startsWith('.tmp'))).toEqual([]);
    // the tampered blob was fetched once: a mismatch is not retried
    expect(registry.requests.filter((r) => isBlob(r.path, layer.digest))).toHaveLength(1);
  });

  it('a blob cut short (connection closed before Content-Length) fails after bounded retries, nothing cached', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    const layer = manifest.layers[0]!;
    registry.handle = (_req, res, path) => {
      if (!isBlob(path, layer.digest)) return false;
      const blob = registry.blobs.get(layer.digest)!;
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, 100), () => res.destroy());
      return true;
    };
    const cache = freshCache();
    const [image] = await resolveAll(`${registry.host}/app:v1`, { cache });
    const error = await errorOf(image!.layers[0]!.open());
    expect(error.message).toMatch(new RegExp(`download of layer ${layer.digest} from 127\\.0\\.0\\.1:\\d+ failed after 4 attempts`));
    expect(await cache.has(layer.digest)).toBe(false);
    expect(registry.requests.filter((r) => isBlob(r.path, layer.digest))).toHaveLength(4);
  });

  it('a blob that ends early without a length is reported as truncated', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    const layer = manifest.layers[0]!;
    registry.handle = (_req, res, path) => {
      if (!isBlob(path, layer.digest)) return false;
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end(registry.blobs.get(layer.digest)!.subarray(0, 1000));
      return true;
    };
    const [image] = await resolveAll(`${registry.host}/app:v1`);
    await expect(image!.layers[0]!.open()).rejects.toThrow(new RegExp(`${layer.digest} is truncated: 1000 of ${layer.size} bytes`));
  });

  it('a blob served longer than its descriptor says is refused', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    const layer = manifest.layers[0]!;
    registry.blobs.set(layer.digest, Buffer.concat([registry.blobs.get(layer.digest)!, Buffer.alloc(50)]));
    const [image] = await resolveAll(`${registry.host}/app:v1`);
    await expect(image!.layers[0]!.open()).rejects.toThrow(/served with \d+ bytes but its descriptor says \d+/);
  });

  it('a missing blob says the registry lacks data', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    registry.blobs.delete(manifest.layers[0]!.digest);
    const [image] = await resolveAll(`${registry.host}/app:v1`);
    await expect(image!.layers[0]!.open()).rejects.toThrow(/blob sha256:[0-9a-f]{64} not found in 127\.0\.0\.1:\d+\/app \(BLOB_UNKNOWN: blob unknown\)[\s\S]*push the image again/);
  });
});

describe.concurrent('hostile manifests', () => {
  it('garbage instead of a manifest', async () => {
    const registry = await fake();
    registry.putManifest('garbage', '\u0000\u0001 this is not json {{{', OCI_MANIFEST);
    await expect(resolveAll(`${registry.host}/app:garbage`)).rejects.toThrow(/manifest of 127\.0\.0\.1:\d+\/app:garbage is not valid JSON/);
  });

  it('a manifest whose Docker-Content-Digest does not match its bytes', async () => {
    const registry = await fake();
    registry.handle = (_req, res, path) => {
      if (!path.endsWith('/manifests/v1')) return false;
      const digest = registry.tags.get('v1')!;
      const body = registry.manifests.get(digest)!.body;
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': `sha256:${'0'.repeat(64)}` }).end(body);
      return true;
    };
    await expect(resolveAll(`${registry.host}/app:v1`)).rejects.toThrow(/Docker-Content-Digest\) digest mismatch/);
  });

  it('a manifest pulled by digest whose bytes hash to something else', async () => {
    const registry = await fake();
    const { manifestDigest } = served(registry);
    const entry = registry.manifests.get(manifestDigest)!;
    registry.manifests.set(manifestDigest, { ...entry, body: Buffer.from(entry.body.toString().replace('"schemaVersion": 2', '"schemaVersion":2 ')) });
    await expect(resolveAll(`${registry.host}/app@${manifestDigest}`)).rejects.toThrow(new RegExp(`digest mismatch: expected ${manifestDigest}`));
  });

  it('an endless manifest stops at the size limit instead of filling memory', async () => {
    const registry = await fake();
    let sent = 0;
    registry.handle = (_req, res, path) => {
      if (!isManifest(path)) return false;
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && sent < 1024 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => res.destroy());
      pump();
      return true;
    };
    const limits: Limits = { ...resolveLimits(), maxManifestBytes: 256 * 1024 };
    const started = Date.now();
    await expect(resolveAll(`${registry.host}/app:v1`, { limits })).rejects.toThrow(/manifest of .* is larger than the 262144-byte limit/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('an absurd Content-Length is refused before reading', async () => {
    const registry = await fake();
    registry.handle = (_req, res, path) => {
      if (!isManifest(path)) return false;
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(10 ** 12) });
      res.write('{');
      return true;
    };
    await expect(resolveAll(`${registry.host}/app:v1`)).rejects.toThrow(/is 1000000000000 bytes, over the 4194304-byte limit/);
  });

  it('a layer or config declaring an absurd size', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    const hugeLayer = { ...manifest, layers: [{ ...manifest.layers[0]!, size: 10 ** 15 }] };
    registry.putManifest('huge-layer', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, ...hugeLayer }), OCI_MANIFEST);
    await expect(resolveAll(`${registry.host}/app:huge-layer`)).rejects.toThrow(/layer 0 \(sha256:[0-9a-f]+\) declares 1000000000000000 bytes, over the \d+-byte limit/);
    const hugeConfig = { ...manifest, config: { ...manifest.config, size: 10 ** 12 } };
    registry.putManifest('huge-config', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, ...hugeConfig }), OCI_MANIFEST);
    await expect(resolveAll(`${registry.host}/app:huge-config`)).rejects.toThrow(/config of .* declares 1000000000000 bytes, over the/);
  });

  it('an index entry with an absurd size, and an index nested in an index', async () => {
    const registry = await fake();
    const { manifestDigest } = served(registry);
    const index = (entries: unknown[]) => JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries });
    registry.putManifest('big-entry', index([{ mediaType: OCI_MANIFEST, digest: manifestDigest, size: 10 ** 10, platform: { os: 'linux', architecture: 'arm64' } }]), 'application/vnd.oci.image.index.v1+json');
    await expect(resolveAll(`${registry.host}/app:big-entry`)).rejects.toThrow(/lists manifest sha256:[0-9a-f]+ of 10000000000 bytes, over the/);
    registry.putManifest('nested', index([{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: manifestDigest, size: 10, platform: { os: 'linux', architecture: 'arm64' } }]), 'application/vnd.oci.image.index.v1+json');
    await expect(resolveAll(`${registry.host}/app:nested`)).rejects.toThrow(/nests an index/);
  });

  it('an OCI artifact (a Helm chart) is not taken for an image', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    const chart = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...manifest.config, mediaType: 'application/vnd.cncf.helm.config.v1+json' }, layers: manifest.layers };
    registry.putManifest('chart', JSON.stringify(chart), OCI_MANIFEST);
    await expect(resolveAll(`${registry.host}/app:chart`)).rejects.toThrow(/is not a container image: its config is application\/vnd\.cncf\.helm\.config\.v1\+json/);
  });

  it('a schema 1 manifest is refused with advice', async () => {
    const registry = await fake();
    registry.putManifest('old', JSON.stringify({ schemaVersion: 1, name: 'app', tag: 'old', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    await expect(resolveAll(`${registry.host}/app:old`)).rejects.toThrow(/schema 1 manifest[\s\S]*push the image again/);
  });
});

describe.concurrent('stalls', () => {
  it('a server that never answers gives a timeout error, not a hang', async () => {
    const registry = await fake();
    registry.handle = (_req, _res, path) => isManifest(path); // swallow the request
    const started = Date.now();
    const error = await errorOf(resolveAll(`${registry.host}/app:v1`, { timeouts: { headersMs: 300 }, retry: { ...FAST_RETRY, attempts: 2 } }));
    expect(error.message).toMatch(/127\.0\.0\.1:\d+ did not answer within 0\.3s .* \(after 2 attempts\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a blob that stops flowing midway gives an idle timeout error', async () => {
    const registry = await fake();
    const { manifest } = served(registry);
    const layer = manifest.layers[0]!;
    registry.handle = (_req, res, path) => {
      if (!isBlob(path, layer.digest)) return false;
      const blob = registry.blobs.get(layer.digest)!;
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, 10));
      return true;
    };
    const [image] = await resolveAll(`${registry.host}/app:v1`, { timeouts: { bodyIdleMs: 300 }, retry: { ...FAST_RETRY, attempts: 2 } });
    const started = Date.now();
    await expect(image!.layers[0]!.open()).rejects.toThrow(/failed after 2 attempts: .*stopped sending data for 0\.3s/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('redirects', () => {
  let storage: Server;
  let storageRequests: IncomingMessage[] = [];
  let storagePort = 0;
  let storageBlobs = new Map<string, Buffer>();

  beforeAll(async () => {
    storage = createServer((req: IncomingMessage, res: ServerResponse) => {
      storageRequests.push(req);
      const digest = new URL(req.url ?? '/', 'http://x').searchParams.get('d') ?? '';
      const blob = storageBlobs.get(digest);
      if (!blob) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': blob.length }).end(blob);
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    storagePort = (storage.address() as AddressInfo).port;
    cleanups.push(() => new Promise<void>((resolve) => storage.close(() => resolve())));
  });

  it('follows a 307 to blob storage on another host without sending the registry credentials there', async () => {
    const registry = await fake({ basic: 'carol:pw' });
    storageBlobs = registry.blobs;
    storageRequests = [];
    registry.handle = (req, res, path) => {
      const m = /\/blobs\/(sha256:[0-9a-f]+)$/.exec(path);
      if (!m || req.headers.authorization !== `Basic ${Buffer.from('carol:pw').toString('base64')}`) return false;
      // "localhost" is another origin than 127.0.0.1, as S3 would be
      res.writeHead(307, { location: `http://localhost:${storagePort}/bucket/data?d=${m[1]}&sig=abc` }).end();
      return true;
    };
    const config = dockerConfigDir({ auths: { [registry.host]: { auth: Buffer.from('carol:pw').toString('base64') } } });
    cleanups.push(config.remove);
    const [image] = await resolveAll(`${registry.host}/app:v1`, { env: { DOCKER_CONFIG: config.path } });
    for (const layer of image!.layers) expect(await hashStream(await layer.open())).toBe(layer.digest);
    expect(storageRequests.length).toBe(2); // config + layer
    expect(storageRequests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(registry.requests.filter((r) => r.path.includes('/blobs/')).every((r) => r.headers.authorization?.startsWith('Basic '))).toBe(true);
  });

  it('keeps credentials on a same-origin redirect, and stops a redirect loop', async () => {
    const registry = await fake({ basic: 'dan:pw' });
    const { manifest } = served(registry);
    registry.handle = (req, res, path) => {
      if (path.startsWith('/loop/')) {
        res.writeHead(302, { location: `/loop/${Number(path.slice(6)) + 1}` }).end();
        return true;
      }
      const m = /\/v2\/app\/blobs\/(sha256:[0-9a-f]+)$/.exec(path);
      if (!m) return false;
      if (m[1] === manifest.config.digest) res.writeHead(307, { location: `/v2/moved/blobs/${m[1]}` }).end();
      else res.writeHead(302, { location: '/loop/0' }).end();
      return true;
    };
    registry.handle = ((inner) => (req: IncomingMessage, res: ServerResponse, path: string) => {
      if (path.startsWith('/v2/moved/')) {
        expect(req.headers.authorization).toBe(`Basic ${Buffer.from('dan:pw').toString('base64')}`);
        return false;
      }
      return inner(req, res, path);
    })(registry.handle);
    const config = dockerConfigDir({ auths: { [registry.host]: { username: 'dan', password: 'pw' } } });
    cleanups.push(config.remove);
    const [image] = await resolveAll(`${registry.host}/app:v1`, { env: { DOCKER_CONFIG: config.path } });
    expect(image!.config.architecture).toBe('arm64');
    await expect(image!.layers[0]!.open()).rejects.toThrow(/too many redirects/);
  });
});

describe('tag listing', () => {
  it('follows Link pagination and stops at the cap', async () => {
    const registry = await fake();
    const all = Array.from({ length: 7 }, (_, i) => `t${i}`);
    registry.handle = (req, res, path) => {
      if (!path.endsWith('/tags/list')) return false;
      const url = new URL(req.url ?? '/', 'http://x');
      const n = Number(url.searchParams.get('n'));
      const last = url.searchParams.get('last');
      const from = last ? all.indexOf(last) + 1 : 0;
      const page = all.slice(from, from + n);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (from + n < all.length) headers.link = `</v2/app/tags/list?n=${n}&last=${page.at(-1)}>; rel="next"`;
      res.writeHead(200, headers).end(JSON.stringify({ name: 'app', tags: page }));
      return true;
    };
    const s = await source(`${registry.host}/app`);
    expect(await s.client.listTags('app', { pageSize: 3 })).toEqual(all);
    expect(await s.client.listTags('app', { pageSize: 2, maxTags: 3 })).toEqual(['t0', 't1', 't2']);
  });
});

describe('HTTPS and --insecure-registry', () => {
  let tls: { key: string; cert: string };

  beforeAll(async () => {
    const dir = tempDir('tls');
    cleanups.push(dir.remove);
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir.path, 'k.pem'), '-out', join(dir.path, 'c.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    tls = { key: await fs.readFile(join(dir.path, 'k.pem'), 'utf8'), cert: await fs.readFile(join(dir.path, 'c.pem'), 'utf8') };
  });

  it('loopback registries are insecure by default: a self-signed HTTPS registry works', async () => {
    const registry = await fake({ tls });
    const [image] = await resolveAll(`${registry.host}/app:v1`);
    expect(image!.digest).toBe(served(registry).manifestDigest);
  });

  it('an untrusted certificate is refused on a secure host, with the --insecure-registry hint', async () => {
    const registry = await fake({ tls });
    await expect(resolveAll(`${registry.host}/app:v1`, { loopbackIsInsecure: false })).rejects.toThrow(
      new RegExp(`TLS certificate of ${registry.host.replace(/\./g, '\\.')} is not trusted: self[- ]signed certificate[\\s\\S]*--insecure-registry ${registry.host.replace(/\./g, '\\.')}`),
    );
    const [image] = await resolveAll(`${registry.host}/app:v1`, { loopbackIsInsecure: false, insecureRegistries: [registry.host] });
    expect(image!.layers).toHaveLength(1);
  });

  it('plain HTTP only for insecure registries', async () => {
    const registry = await fake();
    await expect(resolveAll(`${registry.host}/app:v1`, { loopbackIsInsecure: false })).rejects.toThrow(/does not speak HTTPS[\s\S]*for a plain-HTTP registry, if you trust this registry, pass --insecure-registry 127\.0\.0\.1:\d+/);
    const [image] = await resolveAll(`${registry.host}/app:v1`, { loopbackIsInsecure: false, insecureRegistries: ['127.0.0.1'] });
    expect(image!.layers).toHaveLength(1);
    // HTTPS was tried first, then plain HTTP
    expect(registry.requests.filter((r) => r.path === '/v2/')).toHaveLength(1);
  });

  it('a redirect from HTTPS to plain HTTP on a secure host is refused', async () => {
    const registry = await fake({ tls });
    registry.handle = (_req, res, path) => {
      if (!path.includes('/blobs/')) return false;
      res.writeHead(307, { location: `http://example.invalid/blob` }).end();
      return true;
    };
    await expect(resolveAll(`${registry.host}/app:v1`)).rejects.toThrow(/refusing plain HTTP to example\.invalid[\s\S]*HTTPS is required unless you pass --insecure-registry example\.invalid/);
  });
});
