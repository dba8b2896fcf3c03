import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Analyzer } from '../../analyzer.js';

/** A user-supplied list of known-bad SHA-256 digests, each with the label its line gave (a family, a file name). */
export interface HashList {
  /** Where the list came from (file names), for evidence. */
  sources: string[];
  /** Lower-case hex digest → label ('' when the line had none). */
  entries: Map<string, string>;
  /** SHA-256 over the sorted entries: part of the layer cache key. */
  digest: string;
}

export class HashListError extends Error {}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * Reads hash lists in the formats people have at hand: one digest per line, `sha256sum` output (`<hash>  name`),
 * CSV or TSV with the digest in the first column, `sha256:<hash>`; `#` starts a comment. A line that holds no
 * digest is an error naming the file and line, so a mistyped list is never silently half-used.
 */
export function loadHashLists(paths: readonly string[]): HashList {
  const entries = new Map<string, string>();
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new HashListError(`cannot read hash list ${path}: ${(err as Error).message}`);
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (line === '') return;
      const [first = '', ...rest] = line.split(/[\s,;]+/);
      const hash = first.replace(/^sha256:/i, '').replace(/^\*/, '');
      if (!HEX64.test(hash)) {
        if (i === 0 && /sha-?256/i.test(first)) return; // a CSV header
        throw new HashListError(`${path}:${i + 1}: expected a SHA-256 digest (64 hex digits) at the start of the line, found ${JSON.stringify(first.slice(0, 80))}`);
      }
      const label = rest.join(' ').replace(/^\*/, '').slice(0, 200);
      entries.set(hash.toLowerCase(), entries.get(hash.toLowerCase()) || label);
    });
  }
  const digest = createHash('sha256').update([...entries.entries()].map(([h, l]) => `${h} ${l}`).sort().join('\n')).digest('hex');
  return { sources: paths.map((p) => basename(p)), entries, digest };
}

/**
 * Flags files whose SHA-256 is on a user-supplied list (`--hashes FILE`). It must read every regular file, so it
 * runs only when a list is given.
 */
export function createKnownHashesAnalyzer(list: HashList): Analyzer {
  return {
    name: 'known-hashes',
    scansPayloads: true,
    version: 1,
    configKey: list.digest.slice(0, 16),
    wants: (_path, header) => header.type === 'file' && header.size > 0,
    analyze(file) {
      const sha256 = createHash('sha256').update(file.content).digest('hex');
      const label = list.entries.get(sha256);
      if (label === undefined) return {};
      return {
        findings: [
          {
            category: 'malware',
            severity: 'critical',
            title: label ? `Known-bad file: ${label}` : 'File on a known-bad hash list',
            rule: 'known-hashes/match',
            sha256,
            evidence: { sha256, label, lists: list.sources },
          },
        ],
      };
    },
  };
}
