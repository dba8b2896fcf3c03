/**
 * Known answers from real advisory data in the shared corpus: every vector published together with its score must
 * score exactly that. Where a source's own score contradicts its own vector, the pair is listed in an exclusion
 * table with the reason, and the test checks that it really does disagree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { corpusDir } from '../../../test/support/paths.js';
import { scoreVector, severityFromRating, severityFromScore, tryScoreVector, vectorProblem } from './index.js';

const vulnDir = join(corpusDir, 'vuln');

interface KnownAnswer {
  /** Where the pair was found: a file (and record) in the corpus. */
  where: string;
  vector: string;
  score: number;
}

function filesUnder(dir: string, suffix: RegExp): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, suffix));
    else if (suffix.test(name)) found.push(path);
  }
  return found.sort();
}

/** A JSON file's content; undefined for the deliberately broken files of trivy-db's "sad" test cases. */
function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
const where = (path: string, record?: string): string => `${relative(vulnDir, path)}${record ? ` ${record}` : ''}`;
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A score as sources write it: 6.5, "6.5", "6.5 (High)". */
function scoreOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const match = typeof value === 'string' ? /^\s*(\d{1,2}(?:\.\d)?)\b/.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

/** Every object inside a parsed JSON value, depth first. */
function* objectsIn(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) for (const item of value) yield* objectsIn(item);
  else if (isRecord(value)) {
    yield value;
    for (const item of Object.values(value)) yield* objectsIn(item);
  }
}

// ---- the sources --------------------------------------------------------------------------------------------------

/** nodejs/security-wg npm advisories: `cvss_vector` with `cvss_score`. */
function npmAdvisories(): (KnownAnswer & { id: number })[] {
  const path = join(vulnDir, 'nodejs-security-wg', 'npm-advisories.json');
  const advisories = readJson(path) as { id: number; cvss_vector?: string | null; cvss_score?: unknown }[];
  return advisories.flatMap((a) => {
    const score = scoreOf(a.cvss_score);
    return a.cvss_vector && score !== undefined ? [{ id: a.id, where: where(path, `#${a.id}`), vector: a.cvss_vector, score }] : [];
  });
}

/** nodejs/security-wg Node.js core advisories: "Base Score: 4.8 (Medium)" followed by "Base Vector: CVSS:3.0/…". */
function nodeCoreAdvisories(): KnownAnswer[] {
  const path = join(vulnDir, 'nodejs-security-wg', 'node-core-advisories.json');
  const answers: KnownAnswer[] = [];
  for (const advisory of readJson(path) as Record<string, unknown>[]) {
    for (const text of Object.values(advisory)) {
      if (typeof text !== 'string') continue;
      for (const m of text.matchAll(/Base Score:\s*(\d{1,2}\.\d)[^\n]*\n\s*Base Vector:\s*(CVSS:[\w:./]+)/g)) {
        answers.push({ where: where(path, String(advisory.cve)), vector: m[2] ?? '', score: Number(m[1]) });
      }
    }
  }
  return answers;
}

/** trivy-db's nodejs-security-wg snapshots: `cvss_vector`, or core's `cvss` without its `CVSS:` prefix, with `cvss_score`. */
function trivyNodeSnapshots(): KnownAnswer[] {
  return filesUnder(join(vulnDir, 'trivy-db-testdata', 'node'), /\.json$/).flatMap((path) => {
    const advisory = readJson(path);
    if (!isRecord(advisory)) return [];
    const score = scoreOf(advisory.cvss_score);
    const raw = advisory.cvss_vector ?? advisory.cvss;
    if (typeof raw !== 'string' || score === undefined) return [];
    return [{ where: where(path), vector: raw.startsWith('CVSS:') ? raw : `CVSS:${raw}`, score }];
  });
}

/** Red Hat security data API snapshots: `cvss3.cvss3_scoring_vector` with `cvss3.cvss3_base_score`. */
function redHatApi(): KnownAnswer[] {
  return filesUnder(join(vulnDir, 'trivy-db-testdata', 'redhat'), /\.json$/).flatMap((path) => {
    const cvss3 = (readJson(path) as { cvss3?: { cvss3_scoring_vector?: string; cvss3_base_score?: string } } | undefined)?.cvss3;
    const score = scoreOf(cvss3?.cvss3_base_score);
    return cvss3?.cvss3_scoring_vector && score !== undefined ? [{ where: where(path), vector: cvss3.cvss3_scoring_vector, score }] : [];
  });
}

/** Red Hat OVAL snapshots: `"Cvss3": "7.5/CVSS:3.1/…"`. */
function redHatOval(): KnownAnswer[] {
  return filesUnder(join(vulnDir, 'trivy-db-testdata', 'redhat-oval'), /\.json$/).flatMap((path) =>
    [...objectsIn(readJson(path))].flatMap((object) => {
      const m = typeof object.Cvss3 === 'string' ? /^(\d{1,2}\.\d)\/(CVSS:.*)$/.exec(object.Cvss3) : null;
      return m ? [{ where: where(path), vector: m[2] ?? '', score: Number(m[1]) }] : [];
    }),
  );
}

interface RubyAdvisory {
  path: string;
  text: string;
  cve?: string;
  cvss_v3?: number;
}

function rubyAdvisories(): RubyAdvisory[] {
  return filesUnder(join(vulnDir, 'rubysec', 'gems'), /\.yml$/).map((path) => {
    const text = readFileSync(path, 'utf8');
    const doc = parseYaml(text) as { cve?: string | number; cvss_v3?: number } | null;
    return { path, text, cve: doc?.cve === undefined ? undefined : `CVE-${doc.cve}`, cvss_v3: doc?.cvss_v3 };
  });
}

const V3_VECTOR = /CVSS:3\.[01]\/[A-Za-z:/]*[A-Za-z]/g;

/**
 * ruby-advisory-db: (1) an advisory whose text gives exactly one CVSS v3 vector and whose `cvss_v3` is its score;
 * (2) prose such as "NVD claims a severity of 7.5 High (CVSS:3.1/…)"; (3) prose such as "`AV:N/…/A:N` → **7.5 (High)**",
 * which leaves out the `CVSS:3.x/` prefix (3.0 and 3.1 base scores are the same).
 */
function rubysecText(): KnownAnswer[] {
  const answers: KnownAnswer[] = [];
  for (const advisory of rubyAdvisories()) {
    const vectors = new Set(advisory.text.match(V3_VECTOR) ?? []);
    const [only] = vectors;
    if (vectors.size === 1 && only && advisory.cvss_v3 !== undefined) {
      answers.push({ where: where(advisory.path, 'cvss_v3'), vector: only, score: advisory.cvss_v3 });
    }
    for (const m of advisory.text.matchAll(/severity (?:score )?of (\d{1,2}\.\d) \w+\s+\(?(CVSS:3\.[01]\/[A-Za-z:/]*[A-Za-z])/g)) {
      answers.push({ where: where(advisory.path, 'text'), vector: m[2] ?? '', score: Number(m[1]) });
    }
    for (const m of advisory.text.matchAll(/`(AV:[A-Z]\/AC:[A-Za-z:/]*[A-Z])` → \*\*(\d{1,2}\.\d)/g)) {
      answers.push({ where: where(advisory.path, 'text'), vector: `CVSS:3.1/${m[1]}`, score: Number(m[2]) });
    }
  }
  return answers;
}

/**
 * Every CVSS v3 vector the OSV-format feeds (PyPA, trivy-db's GHSA and OSV snapshots) publish for each CVE. The npm
 * advisories are left out: their vectors are the npm team's own assessment, which often differs from the NVD one
 * ruby-advisory-db copies its scores from.
 */
function v3VectorsByCve(): Map<string, Set<string>> {
  const byCve = new Map<string, Set<string>>();
  const add = (cve: unknown, vector: unknown): void => {
    if (typeof cve !== 'string' || typeof vector !== 'string' || !vector.startsWith('CVSS:3.')) return;
    const vectors = byCve.get(cve) ?? new Set<string>();
    vectors.add(vector);
    byCve.set(cve, vectors);
  };
  const osvRecords: unknown[] = readFileSync(join(vulnDir, 'osv-pypi', 'pypa-osv.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
  for (const path of filesUnder(join(vulnDir, 'trivy-db-testdata'), /\.json$/)) osvRecords.push(readJson(path));
  for (const record of osvRecords) {
    if (!isRecord(record) || !Array.isArray(record.severity)) continue;
    const ids = [record.id, ...(Array.isArray(record.aliases) ? record.aliases : [])].filter((id) => typeof id === 'string' && id.startsWith('CVE-'));
    for (const severity of record.severity) if (isRecord(severity)) for (const id of ids) add(id, severity.score);
  }
  return byCve;
}

/** ruby-advisory-db gives scores only (`cvss_v3`): paired with the one v3 vector OSV feeds publish for the same CVE. */
function rubysecByCve(): KnownAnswer[] {
  const byCve = v3VectorsByCve();
  return rubyAdvisories().flatMap((advisory) => {
    const vectors = advisory.cve ? byCve.get(advisory.cve) : undefined;
    const [only] = vectors ?? [];
    return vectors?.size === 1 && only && advisory.cvss_v3 !== undefined
      ? [{ where: `${where(advisory.path, 'cvss_v3')} ↔ ${advisory.cve} elsewhere`, vector: only, score: advisory.cvss_v3 }]
      : [];
  });
}

// ---- pairs whose published score contradicts the published vector ------------------------------------------------

/**
 * npm advisories whose hand-entered `cvss_score` is not the score of their own `cvss_vector` (FIRST's calculator gives
 * the score in brackets), or whose vector is malformed.
 */
const NPM_CONTRADICTIONS = new Map<number, string>([
  [363, 'published 9.3; its vector (C:H only) scores 7.5'],
  [364, 'published 9.3; its vector (A:H only) scores 7.5'],
  [365, 'published 8.8; its vector scores 8.1'],
  [366, 'published 9.8; its vector scores 7.7'],
  [367, 'published 2.5; its vector scores 1.8'],
  [368, 'published 2.5; its vector scores 1.8'],
  [373, 'published 8.3; its vector scores 8.6'],
  [381, 'published 8.6; its vector scores 7.7'],
  [383, 'published 8.6; its vector scores 7.7'],
  [384, 'published 8.6; its vector scores 7.7'],
  [385, 'published 8.6; its vector scores 7.7'],
  [386, 'published 8.6; its vector scores 7.7'],
  [389, 'published 9.3; its vector (C:H only) scores 7.5'],
  [420, 'published 9.5; its vector scores 7.4'],
  [439, 'published 9.3; its vector (C:H only) scores 7.5'],
  [467, 'published 6; its vector scores 4.2'],
  [468, 'published 6.1; its vector scores 5.3'],
  [485, 'published 7.5; its vector scores 8.6'],
  [493, 'published 7; its vector scores 5.7'],
  [494, 'published 6.1; its vector scores 5.1'],
  [504, 'malformed vector: I:U and A:U are not CVSS v3 values'],
  [515, 'published 9.3; its vector (C:H only) scores 7.5'],
  [516, 'published 7.4; its vector scores 6.3'],
]);

// ---- the tests ----------------------------------------------------------------------------------------------------

function expectAllAgree(answers: readonly KnownAnswer[]): void {
  const disagreements = answers
    .map((a) => ({ ...a, computed: tryScoreVector(a.vector)?.score ?? vectorProblem(a.vector) }))
    .filter((a) => a.computed !== a.score)
    .map((a) => `${a.where}: ${a.vector} published ${a.score}, computed ${a.computed}`);
  expect(disagreements).toEqual([]);
}

const npm = npmAdvisories();
const sources: [string, KnownAnswer[]][] = [
  ['nodejs-security-wg Node.js core advisories (overview text)', nodeCoreAdvisories()],
  ['trivy-db nodejs-security-wg snapshots', trivyNodeSnapshots()],
  ['trivy-db Red Hat security API snapshots', redHatApi()],
  ['trivy-db Red Hat OVAL snapshots', redHatOval()],
  ['ruby-advisory-db advisory texts', rubysecText()],
  ['ruby-advisory-db cvss_v3 paired by CVE with OSV vectors', rubysecByCve()],
];

describe('published CVSS v3 scores in the corpus', () => {
  const npmAgreeing = npm.filter((a) => !NPM_CONTRADICTIONS.has(a.id));

  it(`nodejs-security-wg npm advisories: ${npmAgreeing.length} of ${npm.length} pairs agree`, () => {
    expect(npm.length).toBe(458);
    expectAllAgree(npmAgreeing);
  });

  it(`nodejs-security-wg npm advisories: the ${NPM_CONTRADICTIONS.size} excluded pairs do contradict themselves`, () => {
    const excluded = npm.filter((a) => NPM_CONTRADICTIONS.has(a.id));
    expect(excluded.map((a) => a.id).sort((x, y) => x - y)).toEqual([...NPM_CONTRADICTIONS.keys()]);
    for (const a of excluded) expect(tryScoreVector(a.vector)?.score, `#${a.id} ${a.vector}`).not.toBe(a.score);
  });

  it.each(sources.map(([name, answers]) => [`${name}: ${answers.length} pairs`, answers] as const))('%s agree', (_name, answers) => {
    expect(answers.length).toBeGreaterThan(0);
    expectAllAgree(answers);
  });

  it('adds up to hundreds of known answers over dozens of distinct vectors', () => {
    const all = [...npmAgreeing, ...sources.flatMap(([, answers]) => answers)];
    const distinct = new Set(all.map((a) => `${a.vector} ${a.score}`));
    expect(all.length).toBeGreaterThanOrEqual(480);
    expect(distinct.size).toBeGreaterThanOrEqual(130);
  });
});

describe('vectors in the corpus', () => {
  /** Every vector a feed publishes in a structured field: OSV `severity[].score`, npm `cvss_vector`, Red Hat. */
  function publishedVectors(): { where: string; vector: string }[] {
    const found: { where: string; vector: string }[] = [];
    const osvPath = join(vulnDir, 'osv-pypi', 'pypa-osv.jsonl');
    const osvLines = readFileSync(osvPath, 'utf8').split('\n').filter((line) => line.trim() !== '');
    const records: [string, unknown][] = osvLines.map((line) => [osvPath, JSON.parse(line) as unknown]);
    for (const path of filesUnder(join(vulnDir, 'trivy-db-testdata'), /\.json$/)) records.push([path, readJson(path)]);
    for (const [path, record] of records) {
      for (const object of objectsIn(record)) {
        if (typeof object.type === 'string' && /^CVSS_V[234]$/.test(object.type) && typeof object.score === 'string') {
          found.push({ where: where(path, String((record as { id?: unknown }).id ?? '')), vector: object.score });
        }
        if (typeof object.cvss3_scoring_vector === 'string' && object.cvss3_scoring_vector !== '') {
          found.push({ where: where(path), vector: object.cvss3_scoring_vector });
        }
      }
    }
    for (const a of npm) found.push({ where: a.where, vector: a.vector });
    return found;
  }
  const vectors = publishedVectors();
  const malformed = vectors.filter((v) => tryScoreVector(v.vector) === undefined);

  it(`scores all ${vectors.length} published vectors but the one malformed npm vector`, () => {
    expect(vectors.length).toBeGreaterThan(650);
    expect(malformed.map((v) => v.where)).toEqual(['nodejs-security-wg/npm-advisories.json #504']);
    expect(vectors.some((v) => v.vector.startsWith('CVSS:4.0/'))).toBe(true);
  });

  it('agrees with the GitHub rating of the GHSA snapshots, save two GitHub rated below their own vectors', () => {
    const ratedBelowVector = new Map([
      ['GHSA-v778-237x-gjrc', 'rated HIGH although its CVSS 3.1 vector scores 9.1, critical'],
      ['GHSA-f5pg-7wfw-84q9', 'rated MODERATE although its CVSS 3.1 vector scores 9.8, critical (8.8 with its temporal metrics)'],
    ]);
    const checked: string[] = [];
    for (const path of filesUnder(join(vulnDir, 'trivy-db-testdata', 'ghsa'), /\.json$/)) {
      const advisory = readJson(path) as { id?: string; severity?: { score?: string }[]; database_specific?: { severity?: string } } | undefined;
      const rating = advisory?.database_specific?.severity;
      const scored = advisory?.severity?.map((s) => tryScoreVector(s.score)).find((s) => s !== undefined);
      if (!advisory?.id || !rating || !scored || ratedBelowVector.has(advisory.id)) continue;
      expect(severityFromScore(scored.score, scored.version), `${advisory.id} ${scored.vector}`).toBe(severityFromRating(rating));
      checked.push(advisory.id);
    }
    expect(checked.length).toBeGreaterThanOrEqual(8);
    for (const id of ratedBelowVector.keys()) {
      const [path] = filesUnder(join(vulnDir, 'trivy-db-testdata', 'ghsa'), new RegExp(`^${id}\\.json$`));
      const advisory = readJson(path ?? '') as { severity: { score: string }[]; database_specific: { severity: string } };
      const rating = severityFromRating(advisory.database_specific.severity);
      expect(severityFromScore(scoreVector(advisory.severity[0]?.score ?? '').score), id).not.toBe(rating);
    }
  });
});
