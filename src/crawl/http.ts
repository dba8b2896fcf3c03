/**
 * The crawl talks HTTP through the registry client's transport (src/image/registry/transport.ts): the same
 * `--insecure-registry` rules, timeouts, bounded reads, and retries of 429 and 5xx honouring `Retry-After`.
 */
import { DEFAULT_REGISTRY_RETRY, DEFAULT_REGISTRY_TIMEOUTS } from '../image/registry/index.js';
import { HttpTransport } from '../image/registry/transport.js';
import { toolVersion } from '../version.js';
import type { CrawlOptions } from './types.js';

export function crawlTransport(options: CrawlOptions): HttpTransport {
  return new HttpTransport({
    insecureRegistries: options.insecureRegistries ?? [],
    loopbackIsInsecure: options.loopbackIsInsecure ?? true,
    timeouts: { ...DEFAULT_REGISTRY_TIMEOUTS, ...options.timeouts },
    retry: { ...DEFAULT_REGISTRY_RETRY, ...options.retry },
    userAgent: options.userAgent ?? `detonate/${toolVersion()}`,
  });
}
