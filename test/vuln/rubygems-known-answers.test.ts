import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { corpusDir } from '../support/paths.js';
import { AdvisoryDb, AdvisoryDbWriter } from '../../src/vuln/db.js';
import { readFeedsFrom } from '../../src/vuln/feeds/index.js';
import { matchPackages } from '../../src/vuln/match.js';
import type { Package } from '../../src/model/index.js';

// Known answers from the real ruby-advisory-db, read straight from the YAML (not via the importer): for every
// advisory patched by exactly one `>= X` with no unaffected versions, the pre-release `X.a` (RubyGems sorts it
// just below X) matches, and X does not.
const gemsDir = join(corpusDir, 'vuln', 'rubysec', 'gems');
let work: string;
let db: AdvisoryDb;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-gem-known-'));
  const writer = await AdvisoryDbWriter.create(join(work, 'db.sqlite'), 'test');
  for await (const r of readFeedsFrom(join(corpusDir, 'vuln', 'rubysec'), () => {})) writer.add(r);
  await writer.finish();
  db = AdvisoryDb.open(join(work, 'db.sqlite'));
}, 60_000);
afterAll(() => {
  db?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('RubyGems known answers', () => {
  it('every advisory patched by a single ">= X": X.a matches, X does not', () => {
    const cases: { gem: string; id: string; fixed: string }[] = [];
    for (const gem of readdirSync(gemsDir)) {
      for (const file of readdirSync(join(gemsDir, gem))) {
        const adv = parse(readFileSync(join(gemsDir, gem, file), 'utf8')) as { gem?: string; cve?: string; ghsa?: string; patched_versions?: string[]; unaffected_versions?: string[] };
        const patched = adv.patched_versions ?? [];
        const m = patched.length === 1 ? /^>=\s*(\d+(?:\.\d+)*)$/.exec(patched[0]!.trim()) : null;
        if (!m || (adv.unaffected_versions ?? []).length > 0 || !adv.gem) continue;
        const id = adv.cve ? `CVE-${adv.cve}` : adv.ghsa ? `GHSA-${adv.ghsa}` : file.replace(/\.yml$/, '');
        cases.push({ gem: adv.gem, id, fixed: m[1]! });
      }
    }
    expect(cases.length).toBeGreaterThan(200);
    const pkg = (name: string, version: string): Package => ({ name, version, type: 'gem', purl: `pkg:gem/${name}@${version}`, layer: 0, paths: [] });
    const ids = (name: string, version: string) => matchPackages(db, [pkg(name, version)], null).vulnerabilities.flatMap((v) => [v.id, ...v.aliases]);
    const misses: string[] = [];
    for (const c of cases) {
      if (!ids(c.gem, `${c.fixed}.a`).includes(c.id)) misses.push(`${c.id} ${c.gem} ${c.fixed}.a not matched`);
      if (ids(c.gem, c.fixed).includes(c.id)) misses.push(`${c.id} ${c.gem} ${c.fixed} matched although patched`);
    }
    expect(misses).toEqual([]);
  });
});
