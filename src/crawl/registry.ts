/**
 * `registry:HOST` — every repository of an OCI / Docker registry: `GET /v2/_catalog?n=…` and
 * `GET /v2/<name>/tags/list?n=…`, each followed page by page through `Link: <…>; rel="next"` (RFC 8288; relative or
 * absolute, never to another host), on the registry client of src/image/registry/ (its transport, token and Basic
 * auth with the Docker config's credentials, `--insecure-registry`, 429 and `Retry-After`).
 *
 * `--tags`:
 * - `latest`: the `latest` manifest is fetched (one request): the target gets its digest and, for a single-platform
 *   image, its size; a repository without `latest` is skipped with a notice.
 * - `all`: every tag, in name order (distribution 2.8 lists tags unsorted and unpaged; the crawl sorts them).
 * - `newest:N`: a registry gives no tag dates. When a repository has at most `maxDatedTagsPerRepository` tags, each
 *   tag's manifest and config are read (two requests a tag, three for an index) and the N with the latest config
 *   `created` are taken, with their digests and sizes. A repository with more tags falls back, with a notice, to the
 *   last N tags in name order: that costs nothing, but is only "newest" for names that sort by date or version.
 */
import { verifyBuffer } from '../image/digest.js';
import { ImageError } from '../image/errors.js';
import { parseImageConfig, parseManifestOrIndex } from '../image/manifest.js';
import { RegistryClient, RegistryError } from '../image/registry/index.js';
import { readBounded } from '../image/registry/transport.js';
import { CrawlError, firstLine, quote } from './errors.js';
import { crawlTransport } from './http.js';
import { CRAWL_MANIFEST_LIMITS, resolveCrawlLimits, type CrawlLimits } from './limits.js';
import { checkCursor, planOf } from './plan.js';
import { crawlRepositories, type RepositoryEntry, type RepositoryListing, type TagCandidate } from './repositories.js';
import { makeTarget } from './targets.js';
import type { CrawlCursor, CrawlItem, CrawlOptions, CrawlSource, TagSelection } from './types.js';

interface Dated extends TagCandidate {
  created?: number;
}

class RegistryListing implements RepositoryListing {
  readonly knowsPullCounts = false;

  constructor(
    readonly registry: string,
    private readonly spec: string,
    private readonly client: RegistryClient,
    private readonly tagSelection: TagSelection,
    private readonly limits: CrawlLimits,
    private readonly notice: (message: string) => void,
  ) {}

  async repositories(signal: AbortSignal | undefined): Promise<RepositoryEntry[]> {
    const { registry, limits } = this;
    const entries: RepositoryEntry[] = [];
    const visited = new Set<string>();
    let url: string | undefined = `/v2/_catalog?n=${limits.catalogPageSize}`;
    for (let page = 0; url; page++) {
      signal?.throwIfAborted();
      if (page >= limits.maxPagesPerListing) {
        this.notice(`${this.spec}: the catalog has more than ${limits.maxPagesPerListing} pages; the crawl covers the first ${entries.length} repositories`);
        break;
      }
      visited.add(url);
      let body: unknown;
      let next: string | undefined;
      try {
        ({ body, next } = await this.client.listingPage(url, { kind: 'catalog', subject: `the catalog of ${registry}`, scope: 'registry:catalog:*' }, limits.maxPageBytes));
      } catch (err) {
        throw catalogError(registry, err);
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new CrawlError(`the catalog of ${registry} is not a catalog: it is not a JSON object`, 'the registry is broken or hostile');
      }
      const list = (body as { repositories?: unknown }).repositories;
      if (list !== null && list !== undefined && !Array.isArray(list)) {
        throw new CrawlError(`the catalog of ${registry} is not a catalog: it has no "repositories" list`, 'the registry is broken or hostile');
      }
      for (const name of list ?? []) {
        if (typeof name !== 'string' || 'invalid' in makeTarget(registry, name, 'latest')) {
          this.notice(`${this.spec}: skipped ${quote(String(name))}: not a valid repository name`);
          continue;
        }
        if (entries.length >= limits.maxRepositories) {
          this.notice(`${this.spec}: the catalog lists more than ${limits.maxRepositories} repositories; the crawl covers the first ${limits.maxRepositories}`);
          return entries;
        }
        entries.push({ name });
      }
      if (next && visited.has(next)) throw new CrawlError(`the catalog of ${registry} links back to a page it already sent (${quote(next)})`, 'the registry is broken or hostile');
      url = next;
    }
    return entries;
  }

  async tags(repository: RepositoryEntry, signal: AbortSignal | undefined): Promise<TagCandidate[]> {
    const mode = this.tagSelection;
    if (mode.mode === 'latest') {
      const facts = await this.manifestFacts(repository.name, 'latest', false).catch((err: unknown) => {
        if (err instanceof RegistryError && err.status === 404) throw new CrawlError(`it has no tag "latest"`);
        throw err;
      });
      return [{ tag: 'latest', ...facts }];
    }
    const tags = (await this.listTags(repository.name, signal)).sort();
    if (mode.mode === 'all') return tags.map((tag) => ({ tag }));
    if (tags.length > this.limits.maxDatedTagsPerRepository) {
      this.notice(
        `${this.spec}: ${quote(repository.name)} has ${tags.length} tags, more than the ${this.limits.maxDatedTagsPerRepository} whose dates are read; newest:${mode.count} takes the last ${mode.count} in name order`,
      );
      return tags.slice(-mode.count).reverse().map((tag) => ({ tag }));
    }
    const dated: Dated[] = [];
    for (const tag of tags) {
      signal?.throwIfAborted();
      try {
        dated.push({ tag, ...(await this.manifestFacts(repository.name, tag, true)) });
      } catch (err) {
        if (!(err instanceof ImageError) || (err instanceof RegistryError && !(err.status === 404 || err.status === 401 || err.status === 403))) throw err;
        this.notice(`${this.spec}: ${quote(`${repository.name}:${tag}`)} has no readable date (${firstLine(err)}); it counts as the oldest`);
        dated.push({ tag });
      }
    }
    // newest first; undated last; equal dates by name, later names first
    dated.sort((a, b) => (b.created ?? -Infinity) - (a.created ?? -Infinity) || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0));
    return dated.slice(0, mode.count).map(({ created: _created, ...candidate }) => candidate);
  }

  /** Every tag of a repository, following `Link` pages; invalid names are dropped with a notice. */
  private async listTags(repository: string, signal: AbortSignal | undefined): Promise<string[]> {
    const { limits, registry } = this;
    const tags: string[] = [];
    const visited = new Set<string>();
    let url: string | undefined = `/v2/${repository}/tags/list?n=${limits.tagListPageSize}`;
    for (let page = 0; url; page++) {
      signal?.throwIfAborted();
      if (page >= limits.maxPagesPerListing) {
        this.notice(`${this.spec}: the tags of ${quote(repository)} run over ${limits.maxPagesPerListing} pages; the crawl takes the first ${tags.length}`);
        break;
      }
      visited.add(url);
      const { body, next } = await this.client.listingPage(url, { kind: 'tags', subject: `${registry}/${repository}`, repository }, limits.maxPageBytes);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new CrawlError('its tag list is not a JSON object');
      const list = (body as { tags?: unknown }).tags;
      if (list !== null && list !== undefined && !Array.isArray(list)) throw new CrawlError('its tag list has no "tags" array');
      for (const tag of list ?? []) {
        if (typeof tag !== 'string' || 'invalid' in makeTarget(registry, repository, tag)) {
          this.notice(`${this.spec}: skipped tag ${quote(String(tag))} of ${quote(repository)}: not a valid tag`);
          continue;
        }
        if (tags.length >= limits.maxTagsPerRepository) {
          this.notice(`${this.spec}: ${quote(repository)} has more than ${limits.maxTagsPerRepository} tags; the crawl takes the first ${limits.maxTagsPerRepository}`);
          return tags;
        }
        tags.push(tag);
      }
      if (next && visited.has(next)) throw new CrawlError(`its tag list links back to a page it already sent`);
      url = next;
    }
    return tags;
  }

  /** Digest and size of `repository:tag`, and (when `dated`) its config's `created`. */
  private async manifestFacts(repository: string, tag: string, dated: boolean): Promise<Omit<Dated, 'tag'>> {
    const subject = `${this.registry}/${repository}:${tag}`;
    const top = await this.client.getManifest(repository, tag, subject);
    const parsed = parseManifestOrIndex(top.bytes, `the manifest of ${subject}`, CRAWL_MANIFEST_LIMITS, top.contentType);
    let manifest;
    let sizeBytes: number | undefined;
    if (parsed.kind === 'manifest') {
      manifest = parsed.manifest;
      sizeBytes = manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
    } else if (dated) {
      // an index has no date of its own: the first image it lists (not an attestation) stands for it
      const first = parsed.index.manifests.find((d) => d.platform?.os !== 'unknown');
      if (first && first.size <= CRAWL_MANIFEST_LIMITS.maxManifestBytes) {
        const child = await this.client.getManifest(repository, first.digest, `${this.registry}/${repository}@${first.digest}`);
        const childParsed = parseManifestOrIndex(child.bytes, `the manifest of ${subject} (${first.digest})`, CRAWL_MANIFEST_LIMITS, child.contentType);
        if (childParsed.kind === 'manifest') manifest = childParsed.manifest;
      }
    }
    const facts: Omit<Dated, 'tag'> = { digest: top.digest, ...(sizeBytes !== undefined ? { sizeBytes } : {}) };
    if (!dated || !manifest || manifest.config.size > CRAWL_MANIFEST_LIMITS.maxManifestBytes) return facts;
    const stream = await this.client.openBlob(repository, manifest.config.digest, manifest.config.size);
    const bytes = await readBounded(stream, CRAWL_MANIFEST_LIMITS.maxManifestBytes, `the config of ${subject}`);
    verifyBuffer(bytes, manifest.config.digest, `config of ${subject}`);
    const created = parseImageConfig(bytes, `the config of ${subject}`, CRAWL_MANIFEST_LIMITS).created;
    const at = created !== undefined ? Date.parse(created) : NaN;
    return Number.isNaN(at) ? facts : { ...facts, created: at, updatedAt: created };
  }
}

function catalogError(registry: string, err: unknown): Error {
  if (err instanceof RegistryError && err.status === 404) {
    return new CrawlError(`${registry} does not list its repositories (GET /v2/_catalog answered 404)`, 'its catalog is disabled; list the references in a file: source instead');
  }
  if (err instanceof RegistryError && (err.status === 401 || err.status === 403)) {
    return new CrawlError(
      `${registry} refused to list its repositories (GET /v2/_catalog answered ${err.status})`,
      `the catalog needs an account allowed to list it ("docker login ${registry}"), or list the references in a file: source`,
    );
  }
  return err instanceof Error ? err : new CrawlError(String(err));
}

export class RegistryCrawlSource implements CrawlSource {
  readonly plan: string;

  constructor(
    readonly spec: string,
    readonly host: string,
    private readonly options: CrawlOptions,
  ) {
    this.plan = planOf(options, true);
  }

  async *targets(resume: CrawlCursor | null, signal?: AbortSignal): AsyncGenerator<CrawlItem> {
    const { options, spec, host } = this;
    const plan = this.plan;
    if (resume) checkCursor(resume, spec, plan);
    const notice = options.notice ?? (() => {});
    const transport = crawlTransport(options);
    const client = new RegistryClient({ registry: host, apiHost: host, transport, limits: CRAWL_MANIFEST_LIMITS, env: options.env ?? process.env });
    const listing = new RegistryListing(host, spec, client, options.tags ?? { mode: 'latest' }, resolveCrawlLimits(options.limits), notice);
    try {
      yield* crawlRepositories(listing, { spec, plan, options, notice }, resume, signal);
    } finally {
      await transport.close();
    }
  }
}
