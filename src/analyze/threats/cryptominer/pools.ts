import { readFileSync } from 'node:fs';
import { bundledRulesDir } from '../../../config/paths.js';
import { MAX_POOL_HOST_TOKENS } from '../../limits.js';

/**
 * Host names in text: dot-separated labels ending in an alphabetic top-level label, not part of a longer word or
 * path segment (`a.b_c` or `x.minexmr.com.tar` do not yield `minexmr.com`). A token starts only where a run of
 * host characters `[A-Za-z0-9_.-]` starts, and a run holds at most one token.
 */
const HOST_BODY = '(?:[A-Za-z0-9_-]{1,63}\\.){1,12}[A-Za-z][A-Za-z0-9-]{0,23}';
const FINAL_LABEL = /^[a-z][a-z0-9-]{0,23}$/;
const HOST_END = '(?![A-Za-z0-9_-]|\\.[A-Za-z0-9])';
const HOST_TOKEN = new RegExp(`(?<![A-Za-z0-9_.-])${HOST_BODY}${HOST_END}`, 'g');
const HOST_TOKEN_AT = new RegExp(`${HOST_BODY}${HOST_END}`, 'y');
/** 12 labels of at most 63 characters with their dots, and the final label. */
const MAX_HOST_TOKEN_CHARS = 12 * 64 + 24;

function isLabelChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d;
}

function isHostChar(c: number): boolean {
  return isLabelChar(c) || c === 0x2e;
}

/** A set of mining-pool domains, matched by suffix: `supportxmr.com` matches `pool.supportxmr.com`. */
export class PoolDomains {
  private readonly domains: ReadonlySet<string>;
  /** The last two labels of every entry (`supportxmr.com`): a host must end in one of these to match. */
  private readonly lastTwoLabels: ReadonlySet<string>;
  /** `.` + a top-level label some entry ends in, where a host token can end (see `findIn`). */
  private readonly topLevelAnchor: RegExp;
  constructor(domains: Iterable<string>) {
    this.domains = new Set(domains);
    this.lastTwoLabels = new Set([...this.domains].map((d) => d.split('.').slice(-2).join('.')));
    // Only top-level labels a host token can end in (a letter first, no underscore) can ever match.
    const topLevel = [...new Set([...this.domains].map((d) => d.slice(d.lastIndexOf('.') + 1)))].filter((t) => FINAL_LABEL.test(t));
    topLevel.sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.topLevelAnchor = new RegExp(`\\.(?:${topLevel.join('|') || '(?!)'})${HOST_END}`, 'gi');
  }
  get size(): number {
    return this.domains.size;
  }
  /** The listed domain `host` is or is under, or undefined. */
  match(host: string): string | undefined {
    let candidate = host.toLowerCase().replace(/\.$/, '');
    for (let labels = 0; labels < 16; labels++) {
      if (this.domains.has(candidate)) return candidate;
      const dot = candidate.indexOf('.');
      // Stop before a bare top-level label: no entry is one.
      if (dot < 0 || candidate.indexOf('.', dot + 1) < 0) return undefined;
      candidate = candidate.slice(dot + 1);
    }
    return undefined;
  }

  /**
   * The listed hosts in `text`: every host token `findHosts` yields that is or is under a listed domain, in text
   * order, with the domain. Rather than testing every token, it looks only where a listed top-level label ends a
   * token and the last two labels are an entry's, and reads the whole token there. At most `limit` tokens are read.
   */
  findIn(text: string, limit = MAX_POOL_HOST_TOKENS): PoolHostMatch[] {
    const out: PoolHostMatch[] = [];
    const anchor = this.topLevelAnchor;
    let tokenStart = -1;
    let token: RegExpExecArray | null = null;
    let read = 0;
    anchor.lastIndex = 0;
    for (let m = anchor.exec(text); m !== null; m = anchor.exec(text)) {
      const dot = m.index;
      const end = dot + m[0].length;
      let labelStart = dot;
      while (labelStart > 0 && isLabelChar(text.charCodeAt(labelStart - 1))) labelStart--;
      if (labelStart === dot || !this.lastTwoLabels.has(text.slice(labelStart, end).toLowerCase())) continue;
      // A token starts where its run of host characters starts; a run reaching further back than a token can be long
      // has no token ending here.
      const floor = Math.max(0, end - MAX_HOST_TOKEN_CHARS);
      let start = labelStart;
      while (start > floor && isHostChar(text.charCodeAt(start - 1))) start--;
      if (start > 0 && isHostChar(text.charCodeAt(start - 1))) continue;
      if (start !== tokenStart) {
        if (++read > limit) break;
        tokenStart = start;
        HOST_TOKEN_AT.lastIndex = start;
        token = HOST_TOKEN_AT.exec(text);
      }
      if (!token || token.index + token[0].length !== end) continue;
      const domain = this.match(token[0]);
      if (domain) out.push({ host: token[0], offset: token.index, domain });
    }
    return out;
  }
}

const DOMAIN_LINE = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/;

/** Parses a list file: one lower-case domain per line, `#` comments and blank lines ignored. Throws naming the line. */
export function parsePoolList(text: string, fileName: string): PoolDomains {
  const domains: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!DOMAIN_LINE.test(line)) throw new Error(`${fileName}:${i + 1}: not a lower-case domain name: ${JSON.stringify(line.slice(0, 80))}`);
    domains.push(line);
  });
  return new PoolDomains(domains);
}

let shipped: PoolDomains | undefined;

/** The shipped list `rules/ioc/mining-pools.txt`, loaded once. */
export function miningPoolDomains(): PoolDomains {
  if (!shipped) {
    const file = `${bundledRulesDir()}/ioc/mining-pools.txt`;
    shipped = parsePoolList(readFileSync(file, 'utf8'), file);
  }
  return shipped;
}

export interface HostMatch {
  host: string;
  offset: number;
}

export interface PoolHostMatch extends HostMatch {
  /** The listed domain the host is or is under. */
  domain: string;
}

export function findHosts(text: string, limit = MAX_POOL_HOST_TOKENS): HostMatch[] {
  const out: HostMatch[] = [];
  for (const m of text.matchAll(HOST_TOKEN)) {
    out.push({ host: m[0], offset: m.index });
    if (out.length >= limit) break;
  }
  return out;
}
