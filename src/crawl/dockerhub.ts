/**
 * `dockerhub:NAMESPACE` and `dockerhub:search:TERM` — Docker Hub repositories through Docker Hub's web API
 * (dockerhub-api.ts), as targets `docker.io/NAMESPACE/REPO:TAG` (`library/…` for official images).
 *
 * The response shapes used (Docker Hub API reference, docs.docker.com/reference/api/hub/latest/, and its OpenAPI
 * file content/reference/api/hub/latest.yaml in github.com/docker/docs):
 * - "List repositories in a namespace", `GET /v2/namespaces/{namespace}/repositories?page_size=…&page=…&ordering=name`
 *   (page_size at most 100; a page number past the end answers 404): `{ count, next, results: [{ name, namespace,
 *   pull_count, … }] }`.
 * - "List repository tags", `GET /v2/namespaces/{namespace}/repositories/{repository}/tags?page_size=…`:
 *   `{ count, next, results: [{ name, digest, full_size, last_updated, tag_last_pushed, images: [{ digest, size, … }] }] }`
 *   (`full_size`: "compressed size (sum of all layers) of the tagged image"); and "Read repository tag",
 *   `GET …/tags/{tag}`, one such result, for `--tags latest`.
 * - Search, `GET /v2/search/repositories/?query=TERM&page_size=…&page=…`, is not in the reference; its answer as
 *   Docker Hub's own site and common clients read it: `{ count, next, results: [{ repo_name, pull_count, … }] }`,
 *   `repo_name` being `NAME` for official images and `NAMESPACE/NAME` otherwise.
 * `next` links are followed (on the API's origin only); paging stops at `next: null`, an empty page or a 404.
 *
 * Search is capped per query: past some number of results (the cap), a query has no more pages although its
 * `count` says there are more matches. Such a query is refined the way a full crawl must shard it: TERM followed by
 * each of a–z, 0–9, "-", "_" and "." is queried in turn (and, while still capped, refined again, up to
 * `maxSearchRefinementDepth` characters and `maxSearchQueries` queries), and the results are deduplicated by
 * repository. Refinement reaches the names that continue TERM with another character; matches a refinement cannot
 * express (TERM at the end of a name, or only in a description) are covered as far as the capped query reached.
 *
 * `--tags latest` reads one tag; `all` and `newest:N` read the repository's whole tag listing (bounded): `newest:N`
 * takes the N most recently pushed (`tag_last_pushed`, else `last_updated`), `all` every tag in name order.
 */
import { CrawlError, quote } from './errors.js';
import { DockerHubApi, dockerHubApiBase, DEFAULT_DOCKER_HUB_API, type HubPage } from './dockerhub-api.js';
import { crawlTransport } from './http.js';
import { resolveCrawlLimits, type CrawlLimits } from './limits.js';
import { checkCursor, planOf } from './plan.js';
import { crawlRepositories, type RepositoryEntry, type RepositoryListing, type TagCandidate } from './repositories.js';
import { makeTarget } from './targets.js';
import type { CrawlCursor, CrawlItem, CrawlOptions, CrawlSource, TagSelection } from './types.js';

const DOCKER_HUB = 'docker.io';
/** What a capped search query is refined with, one character at a time. */
const SEARCH_REFINEMENTS = [...'abcdefghijklmnopqrstuvwxyz0123456789-_.'];

export type DockerHubScope = { kind: 'namespace'; namespace: string } | { kind: 'search'; term: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** The `results` array of a page, or an error naming what was read. */
function results(page: HubPage, what: string): unknown[] {
  if (!isObject(page.body)) throw new CrawlError(`${what}: Docker Hub's API answered something that is not a JSON object`, 'the server is broken or hostile');
  const list = page.body.results;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new CrawlError(`${what}: Docker Hub's API answered without a "results" list`, 'the server is broken or hostile');
  return list;
}

function hubFailure(page: HubPage, what: string): CrawlError {
  const detail = page.detail ? `: ${page.detail}` : '';
  if (page.status === 404) return new CrawlError(`${what} was not found on Docker Hub (404${detail})`);
  if (page.status === 401 || page.status === 403) {
    return new CrawlError(`Docker Hub refused ${what} (${page.status}${detail})`, 'private repositories need "docker login" with an account that may list them');
  }
  return new CrawlError(`Docker Hub's API answered ${page.status} for ${what}${detail}`);
}

interface HubTag extends TagCandidate {
  pushedAt?: number;
}

function hubTag(value: unknown): HubTag | undefined {
  if (!isObject(value)) return undefined;
  const name = text(value.name);
  if (!name) return undefined;
  const images = Array.isArray(value.images) ? value.images.filter(isObject) : [];
  const digest = text(value.digest) ?? (images.length === 1 ? text(images[0]!.digest) : undefined);
  const pushed = text(value.tag_last_pushed) ?? text(value.last_updated);
  const pushedAt = pushed !== undefined ? Date.parse(pushed) : NaN;
  const sizeBytes = count(value.full_size);
  return {
    tag: name,
    ...(digest ? { digest } : {}),
    ...(sizeBytes !== undefined ? { sizeBytes } : {}),
    ...(pushed !== undefined && !Number.isNaN(pushedAt) ? { updatedAt: pushed, pushedAt } : {}),
  };
}

class DockerHubListing implements RepositoryListing {
  readonly registry = DOCKER_HUB;
  readonly knowsPullCounts = true;

  constructor(
    private readonly spec: string,
    private readonly scope: DockerHubScope,
    private readonly api: DockerHubApi,
    private readonly tagSelection: TagSelection,
    private readonly limits: CrawlLimits,
    private readonly notice: (message: string) => void,
  ) {}

  repositories(signal: AbortSignal | undefined): Promise<RepositoryEntry[]> {
    return this.scope.kind === 'namespace' ? this.namespace(this.scope.namespace, signal) : this.search(this.scope.term, signal);
  }

  /** Adds `namespace/name` to `into` if it is a valid repository; false when the listing is full. */
  private add(into: Map<string, RepositoryEntry>, namespace: string, name: string, pulls: unknown): boolean {
    const repository = `${namespace}/${name}`;
    if ('invalid' in makeTarget(DOCKER_HUB, repository, 'latest')) {
      this.notice(`${this.spec}: skipped ${quote(repository)}: not a valid repository name`);
      return true;
    }
    if (into.has(repository)) return true;
    if (into.size >= this.limits.maxRepositories) {
      this.notice(`${this.spec}: more than ${this.limits.maxRepositories} repositories; the crawl covers the first ${this.limits.maxRepositories} listed`);
      return false;
    }
    const pullCount = count(pulls);
    into.set(repository, { name: repository, ...(pullCount !== undefined ? { pullCount } : {}) });
    return true;
  }

  /**
   * Hands the pages of one listing to `take`, from `first`, following `next`; stops at the end, when `take` returns
   * false, at a 4xx past the first page (past the last page, or past the search cap), or at `maxPagesPerListing`.
   */
  private async pages(first: string, what: string, signal: AbortSignal | undefined, take: (page: HubPage) => boolean): Promise<void> {
    const visited = new Set<string>();
    let url: string | undefined = first;
    for (let n = 0; url; n++) {
      signal?.throwIfAborted();
      if (n >= this.limits.maxPagesPerListing) {
        this.notice(`${this.spec}: ${what} runs over ${this.limits.maxPagesPerListing} pages; the crawl takes the first ${this.limits.maxPagesPerListing}`);
        return;
      }
      visited.add(url);
      const page = await this.api.get(url);
      if (page.status < 200 || page.status >= 300) {
        // a page past the end (or past the search cap) is refused; the first one is the listing itself
        if (n > 0 && page.status >= 400 && page.status < 500) return;
        throw hubFailure(page, what);
      }
      if (!take(page)) return;
      const next = this.api.next(page);
      if (next && visited.has(next)) throw new CrawlError(`${what}: Docker Hub's API links back to a page it already sent`, 'the server is broken or hostile');
      url = next;
    }
  }

  private async namespace(namespace: string, signal: AbortSignal | undefined): Promise<RepositoryEntry[]> {
    const found = new Map<string, RepositoryEntry>();
    const what = `the repositories of ${quote(namespace)}`;
    const first = this.api.url(`/v2/namespaces/${encodeURIComponent(namespace)}/repositories?page_size=${this.limits.dockerHubPageSize}&ordering=name`);
    await this.pages(first, what, signal, (page) => {
      for (const entry of results(page, what)) {
        if (!isObject(entry) || typeof entry.name !== 'string') {
          this.notice(`${this.spec}: skipped an entry of ${what} without a name`);
          continue;
        }
        const owner = typeof entry.namespace === 'string' ? entry.namespace : namespace;
        if (owner !== namespace) {
          this.notice(`${this.spec}: skipped ${quote(`${owner}/${entry.name}`)}: listed under ${quote(namespace)} but in another namespace`);
          continue;
        }
        if (!this.add(found, namespace, entry.name, entry.pull_count)) return false;
      }
      return true;
    });
    return [...found.values()];
  }

  private async search(term: string, signal: AbortSignal | undefined): Promise<RepositoryEntry[]> {
    const found = new Map<string, RepositoryEntry>();
    const queue = [term];
    let full = false;
    for (let sent = 0; queue.length > 0 && !full; sent++) {
      if (sent >= this.limits.maxSearchQueries) {
        this.notice(`${this.spec}: the search was refined into more than ${this.limits.maxSearchQueries} queries; ${queue.length} were not sent`);
        break;
      }
      const query = queue.shift()!;
      const what = `the search for ${quote(query)}`;
      let total: number | undefined;
      let read = 0;
      const first = this.api.url(`/v2/search/repositories/?query=${encodeURIComponent(query)}&page_size=${this.limits.dockerHubPageSize}`);
      const take = (page: HubPage): boolean => {
        total ??= count((page.body as { count?: unknown } | null)?.count);
        const list = results(page, what);
        read += list.length;
        for (const entry of list) {
          const repoName = isObject(entry) ? entry.repo_name : undefined;
          if (typeof repoName !== 'string' || !repoName) {
            this.notice(`${this.spec}: skipped a search result without a repo_name`);
            continue;
          }
          const slash = repoName.indexOf('/');
          const [namespace, name] = slash === -1 ? ['library', repoName] : [repoName.slice(0, slash), repoName.slice(slash + 1)];
          if (!this.add(found, namespace, name, (entry as Record<string, unknown>).pull_count)) {
            full = true;
            return false;
          }
        }
        return list.length > 0;
      };
      try {
        await this.pages(first, what, signal, take);
      } catch (err) {
        // the term itself must be searchable; a refinement the server refuses is one shard less
        if (query === term || !(err instanceof CrawlError)) throw err;
        this.notice(`${this.spec}: ${err.message.split('\n')[0]}`);
        continue;
      }
      if (full || total === undefined || total <= read) continue;
      // capped: fewer results were reachable than the query matches
      if (query.length - term.length < this.limits.maxSearchRefinementDepth) {
        queue.push(...SEARCH_REFINEMENTS.map((c) => query + c));
      } else {
        this.notice(`${this.spec}: ${what} reached ${read} of its ${total} matches, and is not refined further (maxSearchRefinementDepth)`);
      }
    }
    return [...found.values()];
  }

  async tags(repository: RepositoryEntry, signal: AbortSignal | undefined): Promise<TagCandidate[]> {
    const slash = repository.name.indexOf('/');
    const base = `/v2/namespaces/${encodeURIComponent(repository.name.slice(0, slash))}/repositories/${encodeURIComponent(repository.name.slice(slash + 1))}/tags`;
    const mode = this.tagSelection;
    if (mode.mode === 'latest') {
      const page = await this.api.get(this.api.url(`${base}/latest`));
      if (page.status === 404) throw new CrawlError('it has no tag "latest"');
      if (page.status < 200 || page.status >= 300) throw hubFailure(page, `the tag "latest" of ${quote(repository.name)}`);
      const tag = hubTag(page.body);
      if (!tag || tag.tag !== 'latest') throw new CrawlError(`Docker Hub's API answered the tag "latest" of ${quote(repository.name)} with another shape`, 'the server is broken or hostile');
      return [candidate(tag)];
    }
    const what = `the tags of ${quote(repository.name)}`;
    const tags = new Map<string, HubTag>();
    await this.pages(this.api.url(`${base}?page_size=${this.limits.dockerHubPageSize}`), what, signal, (page) => {
      for (const entry of results(page, what)) {
        const tag = hubTag(entry);
        if (!tag) {
          this.notice(`${this.spec}: skipped an entry of ${what} without a name`);
          continue;
        }
        if (tags.has(tag.tag)) continue;
        if (tags.size >= this.limits.maxTagsPerRepository) {
          this.notice(`${this.spec}: ${quote(repository.name)} has more than ${this.limits.maxTagsPerRepository} tags; the crawl takes the first ${this.limits.maxTagsPerRepository} listed`);
          return false;
        }
        tags.set(tag.tag, tag);
      }
      return true;
    });
    const list = [...tags.values()];
    if (mode.mode === 'all') return list.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)).map(candidate);
    // newest first; undated last; equal dates by name, later names first
    list.sort((a, b) => (b.pushedAt ?? -Infinity) - (a.pushedAt ?? -Infinity) || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0));
    return list.slice(0, mode.count).map(candidate);
  }
}

function candidate({ pushedAt: _pushedAt, ...rest }: HubTag): TagCandidate {
  return rest;
}

export class DockerHubCrawlSource implements CrawlSource {
  readonly plan: string;

  constructor(
    readonly spec: string,
    readonly scope: DockerHubScope,
    private readonly options: CrawlOptions,
  ) {
    this.plan = planOf(options, true);
  }

  async *targets(resume: CrawlCursor | null, signal?: AbortSignal): AsyncGenerator<CrawlItem> {
    const { options, spec, scope } = this;
    const plan = this.plan;
    if (resume) checkCursor(resume, spec, plan);
    const notice = options.notice ?? (() => {});
    const limits = resolveCrawlLimits(options.limits);
    const base = dockerHubApiBase(options);
    const transport = crawlTransport(options);
    const api = new DockerHubApi(base, transport, {
      env: options.env ?? process.env,
      login: options.dockerHubLogin ?? base === DEFAULT_DOCKER_HUB_API,
      maxPageBytes: limits.maxPageBytes,
      notice,
    });
    const listing = new DockerHubListing(spec, scope, api, options.tags ?? { mode: 'latest' }, limits, notice);
    try {
      yield* crawlRepositories(listing, { spec, plan, options, notice }, resume, signal);
    } finally {
      await transport.close();
    }
  }
}
