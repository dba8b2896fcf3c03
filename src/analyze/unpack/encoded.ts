import type { DecodeStep } from '../../model/index.js';
import { latin1Text } from '../threats/candidates.js';
import { charge, looksLikeCode, sniff } from './content.js';
import type { Payload, UnpackBudget, UnpackInput, Unpacker } from './types.js';
import {
  MAX_ENCODED_RUNS_PER_TEXT,
  MAX_FEED_CONTEXT_CHARS,
  MIN_BASE64_CHARS,
  MIN_ESCAPED_BYTES,
  MIN_HEX_CHARS,
} from '../limits.js';

/**
 * Encoded payloads in scripts, crontabs, histories and other text: base64, hex and `\xNN`/octal escapes that the
 * text decodes at run time (`echo … | base64 -d | sh`, `eval "$(echo … | xxd -r -p)"`, `python -c
 * "exec(base64.b64decode('…'))"`, `perl -MMIME::Base64 -e 'eval decode_base64(…)'`, `node -e
 * "eval(Buffer.from('…','base64').toString())"`, `printf '\x63…' | sh`). A text without any decoder is not read: a
 * blob nothing decodes does not run. A decoded blob is kept when it is a program, an archive, compressed data or
 * code-like text; the driver hands it to every detector and unpacks it further (base64 of gzip of a script).
 */

/**
 * What turns an encoded run back into bytes; a text without any is not searched (one case-sensitive pass, since most
 * texts have none), then which kinds it can decode.
 */
const ANY_DECODER = /[Bb]ase64|BASE64|b64_?decode|atob\(|fromhex|unhexlify|hex2bin|xxd\s|pack\(\s*["']H|["']hex["']/;
const BASE64_DECODER = /base64|b64_?decode|atob\(/i;
const HEX_DECODER = /fromhex|unhexlify|hex2bin|xxd\s|pack\(\s*["']H|["']hex["']/;
/** Escaped bytes are decoded by `printf`, `echo -e`, `$'…'`, or by an interpreter reading a string it then runs. */
const ESCAPE_DECODER = /\bprintf\b|\becho\s+-[a-zA-Z]*e|\$'|\b(?:eval|exec|system|execSync|Function)\s*\(/;

/** A base64 run, also when wrapped over several lines as `base64` prints it; only tried where a run starts. */
const BASE64_RUN = new RegExp(String.raw`(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{${MIN_BASE64_CHARS},}(?:\r?\n[A-Za-z0-9+/]{4,})*={0,2}`, 'g');
const HEX_ONLY = /^(?:[0-9a-fA-F]{2})+$/;
const ESCAPE_RUN = new RegExp(String.raw`(?:\\x[0-9a-fA-F]{2}|\\[0-3][0-7]{2}){${MIN_ESCAPED_BYTES},}`, 'g');

/** What the decoded bytes are handed to, read from the run's line; first match wins. */
const FEEDS: [RegExp, string][] = [
  [/\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:\/(?:usr\/)?bin\/)?(bash|sh|dash|zsh|ksh|ash)\b/, '$1'],
  [/\b(python[0-9.]*)\b[^|;]*\s-c\b/, '$1 -c'],
  [/\bperl\b[^|;]*\s-[A-Za-z]*e\b/, 'perl -e'],
  [/\bnode\b[^|;]*\s-(?:e|-eval)\b/, 'node -e'],
  [/\bphp\b[^|;]*\s-r\b/, 'php -r'],
  [/\|\s*(python[0-9.]*|perl|node|php|ruby)\b/, '$1'],
  [/\b(?:eval|exec|system|passthru|assert|Function|execSync)\s*[("'`$]|\beval\s/, 'eval'],
  [/\b(?:bash|sh)\s+-c\b/, 'sh -c'],
];

const EXTENSION_OF_FEED: [RegExp, string][] = [
  [/^(?:bash|sh|dash|zsh|ksh|ash|sh -c)$/, '.sh'],
  [/^python/, '.py'],
  [/^perl/, '.pl'],
  [/^node/, '.js'],
  [/^php/, '.php'],
  [/^ruby/, '.rb'],
];

function feedOf(line: string): string | undefined {
  for (const [re, label] of FEEDS) {
    const m = re.exec(line);
    if (m) return label.replace('$1', m[1] ?? '');
  }
  return undefined;
}

/** The line around `[start, end)`, bounded either side. */
function lineAround(text: string, start: number, end: number): string {
  const from = Math.max(text.lastIndexOf('\n', start - 1) + 1, start - MAX_FEED_CONTEXT_CHARS);
  const newline = text.indexOf('\n', end);
  const to = Math.min(newline < 0 ? text.length : newline, end + MAX_FEED_CONTEXT_CHARS);
  return text.slice(from, start) + ' ' + text.slice(end, to);
}

/** The name a decoded payload is analysed under: its language's extension, from what it is fed to or its holder. */
function payloadName(content: Buffer, feeds: string | undefined, holder: string): string {
  const kind = sniff(content);
  if (kind === 'elf' || kind === 'pe' || kind === 'gzip' || kind === 'zlib' || kind === 'tar' || kind === 'zip') return `decoded.${kind === 'pe' ? 'exe' : kind === 'elf' ? 'bin' : kind}`;
  const byFeed = feeds === undefined ? undefined : EXTENSION_OF_FEED.find(([re]) => re.test(feeds))?.[1];
  const holderExt = /\.[A-Za-z0-9]{1,5}$/.exec(holder)?.[0];
  return `decoded${byFeed ?? holderExt ?? '.sh'}`;
}

function isWorthKeeping(content: Buffer): boolean {
  const kind = sniff(content);
  return kind !== 'data' || looksLikeCode(content);
}

function decodeEscapes(run: string): Buffer {
  const bytes: number[] = [];
  for (const m of run.matchAll(/\\x([0-9a-fA-F]{2})|\\([0-3][0-7]{2})/g)) bytes.push(m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 8));
  return Buffer.from(bytes);
}

interface Decoded {
  step: DecodeStep;
  content: Buffer;
}

function decodeRun(run: string, offset: number): Decoded | undefined {
  if (run.length >= MIN_HEX_CHARS && HEX_ONLY.test(run)) {
    return { step: { method: 'hex', offset, length: run.length }, content: Buffer.from(run, 'hex') };
  }
  const body = run.replace(/\s+/g, '').replace(/=+$/, '');
  // A run whose length no base64 encoder produces is a word list or a path, not base64.
  if (body.length % 4 === 1) return undefined;
  return { step: { method: 'base64', offset, length: run.length }, content: Buffer.from(body, 'base64') };
}

export const encodedUnpacker: Unpacker = {
  name: 'encoded',
  unpack(input: UnpackInput, budget: UnpackBudget): Payload[] {
    if (input.kind !== 'script' && input.kind !== 'text') return [];
    const text = latin1Text(input.content);
    const any = ANY_DECODER.test(text);
    const base64 = any && BASE64_DECODER.test(text);
    const hex = any && HEX_DECODER.test(text);
    const payloads: Payload[] = [];
    const seen = new Set<string>();
    let runs = 0;
    const take = (decoded: Decoded | undefined, start: number, end: number) => {
      if (!decoded || decoded.content.length === 0 || !isWorthKeeping(decoded.content)) return;
      const key = decoded.content.toString('latin1', 0, Math.min(decoded.content.length, 4096));
      if (seen.has(key) || !charge(budget, decoded.content.length)) return;
      seen.add(key);
      const feeds = feedOf(lineAround(text, start, end));
      const step: DecodeStep = { ...decoded.step, ...(feeds ? { feeds } : {}) };
      payloads.push({ content: decoded.content, steps: [step], name: payloadName(decoded.content, feeds, input.name), mode: 0o755 });
    };
    for (const m of base64 || hex ? text.matchAll(BASE64_RUN) : []) {
      if (++runs > MAX_ENCODED_RUNS_PER_TEXT) break;
      const decoded = decodeRun(m[0], m.index);
      if (decoded && (decoded.step.method === 'hex' ? hex : base64)) take(decoded, m.index, m.index + m[0].length);
    }
    runs = 0;
    // runs of 8 or more escapes are rare enough to look for in every text; each must be decoded by its line
    for (const m of text.includes('\\') ? text.matchAll(ESCAPE_RUN) : []) {
      if (++runs > MAX_ENCODED_RUNS_PER_TEXT) break;
      if (!ESCAPE_DECODER.test(lineAround(text, m.index, m.index + m[0].length))) continue;
      take({ step: { method: 'escapes', offset: m.index, length: m[0].length }, content: decodeEscapes(m[0]) }, m.index, m.index + m[0].length);
    }
    return payloads;
  },
};
