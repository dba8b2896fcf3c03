import { MAX_AUTH_HEADER_CHARS, MAX_AUTH_HEADER_STEPS, MAX_AUTH_HEADER_VALUES, MAX_RETRY_AFTER_CHARS } from '../limits.js';
/**
 * Parsing of the two response headers that steer a registry client: `WWW-Authenticate` (RFC 7235 challenges, as
 * the Docker token spec uses them) and `Retry-After` (RFC 9110: delay in seconds or an HTTP date).
 */

export interface AuthChallenge {
  /** Lowercased: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names lowercased: `realm`, `service`, `scope`, `error`. */
  params: Record<string, string>;
}

const TOKEN_RE = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
/** Token68 (RFC 7235): `Basic dXNlcjpwYXNz`-style credentials in a challenge; skipped. */
const TOKEN68_RE = /[A-Za-z0-9._~+/-]+=*/y;

function skipSpaces(text: string, at: number): number {
  while (at < text.length && (text[at] === ' ' || text[at] === '\t')) at++;
  return at;
}

function readToken(text: string, at: number): { value: string; end: number } | null {
  TOKEN_RE.lastIndex = at;
  const m = TOKEN_RE.exec(text);
  return m ? { value: m[0], end: TOKEN_RE.lastIndex } : null;
}

function readQuoted(text: string, at: number): { value: string; end: number } {
  // text[at] is the opening quote
  let value = '';
  let i = at + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\' && i + 1 < text.length) i++;
    value += text[i];
    i++;
  }
  return { value, end: Math.min(i + 1, text.length) };
}

/**
 * Parses every challenge in one or more `WWW-Authenticate` values, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`.
 * Malformed parts are skipped, never thrown on.
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: AuthChallenge[] = [];
  for (const raw of values.slice(0, MAX_AUTH_HEADER_VALUES)) {
    const text = raw.slice(0, MAX_AUTH_HEADER_CHARS);
    let at = 0;
    let current: AuthChallenge | null = null;
    let steps = 0;
    while (at < text.length && steps++ < MAX_AUTH_HEADER_STEPS) {
      at = skipSpaces(text, at);
      if (text[at] === ',') {
        at++;
        continue;
      }
      const token = readToken(text, at);
      if (!token) {
        // not a token: skip to the next comma
        const comma = text.indexOf(',', at);
        at = comma === -1 ? text.length : comma + 1;
        continue;
      }
      const afterToken = skipSpaces(text, token.end);
      if (text[afterToken] === '=' && current) {
        const valueAt = skipSpaces(text, afterToken + 1);
        let value: { value: string; end: number } | null;
        if (text[valueAt] === '"') value = readQuoted(text, valueAt);
        else value = readToken(text, valueAt) ?? { value: '', end: valueAt };
        current.params[token.value.toLowerCase()] = value.value;
        at = value.end;
        continue;
      }
      // a new challenge: `scheme` followed by params or a token68
      current = { scheme: token.value.toLowerCase(), params: {} };
      out.push(current);
      at = afterToken;
      const nextToken = readToken(text, at);
      if (nextToken && text[skipSpaces(text, nextToken.end)] !== '=') {
        TOKEN68_RE.lastIndex = at;
        if (TOKEN68_RE.exec(text)) at = TOKEN68_RE.lastIndex;
      }
    }
  }
  return out;
}

/**
 * Milliseconds to wait from a `Retry-After` value (delta-seconds or an HTTP date); undefined when absent or
 * unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // an HTTP date has a weekday and month name; anything else (e.g. "-5") is not one
  if (text.length > MAX_RETRY_AFTER_CHARS || !/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Milliseconds to wait from an `X-Retry-After` value: the Unix time (seconds) when calls may resume, as Docker Hub's
 * API sends it with a 429 (its API reference, "Rate Limiting"). Undefined when absent or unreadable; a past time is 0.
 */
export function parseRetryAt(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text || !/^\d{1,12}$/.test(text)) return undefined;
  return Math.max(0, Number(text) * 1000 - now);
}
