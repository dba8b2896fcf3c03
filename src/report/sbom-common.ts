/** What the CycloneDX and SPDX renderers share: how the image is named and identified, and unique identifiers. */
import { randomUUID } from 'node:crypto';
import { packageUrl, type ImageSection } from '../model/index.js';
import { parseImageRef } from '../image/ref.js';
import { MAX_OCI_PURL_NAME_CHARS } from './limits.js';

/** Options of the SBOM renderers; the defaults suit the CLI, tests pin them for reproducible output. */
export interface SbomOptions {
  /** Creation time of the document (default: now). */
  now?: Date;
  /** Source of the random UUIDs that make each document unique (default: crypto.randomUUID). */
  randomUuid?: () => string;
}

export interface ImageIdentity {
  /** Repository name, last path component only, as the `oci` purl type wants it: `nginx`. */
  name: string;
  /** `docker.io/library/nginx`; absent for archives and layouts, which have no repository. */
  repositoryUrl?: string;
  tag?: string;
  /** `amd64`, from the platform. */
  arch?: string;
  /** `pkg:oci/nginx@sha256:…?arch=amd64&repository_url=docker.io/library/nginx&tag=latest`. */
  purl: string;
}

const ARCHIVE_TRANSPORTS = ['docker-archive:', 'oci-archive:', 'oci:'];

/** purl-spec: an oci name is lowercase; keep it to the characters a repository name can have. */
function ociName(text: string): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-._]+|[-._]+$/g, '');
  return cleaned.length > 0 ? cleaned.slice(0, MAX_OCI_PURL_NAME_CHARS) : 'image';
}

/** `docker-archive:/tmp/nginx.tar:nginx:1.25` → `nginx`; `oci:/data/layout:v1` → `layout`. */
function archiveName(location: string): string {
  const tarEnd = /\.(?:tar(?:\.gz|\.zst)?|tgz)(?=$|[:@])/i.exec(location);
  let path = tarEnd ? location.slice(0, tarEnd.index) : location;
  if (!tarEnd) {
    const colon = path.indexOf(':', path.lastIndexOf('/') + 1);
    if (colon !== -1) path = path.slice(0, colon);
  }
  path = path.replace(/\/+$/, '');
  return ociName(path.slice(path.lastIndexOf('/') + 1));
}

/** How the image is named in an SBOM: its repository, tag and `pkg:oci` package URL. */
export function imageIdentity(image: ImageSection): ImageIdentity {
  const arch = image.platform.split('/')[1] || image.config.architecture || undefined;
  let name: string;
  let repositoryUrl: string | undefined;
  let tag: string | undefined;
  const transport = ARCHIVE_TRANSPORTS.find((t) => image.reference.startsWith(t));
  if (transport) {
    name = archiveName(image.reference.slice(transport.length));
  } else {
    try {
      const ref = parseImageRef(image.reference);
      name = ociName(ref.repository.slice(ref.repository.lastIndexOf('/') + 1));
      repositoryUrl = ref.name;
      tag = ref.tag;
    } catch {
      name = ociName(image.reference.replace(/[@:].*$/, '').replace(/^.*\//, ''));
    }
  }
  const qualifiers: Record<string, string> = {};
  if (arch) qualifiers.arch = arch;
  if (repositoryUrl) qualifiers.repository_url = repositoryUrl;
  if (tag) qualifiers.tag = tag;
  const digest = image.digest.length > 0 ? image.digest : undefined;
  const purl = packageUrl('oci', undefined, name, digest, qualifiers);
  return { name, ...(repositoryUrl ? { repositoryUrl } : {}), ...(tag ? { tag } : {}), ...(arch ? { arch } : {}), purl };
}

/** Hands out identifiers that are unique within one document: the wanted one, else it with a separator and 2, 3 … */
export class UniqueIds {
  private readonly taken = new Set<string>();
  private readonly nextSuffix = new Map<string, number>();

  constructor(private readonly separator = '-') {}

  take(wanted: string): string {
    if (!this.taken.has(wanted)) {
      this.taken.add(wanted);
      return wanted;
    }
    let n = this.nextSuffix.get(wanted) ?? 2;
    let id = `${wanted}${this.separator}${n}`;
    while (this.taken.has(id)) id = `${wanted}${this.separator}${++n}`;
    this.nextSuffix.set(wanted, n + 1);
    this.taken.add(id);
    return id;
  }
}

export function documentUuid(options: SbomOptions): string {
  return (options.randomUuid ?? randomUUID)().toLowerCase();
}

/** Package metadata as name/value pairs (arrays become one pair per item), for SBOM properties and comments. */
export function metadataPairs(metadata: Readonly<Record<string, string | string[] | boolean | number>> | undefined): [string, string][] {
  const pairs: [string, string][] = [];
  for (const key of Object.keys(metadata ?? {}).sort()) {
    const value = metadata?.[key];
    if (Array.isArray(value)) for (const item of value) pairs.push([key, String(item)]);
    else if (value !== undefined) pairs.push([key, String(value)]);
  }
  return pairs;
}
