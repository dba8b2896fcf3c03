/**
 * Bounds of the crawl's sources. Registries, Docker Hub's API and listing files are hostile or simply huge: each
 * bound turns an endless listing, an absurd page or a runaway query fan-out into a clear error, a notice or a cut.
 * `CrawlLimits` are the tunable ones (tests make them small); the rest are fixed.
 */
import { DEFAULT_LIMITS, type Limits } from '../config/limits.js';

export interface CrawlLimits {
  /** Most repositories one source enumerates (the whole listing is held in memory, names and pull counts only). */
  maxRepositories: number;
  /** Most tags read of one repository; a longer list is cut, with a notice. */
  maxTagsPerRepository: number;
  /** Most pages followed in one listing (a catalog, one repository's tags, one search query). */
  maxPagesPerListing: number;
  /** Largest body of one listing page (catalog, tag list, Docker Hub JSON page). */
  maxPageBytes: number;
  /** `newest:N` on a plain registry reads each tag's config date only when a repository has at most this many tags. */
  maxDatedTagsPerRepository: number;
  /** Docker Hub search: most queries one `dockerhub:search:TERM` sends, refinements included. */
  maxSearchQueries: number;
  /** Docker Hub search: most characters appended to TERM when refining a capped query. */
  maxSearchRefinementDepth: number;
  /** `file:` sources: most lines read. */
  maxFileLines: number;
  /** Repositories asked per catalog page (`/v2/_catalog?n=`); distribution serves at most 1000 by default. */
  catalogPageSize: number;
  /** Tags asked per page (`/tags/list?n=`); registries that ignore `n` send them all at once. */
  tagListPageSize: number;
  /** Entries asked per page of Docker Hub's API (repositories, tags, search); its documented maximum is 100. */
  dockerHubPageSize: number;
}

export const DEFAULT_CRAWL_LIMITS: Readonly<CrawlLimits> = Object.freeze({
  // 500k names with their counts are some tens of MiB; a bigger registry is crawled in several sources or a file
  maxRepositories: 500_000,
  maxTagsPerRepository: 10_000,
  maxPagesPerListing: 10_000,
  maxPageBytes: 8 * 1024 * 1024,
  // each dated tag costs a manifest and a config request
  maxDatedTagsPerRepository: 64,
  // TERM, then 40 one-character refinements, then 40 of each of those: 1 + 40 + 1600 fits
  maxSearchQueries: 2_000,
  maxSearchRefinementDepth: 2,
  maxFileLines: 10_000_000,
  catalogPageSize: 1000,
  tagListPageSize: 1000,
  dockerHubPageSize: 100,
});

export function resolveCrawlLimits(overrides: Partial<CrawlLimits> = {}): CrawlLimits {
  return { ...DEFAULT_CRAWL_LIMITS, ...overrides };
}

/** Longest line of a `file:` source; a reference is at most 4096 characters, and a comment may follow it. */
export const MAX_FILE_LINE_CHARS = 8192;
/** Longest `--seed` and `dockerhub:search:TERM` accepted. */
export const MAX_SEED_CHARS = 256;
export const MAX_SEARCH_TERM_CHARS = 128;
/** Largest `N` of `newest:N` and `--sample N`. */
export const MAX_NEWEST_TAGS = 10_000;
export const MAX_SAMPLE_SIZE = 10_000_000;
/** Longest untrusted text (a name, a server message) quoted in a notice or an error. */
export const MAX_QUOTED_CHARS = 200;
/** Largest response of Docker Hub's token endpoint, and longest token taken from it. */
export const MAX_DOCKER_HUB_TOKEN_RESPONSE_BYTES = 64 * 1024;
export const MAX_DOCKER_HUB_TOKEN_CHARS = 8192;
/** Manifests and configs read to date and size a registry's tags: as large as a scan accepts them. */
export const CRAWL_MANIFEST_LIMITS: Readonly<Pick<Limits, 'maxManifestBytes'>> = Object.freeze({ maxManifestBytes: DEFAULT_LIMITS.maxManifestBytes });
/** Docker Hub's API tokens live 10 minutes (its documentation); renew after this long. */
export const DOCKER_HUB_TOKEN_RENEW_MS = 8 * 60 * 1000;

/** How a crawl pass commits (run.ts): a batch of targets, its jobs and its cursor in one transaction. */
export interface CrawlBatchSettings {
  /** Targets per transaction. */
  maxTargets: number;
  /** A batch still filling after this long is committed anyway, so that a slow listing's cursor keeps up. */
  maxWaitMs: number;
}

export const DEFAULT_CRAWL_BATCH: Readonly<CrawlBatchSettings> = Object.freeze({ maxTargets: 500, maxWaitMs: 2000 });
