/**
 * HTTP for the registry client, on undici: which hosts may use plain HTTP or unverified TLS, timeouts so a stalled
 * server gives an error instead of a hang, redirects followed by hand (the `Authorization` header is dropped when
 * the origin changes, e.g. a 307 to blob storage), bounded body reads, and network errors turned into messages
 * that say what to do.
 */
import { isIPv4 } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { ImageError } from '../errors.js';
import type { RegistryResponseObserver } from '../types.js';
import { parseRetryAfter, parseRetryAt } from './challenge.js';
import { MAX_REGISTRY_ERROR_BODY_BYTES, MAX_REGISTRY_REDIRECTS, type RegistryTimeouts, type RetryPolicy } from '../limits.js';

/**
 * An error from the registry or the network. `transient` errors are worth retrying; `exhausted` ones were transient
 * but every attempt failed (not worth retrying now; a queue may retry the whole image later).
 */
export class RegistryError extends ImageError {
  constructor(
    message: string,
    hint: string | undefined,
    readonly transient: boolean,
    readonly status?: number,
    readonly exhausted = false,
  ) {
    super(message, hint);
    this.name = 'RegistryError';
  }
}

export interface TransportOptions {
  /** `--insecure-registry` values: `host`, `host:port`, or an IPv4 CIDR such as `10.0.0.0/8`. */
  insecureRegistries: readonly string[];
  /** Docker treats localhost and 127.0.0.0/8 as insecure registries by default; false turns that off (tests). */
  loopbackIsInsecure: boolean;
  timeouts: RegistryTimeouts;
  retry: RetryPolicy;
  userAgent: string;
  /** Sees every response that is not a redirect (rate-limit headers, 429s the retries absorb). */
  onResponse?: RegistryResponseObserver;
}

function splitHostPort(hostPort: string): { hostname: string; port?: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (v6) return { hostname: v6[1]!.toLowerCase(), ...(v6[2] ? { port: v6[2] } : {}) };
  const m = /^([^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!m) return { hostname: hostPort.toLowerCase() };
  return { hostname: m[1]!.toLowerCase(), ...(m[2] ? { port: m[2] } : {}) };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!base || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size);
}

/** localhost, *.localhost, 127.0.0.0/8, ::1 (judged from the name, without DNS). */
export function isLoopbackHost(hostPort: string): boolean {
  const { hostname } = splitHostPort(hostPort);
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '::1') return true;
  return isIPv4(hostname) && inCidr(hostname, '127.0.0.0/8');
}

/**
 * Whether `hostPort` may be reached over plain HTTP or with an unverified certificate: listed with
 * `--insecure-registry` (an entry without a port matches every port of that host), inside a listed CIDR, or a
 * loopback address.
 */
export function isInsecureHost(hostPort: string, options: Pick<TransportOptions, 'insecureRegistries' | 'loopbackIsInsecure'>): boolean {
  if (options.loopbackIsInsecure && isLoopbackHost(hostPort)) return true;
  const target = splitHostPort(hostPort);
  for (const raw of options.insecureRegistries) {
    const entry = raw.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '').toLowerCase();
    if (!entry) continue;
    if (entry.includes('/')) {
      if (isIPv4(target.hostname) && inCidr(target.hostname, entry)) return true;
      continue;
    }
    const listed = splitHostPort(entry);
    if (listed.hostname !== target.hostname) continue;
    if (listed.port === undefined || listed.port === target.port) return true;
  }
  return false;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The URL that answered, after redirects. */
  url: string;
}

export interface SendOptions {
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Small documents get an overall deadline; blobs only the idle timeout. */
  small?: boolean;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

export function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return '';
}

function errorMessage(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
    e = e.cause;
  }
  return parts.join(': ') || String(err);
}

/** Turns a network-level failure into a `RegistryError` that names the host and says what to try. */
export function networkError(err: unknown, url: string, timeouts: RegistryTimeouts): RegistryError {
  if (err instanceof RegistryError) return err;
  const host = new URL(url).host;
  const code = errorCode(err);
  const message = errorMessage(err);
  const insecureHint = `if you trust this registry, pass --insecure-registry ${host}`;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new RegistryError(`request to ${host} did not complete within ${seconds(timeouts.smallRequestMs)} (${url})`, 'the registry is too slow or stalled; retry later', true);
  }
  switch (code) {
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
      return new RegistryError(`the connection to ${host} was already closed (the image source was closed before its layers were read)`, undefined, false);
    case 'ECONNREFUSED':
      return new RegistryError(`could not connect to ${host}: connection refused`, 'check the registry host and port, and that the registry is running', true);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RegistryError(`could not resolve ${host}`, 'check the registry name and your network/DNS', code === 'EAI_AGAIN');
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new RegistryError(`connecting to ${host} timed out after ${seconds(timeouts.connectMs)}`, 'check your network or proxy; the registry may be down', true);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new RegistryError(`${host} did not answer within ${seconds(timeouts.headersMs)} (${url})`, 'the registry is stalled or overloaded; retry later', true);
    case 'UND_ERR_BODY_TIMEOUT':
      return new RegistryError(`${host} stopped sending data for ${seconds(timeouts.bodyIdleMs)} (${url})`, 'the registry is stalled or overloaded; retry later', true);
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new RegistryError(`the TLS certificate of ${host} is not trusted: ${message}`, insecureHint, false);
  }
  if (/wrong version number|packet length too long|unknown protocol|ERR_SSL_/i.test(`${code} ${message}`)) {
    return new RegistryError(`${host} does not speak HTTPS (${message})`, `for a plain-HTTP registry, ${insecureHint}`, false);
  }
  if (/certificate/i.test(message)) return new RegistryError(`TLS with ${host} failed: ${message}`, insecureHint, false);
  return new RegistryError(`connection to ${host} failed: ${message}`, 'the network or the registry dropped the connection; retry', true);
}

/** True for failures of the connection itself (reset, closed early, idle timeout), as opposed to bad content or disk errors. */
export function isNetworkFailure(err: unknown): boolean {
  if (err instanceof RegistryError) return err.transient;
  if (err instanceof ImageError) return false;
  return /^(UND_ERR|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)/.test(errorCode(err));
}

/** Reads a body into memory, failing as soon as it passes `maxBytes` (a hostile server cannot exhaust memory). */
export async function readBounded(body: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > maxBytes) {
        throw new ImageError(`${what} is larger than the ${maxBytes}-byte limit`, 'the registry is hostile or this is not an image');
      }
      chunks.push(buf);
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks, total);
}

/** Discards a response body without reading much of it, so the connection can be closed or reused. */
export function discard(response: HttpResponse): void {
  response.body.on('error', () => {});
  response.body.destroy();
}

/**
 * A short description of an error response from its body: the registry's `{"errors":[{"code","message"}]}` when
 * present, else the start of the text. Reads at most 16 KiB; never throws.
 */
export async function errorDetail(response: HttpResponse): Promise<string> {
  let text = '';
  try {
    const bytes = await readBounded(response.body, MAX_REGISTRY_ERROR_BODY_BYTES, 'error body');
    text = bytes.toString('utf8');
  } catch {
    discard(response);
    return '';
  }
  try {
    const json = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(json.errors)) {
      const parts = json.errors.slice(0, 3).map((e: unknown) => {
        const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
        return [typeof code === 'string' ? code : '', typeof message === 'string' ? message : ''].filter(Boolean).join(': ');
      });
      const joined = parts.filter(Boolean).join('; ');
      if (joined) return printable(joined);
    }
  } catch {
    // not JSON: use the text
  }
  return printable(text);
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

const STATUS_TEXT: Record<number, string> = { 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

export function statusLine(status: number): string {
  return `${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ''}`;
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

export class HttpTransport {
  private readonly verified: Agent;
  private readonly unverified: Agent;

  constructor(readonly options: TransportOptions) {
    const { timeouts } = options;
    const common = { headersTimeout: timeouts.headersMs, bodyTimeout: timeouts.bodyIdleMs, connections: 8 };
    this.verified = new Agent({ ...common, connect: { timeout: timeouts.connectMs } });
    this.unverified = new Agent({ ...common, connect: { timeout: timeouts.connectMs, rejectUnauthorized: false } });
  }

  isInsecure(hostPort: string): boolean {
    return isInsecureHost(hostPort, this.options);
  }

  private dispatcherFor(url: URL): Dispatcher {
    return url.protocol === 'https:' && this.isInsecure(url.host) ? this.unverified : this.verified;
  }

  /**
   * One HTTP exchange, following up to 5 redirects. Network failures are thrown as `RegistryError`; every status
   * code is returned as is (the caller owns the body and must read or `discard` it).
   */
  async send(url: string, options: SendOptions = {}): Promise<HttpResponse> {
    let current = new URL(url);
    const origin = current.origin;
    let headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...(options.headers ?? {}) };
    let method = options.method ?? 'GET';
    let body = options.body;
    const signal = options.small ? AbortSignal.timeout(this.options.timeouts.smallRequestMs) : undefined;
    for (let hop = 0; ; hop++) {
      if (current.protocol !== 'https:' && current.protocol !== 'http:') {
        throw new RegistryError(`${url} redirected to an unsupported URL scheme ${current.protocol}`, undefined, false);
      }
      if (current.protocol === 'http:' && !this.isInsecure(current.host)) {
        throw new RegistryError(
          `refusing plain HTTP to ${current.host} (${current.href})`,
          `HTTPS is required unless you pass --insecure-registry ${current.host}`,
          false,
        );
      }
      let response: Dispatcher.ResponseData;
      try {
        response = await request(current, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          dispatcher: this.dispatcherFor(current),
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        throw networkError(err, current.href, this.options.timeouts);
      }
      const { statusCode } = response;
      const location = header(response.headers, 'location');
      if ([301, 302, 303, 307, 308].includes(statusCode) && location) {
        response.body.on('error', () => {});
        response.body.destroy();
        if (hop >= MAX_REGISTRY_REDIRECTS) throw new RegistryError(`too many redirects from ${url}`, 'the registry or its storage is misconfigured', false);
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw new RegistryError(`${current.host} redirected to an invalid location "${location.slice(0, 200)}"`, undefined, false);
        }
        // Credentials belong to the registry: never send them to blob storage on another origin.
        if (next.origin !== origin) {
          headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
        }
        if (statusCode === 303 || ((statusCode === 301 || statusCode === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        current = next;
        continue;
      }
      response.body.on('error', () => {});
      try {
        this.options.onResponse?.({ host: current.host, status: statusCode, headers: response.headers });
      } catch {
        // an observer's mistake is not the registry's
      }
      return { status: statusCode, headers: response.headers, body: response.body, url: current.href };
    }
  }

  /** Backoff before retry number `retry` (1-based). */
  backoffMs(retry: number): number {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    return Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
  }

  /**
   * `send` with retries: dropped connections and timeouts, 429 and 5xx are tried again up to `retry.attempts`
   * times, waiting for `Retry-After` when the server gives one (seconds or an HTTP date; Docker Hub's API sends
   * `X-Retry-After`, a Unix time) and backing off
   * exponentially otherwise. `prepare` is called before every attempt, so a refreshed token is picked up.
   * Returns the first response that is not retryable (any 2xx, 3xx without location, or 4xx other than 429).
   */
  async exchange(url: string, prepare: () => Promise<SendOptions> | SendOptions): Promise<HttpResponse> {
    const { attempts, maxRetryAfterMs } = this.options.retry;
    const host = new URL(url).host;
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.send(url, await prepare());
      } catch (err) {
        const error = networkError(err, url, this.options.timeouts);
        if (!error.transient || attempt >= attempts) {
          // once retries are used up the error is final: callers must not retry it again
          throw attempt > 1 ? new RegistryError(`${error.message.split('\n')[0]} (after ${attempt} attempts)`, error.hint, false, error.status, true) : error;
        }
        await sleep(this.backoffMs(attempt));
        continue;
      }
      if (!isRetryableStatus(response.status)) return response;
      const retryAfter = parseRetryAfter(response.headers['retry-after']) ?? parseRetryAt(response.headers['x-retry-after']);
      const detail = await errorDetail(response);
      const tooLong = retryAfter !== undefined && retryAfter > maxRetryAfterMs;
      if (attempt >= attempts || tooLong) {
        const what = `${host} answered ${statusLine(response.status)}${detail ? ` (${detail})` : ''} to ${new URL(url).pathname}`;
        const after = retryAfter !== undefined ? `; it asks to retry after ${Math.ceil(retryAfter / 1000)}s` : '';
        if (response.status === 429) {
          throw new RegistryError(
            `${what}: rate limited${tooLong ? '' : ` after ${attempt} attempts`}${after}`,
            'wait and retry; on Docker Hub, logging in with "docker login" raises the pull limit',
            false,
            429,
            true,
          );
        }
        throw new RegistryError(`${what} after ${attempt} attempts${after}`, 'the registry is failing or overloaded; retry later', false, response.status, true);
      }
      await sleep(retryAfter ?? this.backoffMs(attempt));
    }
  }

  async close(): Promise<void> {
    // destroy, not close: close would wait for any body a caller left unread
    await Promise.all([this.verified.destroy(), this.unverified.destroy()]).catch(() => {});
  }
}
