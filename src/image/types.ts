import type { Readable } from 'node:stream';
import type { Limits } from '../config/limits.js';
import type { Progress } from '../progress/progress.js';
import type { BlobCache } from './cache.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** `--platform`: one platform, or every platform an index lists. */
export type PlatformSelector = Platform | 'all';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

/** The parts of an OCI / Docker image config that Detonate reads. */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    ExposedPorts?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
    WorkingDir?: string;
  } | null;
  rootfs?: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

/** One layer of a resolved image: its identity and a way to open its bytes, verified against `digest` as they stream. */
export interface Layer {
  index: number;
  /**
   * Digest of the blob as stored (compressed or not), as the manifest names it; for a layer file of a docker archive,
   * which names none, the digest of the file's bytes.
   */
  digest: string;
  /**
   * sha256 of the uncompressed tar as the image config claims it (rootfs.diff_ids). A claim until a walk of the
   * layer hashed the same: the walker refuses a layer whose content hashes to anything else.
   */
  diffId: string;
  size: number;
  mediaType: string;
  createdBy?: string;
  /** Opens the blob as stored; the stream errors (IntegrityError) if the bytes do not match `digest` or `size`. */
  open(): Promise<Readable>;
  /**
   * Checks, without trusting any file of the image, that the stored bytes are the blob `digest` names: a local file is
   * hashed, a registry blob is content-addressed by the registry and cached only once verified. Throws an
   * IntegrityError otherwise. What a cache keyed by `digest` holds is only ever used after this.
   */
  verifyStored(): Promise<void>;
  /** Fetches the blob ahead of `open()` where that saves time (a registry download); absent for local files. */
  prefetch?(): Promise<void>;
}

export interface ResolvedImage {
  /** Normalised reference as the user would recognise it (`docker.io/library/nginx:latest`, `docker-archive:/x.tar`). */
  reference: string;
  /** Digest of the image manifest (for archives without one, of the config). */
  digest: string;
  /** Digest of the index/manifest list the image was picked from, if any. */
  indexDigest?: string;
  platform: Platform;
  configDigest: string;
  config: ImageConfigFile;
  layers: Layer[];
}

/**
 * Where images come from: registry, docker-archive, oci-archive, oci layout. Every source resolves a reference
 * plus platform selector into concrete images whose layers can be streamed.
 */
export interface ImageSource {
  resolve(platform: PlatformSelector): Promise<ResolvedImage[]>;
  /** Releases file handles and connections. */
  close(): Promise<void>;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) {
    throw new Error(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** The platform of this machine, in OCI terms. */
export function hostPlatform(): Platform {
  const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: archMap[process.arch] ?? process.arch };
}

/** How an IMAGE argument is opened (`openImageSource`). */
export interface OpenSourceOptions {
  limits: Limits;
  cache: BlobCache;
  /** Hosts reached over plain HTTP / with unverified TLS (`--insecure-registry`). */
  insecureRegistries: string[];
  /** True when the user passed --platform: archives then refuse an image of another platform. */
  platformExplicit: boolean;
  /** Download progress and notes from registries. */
  progress?: Progress;
  /** Sees every registry response (not redirects), e.g. to honour rate-limit headers across processes. */
  onRegistryResponse?: RegistryResponseObserver;
}

/** A registry's answer as an observer sees it: who answered, the status, and the headers. */
export interface RegistryResponse {
  /** `host[:port]` that answered (after redirects: blob storage may be another host). */
  host: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export type RegistryResponseObserver = (response: RegistryResponse) => void;
