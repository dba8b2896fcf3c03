/**
 * An OCI Distribution (Docker Registry HTTP API v2) client for pulls: `/v2/` ping (which also picks HTTPS or, for
 * insecure registries, plain HTTP, and learns the auth challenge), manifests by tag or digest (digest-verified,
 * size-limited while reading), blobs as streams, tag listing with `Link` pagination, and single listing pages
 * (catalog, tags) for callers that page through a listing themselves (the crawl).
 */
import type { Readable } from 'node:stream';
import type { Limits } from '../../config/limits.js';
import { digestOf, parseDigest, verifyBuffer } from '../digest.js';
import { ImageError } from '../errors.js';
import { MANIFEST_ACCEPT } from '../manifest.js';
import { Authenticator, pullScope } from './auth.js';
import { discard, errorDetail, readBounded, RegistryError, type HttpResponse, type HttpTransport } from './transport.js';
import { DEFAULT_TAG_LIST_LIMITS, MAX_LINK_HEADER_CHARS } from '../limits.js';

export interface FetchedManifest {
  bytes: Buffer;
  /** Verified digest of `bytes`. */
  digest: string;
  contentType?: string;
}

type RequestKind = 'ping' | 'manifest' | 'blob' | 'tags' | 'catalog';

interface RequestContext {
  kind: RequestKind;
  /** What the user asked for, for messages: `127.0.0.1:5000/app:1.0`, a blob digest. */
  subject: string;
  repository?: string;
  /** The token scope when it is not the pull of `repository` (the catalog's is `registry:catalog:*`). */
  scope?: string;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function contentLength(response: HttpResponse): number | undefined {
  const v = single(response.headers['content-length']);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The `rel="next"` target of a `Link` header (RFC 8288), if any. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const text = single(header);
  if (!text) return undefined;
  for (const part of text.slice(0, MAX_LINK_HEADER_CHARS).split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel="?next"?\s*(;|$)/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

export interface RegistryClientOptions {
  /** The registry as references name it (`docker.io`, `localhost:5000`): the credential key. */
  registry: string;
  /** Where its API answers (`registry-1.docker.io` for Docker Hub). */
  apiHost: string;
  transport: HttpTransport;
  limits: Pick<Limits, 'maxManifestBytes'>;
  env: NodeJS.ProcessEnv;
}

export class RegistryClient {
  readonly auth: Authenticator;
  private base: Promise<string> | undefined;

  constructor(private readonly options: RegistryClientOptions) {
    this.auth = new Authenticator(options.registry, options.transport, options.env);
  }

  get registry(): string {
    return this.options.registry;
  }

  /** `https://host` or, for an insecure registry that does not speak TLS, `http://host`; pings once. */
  endpoint(): Promise<string> {
    if (!this.base) {
      this.base = this.ping();
      // a failed ping is not remembered: the next call tries again
      this.base.catch(() => (this.base = undefined));
    }
    return this.base;
  }

  private async ping(): Promise<string> {
    const { transport, apiHost } = this.options;
    const schemes = transport.isInsecure(apiHost) ? ['https', 'http'] : ['https'];
    for (const [i, scheme] of schemes.entries()) {
      const url = `${scheme}://${apiHost}/v2/`;
      let response: HttpResponse;
      try {
        // With a plain-HTTP fallback left, HTTPS failing fast (TLS error, refused) is the expected answer: no retries.
        response = i < schemes.length - 1 ? await transport.send(url, { small: true }) : await transport.exchange(url, () => ({ small: true }));
      } catch (err) {
        if (i < schemes.length - 1) continue;
        throw err;
      }
      const base = `${scheme}://${apiHost}`;
      if (response.status === 200) {
        discard(response);
        return base;
      }
      if (response.status === 401) {
        this.auth.setChallenge(response.headers['www-authenticate']);
        discard(response);
        return base;
      }
      if (response.status === 404) {
        discard(response);
        throw new RegistryError(`${apiHost} does not serve the registry API (GET /v2/ answered 404)`, 'check the registry host; it must speak the OCI Distribution / Docker Registry v2 API', false, 404);
      }
      throw await this.failure(response, { kind: 'ping', subject: apiHost });
    }
    throw new RegistryError(`could not reach ${apiHost}`, undefined, true);
  }

  /**
   * GET on the registry with authentication: a 401 renews the token (or takes a new challenge) and is retried once.
   * Returns only 2xx responses; anything else is thrown as a `RegistryError` that says what to do.
   */
  private async get(path: string, context: RequestContext, headers: Record<string, string>, small: boolean): Promise<HttpResponse> {
    const base = await this.endpoint();
    const scope = context.scope ?? pullScope(context.repository ?? '');
    let renewed = false;
    const url = path.startsWith('http') ? path : `${base}${path}`;
    for (;;) {
      const sentAt = Date.now();
      const response = await this.options.transport.exchange(url, async () => ({ small, headers: { ...headers, ...(await this.auth.headers(scope)) } }));
      if (response.status >= 200 && response.status < 300) return response;
      if (response.status === 401 && !renewed && (await this.auth.renew(response.headers['www-authenticate'], scope, sentAt))) {
        discard(response);
        renewed = true;
        continue;
      }
      throw await this.failure(response, context);
    }
  }

  /** The error for a final non-2xx response. */
  private async failure(response: HttpResponse, context: RequestContext): Promise<RegistryError> {
    const { registry } = this.options;
    const detail = await errorDetail(response);
    const suffix = detail ? ` (${detail})` : '';
    const status = response.status;
    const lookup = await this.auth.credentialLookup();
    const login = `log in with "docker login ${registry}" or check $DOCKER_CONFIG (${lookup.configPath})${lookup.problem ? `; note: ${lookup.problem}` : ''}`;
    const creds = lookup.credentials;
    if (status === 401) {
      if (creds) {
        return new RegistryError(`authentication to ${registry} failed for ${context.subject}${suffix}`, `the credentials from ${creds.source} were refused; ${login}`, false, 401);
      }
      return new RegistryError(`pull access denied for ${context.subject}: the repository does not exist or requires authentication${suffix}`, login, false, 401);
    }
    if (status === 403) {
      const hint = creds ? `the account from ${creds.source} may lack pull permission; ${login}` : login;
      return new RegistryError(`access to ${context.subject} on ${registry} is denied (403)${suffix}`, hint, false, 403);
    }
    if (status === 404) {
      if (context.kind === 'manifest') {
        return new RegistryError(`image or tag not found: ${context.subject}${suffix}`, 'check the repository name and tag; the registry has no such manifest', false, 404);
      }
      if (context.kind === 'blob') {
        return new RegistryError(`blob ${context.subject} not found in ${registry}/${context.repository}${suffix}`, 'the registry is missing data that the manifest references; push the image again', false, 404);
      }
      return new RegistryError(`${context.subject} not found on ${registry}${suffix}`, 'check the repository name', false, 404);
    }
    if (status >= 300 && status < 400) {
      return new RegistryError(`${registry} answered ${status} without a usable redirect for ${context.subject}`, 'the registry is misconfigured', false, status);
    }
    return new RegistryError(`${registry} refused the request for ${context.subject}: ${status}${suffix}`, 'the registry rejected the request; check the reference', false, status);
  }

  /**
   * The manifest or index at `reference` (tag or digest). Pulled by digest, the bytes must hash to it; pulled by
   * tag, to the `Docker-Content-Digest` header when the registry sends one.
   */
  async getManifest(repository: string, reference: string, subject: string): Promise<FetchedManifest> {
    const { maxManifestBytes } = this.options.limits;
    const byDigest = reference.includes(':');
    const response = await this.get(`/v2/${repository}/manifests/${reference}`, { kind: 'manifest', subject, repository }, { accept: MANIFEST_ACCEPT }, true);
    const declared = contentLength(response);
    if (declared !== undefined && declared > maxManifestBytes) {
      discard(response);
      throw new ImageError(`the manifest of ${subject} is ${declared} bytes, over the ${maxManifestBytes}-byte limit`, 'the registry is hostile or this is not an image');
    }
    const bytes = await readBounded(response.body, maxManifestBytes, `the manifest of ${subject}`);
    const headerDigest = single(response.headers['docker-content-digest'])?.trim();
    let digest: string;
    if (byDigest) {
      verifyBuffer(bytes, reference, `manifest of ${subject}`);
      digest = reference;
    } else if (headerDigest && isDigest(headerDigest)) {
      verifyBuffer(bytes, headerDigest, `manifest of ${subject} (Docker-Content-Digest)`);
      digest = headerDigest;
    } else {
      digest = digestOf(bytes);
    }
    const contentType = single(response.headers['content-type']);
    return { bytes, digest, ...(contentType ? { contentType } : {}) };
  }

  /**
   * The raw bytes of a blob as the registry (or the storage it redirects to) sends them; not verified here: the
   * caller streams them through a `VerifyingStream` (the blob cache does).
   */
  async openBlob(repository: string, digest: string, size: number | undefined): Promise<Readable> {
    const response = await this.get(`/v2/${repository}/blobs/${digest}`, { kind: 'blob', subject: digest, repository }, {}, false);
    const declared = contentLength(response);
    if (size !== undefined && declared !== undefined && declared > size) {
      discard(response);
      throw new ImageError(`blob ${digest} is served with ${declared} bytes but its descriptor says ${size}`, 'the registry is corrupt or hostile');
    }
    return response.body;
  }

  /** Tags of a repository, following `Link: <…>; rel="next"` pages, at most `maxTags`. */
  async listTags(repository: string, options: { pageSize?: number; maxTags?: number; maxPages?: number } = {}): Promise<string[]> {
    const pageSize = options.pageSize ?? DEFAULT_TAG_LIST_LIMITS.pageSize;
    const maxTags = options.maxTags ?? DEFAULT_TAG_LIST_LIMITS.maxTags;
    const maxPages = options.maxPages ?? DEFAULT_TAG_LIST_LIMITS.maxPages;
    const base = await this.endpoint();
    const tags: string[] = [];
    let next: string | undefined = `${base}/v2/${repository}/tags/list?n=${pageSize}`;
    for (let page = 0; next && page < maxPages && tags.length < maxTags; page++) {
      const response = await this.get(next, { kind: 'tags', subject: `${this.options.registry}/${repository}`, repository }, { accept: 'application/json' }, true);
      const link = nextLink(response.headers.link);
      const bytes = await readBounded(response.body, this.options.limits.maxManifestBytes, `tag list of ${repository}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new ImageError(`the tag list of ${repository} from ${this.options.registry} is not valid JSON`);
      }
      const list = (parsed as { tags?: unknown } | null)?.tags;
      if (list !== null && list !== undefined && !Array.isArray(list)) throw new ImageError(`the tag list of ${repository} has no "tags" array`);
      for (const t of list ?? []) if (typeof t === 'string' && tags.length < maxTags) tags.push(t);
      if (!link) break;
      const resolved: URL = new URL(link, response.url);
      if (resolved.origin !== new URL(base).origin) throw new ImageError(`the tag list of ${repository} links to another host (${resolved.host})`);
      next = resolved.href;
    }
    return tags;
  }

  /**
   * One page of a JSON listing (`/v2/_catalog?n=…`, `/v2/<name>/tags/list?n=…`, or the absolute URL a previous page
   * linked to): the parsed body, read up to `maxBytes`, and the absolute URL of the next page from its
   * `Link: <…>; rel="next"` header, relative or absolute. A link to another origin is refused: a listing never leaves
   * the registry it lists.
   */
  async listingPage(
    pathOrUrl: string,
    context: { kind: 'catalog' | 'tags'; subject: string; repository?: string; scope?: string },
    maxBytes: number,
  ): Promise<{ body: unknown; next?: string }> {
    const base = await this.endpoint();
    const response = await this.get(pathOrUrl, context, { accept: 'application/json' }, true);
    const link = nextLink(response.headers.link);
    const bytes = await readBounded(response.body, maxBytes, `a listing page of ${context.subject}`);
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new ImageError(`a listing page of ${context.subject} from ${this.options.registry} is not valid JSON`, 'the registry is broken or hostile');
    }
    if (!link) return { body };
    let next: URL;
    try {
      next = new URL(link, response.url);
    } catch {
      throw new ImageError(`a listing page of ${context.subject} links to an invalid URL`, 'the registry is broken or hostile');
    }
    if (next.origin !== new URL(base).origin) {
      throw new ImageError(`a listing page of ${context.subject} links to another host (${next.host})`, 'a listing never leaves the registry it lists; the registry is misconfigured or hostile');
    }
    return { body, next: next.href };
  }

  async close(): Promise<void> {
    await this.options.transport.close();
  }
}

function isDigest(text: string): boolean {
  try {
    parseDigest(text);
    return true;
  } catch {
    return false;
  }
}
