/**
 * What a crawl source is and yields. A source enumerates images (`CrawlTarget`s) and, with each, a `CrawlCursor`: the
 * position just after that target. The caller persists the cursor of the last target it committed (enqueued); given
 * back to `targets`, a source goes on with exactly the targets after it, so a crawl stopped at any moment and started
 * again neither loses a target nor yields one twice (as long as the source's listing has not changed meanwhile; see
 * `targets`).
 */
import type { RegistryTimeouts, RetryPolicy } from '../image/registry/index.js';
import type { CrawlLimits } from './limits.js';

/** One image a crawl found. */
export interface CrawlTarget {
  /** The registry as references name it: `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** The repository inside it: `library/nginx`, `team/app`. */
  repository: string;
  /** The tag; absent for a reference by digest alone (a `file:` line `name@sha256:…`). */
  tag?: string;
  /** The normalised reference to scan: `docker.io/library/nginx:1.25`. */
  reference: string;
  /** The manifest (or index) digest the tag pointed to when listed, when the source says: tags that resolve to one
   *  digest are scanned once (the queue dedupes by digest). */
  digest?: string;
  /** The repository's pull count, when the source knows it (Docker Hub). */
  pullCount?: number;
  /** Compressed size in bytes (layers and config), when the source knows it. */
  sizeBytes?: number;
  /** When the tag was last pushed (Docker Hub) or its image created (a registry's config `created`), ISO 8601. */
  updatedAt?: string;
}

/**
 * Where a crawl stands, JSON-serialisable (plain fields, no classes): after `repository`:`tag` for the repository
 * sources, after line `line` for a file. `source` and `plan` say which source and which options produced it: a cursor
 * is only valid for the same source with the same `--tags`, `--sample`/`--seed` and order (`checkCursor`).
 */
export interface CrawlCursor {
  readonly v: 1;
  /** The source spec, as given: `registry:127.0.0.1:5000`, `dockerhub:library`, `file:refs.txt`. */
  readonly source: string;
  /** The options that decide the sequence, in a canonical form (`planOf`). */
  readonly plan: string;
  readonly repository?: string;
  readonly tag?: string;
  /** The repository's pull count when it was listed (order by pulls resumes by it when the repository is gone). */
  readonly pulls?: number;
  readonly line?: number;
}

/** One step of a crawl: a target, the cursor after it, and why it is to be recorded as skipped instead of scanned. */
export interface CrawlItem {
  target: CrawlTarget;
  cursor: CrawlCursor;
  /** Set when the target is not to be scanned (e.g. over `--max-image-size`): record it as `skipped` with this reason. */
  skip?: string;
}

export interface CrawlSource {
  /** The spec it was made from: `registry:HOST`, `dockerhub:NAMESPACE`, `dockerhub:search:TERM`, `file:PATH`. */
  readonly spec: string;
  /** The options that decide the sequence, canonical (`planOf`): a saved cursor resumes only the same spec and plan. */
  readonly plan: string;
  /**
   * The targets in a deterministic order, each with the cursor after it. `resume` (a cursor this source yielded
   * earlier, with the same options) starts just after that target; `null` starts at the beginning. Problems with one
   * repository or one line (not found, refused, garbage, an invalid name) are reported through `CrawlOptions.notice`
   * and skipped; a source-wide failure (the listing cannot be read, the network is down after retries, a link to
   * another host) throws a `CrawlError` or the registry's error, and the crawl can resume from the last cursor.
   * `signal` stops the iteration between requests.
   */
  targets(resume: CrawlCursor | null, signal?: AbortSignal): AsyncIterable<CrawlItem>;
}

/** `--tags`: the `latest` tag only; the N most recent; every tag. */
export type TagSelection = { mode: 'latest' } | { mode: 'newest'; count: number } | { mode: 'all' };

/** `name`: repositories in name order; `pulls`: most pulled first (where the source knows pull counts). */
export type CrawlOrder = 'name' | 'pulls';

export interface CrawlOptions {
  /** Default `latest`. Does not apply to `file:` sources (each line names its tag). */
  tags?: TagSelection;
  /** `--sample N --seed S`: N repositories (N lines of a file), the same N for the same seed and listing. */
  sample?: { size: number; seed: string };
  /** Default `name`. */
  order?: CrawlOrder;
  /** `--max-image-size`: targets whose known compressed size is larger are yielded with `skip`. */
  maxImageSizeBytes?: number;
  /** `--platform`: not used to enumerate; carried for the caller (the queue's jobs). */
  platform?: string;
  /** `--insecure-registry` values, as `scan` takes them. */
  insecureRegistries?: readonly string[];
  /** Where `DOCKER_CONFIG`, `HOME` and `DETONATE_DOCKERHUB_API` are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Receives one line per problem that does not stop the crawl (a bad line, a repository that cannot be listed). */
  notice?: (message: string) => void;
  limits?: Partial<CrawlLimits>;
  timeouts?: Partial<RegistryTimeouts>;
  retry?: Partial<RetryPolicy>;
  /** Docker Hub's API base URL; default `DETONATE_DOCKERHUB_API`, else `https://hub.docker.com`. */
  dockerHubApi?: string;
  /**
   * Log in to Docker Hub's API with the Docker Hub credentials of the Docker config (private repositories, a higher
   * rate limit). Default: only when the API is Docker Hub's own (credentials never go to another base URL unasked).
   */
  dockerHubLogin?: boolean;
  /** Where `file:` paths are resolved; default `process.cwd()`. */
  cwd?: string;
  userAgent?: string;
  /** Default `true`: localhost and 127.0.0.0/8 may use plain HTTP, as Docker allows. */
  loopbackIsInsecure?: boolean;
}
