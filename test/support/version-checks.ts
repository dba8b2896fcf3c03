/**
 * Support for the comparator tests (no test framework imported here): an order-soundness check, hostile inputs,
 * and readers for the real version strings of the offline corpus (`<shared>/corpus/vuln/`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * Checks that a comparison function is a consistent total (pre)order on a sample: reflexive, antisymmetric and
 * transitive. Returns human-readable violations (empty when the order is sound).
 */
export function orderViolations(compare: (a: string, b: string) => number, samples: readonly string[], limit = 20): string[] {
  const violations: string[] = [];
  const show = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…(${s.length})` : s);
  const note = (message: string): boolean => {
    violations.push(message);
    return violations.length >= limit;
  };
  for (const a of samples) {
    if (compare(a, a) !== 0 && note(`${show(a)} is not equal to itself`)) return violations;
  }
  for (const a of samples) {
    for (const b of samples) {
      if (Math.sign(compare(a, b)) !== -Math.sign(compare(b, a)) && note(`${show(a)} vs ${show(b)} is not antisymmetric`)) {
        return violations;
      }
    }
  }
  // sorted by the comparator, every earlier element must be <= every later one (catches intransitive triples)
  const sorted = [...samples].sort(compare);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i] ?? '';
      const b = sorted[j] ?? '';
      if (compare(a, b) > 0 && note(`sorted order puts ${show(a)} before ${show(b)} but it compares greater`)) return violations;
    }
  }
  return violations;
}

/** Hostile and malformed strings every comparator must order without throwing or hanging. */
export const GARBAGE_VERSIONS: readonly string[] = [
  '',
  ' ',
  '\t\n',
  '~',
  '^',
  '-',
  '+',
  '.',
  ':',
  '1:',
  ':1',
  '!',
  '1!',
  '\u0000',
  'é',
  '1.0é',
  '１.０',
  'v',
  'V1',
  '=',
  'x',
  '*',
  '1..2',
  '1.2.',
  '.1.2',
  '1--2',
  '-1',
  '1-',
  '1+',
  '1.0+',
  '1.0-+',
  '01.02.03',
  '1.0.0-',
  '1.0.0-.',
  '1.0.0-a..b',
  'a.b.c',
  'NaN',
  'Infinity',
  '1e3',
  '0x10',
  'null',
  '<1.0',
  '>=1.0, <2.0',
  '1.0 2.0',
  '__proto__',
  'constructor',
  '9'.repeat(400),
  `1.${'0'.repeat(300)}1`,
];

/** Huge inputs (about 1 MB each): every comparator must stay linear on them. */
export function hugeVersions(): string[] {
  const mb = 1 << 20;
  return [
    '9'.repeat(mb),
    '1.'.repeat(mb / 2),
    '1-'.repeat(mb / 2),
    'a1'.repeat(mb / 2),
    '~'.repeat(mb),
    `1.0-${'x'.repeat(mb)}`,
    `1.0.0-${'0.'.repeat(mb / 2)}1`,
    `1!${'1'.repeat(mb)}x`,
    `${'1.1'.repeat(mb / 3)}+`,
    `1${'_'.repeat(mb)}`,
    // shapes that make careless regular expressions backtrack: blank runs around a version, long separator runs
    `${' '.repeat(mb / 2)}1${' '.repeat(mb / 2)}x`,
    `1${'.1'.repeat(mb / 2)}a!`,
    `1${'-1'.repeat(mb / 2)}!`,
    `1.0${'-'.repeat(mb)}!`,
    `1.0+${'a.'.repeat(mb / 2)}!`,
  ];
}

/**
 * The slowest single comparison (ms) of each huge input against itself and against a short version, both ways:
 * a hang or quadratic blow-up shows up as seconds, linear work as milliseconds to a few hundred.
 */
export function slowestHugeComparisonMs(compare: (a: string, b: string) => number): number {
  let slowest = 0;
  for (const huge of hugeVersions()) {
    for (const [a, b] of [[huge, huge], [huge, '1.0'], ['1.0', huge]] as const) {
      const started = performance.now();
      compare(a, b);
      slowest = Math.max(slowest, performance.now() - started);
    }
  }
  return slowest;
}

/** `[bookworm] - openssl 3.0.11-1~deb12u2` lines of the tracker's DSA and DLA lists: package → distinct versions. */
export function debianTrackerVersions(trackerDir: string): Map<string, string[]> {
  const byPackage = new Map<string, string[]>();
  for (const file of ['DSA-list', 'DLA-list']) {
    for (const line of readFileSync(join(trackerDir, file), 'utf8').split('\n')) {
      const m = /^\s+\[[a-z-]+\]\s+-\s+(\S+)\s+([0-9]\S*)\s*$/.exec(line);
      if (!m) continue;
      const [, pkg = '', version = ''] = m;
      const list = byPackage.get(pkg) ?? [];
      if (!list.includes(version)) list.push(version);
      byPackage.set(pkg, list);
    }
  }
  return byPackage;
}

interface SecdbFile {
  packages?: { pkg?: { name?: string; secfixes?: Record<string, unknown> } }[];
}

/** Alpine secdb `secfixes` keys (apk versions) per package, over every release directory: package → versions. */
export function alpineSecfixVersions(secdbDir: string): Map<string, string[]> {
  const byPackage = new Map<string, string[]>();
  for (const release of readdirSync(secdbDir).sort()) {
    for (const repo of ['main.yaml', 'community.yaml']) {
      let doc: SecdbFile;
      try {
        doc = parseYaml(readFileSync(join(secdbDir, release, repo), 'utf8')) as SecdbFile;
      } catch {
        continue;
      }
      for (const entry of doc.packages ?? []) {
        const name = entry.pkg?.name;
        if (!name) continue;
        const list = byPackage.get(name) ?? [];
        for (const version of Object.keys(entry.pkg?.secfixes ?? {})) if (!list.includes(version)) list.push(version);
        byPackage.set(name, list);
      }
    }
  }
  return byPackage;
}

/** Every file below `dir` (sorted, depth-first). */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesBelow(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Picks about `size` items spread evenly over `items` (deterministic). */
export function spread<T>(items: readonly T[], size: number): T[] {
  const stride = Math.max(1, Math.floor(items.length / size));
  return items.filter((_, i) => i % stride === 0).slice(0, size);
}

/** Unordered pairs (a, b), a ≠ b, each once, in insertion order. */
export class PairSet {
  private readonly pairs = new Map<string, [string, string]>();

  add(a: string, b: string): void {
    if (a === b) return;
    const key = `${a}\u0000${b}`;
    if (!this.pairs.has(key) && !this.pairs.has(`${b}\u0000${a}`)) this.pairs.set(key, [a, b]);
  }

  get size(): number {
    return this.pairs.size;
  }

  list(): [string, string][] {
    return [...this.pairs.values()];
  }
}

/** -1, 0, 1 counts of a comparator over pairs: an oracle check that sees only one outcome proves little. */
export function outcomeCounts(compare: (a: string, b: string) => number, pairs: readonly (readonly [string, string])[]): { lt: number; eq: number; gt: number } {
  const counts = { lt: 0, eq: 0, gt: 0 };
  for (const [a, b] of pairs) {
    const order = compare(a, b);
    if (order < 0) counts.lt++;
    else if (order > 0) counts.gt++;
    else counts.eq++;
  }
  return counts;
}
