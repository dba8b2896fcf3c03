import { z } from 'zod';
import type { Readable } from 'node:stream';
import { ImageError } from './errors.js';
import { parseDigest } from './digest.js';
import type { Descriptor, ImageConfigFile, Layer, Platform, PlatformSelector, ResolvedImage } from './types.js';
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

const digestString = z.string().refine((d) => {
  try {
    parseDigest(d);
    return true;
  } catch {
    return false;
  }
}, 'not a valid digest');

const platformSchema = z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).loose();

const descriptorSchema = z
  .object({
    mediaType: z.string().default(''),
    digest: digestString,
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    platform: platformSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    urls: z.array(z.string()).optional(),
  })
  .loose();

export const indexSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    // some writers (go-containerregistry) emit `"manifests": null` for an empty index
    manifests: z.array(descriptorSchema).nullable().transform((m) => m ?? []),
  })
  .loose();

export const manifestSchema = z
  .object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), config: descriptorSchema, layers: z.array(descriptorSchema) })
  .loose();

const configSchema = z
  .object({
    architecture: z.string().optional(),
    os: z.string().optional(),
    variant: z.string().optional(),
    created: z.string().optional(),
    config: z
      .object({
        User: z.string().optional(),
        Entrypoint: z.array(z.string()).nullable().optional(),
        Cmd: z.array(z.string()).nullable().optional(),
        Env: z.array(z.string()).nullable().optional(),
        ExposedPorts: z.record(z.string(), z.unknown()).nullable().optional(),
        Labels: z.record(z.string(), z.string()).nullable().optional(),
        WorkingDir: z.string().optional(),
      })
      .loose()
      .nullable()
      .optional(),
    rootfs: z.object({ type: z.string(), diff_ids: z.array(digestString) }).loose(),
    history: z
      .array(z.object({ created: z.string().optional(), created_by: z.string().optional(), empty_layer: z.boolean().optional(), comment: z.string().optional() }).loose())
      .optional(),
  })
  .loose();

export type ImageIndex = z.infer<typeof indexSchema>;
export type ImageManifest = z.infer<typeof manifestSchema>;

function parseJson(bytes: Buffer, what: string, limits: Pick<Limits, 'maxManifestBytes'>): unknown {
  if (bytes.length > limits.maxManifestBytes) {
    throw new ImageError(`${what} is ${bytes.length} bytes, over the ${limits.maxManifestBytes}-byte limit`, 'the source is hostile or not an image');
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ImageError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function issues(err: z.ZodError): string {
  return err.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
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
  if (isIndex) {
    const r = indexSchema.safeParse(obj);
    if (!r.success) throw new ImageError(`${what} is not a valid image index: ${issues(r.error)}`);
    return { kind: 'index', index: r.data };
  }
  const r = manifestSchema.safeParse(obj);
  if (!r.success) throw new ImageError(`${what} is not a valid image manifest: ${issues(r.error)}`);
  return { kind: 'manifest', manifest: r.data };
}

export function parseImageConfig(bytes: Buffer, what: string, limits: Pick<Limits, 'maxManifestBytes'>): ImageConfigFile {
  const r = configSchema.safeParse(parseJson(bytes, what, limits));
  if (!r.success) throw new ImageError(`${what} is not a valid image config: ${issues(r.error)}`);
  return r.data as ImageConfigFile;
}

function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  if (!wanted.variant) return true;
  // arm64 images often omit the default variant v8
  return (candidate.variant ?? (candidate.architecture === 'arm64' ? 'v8' : undefined)) === wanted.variant;
}

/** Descriptors of an index that are images (not attestations or signatures), filtered by the platform selector. */
export function selectFromIndex(index: ImageIndex, selector: PlatformSelector, what: string): Descriptor[] {
  const images = index.manifests.filter(
    (d) => d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && !(d.platform?.os === 'unknown' && d.platform.architecture === 'unknown'),
  ) as Descriptor[];
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

/** `created_by` of each non-empty layer, from the config's history (empty_layer entries have no layer). */
export function layerHistory(config: ImageConfigFile, layerCount: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const h of config.history ?? []) {
    if (h.empty_layer) continue;
    out.push(h.created_by);
  }
  // Some builders write no history, or a history that does not match the layer count: attribute what lines up.
  return Array.from({ length: layerCount }, (_, i) => (out.length === layerCount ? out[i] : out[i]));
}

export interface BuildImageInput {
  reference: string;
  manifestDigest: string;
  indexDigest?: string;
  manifest: ImageManifest;
  config: ImageConfigFile;
  limits: Pick<Limits, 'maxLayers' | 'maxBlobBytes'>;
  openBlob(descriptor: Descriptor): Promise<Readable>;
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
    const descriptor = d as Descriptor;
    return {
      index,
      digest: d.digest,
      diffId: diffIds[index]!,
      size: d.size,
      mediaType: d.mediaType,
      createdBy: history[index],
      open: () => input.openBlob(descriptor),
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
