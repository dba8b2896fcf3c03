import type { Readable } from 'node:stream';
import { ImageError } from './errors.js';
import { parseDigest } from './digest.js';
import type { Descriptor, ImageConfigFile, Layer, Platform, PlatformSelector, ResolvedImage } from './types.js';
import { ShapeError, arrayAt, fail, jsonErrorWithoutContent, objectAt, optionalString, optionalStringArray, optionalStringRecord, sizeAt, stringAt } from './validate.js';
import { formatPlatform } from './types.js';
import type { Limits } from '../config/limits.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What a registry client sends in `Accept` for a manifest. */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(', ');

function digestAt(v: unknown, path: string): string {
  const d = stringAt(v, path);
  try {
    parseDigest(d);
  } catch {
    fail(path, 'not a valid digest');
  }
  return d;
}

function platformAt(v: unknown, path: string): Platform | undefined {
  if (v === undefined || v === null) return undefined;
  const o = objectAt(v, path);
  const variant = optionalString(o.variant, `${path}.variant`);
  return { os: stringAt(o.os, `${path}.os`), architecture: stringAt(o.architecture, `${path}.architecture`), ...(variant ? { variant } : {}) };
}

function descriptorAt(v: unknown, path: string): Descriptor {
  const o = objectAt(v, path);
  const platform = platformAt(o.platform, `${path}.platform`);
  const annotations = optionalStringRecord(o.annotations, `${path}.annotations`);
  const urls = optionalStringArray(o.urls, `${path}.urls`);
  return {
    mediaType: optionalString(o.mediaType, `${path}.mediaType`) ?? '',
    digest: digestAt(o.digest, `${path}.digest`),
    size: sizeAt(o.size, `${path}.size`),
    ...(platform ? { platform } : {}),
    ...(annotations ? { annotations } : {}),
    ...(urls ? { urls } : {}),
  };
}

function schemaVersion2(o: Record<string, unknown>): void {
  if (o.schemaVersion !== 2) fail('schemaVersion', 'expected 2');
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

function indexShape(o: Record<string, unknown>): ImageIndex {
  schemaVersion2(o);
  // some writers (go-containerregistry) emit `"manifests": null` for an empty index
  const manifests = o.manifests === null ? [] : arrayAt(o.manifests, 'manifests').map((d, i) => descriptorAt(d, `manifests.${i}`));
  const mediaType = optionalString(o.mediaType, 'mediaType');
  return { schemaVersion: 2, ...(mediaType ? { mediaType } : {}), manifests };
}

function manifestShape(o: Record<string, unknown>): ImageManifest {
  schemaVersion2(o);
  const mediaType = optionalString(o.mediaType, 'mediaType');
  return {
    schemaVersion: 2,
    ...(mediaType ? { mediaType } : {}),
    config: descriptorAt(o.config, 'config'),
    layers: arrayAt(o.layers, 'layers').map((d, i) => descriptorAt(d, `layers.${i}`)),
  };
}

function configShape(v: unknown): ImageConfigFile {
  const o = objectAt(v, '');
  const c = o.config === undefined || o.config === null ? null : objectAt(o.config, 'config');
  const rootfs = objectAt(o.rootfs, 'rootfs');
  const out: ImageConfigFile = {
    architecture: optionalString(o.architecture, 'architecture'),
    os: optionalString(o.os, 'os'),
    variant: optionalString(o.variant, 'variant'),
    created: optionalString(o.created, 'created'),
    config: c && {
      User: optionalString(c.User, 'config.User'),
      Entrypoint: optionalStringArray(c.Entrypoint, 'config.Entrypoint') ?? null,
      Cmd: optionalStringArray(c.Cmd, 'config.Cmd') ?? null,
      Env: optionalStringArray(c.Env, 'config.Env') ?? null,
      ExposedPorts: c.ExposedPorts === undefined || c.ExposedPorts === null ? null : objectAt(c.ExposedPorts, 'config.ExposedPorts'),
      Labels: optionalStringRecord(c.Labels, 'config.Labels') ?? null,
      WorkingDir: optionalString(c.WorkingDir, 'config.WorkingDir'),
    },
    rootfs: { type: stringAt(rootfs.type, 'rootfs.type'), diff_ids: arrayAt(rootfs.diff_ids, 'rootfs.diff_ids').map((d, i) => digestAt(d, `rootfs.diff_ids.${i}`)) },
  };
  if (o.history !== undefined && o.history !== null) {
    out.history = arrayAt(o.history, 'history').map((h, i) => {
      const e = objectAt(h, `history.${i}`);
      return {
        created: optionalString(e.created, `history.${i}.created`),
        created_by: optionalString(e.created_by, `history.${i}.created_by`),
        empty_layer: e.empty_layer === true,
        comment: optionalString(e.comment, `history.${i}.comment`),
      };
    });
  }
  return out;
}

function shaped<T>(what: string, kind: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ShapeError) throw new ImageError(`${what} is not a valid ${kind}: ${err.message}`);
    throw err;
  }
}

function parseJson(bytes: Buffer, what: string, limits: Pick<Limits, 'maxManifestBytes'>): unknown {
  if (bytes.length > limits.maxManifestBytes) {
    throw new ImageError(`${what} is ${bytes.length} bytes, over the ${limits.maxManifestBytes}-byte limit`, 'the source is hostile or not an image');
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ImageError(`${what} is not valid JSON${jsonErrorWithoutContent(err)}`);
  }
}

/** Parses a manifest or index; which one it is comes from its mediaType, or from its shape when that is absent. */
export function parseManifestOrIndex(
  bytes: Buffer,
  what: string,
  limits: Pick<Limits, 'maxManifestBytes'>,
  contentType?: string,
): { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest } {
  const json = parseJson(bytes, what, limits);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ImageError(`${what} is not a JSON object`);
  const obj = json as Record<string, unknown>;
  const mediaType = (typeof obj.mediaType === 'string' ? obj.mediaType : undefined) ?? contentType?.split(';')[0]?.trim();
  if (mediaType === MEDIA_TYPES.dockerSchema1 || mediaType === MEDIA_TYPES.dockerSchema1Signed || obj.schemaVersion === 1) {
    throw new ImageError(`${what} is a Docker schema 1 manifest, which is deprecated and unsupported`, 'push the image again with a current tool (schema 2 or OCI)');
  }
  const isIndex = mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList || (!('layers' in obj) && 'manifests' in obj);
  if (isIndex) return { kind: 'index', index: shaped(what, 'image index', () => indexShape(obj)) };
  return { kind: 'manifest', manifest: shaped(what, 'image manifest', () => manifestShape(obj)) };
}

export function parseImageConfig(bytes: Buffer, what: string, limits: Pick<Limits, 'maxManifestBytes'>): ImageConfigFile {
  const json = parseJson(bytes, what, limits);
  return shaped(what, 'image config', () => configShape(json));
}

function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  if (!wanted.variant) return true;
  // arm64 images often omit the default variant v8
  return (candidate.variant ?? (candidate.architecture === 'arm64' ? 'v8' : undefined)) === wanted.variant;
}

/**
 * The manifests and indexes one IMAGE argument may make Detonate read: each digest is read once, however often
 * indexes list it, and a total bounds the rest, so an index that fans out wide and deep costs what its distinct
 * contents cost and no more.
 */
export class ManifestBudget {
  private readonly seen = new Set<string>();

  constructor(private readonly limit: number, private readonly subject: string) {}

  /** False when `digest` was already taken; throws once more distinct manifests are asked for than the limit. */
  take(digest: string): boolean {
    if (this.seen.has(digest)) return false;
    if (this.seen.size >= this.limit) {
      throw new ImageError(`${this.subject} lists more than ${this.limit} distinct manifests and indexes`, 'the index is hostile, or raise the manifest limit for a genuinely huge one');
    }
    this.seen.add(digest);
    return true;
  }
}

/** Descriptors of an index that are images (not attestations or signatures), filtered by the platform selector. */
export function selectFromIndex(index: ImageIndex, selector: PlatformSelector, what: string): Descriptor[] {
  const isImage = (d: Descriptor) =>
    d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && !(d.platform?.os === 'unknown' && d.platform.architecture === 'unknown');
  // an image listed twice is one image
  const images = [...new Map(index.manifests.filter(isImage).map((d) => [d.digest, d])).values()];
  if (selector === 'all') {
    if (images.length === 0) throw new ImageError(`${what} lists no images`);
    return images;
  }
  const match = images.find((d) => platformMatches(d.platform, selector));
  if (match) return [match];
  // An index without platforms (e.g. an OCI layout from a build tool) with a single image: take it.
  if (images.length === 1 && !images[0]!.platform) return images;
  const available = images.map((d) => (d.platform ? formatPlatform(d.platform) : d.digest)).join(', ');
  throw new ImageError(`${what} has no image for platform ${formatPlatform(selector)}`, `available: ${available || 'none'}; pass --platform with one of them, or --platform all`);
}

/**
 * `created_by` of each layer, from the config's history: entries marked `empty_layer` (ENV, CMD …) have no layer,
 * the others line up with the layers in order. Builders that write no or short history leave the rest unknown.
 */
export function layerHistory(config: ImageConfigFile, layerCount: number): (string | undefined)[] {
  const withLayers = (config.history ?? []).filter((h) => !h.empty_layer).map((h) => h.created_by);
  return Array.from({ length: layerCount }, (_, i) => withLayers[i]);
}

export interface BuildImageInput {
  reference: string;
  manifestDigest: string;
  indexDigest?: string;
  manifest: ImageManifest;
  config: ImageConfigFile;
  limits: Pick<Limits, 'maxLayers' | 'maxBlobBytes'>;
  openBlob(descriptor: Descriptor): Promise<Readable>;
  /** See `Layer.verifyStored`. */
  verifyBlob(descriptor: Descriptor): Promise<void>;
  /** See `Layer.prefetch`. */
  prefetchBlob?(descriptor: Descriptor): Promise<void>;
}

/** Joins a manifest and its config into a `ResolvedImage`, checking that they agree. */
export function buildResolvedImage(input: BuildImageInput): ResolvedImage {
  const { manifest, config, limits } = input;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (manifest.layers.length > limits.maxLayers) {
    throw new ImageError(`image has ${manifest.layers.length} layers, over the limit of ${limits.maxLayers}`);
  }
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError(`image config lists ${diffIds.length} layer diff IDs but the manifest has ${manifest.layers.length} layers`, 'the image is malformed');
  }
  const history = layerHistory(config, manifest.layers.length);
  const layers: Layer[] = manifest.layers.map((d, index) => {
    if (d.size > limits.maxBlobBytes) {
      throw new ImageError(`layer ${index} (${d.digest}) declares ${d.size} bytes, over the ${limits.maxBlobBytes}-byte limit`, 'the manifest is hostile or corrupt');
    }
    const descriptor = d;
    return {
      index,
      digest: d.digest,
      diffId: diffIds[index]!,
      size: d.size,
      mediaType: d.mediaType,
      createdBy: history[index],
      open: () => input.openBlob(descriptor),
      verifyStored: () => input.verifyBlob(descriptor),
      ...(input.prefetchBlob ? { prefetch: () => input.prefetchBlob!(descriptor) } : {}),
    };
  });
  return {
    reference: input.reference,
    digest: input.manifestDigest,
    indexDigest: input.indexDigest,
    platform: {
      os: config.os ?? 'linux',
      architecture: config.architecture ?? 'unknown',
      ...(config.variant ? { variant: config.variant } : {}),
    },
    configDigest: manifest.config.digest,
    config,
    layers,
  };
}
