import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundledRulesDir } from '../../../config/paths.js';

/** A set of mining-pool domains, matched by suffix: `supportxmr.com` matches `pool.supportxmr.com`. */
export class PoolDomains {
  private readonly domains: ReadonlySet<string>;
  /** sha256 of the sorted list, short: part of the analyzer's cache key. */
  readonly digest: string;
  constructor(domains: Iterable<string>) {
    this.domains = new Set(domains);
    this.digest = createHash('sha256').update([...this.domains].sort().join('\n')).digest('hex').slice(0, 16);
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

/**
 * Host names in text: dot-separated labels ending in an alphabetic top-level label, not part of a longer word or
 * path segment (`a.b_c` or `x.minexmr.com.tar` do not yield `minexmr.com`).
 */
const HOST_TOKEN = /(?<![A-Za-z0-9_.-])(?:[A-Za-z0-9_-]{1,63}\.){1,12}[A-Za-z][A-Za-z0-9-]{0,23}(?![A-Za-z0-9_-]|\.[A-Za-z0-9])/g;

export interface HostMatch {
  host: string;
  offset: number;
}

export function findHosts(text: string, limit = 10_000): HostMatch[] {
  const out: HostMatch[] = [];
  for (const m of text.matchAll(HOST_TOKEN)) {
    out.push({ host: m[0], offset: m.index });
    if (out.length >= limit) break;
  }
  return out;
}
