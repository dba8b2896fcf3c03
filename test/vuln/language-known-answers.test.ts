import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../support/paths.js';
import { AdvisoryDb, AdvisoryDbWriter } from '../../src/vuln/db.js';
import { readFeedsFrom } from '../../src/vuln/feeds/index.js';
import { matchPackages } from '../../src/vuln/match.js';
import type { Package, PackageType } from '../../src/model/index.js';

// Known answers from the real Go and PyPA OSV records, read straight from the JSONL (not via the importer): for
// every `fixed` event that is a plain release, a pre-release of the fixed version (which sorts just below it) matches that advisory when
// the range starts at 0, and the fixed version itself does not.
let work: string;
let db: AdvisoryDb;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-lang-known-'));
  const writer = await AdvisoryDbWriter.create(join(work, 'db.sqlite'), 'test');
  for (const file of ['osv-go/govulndb-osv.jsonl', 'osv-pypi/pypa-osv.jsonl']) for await (const r of readFeedsFrom(join(corpusDir, 'vuln', file), () => {})) writer.add(r);
  await writer.finish();
  db = AdvisoryDb.open(join(work, 'db.sqlite'));
}, 60_000);
afterAll(() => {
  db?.close();
  rmSync(work, { recursive: true, force: true });
});

/** `fixedIsClean`: the record has no other range for this package, so the fixed version must not match at all. */
interface Case { id: string; name: string; fixed: string; below: string; fixedIsClean: boolean }

function cases(file: string, ecosystem: string, plain: RegExp, below: (fixed: string) => string): Case[] {
  const out: Case[] = [];
  for (const line of readFileSync(join(corpusDir, 'vuln', file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as { id: string; withdrawn?: string; affected?: { package?: { ecosystem?: string; name?: string }; ranges?: { type: string; events: Record<string, string>[] }[] }[] };
    if (rec.withdrawn) continue;
    const rangesPerPackage = new Map<string, number>();
    for (const a of rec.affected ?? []) {
      if (a.package?.ecosystem === ecosystem && a.package.name) rangesPerPackage.set(a.package.name, (rangesPerPackage.get(a.package.name) ?? 0) + (a.ranges?.length ?? 0));
    }
    for (const a of rec.affected ?? []) {
      if (a.package?.ecosystem !== ecosystem || !a.package.name) continue;
      for (const r of a.ranges ?? []) {
        if (r.type === 'GIT' || r.events.length !== 2 || r.events[0]?.introduced !== '0' || !r.events[1]?.fixed) continue;
        // only plain releases: a pre-release of a pre-release is not below it
        if (!plain.test(r.events[1].fixed)) continue;
        out.push({ id: rec.id, name: a.package.name, fixed: r.events[1].fixed, below: below(r.events[1].fixed), fixedIsClean: rangesPerPackage.get(a.package.name) === 1 });
      }
    }
  }
  return out;
}

function check(list: Case[], type: PackageType, goPrefix: boolean): string[] {
  const misses: string[] = [];
  const pkg = (name: string, version: string): Package => ({ name, version: goPrefix ? version.replace(/^v?/, 'v') : version, type, purl: `pkg:${type}/${name}@${version}`, layer: 0, paths: [] });
  const names = (version: string, c: Case) => matchPackages(db, [pkg(c.name, version)], null).vulnerabilities.flatMap((v) => [v.id, v.source, ...v.aliases]);
  for (const c of list) {
    if (!names(c.below, c).includes(c.id)) misses.push(`${c.id} ${c.name} ${c.below} not matched`);
    if (c.fixedIsClean && names(c.fixed, c).includes(c.id)) misses.push(`${c.id} ${c.name} ${c.fixed} matched although fixed`);
  }
  return misses;
}

describe('OSV known answers', () => {
  it('Go: every [0, fixed) range of the Go vulnerability DB', () => {
    const list = cases('osv-go/govulndb-osv.jsonl', 'Go', /^v?\d+\.\d+\.\d+$/, (fixed) => `${fixed.startsWith('v') ? fixed : `v${fixed}`}-0`);
    expect(list.length).toBeGreaterThan(1000);
    expect(check(list, 'golang', true)).toEqual([]);
  });

  it('PyPI: every [0, fixed) range of the PyPA advisory DB', () => {
    const list = cases('osv-pypi/pypa-osv.jsonl', 'PyPI', /^\d+(\.\d+)*$/, (fixed) => `${fixed}.dev0`);
    expect(list.length).toBeGreaterThan(500);
    expect(check(list, 'pypi', false)).toEqual([]);
  });
});
