/**
 * The crawl of a listing of repositories, shared by `registry:` and `dockerhub:` sources, in two phases:
 *
 * 1. the whole listing is read (names, with pull counts where the source has them; about one request per 1000
 *    repositories of a registry catalog, per 100 on Docker Hub), deduplicated, sampled (`--sample`, see sample.ts)
 *    and put in a total order: by name, or by pull count (most first, then by name);
 * 2. repository after repository, the tags `--tags` selects are listed and yielded, each with the cursor
 *    `{ repository, tag }` after it.
 *
 * Resuming re-reads the listing (phase 1 is cheap next to phase 2) and restarts at the cursor's repository, after its
 * tag. Ordered by name, that is exact even if repositories were added or removed meanwhile. Ordered by pull count,
 * counts that changed since can move a repository across the cursor: it may then be listed twice (the queue dedupes)
 * or, having moved from after the cursor to before it, be missed until the next crawl. A repository whose tags changed
 * so that the cursor's tag is no longer among them is listed again in full.
 */
import { firstLine, isRepositoryProblem, quote } from './errors.js';
import { bottomK } from './sample.js';
import { makeTarget, sizeSkip, type TargetFacts } from './targets.js';
import type { CrawlCursor, CrawlItem, CrawlOptions } from './types.js';

export interface RepositoryEntry {
  /** The repository path in the registry: `team/app`, `library/nginx`. */
  name: string;
  pullCount?: number;
}

/** A tag chosen by the source's `--tags` selection, with what the listing said of it. */
export interface TagCandidate extends TargetFacts {
  tag: string;
}

export interface RepositoryListing {
  /** The registry as references name it (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Whether entries carry pull counts (ordering by pulls is otherwise by name, with a notice). */
  knowsPullCounts: boolean;
  /** Every repository of the source, in any order; duplicates are allowed (they count once). */
  repositories(signal: AbortSignal | undefined): Promise<RepositoryEntry[]>;
  /** The selected tags of one repository, in the order to crawl them. Throws for a repository it cannot list. */
  tags(repository: RepositoryEntry, signal: AbortSignal | undefined): Promise<TagCandidate[]>;
}

export interface CrawlContext {
  spec: string;
  plan: string;
  options: CrawlOptions;
  notice: (message: string) => void;
}

function byName(a: RepositoryEntry, b: RepositoryEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function byPulls(a: { name: string; pullCount?: number }, b: { name: string; pullCount?: number }): number {
  const pa = a.pullCount ?? -1;
  const pb = b.pullCount ?? -1;
  return pa !== pb ? pb - pa : byName(a, b);
}

/** Phase 1: the listing, deduplicated, sampled and ordered. */
export function orderRepositories(entries: RepositoryEntry[], context: CrawlContext, knowsPullCounts: boolean): RepositoryEntry[] {
  const unique = new Map<string, RepositoryEntry>();
  for (const e of entries) if (!unique.has(e.name)) unique.set(e.name, e);
  let list = [...unique.values()];
  const { sample, order } = context.options;
  if (sample) list = bottomK(list, sample.size, sample.seed, (e) => e.name);
  const usePulls = order === 'pulls' && knowsPullCounts;
  if (order === 'pulls' && !knowsPullCounts) context.notice(`${context.spec}: the source has no pull counts; repositories are crawled in name order`);
  return list.sort(usePulls ? byPulls : byName);
}

/** Where to restart in `ordered`: the cursor's repository, or the first one after its place when it is gone. */
function resumeIndex(ordered: RepositoryEntry[], cursor: CrawlCursor, usePulls: boolean): number {
  const at = ordered.findIndex((e) => e.name === cursor.repository);
  if (at !== -1) return at;
  const mark = { name: cursor.repository ?? '', ...(cursor.pulls !== undefined ? { pullCount: cursor.pulls } : {}) };
  const next = ordered.findIndex((e) => (usePulls ? byPulls(e, mark) : byName(e, mark)) > 0);
  return next === -1 ? ordered.length : next;
}

/** Phase 2: the targets, with cursors, from `resume` on. */
export async function* crawlRepositories(listing: RepositoryListing, context: CrawlContext, resume: CrawlCursor | null, signal?: AbortSignal): AsyncGenerator<CrawlItem> {
  const { spec, plan, options, notice } = context;
  signal?.throwIfAborted();
  const ordered = orderRepositories(await listing.repositories(signal), context, listing.knowsPullCounts);
  const usePulls = options.order === 'pulls' && listing.knowsPullCounts;
  let start = 0;
  let afterTag: string | undefined;
  if (resume?.repository !== undefined) {
    start = resumeIndex(ordered, resume, usePulls);
    if (ordered[start]?.name === resume.repository) afterTag = resume.tag;
  }
  for (let i = start; i < ordered.length; i++) {
    signal?.throwIfAborted();
    const repository = ordered[i]!;
    let candidates: TagCandidate[];
    try {
      candidates = await listing.tags(repository, signal);
    } catch (err) {
      if (!isRepositoryProblem(err)) throw err;
      notice(`${spec}: skipped repository ${quote(repository.name)}: ${firstLine(err)}`);
      continue;
    }
    if (i === start && afterTag !== undefined) {
      const at = candidates.findIndex((c) => c.tag === afterTag);
      if (at !== -1) candidates = candidates.slice(at + 1);
    }
    for (const candidate of candidates) {
      signal?.throwIfAborted();
      const { tag, ...facts } = candidate;
      const made = makeTarget(listing.registry, repository.name, tag, {
        ...facts,
        ...(repository.pullCount !== undefined ? { pullCount: repository.pullCount } : {}),
      });
      if ('invalid' in made) {
        notice(`${spec}: skipped ${made.invalid}`);
        continue;
      }
      const cursor: CrawlCursor = {
        v: 1,
        source: spec,
        plan,
        repository: repository.name,
        tag,
        ...(repository.pullCount !== undefined ? { pulls: repository.pullCount } : {}),
      };
      const skip = sizeSkip(made, options.maxImageSizeBytes);
      yield { target: made, cursor, ...(skip ? { skip } : {}) };
    }
  }
}
