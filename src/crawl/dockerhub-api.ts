/**
 * Docker Hub's web API (https://hub.docker.com by default; `DETONATE_DOCKERHUB_API` or `dockerHubApi` point it
 * elsewhere, e.g. at a test server): JSON pages read through the registry client's transport (timeouts, bounded
 * bodies, `--insecure-registry` rules, retries of 429 and 5xx waiting for `Retry-After` or Docker Hub's
 * `X-Retry-After`), `next` links kept on the API's origin, and an optional login.
 *
 * Login, as Docker Hub's API reference describes it ("Create access token", `POST /v2/auth/token` with
 * `{ identifier, secret }` answering `{ access_token }`, a bearer token that lives 10 minutes): with the Docker
 * config's credentials for docker.io (a username with a password or personal access token). A refused login is a
 * notice and the crawl goes on anonymously (public repositories only).
 */
import { lookupCredentials } from '../image/registry/index.js';
import { DOCKER_HUB } from '../image/ref.js';
import { errorDetail, readBounded, type HttpTransport } from '../image/registry/transport.js';
import { CrawlError, quote } from './errors.js';
import { DOCKER_HUB_TOKEN_RENEW_MS, MAX_DOCKER_HUB_TOKEN_CHARS, MAX_DOCKER_HUB_TOKEN_RESPONSE_BYTES } from './limits.js';
import type { CrawlOptions } from './types.js';

export const DEFAULT_DOCKER_HUB_API = 'https://hub.docker.com';

/** The API's base URL (origin, and a path prefix if one is given), from the options, the environment or the default. */
export function dockerHubApiBase(options: CrawlOptions): string {
  const text = options.dockerHubApi ?? (options.env ?? process.env).DETONATE_DOCKERHUB_API ?? DEFAULT_DOCKER_HUB_API;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CrawlError(`Docker Hub's API address ${quote(text)} is not a URL`, 'DETONATE_DOCKERHUB_API takes a URL such as https://hub.docker.com');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    throw new CrawlError(`Docker Hub's API address ${quote(text)} is not a plain http(s) URL`, 'DETONATE_DOCKERHUB_API takes a URL such as https://hub.docker.com');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export interface HubPage {
  status: number;
  /** The parsed JSON body of a 2xx answer. */
  body?: unknown;
  /** What the server said, for a 4xx. */
  detail?: string;
  /** The URL that answered. */
  url: string;
}

export class DockerHubApi {
  private token: { value: string; at: number } | undefined;
  private login: Promise<void> | undefined;
  private readonly origin: string;

  constructor(
    readonly base: string,
    private readonly transport: HttpTransport,
    private readonly options: { env: NodeJS.ProcessEnv; login: boolean; maxPageBytes: number; notice: (message: string) => void },
  ) {
    this.origin = new URL(base).origin;
  }

  /** `path` (starting with `/v2/`) on the API. */
  url(path: string): string {
    return `${this.base}${path}`;
  }

  /**
   * GET one JSON page. A 2xx answer's body is parsed (bounded); 4xx answers are returned with the server's words for
   * the caller to judge (404 ends a listing); 429 and 5xx are retried by the transport and then thrown.
   */
  async get(url: string): Promise<HubPage> {
    for (let renewed = false; ; renewed = true) {
      const authorization = await this.authorization();
      const response = await this.transport.exchange(url, () => ({ small: true, headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) } }));
      if (response.status === 401 && authorization && !renewed) {
        response.body.destroy();
        this.token = undefined;
        continue;
      }
      if (response.status < 200 || response.status >= 300) return { status: response.status, detail: await errorDetail(response), url: response.url };
      const bytes = await readBounded(response.body, this.options.maxPageBytes, `a page of Docker Hub's API (${new URL(url).pathname})`);
      try {
        return { status: response.status, body: JSON.parse(bytes.toString('utf8')) as unknown, url: response.url };
      } catch {
        throw new CrawlError(`Docker Hub's API answered ${new URL(url).pathname} with something that is not JSON`, 'the API address is wrong, or the server is broken or hostile');
      }
    }
  }

  /** The `next` URL of a page, absolute; refused when it leaves the API's origin or is not a URL. */
  next(page: HubPage): string | undefined {
    const next = (page.body as { next?: unknown } | null | undefined)?.next;
    if (next === null || next === undefined || next === '') return undefined;
    let url: URL;
    try {
      if (typeof next !== 'string') throw new Error('not a string');
      url = new URL(next, page.url);
    } catch {
      throw new CrawlError(`a page of Docker Hub's API has an invalid "next" link (${quote(String(next))})`, 'the server is broken or hostile');
    }
    if (url.origin !== this.origin) {
      throw new CrawlError(`a page of Docker Hub's API links to another host (${quote(url.host)})`, 'a listing never leaves the API it lists; the server is misconfigured or hostile');
    }
    return url.href;
  }

  private async authorization(): Promise<string | undefined> {
    if (!this.options.login) return undefined;
    if (this.token && Date.now() - this.token.at < DOCKER_HUB_TOKEN_RENEW_MS) return `Bearer ${this.token.value}`;
    this.login ??= this.logIn().finally(() => (this.login = undefined));
    await this.login;
    return this.token ? `Bearer ${this.token.value}` : undefined;
  }

  private async logIn(): Promise<void> {
    const lookup = await lookupCredentials(DOCKER_HUB, this.options.env);
    const creds = lookup.credentials;
    if (!creds?.username || !creds.password) {
      // nothing to log in with: anonymous from now on
      this.options.login = false;
      return;
    }
    const body = JSON.stringify({ identifier: creds.username, secret: creds.password });
    const response = await this.transport.exchange(this.url('/v2/auth/token'), () => ({
      method: 'POST',
      small: true,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
    }));
    if (response.status !== 200) {
      const detail = await errorDetail(response);
      this.options.notice(`Docker Hub's API refused the login of ${quote(creds.username)} from ${creds.source} (${response.status}${detail ? `: ${detail}` : ''}); listing anonymously`);
      this.options.login = false;
      return;
    }
    const bytes = await readBounded(response.body, MAX_DOCKER_HUB_TOKEN_RESPONSE_BYTES, "Docker Hub's token response");
    let token: unknown;
    try {
      token = (JSON.parse(bytes.toString('utf8')) as { access_token?: unknown } | null)?.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token.length > MAX_DOCKER_HUB_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
      this.options.notice(`Docker Hub's API answered the login without a usable token; listing anonymously`);
      this.options.login = false;
      return;
    }
    this.token = { value: token, at: Date.now() };
  }
}
