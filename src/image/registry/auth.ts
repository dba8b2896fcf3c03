/**
 * Registry authentication, driven by the `WWW-Authenticate` challenge the registry answers `/v2/` (or any request)
 * with:
 * - no challenge: anonymous;
 * - `Basic`: the Docker-config credentials on every request;
 * - `Bearer realm=…,service=…,scope=…` (the Docker token flow, also Docker Hub's): a token is asked from the realm
 *   per scope (`repository:NAME:pull`), with the credentials as Basic auth when there are some (an OAuth2 refresh
 *   token, `identitytoken`, is exchanged by POST instead), and cached until shortly before it expires.
 */
import { ImageError } from '../errors.js';
import { parseWwwAuthenticate, type AuthChallenge } from './challenge.js';
import { lookupCredentials, type CredentialLookup, type RegistryCredentials } from './credentials.js';
import { errorDetail, readBounded, RegistryError, type HttpTransport, type SendOptions } from './transport.js';
import { MAX_TOKEN_CHARS, MAX_TOKEN_RESPONSE_BYTES } from '../limits.js';

/** The token spec's default lifetime when `expires_in` is absent, and its minimum. */
const DEFAULT_TOKEN_SECONDS = 60;
/** Renew this long before expiry so a token does not lapse mid-request. */
const EXPIRY_MARGIN_MS = 10_000;

interface CachedToken {
  token: string;
  fetchedAt: number;
  expiresAt: number;
}

/** `repository:NAME:pull`: the scope of a pull. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export class Authenticator {
  private challenge: AuthChallenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();
  private lookup: Promise<CredentialLookup> | undefined;
  /** Token requests made so far (tests check that tokens are cached). */
  tokenRequests = 0;

  constructor(
    /** The registry as references name it (`docker.io`, `localhost:5000`): the credential key. */
    private readonly registry: string,
    private readonly transport: HttpTransport,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Records the challenge from a `/v2/` ping or a 401 response; returns false when none is usable. */
  setChallenge(header: string | string[] | undefined): boolean {
    const challenges = parseWwwAuthenticate(header);
    const chosen = challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    this.challenge = chosen;
    return true;
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** Credentials from the Docker config (looked up once). */
  credentialLookup(): Promise<CredentialLookup> {
    this.lookup ??= lookupCredentials(this.registry, this.env);
    return this.lookup;
  }

  private async credentials(): Promise<RegistryCredentials | undefined> {
    return (await this.credentialLookup()).credentials;
  }

  /** The `Authorization` header for a request in `scope`, fetching a token when needed. */
  async headers(scope: string): Promise<Record<string, string>> {
    const challenge = this.challenge;
    if (!challenge) return {};
    const creds = await this.credentials();
    if (challenge.scheme === 'basic') {
      if (!creds?.username) return {};
      return { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}` };
    }
    if (creds?.registryToken) return { authorization: `Bearer ${creds.registryToken}` };
    return { authorization: `Bearer ${await this.token(challenge, scope)}` };
  }

  /**
   * Handles a 401 to a request sent at `sentAt`: takes the new challenge and says whether trying again with fresh
   * authentication can help. It cannot when the same credentials (Basic) or a token fetched for this very request
   * (Bearer, same realm and service) were just refused.
   */
  async renew(header: string | string[] | undefined, scope: string, sentAt: number): Promise<boolean> {
    const previous = this.challenge;
    if (!this.setChallenge(header)) return false;
    const current = this.challenge!;
    const creds = await this.credentials();
    if (current.scheme === 'basic') return Boolean(creds?.username) && previous?.scheme !== 'basic';
    const key = this.tokenKey(current, scope);
    const sameService = previous?.scheme === 'bearer' && previous.params.realm === current.params.realm && previous.params.service === current.params.service;
    const sent = this.tokens.get(key);
    this.tokens.delete(key);
    if (creds?.registryToken) return previous?.scheme !== 'bearer';
    return !(sameService && sent && sent.fetchedAt >= sentAt);
  }

  private tokenKey(challenge: AuthChallenge, scope: string): string {
    return `${challenge.params.realm}\n${challenge.params.service ?? ''}\n${scope}`;
  }

  private async token(challenge: AuthChallenge, scope: string): Promise<string> {
    const realm = challenge.params.realm!;
    const service = challenge.params.service;
    // The registry may name another scope in its challenge; a pull only needs ours.
    const key = this.tokenKey(challenge, scope);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    // Layers are fetched in parallel: they share one token request.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(realm, service, scope, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(realm: string, service: string | undefined, scope: string, key: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`${this.registry} names an invalid token service "${realm.slice(0, 200)}"`, 'the registry is misconfigured', false);
    }
    const creds = await this.credentials();
    const params = new URLSearchParams();
    if (service) params.set('service', service);
    params.set('scope', scope);
    let request: SendOptions;
    if (creds?.identityToken) {
      // OAuth2 refresh-token grant (what `identitytoken` in config.json is for)
      params.set('grant_type', 'refresh_token');
      params.set('refresh_token', creds.identityToken);
      params.set('client_id', 'detonate');
      request = { method: 'POST', small: true, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() };
    } else {
      // Docker also names the account; some token services want it
      if (creds?.username) params.set('account', creds.username);
      for (const [k, v] of params) url.searchParams.append(k, v);
      const headers: Record<string, string> = {};
      if (creds?.username) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      request = { method: 'GET', small: true, headers };
    }
    this.tokenRequests++;
    const response = await this.transport.exchange(url.href, () => request);
    if (response.status !== 200) {
      const detail = await errorDetail(response);
      const lookup = await this.credentialLookup();
      const login = `log in with "docker login ${this.registry}" or check $DOCKER_CONFIG (${lookup.configPath})`;
      if (response.status === 401 || response.status === 403) {
        if (creds) {
          const who = creds.username ? `user "${creds.username}"` : 'the identity token';
          throw new RegistryError(
            `authentication to ${this.registry} failed: its token service refused ${who} (${response.status}${detail ? `: ${detail}` : ''})`,
            `the credentials from ${creds.source} were rejected; ${login}`,
            false,
            401,
          );
        }
        throw new RegistryError(
          `${this.registry} requires authentication: its token service refused an anonymous request (${response.status}${detail ? `: ${detail}` : ''})`,
          `${login}${lookup.problem ? `; note: ${lookup.problem}` : ''}`,
          false,
          401,
        );
      }
      throw new RegistryError(`the token service of ${this.registry} answered ${response.status}${detail ? ` (${detail})` : ''}`, 'retry later; the registry may be failing', false, response.status);
    }
    const body = await readBounded(response.body, MAX_TOKEN_RESPONSE_BYTES, `token response from ${url.host}`);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ImageError(`the token service of ${this.registry} (${url.host}) answered something that is not JSON`, 'the registry is misconfigured');
    }
    const { token, access_token: accessToken, expires_in: expiresIn } = (json ?? {}) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const value = typeof token === 'string' && token ? token : typeof accessToken === 'string' && accessToken ? accessToken : undefined;
    // a token goes into a header: no whitespace or control characters
    if (!value || value.length > MAX_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(value)) {
      throw new ImageError(`the token service of ${this.registry} (${url.host}) answered without a usable token`, 'the registry is misconfigured');
    }
    const seconds = typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? Math.max(expiresIn, DEFAULT_TOKEN_SECONDS) : DEFAULT_TOKEN_SECONDS;
    const now = Date.now();
    this.tokens.set(key, { token: value, fetchedAt: now, expiresAt: now + seconds * 1000 - EXPIRY_MARGIN_MS });
    return value;
  }
}
