import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../support/paths.js';
import { AdvisoryDb, AdvisoryDbWriter } from '../../src/vuln/db.js';
import { readFeedsFrom } from '../../src/vuln/feeds/index.js';
import { matchPackages } from '../../src/vuln/match.js';
import type { Package } from '../../src/model/index.js';

// Every fixed version for one release in the real DSA and DLA lists: a version just below it (dpkg sorts `~`
// first) matches that advisory, the fixed version itself does not.
const trackerDir = join(corpusDir, 'vuln', 'debian-security-tracker');
let work: string;
let db: AdvisoryDb;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-known-'));
  const writer = await AdvisoryDbWriter.create(join(work, 'db.sqlite'), 'test');
  for (const list of ['DSA-list', 'DLA-list']) for await (const r of readFeedsFrom(join(trackerDir, list), () => {})) writer.add(r);
  await writer.finish();
  db = AdvisoryDb.open(join(work, 'db.sqlite'));
}, 60_000);
afterAll(() => {
  db?.close();
  rmSync(work, { recursive: true, force: true });
});

/** `(advisory id, source package, fixed version)` for a release, read straight from the text (not via the importer). */
function fixesFor(list: string, release: string): { dsa: string; pkg: string; fixed: string }[] {
  const out: { dsa: string; pkg: string; fixed: string }[] = [];
  let dsa = '';
  const fixLine = new RegExp(`^\\s+\\[${release}\\] - (\\S+) (\\d\\S*)\\s*$`);
  for (const line of readFileSync(join(trackerDir, list), 'utf8').split('\n')) {
    const head = /^\[[^\]]+\] ((?:DSA|DLA)-\d+-\d+) /.exec(line);
    if (head) dsa = head[1]!;
    const fix = fixLine.exec(line);
    if (fix && dsa) out.push({ dsa, pkg: fix[1]!, fixed: fix[2]! });
  }
  return out;
}

const deb = (name: string, version: string): Package => ({ name, version, type: 'deb', purl: `pkg:deb/debian/${name}@${version}`, layer: 0, paths: [] });
describe('Debian known answers', () => {
  it.each([
    ['DSA-list', 'bullseye', '11', 400],
    ['DLA-list', 'buster', '10', 300],
  ])('%s, %s: a version just below each fixed version matches; the fixed version does not', (list, release, versionId, atLeast) => {
    const debian = { id: 'debian', versionId };
    const fixes = fixesFor(list, release);
    expect(fixes.length).toBeGreaterThan(atLeast);
    const misses: string[] = [];
    for (const { dsa, pkg, fixed } of fixes) {
      const below = matchPackages(db, [deb(pkg, `${fixed}~`)], debian).vulnerabilities;
      if (!below.some((v) => v.source === dsa || v.aliases.includes(dsa))) misses.push(`${dsa} ${pkg} ${fixed}~ not matched`);
      const at = matchPackages(db, [deb(pkg, fixed)], debian).vulnerabilities;
      if (at.some((v) => v.source === dsa || v.aliases.includes(dsa))) misses.push(`${dsa} ${pkg} ${fixed} matched although fixed`);
    }
    expect(misses).toEqual([]);
  });
});
