/**
 * Conformance with Trivy's and Syft's own test expectations for OS packages (dpkg, opkg, apk, rpm).
 * Each fixture is placed where it sits in an image (`var/lib/dpkg/status`, `lib/apk/db/installed`,
 * `var/lib/rpm/Packages` …), the OS catalogers run over that tree, and every (name, version) the peer expects
 * must be found; where Trivy also names the source package, that must match too. Trivy's dpkg fixtures are txtar
 * archives whose sections are the files of the tree.
 *
 * Versions: Trivy splits them into Epoch, Version and Release; they are joined the way dpkg and rpm print them
 * (`epoch:version-release`, the epoch left out when absent or 0), which is how Detonate reports them. Syft lists
 * rpm packages twice, once with the full version and once as metadata with Version and Release apart and the
 * epoch as a Go pointer placeholder (`intRef`, `ref`, `nil`); such an unknown epoch is matched leniently.
 *
 * Keys that cannot apply are listed below with a reason each; a guard test checks that every in-scope key is
 * either run or listed, so none is dropped silently.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFiles, type TreeFile } from '../support/analyze-files.js';
import type { Package } from '../../src/model/index.js';
import { osReleaseAnalyzer } from '../../src/analyze/os/index.js';
import { dpkgAnalyzer } from '../../src/analyze/packages/dpkg/index.js';
import { apkAnalyzer } from '../../src/analyze/packages/apk/index.js';
import { rpmAnalyzer } from '../../src/analyze/packages/rpm/index.js';
import { corpusDir } from '../support/paths.js';
import { parseTxtar } from '../support/txtar.js';

type Tool = 'trivy' | 'syft';
interface ExpectedEntry {
  Name?: string;
  Version?: string;
  Epoch?: number | string;
  Release?: string;
  SrcName?: string;
  SrcVersion?: string;
  SrcRelease?: string;
  SrcEpoch?: number | string;
}

const analyzers = [osReleaseAnalyzer, dpkgAnalyzer, apkAnalyzer, rpmAnalyzer];
const fixturesRoot = (tool: Tool) => join(corpusDir, 'fixtures', tool);

const IN_SCOPE: Record<Tool, RegExp> = {
  trivy: /^pkg\/fanal\/analyzer\/pkg\/(dpkg|apk|rpm)\//,
  syft: /^syft\/pkg\/cataloger\/(debian|alpine|redhat)\//,
};

const EXCLUDED_KEYS: Record<Tool, Record<string, string>> = {
  trivy: {
    'pkg/fanal/analyzer/pkg/rpm/testdata/valid.rpm':
      'an .rpm package file, not an installed-package database (out of scope); also not stored in the corpus',
    'pkg/fanal/analyzer/pkg/rpm/testdata/valid':
      'Trivy’s real rpmdb fixture is not stored (≥ 4 MiB, see corpus README); rpm formats are covered by own fixtures',
  },
  syft: {
    'syft/pkg/cataloger/redhat/testdata/rpms': '.rpm package files (out of scope: not an installed-package database), not stored',
    'syft/pkg/cataloger/redhat/testdata/bad':
      'bad.rpm is a deliberately invalid .rpm file; the transcribed basesystem entry belongs to another test case',
    'syft/pkg/cataloger/debian/testdata/var/lib/dpkg/status.d/libpam-runtime':
      'transcription noise: the expected zlib1g 1:1.3.dfsg-3.1ubuntu2.1 belongs to another Syft case; this file holds libpam-runtime',
  },
};

/** Where each fixture goes in the tree; `null` when no rule places it (it must then be excluded above). */
function placeFixture(tool: Tool, key: string): TreeFile[] | null {
  const source = join(fixturesRoot(tool), key);
  if (!existsSync(source) || !statSync(source).isFile()) return null;
  const content = readFileSync(source);
  if (tool === 'trivy') {
    if (/\/dpkg\/testdata\/[^/]+\.txtar$/.test(key)) {
      return parseTxtar(content.toString('utf8')).files.map((f) => ({ path: f.name, content: f.content }));
    }
    if (key === 'pkg/fanal/analyzer/pkg/apk/testdata/apk') return [{ path: 'lib/apk/db/installed', content }];
    return null;
  }
  const debianTree = /^syft\/pkg\/cataloger\/debian\/testdata\/(var\/lib\/(?:dpkg\/status\.d\/[^/]+|opkg\/status))$/.exec(key);
  if (debianTree) return [{ path: debianTree[1]!, content }];
  if (/^syft\/pkg\/cataloger\/alpine\/testdata\/[^/]+$/.test(key)) return [{ path: 'lib/apk/db/installed', content }];
  if (key === 'syft/pkg/cataloger/redhat/testdata/Packages') return [{ path: 'var/lib/rpm/Packages', content }];
  if (key === 'syft/pkg/cataloger/redhat/testdata/container-manifest-2') {
    return [{ path: 'var/lib/rpmmanifest/container-manifest-2', content }];
  }
  return null;
}

const numericEpoch = (epoch: number | string | undefined): number | undefined =>
  typeof epoch === 'number' ? epoch : typeof epoch === 'string' && /^\d+$/.test(epoch) ? Number(epoch) : undefined;

/** `epoch:version-release` as dpkg and rpm print it; `epochKnown` is false for Syft's pointer placeholders. */
function comparable(version: string, release: string | undefined, epoch: number | string | undefined): { version: string; epochKnown: boolean } {
  const e = numericEpoch(epoch);
  const epochKnown = epoch === undefined || epoch === 'nil' || e !== undefined;
  const vr = release ? `${version}-${release}` : version;
  return { version: e ? `${e}:${vr}` : vr, epochKnown };
}

const withoutEpoch = (version: string) => version.replace(/^\d+:/, '');

interface Expectation {
  name: string;
  version: string;
  epochKnown: boolean;
  sourceName?: string;
  sourceVersion?: string;
}

function expectations(entries: ExpectedEntry[]): Expectation[] {
  const seen = new Map<string, Expectation>();
  for (const entry of entries) {
    if (!entry.Name || !entry.Version) continue;
    const { version, epochKnown } = comparable(entry.Version, entry.Release, entry.Epoch);
    const key = `${entry.Name}\u0000${version}\u0000${epochKnown}`;
    const existing = seen.get(key);
    const expectation: Expectation = existing ?? { name: entry.Name, version, epochKnown };
    if (entry.SrcName) expectation.sourceName = entry.SrcName;
    if (entry.SrcVersion) expectation.sourceVersion = comparable(entry.SrcVersion, entry.SrcRelease, entry.SrcEpoch).version;
    seen.set(key, expectation);
  }
  return [...seen.values()];
}

function findMatch(packages: Package[], e: Expectation): Package | undefined {
  return packages.find((p) => p.name === e.name && (p.version === e.version || (!e.epochKnown && withoutEpoch(p.version) === e.version)));
}

const expected: Record<Tool, Record<string, ExpectedEntry[]>> = {
  trivy: JSON.parse(readFileSync(join(fixturesRoot('trivy'), 'expected-packages.json'), 'utf8')) as Record<string, ExpectedEntry[]>,
  syft: JSON.parse(readFileSync(join(fixturesRoot('syft'), 'expected-packages.json'), 'utf8')) as Record<string, ExpectedEntry[]>,
};

for (const tool of ['trivy', 'syft'] as const) {
  const keys = Object.keys(expected[tool]).filter((k) => IN_SCOPE[tool].test(k)).sort();

  describe(`${tool} OS-package fixtures`, () => {
    it('covers every in-scope key: each is run or excluded with a reason', () => {
      const unplaced = keys.filter((k) => !(k in EXCLUDED_KEYS[tool]) && placeFixture(tool, k) === null);
      expect(unplaced).toEqual([]);
      const staleExclusions = Object.keys(EXCLUDED_KEYS[tool]).filter((k) => !keys.includes(k));
      expect(staleExclusions).toEqual([]);
      expect(keys.length).toBeGreaterThan(0);
    });

    for (const key of keys) {
      if (key in EXCLUDED_KEYS[tool]) continue;
      it(key, async () => {
        const files = placeFixture(tool, key);
        expect(files, `no placement for ${key}`).not.toBeNull();
        const wanted = expectations(expected[tool][key]!);
        expect(wanted.length).toBeGreaterThan(0);
        const { packages } = await analyzeFiles(analyzers, files!);
        const missing = wanted.filter((e) => !findMatch(packages, e)).map((e) => `${e.name} ${e.version}`);
        expect(missing, `found: ${packages.map((p) => `${p.name} ${p.version}`).join(', ')}`).toEqual([]);
        const wrongSource = wanted
          .filter((e) => e.sourceName !== undefined)
          .map((e) => ({ e, p: findMatch(packages, e)! }))
          .filter(({ e, p }) => p.sourceName !== e.sourceName || (e.sourceVersion !== undefined && p.sourceVersion !== e.sourceVersion))
          .map(({ e, p }) => `${e.name}: expected source ${e.sourceName} ${e.sourceVersion}, got ${p.sourceName} ${p.sourceVersion}`);
        expect(wrongSource).toEqual([]);
      });
    }
  });
}
