/**
 * Conformance with Trivy's and Syft's own test expectations for JavaScript, Python and Ruby packages.
 * Each fixture is placed where it would sit in an image (a lock file in `app/`, a METADATA in a site-packages
 * `.dist-info` directory, a gemspec in `specifications/`), the language catalogers run over that tree, and every
 * (name, version) the peer expects must be found. Fixture directories (Trivy's analyzer-level trees, Syft's
 * site-packages trees) are walked and every file is placed under the directory's canonical location.
 * Keys that cannot apply, and single expected entries that are transcription noise or out of scope, are listed
 * below with a reason each; a guard test keeps both lists honest.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { analyzeFiles, type TreeFile } from '../support/analyze-files.js';
import { npmAnalyzer } from '../../src/analyze/packages/npm/index.js';
import { pythonAnalyzer } from '../../src/analyze/packages/python/index.js';
import { gemAnalyzer } from '../../src/analyze/packages/gem/index.js';
import { normalizePythonName } from '../../src/analyze/packages/python/collect.js';
import { corpusDir } from '../support/paths.js';

type Tool = 'trivy' | 'syft';
interface ExpectedEntry {
  Name?: string;
  Version?: string;
}

const analyzers = [npmAnalyzer, pythonAnalyzer, gemAnalyzer];
const fixturesRoot = (tool: Tool) => join(corpusDir, 'fixtures', tool);
const SITE_PACKAGES = 'usr/lib/python3/site-packages';

/** Keys this file covers: JavaScript, Python and Ruby fixtures (Go and Java are another suite's). */
const IN_SCOPE = /\/(nodejs|javascript|python|ruby)\//;

/** Whole keys that cannot apply, with the reason. */
const EXCLUDED_KEYS: Record<Tool, Record<string, string>> = {
  trivy: {
    'pkg/fanal/analyzer/language/python/packaging/testdata/egg-zip/kitchen-1.2.6-py2.7.egg':
      'zipped .egg archive: not stored in the corpus (archives with code were left out); zipped eggs are not read yet',
    'pkg/fanal/analyzer/language/python/packaging/testdata/egg-zip-with-license-file/sample_package.egg':
      'zipped .egg archive: not stored in the corpus; zipped eggs are not read yet',
    'pkg/dependency/parser/python/pip/testdata/requirements_compatible.txt':
      'Trivy runs this case with UseMinVersion (a range’s lower bound taken as the version); Detonate records exact pins only',
  },
  syft: {
    'syft/pkg/cataloger/javascript/testdata/pkg-lock': 'no expected packages transcribed (the list is built in code)',
    'syft/pkg/cataloger/javascript/testdata/glob-paths': 'glob test: placeholder files, no expected packages',
    'syft/pkg/cataloger/javascript/testdata/corrupt/package.json': 'no expected packages (corrupt-input case)',
    'syft/pkg/cataloger/javascript/testdata/corrupt/package-lock.json': 'no expected packages (corrupt-input case)',
    'syft/pkg/cataloger/javascript/testdata/corrupt/pnpm-lock.yaml': 'no expected packages (corrupt-input case)',
    'syft/pkg/cataloger/javascript/testdata/pkg-json/package-partial.json': 'no expected packages (manifest without name and version)',
    'syft/pkg/cataloger/javascript/testdata/pkg-lock/package-lock.json': 'no expected packages transcribed (the list is built in code)',
    'syft/pkg/cataloger/javascript/testdata/pkg-lock/alias-package-lock-1.json': 'no expected packages transcribed',
    'syft/pkg/cataloger/javascript/testdata/pnpm-remote/pnpm-lock.yaml': 'remote-licence lookup case: no expected packages transcribed',
    'syft/pkg/cataloger/javascript/testdata/pnpm-remote/registry_response.json': 'a mocked npm registry response, not a file in an image',
    'syft/pkg/cataloger/javascript/testdata/yarn-remote/yarn.lock': 'remote-licence lookup case: no expected packages transcribed',
    'syft/pkg/cataloger/javascript/testdata/yarn-remote/registry_response.json': 'a mocked npm registry response, not a file in an image',
    'syft/pkg/cataloger/python/testdata/pypi-remote/registry_response.json': 'a mocked PyPI response, not a file in an image',
    'syft/pkg/cataloger/python/testdata/setup/setup.py': 'setup.py fixtures are not stored; setup.py is executable code, out of scope',
    'syft/pkg/cataloger/python/testdata/setup/multiline-split-setup.py': 'setup.py fixtures are not stored; out of scope',
    'syft/pkg/cataloger/python/testdata/setup/mixed-format-setup.py': 'setup.py fixtures are not stored; out of scope',
    'syft/pkg/cataloger/python/testdata/pdm-lock-separate-files/pdm.lock':
      'transcription noise: the expected test-package@1.0.0 is not in this file (Syft builds it from separate files)',
    'syft/pkg/cataloger/ruby/testdata/glob-paths': 'glob test: the fixture files are placeholders ("bogus"); the list belongs to another case',
  },
};

/** Single expected entries that are not packages (transcription noise) or outside Detonate's rules, with the reason. */
const EXCLUDED_ENTRIES: { tool: Tool; key: string; name: string; version: string; reason: string }[] = [
  ...['unidecode-egg-info.PKG-INFO', 'distlib-0.3.1-py3.9.egg-info', 'simple-0.1.0.METADATA'].map((f) => ({
    tool: 'trivy' as const,
    key: `pkg/dependency/parser/python/packaging/testdata/${f}`,
    name: ' -e ',
    version: ' -e ',
    reason: 'transcription noise: a string from the Go test table, not a package',
  })),
  {
    tool: 'trivy',
    key: 'pkg/dependency/parser/nodejs/npm/testdata/package-lock_v3_with_workspace.json',
    name: 'function1',
    version: '',
    reason: 'a workspace member without a version: Detonate lists no versionless packages',
  },
  ...(
    [
      ['docutils', '*'],
      ['msal', '>=0.4.1,<2.0.0'],
      ['natsort', '*'],
      ['packaging', '*'],
      ['portalocker', '>=1.0,<3'],
      ['portalocker', '>=1.6,<3'],
      ['six', '*'],
      ['sphinx', '*'],
    ] as const
  ).map(([name, version]) => ({
    tool: 'syft' as const,
    key: 'syft/pkg/cataloger/python/testdata/poetry/dev-deps/poetry.lock',
    name,
    version,
    reason: 'transcription noise: a dependency constraint from the package metadata, not a locked package',
  })),
  ...(
    [
      ['sqlalchemy', '2.0.0'],
      ['bar', '2.0.0'],
      ['numpy', '3.4.1'],
      ['mopidy-dirble', '1.1'],
      ['requests', '2.8.0'],
    ] as const
  ).map(([name, version]) => ({
    tool: 'syft' as const,
    key: 'syft/pkg/cataloger/python/testdata/requires/requirements.txt',
    name,
    version,
    reason: 'Syft derives a version from a range or wildcard (>=, ~=, ==2.8.*); Detonate records exact pins only',
  })),
  ...(
    [
      ['case', '1.6.2'],
      ['case', '1.6.3'],
      ['@bundled-es-modules/chai', '4.2.2'],
    ] as const
  ).map(([name, version]) => ({
    tool: 'syft' as const,
    key: 'syft/pkg/cataloger/javascript/testdata/pkg-lock/package-lock-3.json',
    name,
    version,
    reason: 'transcription noise: not in this lock file (the alias case’s packages, from the same Go test)',
  })),
  ...(
    [
      ['a', '1.0.0'],
      ['c', '3.0.0'],
    ] as const
  ).map(([name, version]) => ({
    tool: 'syft' as const,
    key: 'syft/pkg/cataloger/javascript/testdata/pnpm-multi-doc/pnpm-lock.yaml',
    name,
    version,
    reason: 'transcription noise: not in this lock file (from another case of the same Go test)',
  })),
];

function loadExpected(tool: Tool): Record<string, ExpectedEntry[]> {
  return JSON.parse(readFileSync(join(fixturesRoot(tool), 'expected-packages.json'), 'utf8')) as Record<string, ExpectedEntry[]>;
}

/** Every file under a fixture directory, with its path relative to it (fixture trees are small; capped anyway). */
function walk(dir: string): { rel: string; abs: string }[] {
  const out: { rel: string; abs: string }[] = [];
  const stack = [dir];
  while (stack.length > 0 && out.length < 10_000) {
    const current = stack.pop()!;
    for (const name of readdirSync(current)) {
      const abs = join(current, name);
      if (statSync(abs).isDirectory()) stack.push(abs);
      else out.push({ rel: relative(dir, abs).split('\\').join('/'), abs });
    }
  }
  return out;
}

const file = (path: string, abs: string): TreeFile => ({ path, content: readFileSync(abs) });

/**
 * Where a fixture goes in the image tree. Parser-level fixtures are renamed to the file name the cataloger looks
 * for (`package-lock_v2.json` → `app/package-lock.json`); directory fixtures keep their layout.
 */
function place(key: string, abs: string): TreeFile[] | undefined {
  const base = basename(key);
  if (statSync(abs).isDirectory()) {
    const files = walk(abs);
    if (/\/(nodejs|javascript)\//.test(key)) return files.map((f) => file(`app/${f.rel}`, f.abs));
    if (/\/python\//.test(key)) {
      const prefix = /\.(dist|egg)-info$/i.test(base) ? `${SITE_PACKAGES}/${base}` : SITE_PACKAGES;
      return files.map((f) => file(`${prefix}/${f.rel}`, f.abs));
    }
    return undefined;
  }
  // JavaScript
  if (/\/npm\/testdata\/package-lock.*\.json$|\/pkg-lock\/.*\.json$/.test(key)) return [file('app/package-lock.json', abs)];
  if (/\/yarn[^/]*\/(testdata\/)?[^/]*\.lock$/.test(key)) return [file('app/yarn.lock', abs)];
  if (/pnpm[^/]*\.yaml$/.test(key)) return [file('app/pnpm-lock.yaml', abs)];
  if (/\/(packagejson\/testdata|pkg-json)\/[^/]+\.json$/.test(key)) return [file('app/package.json', abs)];
  // Python
  if (/requirement[^/]*\.txt$/.test(key)) return [file('app/requirements.txt', abs)];
  if (base.endsWith('.METADATA')) return [file(`${SITE_PACKAGES}/${base.slice(0, -'.METADATA'.length)}.dist-info/METADATA`, abs)];
  if (base.endsWith('.PKG-INFO')) return [file(`${SITE_PACKAGES}/${base.slice(0, -'.PKG-INFO'.length)}.egg-info/PKG-INFO`, abs)];
  if (base.endsWith('.egg-info')) return [file(`${SITE_PACKAGES}/${base}`, abs)];
  if (/\/(egg|dist)-info\/(PKG-INFO|METADATA)/i.test(key)) {
    // Syft's nested trees: `<dist>/<x>-info/PKG-INFO[-INVALID]`, read by Syft's test as the metadata file itself.
    const info = dirname(key);
    return [file(`${SITE_PACKAGES}/${basename(dirname(info))}/${basename(info)}/${base.startsWith('PKG-INFO') ? 'PKG-INFO' : 'METADATA'}`, abs)];
  }
  if (/\.dist-info\/LICENSE[^/]*$/.test(key)) {
    // A licence file: the package comes from the METADATA beside it, so the whole .dist-info is placed.
    const info = dirname(abs);
    return walk(info).map((f) => file(`${SITE_PACKAGES}/${basename(info)}/${f.rel}`, f.abs));
  }
  if (/Pipfile[^/]*\.lock$/.test(key)) return [file('app/Pipfile.lock', abs)];
  if (/poetry[^/]*\.lock$/.test(key)) return [file('app/poetry.lock', abs)];
  if (/pdm[^/]*\.lock$/.test(key)) return [file('app/pdm.lock', abs)];
  if (/uv[^/]*\.lock$/.test(key)) return [file('app/uv.lock', abs)];
  // Ruby
  if (/Gemfile[^/]*\.lock$/.test(key)) return [file('app/Gemfile.lock', abs)];
  if (base.endsWith('.gemspec')) return [file(`usr/local/bundle/specifications/${base}`, abs)];
  return undefined;
}

/** Names compare as each ecosystem does: PyPI names case- and separator-insensitively (PEP 503). */
function comparable(key: string, name: string, version: string): string {
  const n = /\/python\//.test(key) ? normalizePythonName(name.trim()) : name;
  return `${n}@${version}`;
}

for (const tool of ['trivy', 'syft'] as const) {
  const expected = loadExpected(tool);
  const keys = Object.keys(expected).filter((k) => IN_SCOPE.test(`/${k}`)).sort();

  describe(`${tool} language fixtures`, () => {
    it('every in-scope key is either checked below or excluded with a reason, and every exclusion is a real key', () => {
      const unplaced = keys.filter((k) => !EXCLUDED_KEYS[tool][k] && (!existsSync(join(fixturesRoot(tool), k)) || !place(k, join(fixturesRoot(tool), k))));
      expect(unplaced).toEqual([]);
      for (const k of Object.keys(EXCLUDED_KEYS[tool])) expect(keys).toContain(k);
      for (const e of EXCLUDED_ENTRIES.filter((x) => x.tool === tool)) {
        expect(expected[e.key]?.some((x) => x.Name === e.name && (x.Version ?? '') === e.version), `${e.key}: ${e.name}@${e.version}`).toBe(true);
      }
    });

    for (const key of keys) {
      if (EXCLUDED_KEYS[tool][key]) continue;
      const abs = join(fixturesRoot(tool), key);
      if (!existsSync(abs)) continue; // reported by the guard test above

      it(key, async () => {
        const tree = place(key, abs);
        expect(tree, 'no placement rule for this fixture').toBeDefined();
        const result = await analyzeFiles(analyzers, tree!);
        const found = new Set(result.packages.map((p) => comparable(key, p.name, p.version)));
        const excluded = EXCLUDED_ENTRIES.filter((e) => e.tool === tool && e.key === key);
        const wanted = new Map<string, string>();
        for (const entry of expected[key] ?? []) {
          const name = entry.Name ?? '';
          const version = entry.Version ?? '';
          if (excluded.some((e) => e.name === name && e.version === version)) continue;
          wanted.set(comparable(key, name, version), `${name}@${version}`);
        }
        expect(wanted.size, 'nothing left to compare: exclude the key instead').toBeGreaterThan(0);
        const missing = [...wanted].filter(([k]) => !found.has(k)).map(([, shown]) => shown);
        expect(missing).toEqual([]);
      });
    }
  });
}
