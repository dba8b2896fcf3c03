/**
 * The crawl's sources: what `detonate crawl SOURCE…` enumerates. `parseCrawlSource` turns a spec into a source:
 *
 *   registry:HOST            every repository of a registry (registry.ts)
 *   dockerhub:NAMESPACE      every repository of a Docker Hub user or organisation (dockerhub.ts)
 *   dockerhub:search:TERM    the repositories Docker Hub's search finds for TERM, sharded past its cap (dockerhub.ts)
 *   file:PATH                one reference per line (file.ts)
 *
 *   const source = parseCrawlSource('registry:127.0.0.1:5000', { tags: parseTagSelection('newest:3') });
 *   for await (const { target, cursor, skip } of source.targets(savedCursor)) { enqueue(target, skip); save(cursor); }
 *
 * The interface (types.ts): each target comes with the cursor after it; the caller persists the cursor of the last
 * target it committed and passes it back to resume. Nothing here queues or stores: that is the caller's.
 */
import { DOCKER_HUB, parseImageRef } from '../image/ref.js';
import { DockerHubCrawlSource } from './dockerhub.js';
import { CrawlError, quote } from './errors.js';
import { FileCrawlSource } from './file.js';
import { MAX_SEARCH_TERM_CHARS } from './limits.js';
import { RegistryCrawlSource } from './registry.js';
import type { CrawlOptions, CrawlSource } from './types.js';

export type { CrawlCursor, CrawlItem, CrawlOptions, CrawlOrder, CrawlSource, CrawlTarget, TagSelection } from './types.js';
export { CrawlError } from './errors.js';
export { DEFAULT_CRAWL_LIMITS, type CrawlLimits } from './limits.js';
export { checkCursor, formatTagSelection, parseCrawlCursor, parseSample, parseTagSelection } from './plan.js';

const FORMS = 'registry:HOST[:PORT], dockerhub:NAMESPACE, dockerhub:search:TERM or file:PATH';
const DOCKER_HUB_HOSTS = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io', 'hub.docker.com']);

function registryHost(spec: string, host: string): string {
  if (DOCKER_HUB_HOSTS.has(host.toLowerCase())) {
    throw new CrawlError(`${spec}: Docker Hub's registry does not list its repositories`, 'use dockerhub:NAMESPACE or dockerhub:search:TERM');
  }
  let ref;
  try {
    ref = parseImageRef(`${host}/x`);
  } catch {
    ref = undefined;
  }
  if (!ref || ref.registry !== host) {
    throw new CrawlError(`${quote(spec)} does not name a registry host`, 'registry:HOST takes a host as image references name it: registry.example.com, localhost:5000, 10.0.0.5:5000');
  }
  return host;
}

function dockerHubNamespace(spec: string, namespace: string): string {
  let ref;
  try {
    ref = parseImageRef(`${DOCKER_HUB}/${namespace}/x`);
  } catch {
    ref = undefined;
  }
  if (!ref || namespace.includes('/') || ref.repository !== `${namespace}/x`) {
    throw new CrawlError(`${quote(spec)} does not name a Docker Hub namespace`, 'a namespace is a user or organisation name in lowercase, such as library or bitnami');
  }
  return namespace;
}

function searchTerm(spec: string, term: string): string {
  if (!term || term.length > MAX_SEARCH_TERM_CHARS || !/^[\x21-\x7e]+$/.test(term)) {
    throw new CrawlError(`${quote(spec)} does not give a search term`, `dockerhub:search:TERM takes 1 to ${MAX_SEARCH_TERM_CHARS} printable characters without spaces`);
  }
  return term;
}

/** The source a spec names; a `CrawlError` that lists the forms for anything else. Nothing is fetched yet. */
export function parseCrawlSource(spec: string, options: CrawlOptions = {}): CrawlSource {
  const colon = spec.indexOf(':');
  const kind = colon === -1 ? '' : spec.slice(0, colon);
  const rest = colon === -1 ? '' : spec.slice(colon + 1);
  switch (kind) {
    case 'registry':
      return new RegistryCrawlSource(spec, registryHost(spec, rest), options);
    case 'dockerhub':
      if (rest.startsWith('search:')) return new DockerHubCrawlSource(spec, { kind: 'search', term: searchTerm(spec, rest.slice('search:'.length)) }, options);
      return new DockerHubCrawlSource(spec, { kind: 'namespace', namespace: dockerHubNamespace(spec, rest) }, options);
    case 'file':
      if (!rest) throw new CrawlError(`${quote(spec)} names no file`, 'file:PATH takes the path of a file with one image reference per line');
      return new FileCrawlSource(spec, rest, options);
    default:
      throw new CrawlError(`unknown crawl source ${quote(spec)}`, `a source is ${FORMS}`);
  }
}
