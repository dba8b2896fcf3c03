import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The 6-character checksum GitHub (and npm, same format) append to their tokens: CRC32 of the 30 random characters,
 * base62-encoded with digits first, upper case before lower case, left-padded with `0`.
 */
export function githubTokenChecksum(random: string): string {
  let n = crc32(random);
  let out = '';
  while (n > 0) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(6, '0');
}

/** Whether `token` (`ghp_…`, `npm_…`: a 4-character prefix, 30 random characters, 6 checksum characters) checks out. */
export function hasValidGithubChecksum(token: string): boolean {
  if (token.length !== 40 || token[3] !== '_') return false;
  return githubTokenChecksum(token.slice(4, 34)) === token.slice(34);
}

/** Whether a base64 string decodes to printable `user:password` with both parts present (Docker `auths.*.auth`). */
export function isBasicAuthBase64(value: string): boolean {
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x1f\x7f\ufffd]/.test(decoded);
}

/** A value that names where a secret lives (a path, a variable) rather than being one. */
export function looksLikeReference(value: string): boolean {
  return /^(\/|\.\.?\/|~\/|\$|%|file:|env:|secret:|vault:|arn:)/i.test(value);
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const c of counts.values()) {
    const p = c / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * The base64 body of a PEM block as the fingerprint sees it: header lines (`Proc-Type:`, `DEK-Info:`, PGP
 * `Version:`), whitespace and `\n` escapes (keys inside JSON) removed, so one key has one fingerprint wherever it is.
 * Returns undefined when what is left is not base64 (prose between BEGIN and END lines).
 */
export function pemBody(raw: string): string | undefined {
  const lines = raw.split(/\\[rn]|[\r\n]+/);
  const body = lines.filter((l) => !l.includes(':')).join('').replace(/\s+/g, '');
  return /^[A-Za-z0-9+/=]{64,}$/.test(body) ? body : undefined;
}
