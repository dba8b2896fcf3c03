/**
 * Image references, parsed and normalised the way the Docker CLI does it (the grammar of
 * github.com/distribution/reference, plus Docker's normalisation of short names):
 *
 *   nginx                       → docker.io/library/nginx:latest   (API host registry-1.docker.io)
 *   user/repo:1.0               → docker.io/user/repo:1.0
 *   ghcr.io/o/r@sha256:…        → ghcr.io/o/r@sha256:…              (no default tag when a digest is given)
 *   localhost:5000/a/b:tag      → localhost:5000/a/b:tag
 *   nginx:1.25@sha256:…         → docker.io/library/nginx:1.25@sha256:…  (pulled by digest: the digest wins)
 *
 * The first path component is a registry host only if it contains "." or ":", is "localhost", or has an uppercase
 * letter; otherwise the reference is a Docker Hub repository. Repository names must be lowercase.
 */
import { ImageError } from './errors.js';
import { parseDigest } from './digest.js';
import { MAX_IMAGE_NAME_CHARS, MAX_REFERENCE_CHARS } from './limits.js';

/** Docker Hub, as references name it. */
export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API actually answers. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The key Docker writes Docker Hub credentials under in config.json. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';
const LEGACY_DOCKER_HUB = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';

// Grammar pieces (distribution/reference regexp.go).
const ALPHA_NUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const DOMAIN_RE = new RegExp(`^${HOST_AND_PORT}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
/** A bare image ID: Docker refuses it as a repository name. */
const IMAGE_ID_RE = /^[a-f0-9]{64}$/;

const FORMAT_HINT = 'references look like nginx, nginx:1.25, ghcr.io/owner/repo:tag, localhost:5000/repo@sha256:<64 hex>';

export class ImageRef {
  constructor(
    /** Registry as references name it: `docker.io`, `ghcr.io`, `localhost:5000`. */
    readonly registry: string,
    /** Repository path inside the registry: `library/nginx`, `owner/repo`. */
    readonly repository: string,
    /** Tag; `latest` when neither a tag nor a digest was given. Absent for digest-only references. */
    readonly tag: string | undefined,
    /** Manifest digest; when present, it is what gets pulled, whatever the tag. */
    readonly digest: string | undefined,
  ) {}

  /** Host (and port) that serves the registry API: `registry-1.docker.io` for Docker Hub, else `registry`. */
  get apiHost(): string {
    return this.registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : this.registry;
  }

  /** `registry/repository`, e.g. `docker.io/library/nginx`. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** What to put after `/manifests/`: the digest when there is one, else the tag. */
  get manifestReference(): string {
    return this.digest ?? this.tag ?? DEFAULT_TAG;
  }

  /** Short form as `docker` prints it: `nginx:latest`, `user/repo:1.0`, `ghcr.io/o/r@sha256:…`. */
  get familiar(): string {
    let name = this.name;
    if (this.registry === DOCKER_HUB) {
      name = this.repository.startsWith(OFFICIAL_REPO_PREFIX) && this.repository.indexOf('/', OFFICIAL_REPO_PREFIX.length) === -1
        ? this.repository.slice(OFFICIAL_REPO_PREFIX.length)
        : this.repository;
    }
    return `${name}${this.tag ? `:${this.tag}` : ''}${this.digest ? `@${this.digest}` : ''}`;
  }

  /** Fully normalised form: `docker.io/library/nginx:latest`, `ghcr.io/o/r:1@sha256:…`. */
  toString(): string {
    return `${this.name}${this.tag ? `:${this.tag}` : ''}${this.digest ? `@${this.digest}` : ''}`;
  }

  /** The same repository at another digest (used for the per-platform manifests of an index). */
  withDigest(digest: string): ImageRef {
    return new ImageRef(this.registry, this.repository, undefined, digest);
  }
}

function invalid(text: string, why: string, hint: string = FORMAT_HINT): ImageError {
  return new ImageError(`invalid image reference "${text}": ${why}`, hint);
}

/** Splits off the registry host the way Docker does (`splitDockerDomain`). */
function splitRegistry(text: string): { registry: string; rest: string } {
  const slash = text.indexOf('/');
  const first = slash === -1 ? '' : text.slice(0, slash);
  const isHost = slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  if (!isHost) return { registry: DOCKER_HUB, rest: text };
  return { registry: first === LEGACY_DOCKER_HUB ? DOCKER_HUB : first, rest: text.slice(slash + 1) };
}

/**
 * Parses an image reference as `docker pull` would. Throws an `ImageError` that says what is wrong for anything
 * Docker would refuse (uppercase repository, bad tag, bad digest, empty path components, `docker://` prefixes …).
 */
export function parseImageRef(text: string): ImageRef {
  if (text.length === 0) throw invalid(text, 'it is empty');
  if (text.length > MAX_REFERENCE_CHARS) throw invalid(`${text.slice(0, 40)}…`, 'it is too long');
  if (/\s/.test(text)) throw invalid(text, 'it contains whitespace');
  const transport = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (transport) throw invalid(text, `"${transport[1]}://" is not part of an image reference`, `drop the prefix: ${text.slice(transport[0].length)}`);
  if (IMAGE_ID_RE.test(text)) throw invalid(text, 'a 64-character hexadecimal string is an image ID, not a repository name', 'scan by reference, e.g. name@sha256:<hex>');

  // `name[:tag][@digest]`: the digest follows the last "@"; the tag follows the last ":" after the last "/".
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(text, `"${digest}" is not a valid digest`, 'digests look like sha256:<64 lowercase hex characters>');
    try {
      parseDigest(digest);
    } catch (err) {
      throw invalid(text, `unsupported digest "${digest}": ${(err as Error).message.split('\n')[0]}`, 'use a sha256 or sha512 digest');
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      throw invalid(text, `"${tag}" is not a valid tag`, 'tags are up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"');
    }
  }

  const { registry, rest: afterRegistry } = splitRegistry(rest);
  if (afterRegistry.length === 0) throw invalid(text, 'the repository name is empty');
  if (!DOMAIN_RE.test(registry)) throw invalid(text, `"${registry}" is not a valid registry host`);
  const port = /:([0-9]+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw invalid(text, `port ${port} is out of range`);

  let repository = afterRegistry;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = OFFICIAL_REPO_PREFIX + repository;
  if (repository.toLowerCase() !== repository) throw invalid(text, 'repository name must be lowercase');
  if (!PATH_RE.test(repository)) {
    throw invalid(text, `"${afterRegistry}" is not a valid repository name`, 'path components are lowercase letters and digits separated by ".", "_", "__" or "-", joined by "/"');
  }
  if (registry.length + 1 + repository.length > MAX_IMAGE_NAME_CHARS) throw invalid(text, `the name is longer than ${MAX_IMAGE_NAME_CHARS} characters`);

  return new ImageRef(registry, repository, tag ?? (digest ? undefined : DEFAULT_TAG), digest);
}
