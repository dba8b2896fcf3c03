/**
 * Registry references as an `ImageSource`.
 *
 *   const source = await openRegistrySource('nginx:1.25', { limits, cache, insecureRegistries: [], platformExplicit: false });
 *   const images = await source.resolve(hostPlatform());   // or { os: 'linux', architecture: 'arm64' }, or 'all'
 *   const blob = await images[0].layers[0].open();         // verified, cached bytes of the layer as stored
 *   await source.close();
 *
 * Options (`RegistrySourceOptions`):
 * - `limits` (required): `maxManifestBytes` bounds every manifest, index, config, token and tag-list body while it
 *   is read; `maxBlobBytes` and `maxLayers` bound what a manifest may declare.
 * - `cache` (required): the `BlobCache`. Layers, configs and manifests (by digest) are streamed into it and verified
 *   before they are kept, so a re-scan by digest needs no download; a layer is never held whole in memory.
 * - `insecureRegistries` (default `[]`): `--insecure-registry` values (`host`, `host:port`, IPv4 CIDR). Those hosts,
 *   and localhost / 127.0.0.0/8 as Docker does, may use plain HTTP (tried after HTTPS) or an unverified
 *   certificate; every other host needs HTTPS with a trusted certificate, also after a redirect.
 * - `platformExplicit` (default `false`): whether the user passed `--platform`. As `docker pull --platform` does, a
 *   single-platform image of another platform is then an error naming the platform it has; without it, such an
 *   image is scanned (with a note through `progress`). An index always needs an entry for the asked platform.
 * - `env` (default `process.env`): where `DOCKER_CONFIG` and `HOME` are read (credentials: see credentials.ts).
 * - `timeouts`, `retry` (defaults `DEFAULT_REGISTRY_TIMEOUTS`, `DEFAULT_REGISTRY_RETRY` in src/image/limits.ts): connect / headers / body-idle
 *   / small-request timeouts; attempts and backoff for 429, 5xx and dropped connections.
 * - `progress` (optional): a download task per blob fetched from the network, and notes.
 * - `userAgent` (default `detonate/<version>`).
 * - `loopbackIsInsecure` (default `true`): false treats localhost like any other host (tests of the HTTPS rules).
 */
import { Readable, Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Limits } from '../../config/limits.js';
import type { Progress } from '../../progress/progress.js';
import { toolVersion } from '../../version.js';
import type { BlobCache } from '../cache.js';
import { ImageError } from '../errors.js';
import { buildResolvedImage, MEDIA_TYPES, parseImageConfig, parseManifestOrIndex, selectFromIndex, type ImageManifest } from '../manifest.js';
import { parseImageRef, type ImageRef } from '../ref.js';
import { formatPlatform, type Descriptor, type ImageSource, type Platform, type PlatformSelector, type RegistryResponseObserver, type ResolvedImage } from '../types.js';
import { RegistryClient, type FetchedManifest } from './client.js';
import { HttpTransport, isNetworkFailure, networkError, readBounded, RegistryError } from './transport.js';
import { DEFAULT_REGISTRY_RETRY, DEFAULT_REGISTRY_TIMEOUTS, MAX_IMAGES_PER_INDEX, type RegistryTimeouts, type RetryPolicy } from '../limits.js';

export interface RegistrySourceOptions {
  limits: Limits;
  cache: BlobCache;
  insecureRegistries?: readonly string[];
  platformExplicit?: boolean;
  env?: NodeJS.ProcessEnv;
  timeouts?: Partial<RegistryTimeouts>;
  retry?: Partial<RetryPolicy>;
  progress?: Progress;
  userAgent?: string;
  loopbackIsInsecure?: boolean;
  /** Sees every response (see `TransportOptions.onResponse`). */
  onRegistryResponse?: RegistryResponseObserver;
}

const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList];
/** Config media types of container images; anything else is an OCI artifact (Helm chart, signature, SBOM …). */
const IMAGE_CONFIG_TYPES: readonly string[] = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig, ''];

function platformMatches(have: Platform, want: Platform): boolean {
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  if (!want.variant) return true;
  return (have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined)) === want.variant;
}

export class RegistrySource implements ImageSource {
  constructor(
    readonly ref: ImageRef,
    readonly client: RegistryClient,
    private readonly transport: HttpTransport,
    private readonly options: RegistrySourceOptions,
  ) {}

  async resolve(platform: PlatformSelector): Promise<ResolvedImage[]> {
    const { ref } = this;
    const { limits } = this.options;
    const subject = ref.toString();
    const top = await this.manifest(ref.manifestReference, subject, ref.digest ? { digest: ref.digest } : undefined);
    const parsed = parseManifestOrIndex(top.bytes, `the manifest of ${subject}`, limits, top.contentType);

    if (parsed.kind === 'index') {
      const chosen = selectFromIndex(parsed.index, platform, subject);
      if (chosen.length > MAX_IMAGES_PER_INDEX) throw new ImageError(`${subject} lists ${chosen.length} images, over the limit of ${MAX_IMAGES_PER_INDEX}`);
      const images: ResolvedImage[] = [];
      for (const d of chosen) {
        const childSubject = `${ref.name}@${d.digest}`;
        if (INDEX_TYPES.includes(d.mediaType)) {
          throw new ImageError(`${subject} nests an index (${d.digest}) inside its index`, 'nested indexes are not supported; scan a platform manifest by digest');
        }
        if (d.size > limits.maxManifestBytes) {
          throw new ImageError(`${subject} lists manifest ${d.digest} of ${d.size} bytes, over the ${limits.maxManifestBytes}-byte limit`, 'the index is hostile or corrupt');
        }
        const child = await this.manifest(d.digest, childSubject, { digest: d.digest, size: d.size });
        const childParsed = parseManifestOrIndex(child.bytes, `the manifest of ${childSubject}`, limits, child.contentType);
        if (childParsed.kind !== 'manifest') throw new ImageError(`${childSubject}, listed in the index of ${subject}, is not an image manifest`);
        images.push(await this.image(childParsed.manifest, d.digest, top.digest, d));
      }
      return images;
    }

    const image = await this.image(parsed.manifest, top.digest, undefined, undefined);
    if (platform !== 'all' && !platformMatches(image.platform, platform)) {
      if (this.options.platformExplicit) {
        throw new ImageError(
          `${subject} is a single-platform image for ${formatPlatform(image.platform)}, which does not match the requested platform ${formatPlatform(platform)}`,
          `pass --platform ${formatPlatform(image.platform)}, or drop --platform`,
        );
      }
      this.options.progress?.log(`note: ${subject} is only available for ${formatPlatform(image.platform)}, not ${formatPlatform(platform)}; scanning it anyway`);
    }
    return [image];
  }

  /** A manifest, from the cache when its digest is known and it is there, else from the registry. */
  private async manifest(reference: string, subject: string, known?: { digest: string; size?: number }): Promise<FetchedManifest> {
    const { cache, limits } = this.options;
    if (known) {
      const cached = await cache.open(known.digest);
      if (cached) return { bytes: await readBounded(cached, limits.maxManifestBytes, `cached manifest ${known.digest}`), digest: known.digest };
    }
    const fetched = await this.client.getManifest(this.ref.repository, reference, subject);
    if (known?.size !== undefined && fetched.bytes.length !== known.size) {
      throw new ImageError(`the manifest of ${subject} is ${fetched.bytes.length} bytes but the index says ${known.size}`, 'the registry is corrupt or hostile');
    }
    await cache.store(fetched.digest, fetched.bytes.length, Readable.from([fetched.bytes]));
    return fetched;
  }

  private async image(manifest: ImageManifest, manifestDigest: string, indexDigest: string | undefined, descriptor: Descriptor | undefined): Promise<ResolvedImage> {
    const { limits } = this.options;
    const subject = `${this.ref.name}@${manifestDigest}`;
    const configType = manifest.config.mediaType;
    if (!IMAGE_CONFIG_TYPES.includes(configType)) {
      throw new ImageError(`${subject} is not a container image: its config is ${configType}`, 'this is an OCI artifact (e.g. a Helm chart, signature or SBOM), not something Detonate can scan');
    }
    if (manifest.config.size > limits.maxManifestBytes) {
      throw new ImageError(`the config of ${subject} declares ${manifest.config.size} bytes, over the ${limits.maxManifestBytes}-byte limit`, 'the manifest is hostile or corrupt');
    }
    const configStream = await this.openBlob(manifest.config, 'config');
    const configBytes = await readBounded(configStream, limits.maxManifestBytes, `the config of ${subject}`);
    const config = parseImageConfig(configBytes, `the config of ${subject}`, limits);
    const image = buildResolvedImage({
      reference: this.ref.toString(),
      manifestDigest,
      ...(indexDigest ? { indexDigest } : {}),
      manifest,
      config,
      limits,
      openBlob: (d) => this.openBlob(d, 'layer'),
      // A registry serves blobs by content address and a blob enters the cache only once its digest was checked.
      verifyBlob: async () => {},
      prefetchBlob: async (d) => {
        (await this.openBlob(d, 'layer')).destroy();
      },
    });
    // An index entry often carries the variant (arm/v7) that the config leaves out.
    const listed = descriptor?.platform;
    if (listed?.variant && !image.platform.variant && listed.os === image.platform.os && listed.architecture === image.platform.architecture) {
      image.platform = { ...image.platform, variant: listed.variant };
    }
    return image;
  }

  /**
   * A verified blob from the cache, downloading it first when missing. A dropped connection or 5xx mid-download is
   * retried from the start (bounded); a digest or size mismatch is final and leaves nothing in the cache.
   */
  private async openBlob(d: Descriptor, what: 'layer' | 'config'): Promise<Readable> {
    const { cache } = this.options;
    const attempts = this.transport.options.retry.attempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await cache.openOrFetch(d.digest, d.size, () => this.download(d, what));
      } catch (err) {
        if (!isNetworkFailure(err)) throw err;
        const error = err instanceof RegistryError ? err : networkError(err, `https://${this.ref.apiHost}/v2/${this.ref.repository}/blobs/${d.digest}`, this.transport.options.timeouts);
        if (attempt >= attempts) {
          throw new RegistryError(`download of ${what} ${d.digest} from ${this.ref.registry} failed after ${attempt} attempts: ${error.message.split('\n')[0]}`, error.hint, false, error.status);
        }
        await sleep(this.transport.backoffMs(attempt));
      }
    }
  }

  private async download(d: Descriptor, what: string): Promise<Readable> {
    const body = await this.client.openBlob(this.ref.repository, d.digest, d.size);
    const progress = this.options.progress;
    if (!progress || what !== 'layer') return body;
    const task = progress.task(`pull ${d.digest.slice(7, 19)}`, d.size);
    let seen = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        task.update(seen);
        cb(null, chunk);
      },
      flush(cb) {
        task.finish();
        cb();
      },
    });
    body.on('error', (err) => counter.destroy(err));
    counter.on('error', () => task.finish('failed'));
    counter.on('close', () => body.destroy());
    return body.pipe(counter);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Parses `reference` and sets up the client; nothing is fetched until `resolve`. */
export async function openRegistrySource(reference: string | ImageRef, options: RegistrySourceOptions): Promise<RegistrySource> {
  const ref = typeof reference === 'string' ? parseImageRef(reference) : reference;
  const transport = new HttpTransport({
    insecureRegistries: options.insecureRegistries ?? [],
    loopbackIsInsecure: options.loopbackIsInsecure ?? true,
    timeouts: { ...DEFAULT_REGISTRY_TIMEOUTS, ...options.timeouts },
    retry: { ...DEFAULT_REGISTRY_RETRY, ...options.retry },
    userAgent: options.userAgent ?? `detonate/${toolVersion()}`,
    ...(options.onRegistryResponse ? { onResponse: options.onRegistryResponse } : {}),
  });
  const client = new RegistryClient({ registry: ref.registry, apiHost: ref.apiHost, transport, limits: options.limits, env: options.env ?? process.env });
  return new RegistrySource(ref, client, transport, options);
}
