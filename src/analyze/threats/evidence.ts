import { createHash } from 'node:crypto';
import { MAX_EXCERPT_CHARS } from '../limits.js';

/**
 * Evidence a person can check, in one shape across detectors. Every string here comes from a hostile image: it is
 * cut to a bounded length and control characters are escaped; renderers still treat it as text, never markup.
 */
export interface MatchEvidence {
  /** Byte offset of the match in the file. */
  offset: number;
  /** The matched bytes, printable (see `printable`). */
  text: string;
  /** The YARA string identifier or detector pattern name that matched. */
  identifier?: string;
}

export interface LineEvidence {
  /** 1-based line number. */
  line: number;
  /** The line, trimmed and cut to `MAX_EXCERPT_CHARS`. */
  excerpt: string;
}

/** Makes bytes from an image safe to print: control characters and non-ASCII escaped, length bounded. */
export function printable(input: Buffer | string, maxChars = MAX_EXCERPT_CHARS): string {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  let out = '';
  for (const ch of text) {
    if (out.length >= maxChars) {
      out += '…';
      break;
    }
    const code = ch.codePointAt(0)!;
    if (code === 0x09) out += '\\t';
    else if (code === 0x0a) out += '\\n';
    else if (code === 0x0d) out += '\\r';
    else if (code < 0x20 || code === 0x7f || (code > 0x7e && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** The line holding `offset` in `content`, with its 1-based number (lines counted over the bytes before it). */
export function lineAt(content: Buffer, offset: number): LineEvidence {
  let line = 1;
  for (let i = content.indexOf(0x0a); i >= 0 && i < offset; i = content.indexOf(0x0a, i + 1)) line++;
  const start = content.lastIndexOf(0x0a, offset - 1) + 1;
  let end = content.indexOf(0x0a, offset);
  if (end < 0) end = content.length;
  return { line, excerpt: printable(content.subarray(start, Math.min(end, start + 4 * MAX_EXCERPT_CHARS)).toString('utf8').trim()) };
}

/**
 * A stable, non-reversible name for a secret so the same secret can be recognised across images and reports without
 * printing it: `sha256:` and the first 16 hex digits of its SHA-256 (as Gitleaks and TruffleHog fingerprint).
 */
export function secretFingerprint(secret: string | Buffer): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}
