import { createHash } from 'node:crypto';
import { MAX_AUTHORIZED_KEYS, MAX_PRELOAD_PATHS } from '../../limits.js';

/** One public key line of an `authorized_keys` file, described without the key itself. */
export interface AuthorizedKey {
  type: string;
  /** As `ssh-keygen -lf` prints it: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
  fingerprint: string;
  comment?: string;
  /** Whether the line carries options (`command=…`, `from=…`, `no-pty` …). */
  restricted: boolean;
  line: number;
}

const KEY_TYPE = /^(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521))-cert-v01@openssh\.com)$/;

/** Skips the options field, which may hold quoted strings with spaces (`command="echo hi"`). */
function splitOptions(line: string): { options: string; rest: string } {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\' && inQuote) i++;
    else if (ch === '"') inQuote = !inQuote;
    else if (!inQuote && (ch === ' ' || ch === '\t')) return { options: line.slice(0, i), rest: line.slice(i).trimStart() };
  }
  return { options: line, rest: '' };
}

export function parseAuthorizedKeys(text: string): AuthorizedKey[] {
  const keys: AuthorizedKey[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && keys.length < MAX_AUTHORIZED_KEYS; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let restricted = false;
    if (!KEY_TYPE.test(fields[0]!)) {
      const { rest } = splitOptions(line);
      fields = rest.split(/\s+/);
      restricted = true;
      if (!KEY_TYPE.test(fields[0] ?? '')) continue;
    }
    const [type, blob, ...comment] = fields as [string, string | undefined, ...string[]];
    if (!blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) continue;
    const raw = Buffer.from(blob, 'base64');
    // The blob starts with its own key type as an SSH string; a mismatch means this is not a key.
    const nameLength = raw.length >= 4 ? raw.readUInt32BE(0) : -1;
    if (nameLength <= 0 || nameLength > 64 || raw.subarray(4, 4 + nameLength).toString('latin1') !== type) continue;
    keys.push({
      type,
      fingerprint: `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`,
      ...(comment.length > 0 ? { comment: comment.join(' ') } : {}),
      restricted,
      line: i + 1,
    });
  }
  return keys;
}

/** Library paths of `/etc/ld.so.preload`: separated by white space or colons, `#` starts a comment. */
export function parsePreload(text: string): string[] {
  const paths: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '');
    for (const entry of line.split(/[\s:]+/)) if (entry !== '' && paths.length < MAX_PRELOAD_PATHS) paths.push(entry);
  }
  return paths;
}
