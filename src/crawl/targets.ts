/**
 * Targets from the names a listing gives: a repository and tag from a hostile server become a reference only when
 * they are what `docker pull` would accept (the reference grammar of src/image/ref.ts), else the caller skips them
 * with a notice. And `--max-image-size`, which turns a target into a skipped one when its size is known.
 */
import { formatBytes } from '../util/format.js';
import { parseImageRef } from '../image/ref.js';
import { firstLine, quote } from './errors.js';
import type { CrawlTarget } from './types.js';

export interface TargetFacts {
  digest?: string;
  pullCount?: number;
  sizeBytes?: number;
  updatedAt?: string;
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/;

/** The target `registry/repository:tag`, or why it is not a valid reference. */
export function makeTarget(registry: string, repository: string, tag: string, facts: TargetFacts = {}): CrawlTarget | { invalid: string } {
  // the tag grammar of distribution/reference (ref.ts); checked first so that "a/b" is a bad tag, not a bad name
  if (!/^\w[\w.-]{0,127}$/.test(tag)) return { invalid: `${quote(`${repository}:${tag}`)} is not a valid reference (${quote(tag)} is not a valid tag)` };
  const text = `${registry}/${repository}:${tag}`;
  let ref;
  try {
    ref = parseImageRef(text);
  } catch (err) {
    return { invalid: `${quote(`${repository}:${tag}`)} is not a valid reference (${firstLine(err).replace(/^invalid image reference "[^"]*": /, '')})` };
  }
  // the name must come through unchanged: no registry hidden in the repository, no normalisation
  if (ref.registry !== registry || ref.repository !== repository || ref.tag !== tag || ref.digest) {
    return { invalid: `${quote(`${repository}:${tag}`)} does not name a repository of ${registry}` };
  }
  return withFacts({ registry, repository, tag, reference: ref.toString() }, facts);
}

/** Attaches what the listing said, dropping values that cannot be right (negative sizes, digests of another form). */
export function withFacts(target: CrawlTarget, facts: TargetFacts): CrawlTarget {
  const out = { ...target };
  if (facts.digest !== undefined && DIGEST_RE.test(facts.digest)) out.digest = facts.digest;
  if (facts.pullCount !== undefined && Number.isSafeInteger(facts.pullCount) && facts.pullCount >= 0) out.pullCount = facts.pullCount;
  if (facts.sizeBytes !== undefined && Number.isSafeInteger(facts.sizeBytes) && facts.sizeBytes >= 0) out.sizeBytes = facts.sizeBytes;
  if (facts.updatedAt !== undefined && facts.updatedAt.length <= 64 && !Number.isNaN(Date.parse(facts.updatedAt))) out.updatedAt = facts.updatedAt;
  return out;
}

/** The `skip` reason for a target over `--max-image-size`; undefined when it is within or its size is unknown. */
export function sizeSkip(target: CrawlTarget, maxImageSizeBytes: number | undefined): string | undefined {
  if (maxImageSizeBytes === undefined || target.sizeBytes === undefined || target.sizeBytes <= maxImageSizeBytes) return undefined;
  return `image size ${formatBytes(target.sizeBytes)} (${target.sizeBytes} bytes) is over --max-image-size ${formatBytes(maxImageSizeBytes)}`;
}
