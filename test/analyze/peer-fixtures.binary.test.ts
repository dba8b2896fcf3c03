/**
 * Peer-scanner conformance for the binary and archive catalogers (Go binaries, cargo-auditable binaries, Java
 * archives): every key of trivy's and syft's expected-packages.json under their golang, java and rust test
 * folders is either checked here (each expected name and version must be found) or listed in EXCLUDED with
 * the reason it cannot apply.
 *
 * Trivy's transcription often files a test case's list under a neighbouring key; its entries carry the
 * `FilePath` of the archive they come from, so entries are attributed to the fixture their FilePath names
 * (relative to the key's test package), and to their key when they have none. Fixtures inside a stored
 * archive (`nested.jar/META-INF/jars/nested2.jar`) are checked by reading the stored outer archive and
 * finding the package at the nested path (`nested.jar!/META-INF/jars/nested2.jar`).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir } from '../support/paths.js';
import { analyzeFiles } from '../support/analyze-files.js';
import type { Package } from '../../src/model/index.js';
import { goBinaryAnalyzer } from '../../src/analyze/packages/golang/index.js';
import { rustAuditAnalyzer } from '../../src/analyze/packages/rust/index.js';
import { javaArchiveAnalyzer } from '../../src/analyze/packages/java/index.js';
import { javaArchiveExtension } from '../../src/analyze/packages/java/parse.js';

type Corpus = 'trivy' | 'syft';

interface ExpectedEntry {
  Name: string;
  Version: string;
  FilePath?: string;
}

const IN_SCOPE: Record<Corpus, string[]> = {
  trivy: ['golang', 'java', 'rust'].flatMap((eco) => [`pkg/dependency/parser/${eco}/`, `pkg/fanal/analyzer/language/${eco}/`]),
  syft: ['golang', 'java', 'rust'].map((eco) => `syft/pkg/cataloger/${eco}/`),
};

const SOURCE_MANIFEST = 'source manifests are not part of an image inventory (Detonate catalogs what was built into the image)';
const NOT_STORED_GO = 'Go binary not stored in the corpus (no binaries were kept); the Go cataloger is tested on real build information in src/analyze/packages/golang';
const NOT_STORED_ARCHIVE = 'archive not stored in the corpus (archives containing classes were not kept)';
const BUILT_IN_TEST = 'archive built by syft’s test from java-builds/ with Gradle/Maven at test time; not stored';
const DOWNLOADED_IN_TEST = 'jar downloaded from Maven Central by syft’s test; not stored';
const BUILT_GO_IN_TEST = 'Go binary built by syft’s test with `go build` at test time; not stored';
/** Reasons that claim the fixture is absent: checked to be true. */
const NOT_STORED = new Set([NOT_STORED_GO, NOT_STORED_ARCHIVE, BUILT_IN_TEST, DOWNLOADED_IN_TEST, BUILT_GO_IN_TEST]);
const JVM_INSTALL = 'JDK `release` file: a JVM installation, catalogued by syft as pkg:generic; no Java-archive content (outside these catalogers)';

/** Fixture (after FilePath attribution) → why it is not checked. */
const EXCLUDED: Record<string, string> = {
  'trivy:pkg/dependency/parser/golang/binary/testdata/goexperiment': NOT_STORED_GO,
  'trivy:pkg/dependency/parser/golang/binary/testdata/main-version-via-ldflags-go-1-24.elf': NOT_STORED_GO,
  'trivy:pkg/dependency/parser/golang/binary/testdata/main-version-via-ldflags.elf': NOT_STORED_GO,
  'trivy:pkg/dependency/parser/golang/binary/testdata/replace.elf': NOT_STORED_GO,
  'trivy:pkg/dependency/parser/golang/binary/testdata/semver-main-module-version.macho': NOT_STORED_GO,
  'trivy:pkg/fanal/analyzer/language/golang/binary/testdata/executable_gobinary': NOT_STORED_GO,
  'trivy:pkg/dependency/parser/golang/mod/testdata/go116/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/no-go-version/gomod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/normal/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/replaced-with-local-path-and-version-mismatch/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/replaced-with-local-path-and-version/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/replaced-with-local-path/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/replaced-with-version-mismatch/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/replaced-with-version/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/mod/testdata/replaced/go.mod': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/sum/testdata/gomod_emptyline.sum': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/sum/testdata/gomod_many.sum': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/sum/testdata/gomod_normal.sum': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/golang/sum/testdata/gomod_trivy.sum': SOURCE_MANIFEST,
  'trivy:pkg/dependency/parser/java/jar/testdata/gradle.war': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/gradle.war/WEB-INF/lib/commons-compress-1.19.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/gradle.war/WEB-INF/lib/commons-dbcp-1.4.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/gradle.war/WEB-INF/lib/commons-pool-1.6.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/gradle.war/WEB-INF/lib/log4j-1.2.17.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war/WEB-INF/lib/commons-lang3-3.11.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war/WEB-INF/lib/cron-utils-9.1.2.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war/WEB-INF/lib/jackson-annotations-2.9.10.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war/WEB-INF/lib/jackson-core-2.9.10.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war/WEB-INF/lib/jackson-databind-2.9.10.6.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war/WEB-INF/lib/javax.el-3.0.0.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/dependency/parser/java/jar/testdata/maven.war/WEB-INF/lib/slf4j-api-1.7.30.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.par': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.par/lib/jackson-core-2.9.10.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war/WEB-INF/lib/commons-lang3-3.11.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war/WEB-INF/lib/cron-utils-9.1.2.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war/WEB-INF/lib/jackson-annotations-2.9.10.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war/WEB-INF/lib/jackson-core-2.9.10.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war/WEB-INF/lib/jackson-databind-2.9.10.6.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war/WEB-INF/lib/javax.el-3.0.0.jar': NOT_STORED_ARCHIVE,
  'trivy:pkg/fanal/analyzer/language/java/jar/testdata/test.war/WEB-INF/lib/slf4j-api-1.7.30.jar': NOT_STORED_ARCHIVE,
  'syft:syft/pkg/cataloger/golang/testdata/archs/binaries/hello-linux-arm': BUILT_GO_IN_TEST,
  'syft:syft/pkg/cataloger/golang/testdata/go-mod-fixtures/many-packages/go.mod': SOURCE_MANIFEST,
  'syft:syft/pkg/cataloger/golang/testdata/go-mod-fixtures/one-package/go.mod': SOURCE_MANIFEST,
  'syft:syft/pkg/cataloger/golang/testdata/go-mod-fixtures/relative-replace/go.mod': SOURCE_MANIFEST,
  'syft:syft/pkg/cataloger/golang/testdata/go-sum-hashes': SOURCE_MANIFEST,
  'syft:syft/pkg/cataloger/java/testdata/corrupt': 'transcription noise: syft’s corrupt-archive test expects no packages (its list holds the neighbouring pom tests’); the corrupt jar itself is tested in src/analyze/packages/java',
  'syft:syft/pkg/cataloger/java/testdata/gradle/gradle.lockfile': SOURCE_MANIFEST,
  'syft:syft/pkg/cataloger/java/testdata/pom/commons-codec.pom.xml': SOURCE_MANIFEST,
  'syft:syft/pkg/cataloger/java/testdata/pom/transitive-top-level': SOURCE_MANIFEST,
  'syft:syft/pkg/cataloger/java/testdata/pom/small.pom.properties':
    'a loose pom.properties is a build file, not an installed archive (its expected entry is also transcription noise from another case); the parser is tested on it in src/analyze/packages/java',
  'syft:syft/pkg/cataloger/java/testdata/jar-metadata/cache/api-all-2.0.0-sources.jar': DOWNLOADED_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/jar-metadata/cache/api-all-2.0.0-sources.jar:org.apache.directory.api:api-asn1-api': DOWNLOADED_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/jar-metadata/cache/com.fasterxml.jackson.core.jackson-core-2.15.2.jar': DOWNLOADED_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/jar-metadata/cache/jackson-core-2.15.2.jar': DOWNLOADED_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/jar-metadata/cache/micronaut-aop-4.9.11.jar': DOWNLOADED_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/example-java-app-gradle-0.1.0.jar': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/example-java-app-gradle-0.1.0.jar:joda-time:joda-time': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/example-java-app-maven-0.1.0.jar': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/example-java-app-maven-0.1.0.jar:joda-time:joda-time': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/example-jenkins-plugin.hpi': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/example-zap-addon-0.1.0.zap': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/example-zap-addon-0.1.0.zap:joda-time:joda-time': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/java-builds/packages/spring-boot-0.0.1-SNAPSHOT.jar': BUILT_IN_TEST,
  'syft:syft/pkg/cataloger/java/testdata/jvm-installs/oracle-jdk-se-8': JVM_INSTALL,
  'syft:syft/pkg/cataloger/java/testdata/jvm-installs/oracle-jdk-se-8/usr/lib/jvm/jdk-1.8-oracle-x64/release': JVM_INSTALL,
  'syft:syft/pkg/cataloger/java/testdata/jvm-installs/valid-post-jep223': JVM_INSTALL,
  'syft:syft/pkg/cataloger/java/testdata/jvm-installs/valid-post-jep223/jvm/openjdk/release': JVM_INSTALL,
};

/** Single expected entries of checked fixtures that cannot apply, with what Detonate reports instead. */
const EXCLUDED_ENTRIES: Record<string, { reason: string; instead?: { name: string; version: string } }> = {
  'trivy:pkg/dependency/parser/java/jar/testdata/test.jar org.springframework:spring-core@5.3.3': {
    reason: 'found by trivy’s SHA-1 search of Maven Central (a mock server in its test); offline, the manifest is all the archive says',
  },
  'trivy:pkg/dependency/parser/java/jar/testdata/heuristic-1.0.0-SNAPSHOT.jar com.example:heuristic@1.0.0-SNAPSHOT': {
    reason: 'groupId found by trivy’s artifactId search of Maven Central (a mock server in its test); offline, the file name gives artifact and version only',
    instead: { name: 'heuristic', version: '1.0.0-SNAPSHOT' },
  },
};

function load(corpus: Corpus): Record<string, ExpectedEntry[]> {
  return JSON.parse(readFileSync(join(corpusDir, 'fixtures', corpus, 'expected-packages.json'), 'utf8')) as Record<string, ExpectedEntry[]>;
}

/** Fixture path → its expected (Name, Version) entries, deduplicated, with trivy's entries moved to the fixture their FilePath names. */
function fixtures(corpus: Corpus): Map<string, ExpectedEntry[]> {
  const out = new Map<string, ExpectedEntry[]>();
  for (const [key, entries] of Object.entries(load(corpus))) {
    if (!IN_SCOPE[corpus].some((prefix) => key.startsWith(prefix))) continue;
    if (!out.has(key)) out.set(key, []);
    for (const e of entries) {
      const base = key.slice(0, key.indexOf('testdata/'));
      const fixture = e.FilePath ? `${base}${e.FilePath}` : key;
      const list = out.get(fixture) ?? [];
      if (!list.some((x) => x.Name === e.Name && x.Version === e.Version)) list.push(e);
      out.set(fixture, list);
    }
  }
  return out;
}

function isStoredFile(corpus: Corpus, path: string): boolean {
  const full = join(corpusDir, 'fixtures', corpus, path);
  return existsSync(full) && statSync(full).isFile();
}

/** The stored archive a fixture is, or lies inside, and the fixture's path as the cataloger names it (`a.jar!/b.jar`). */
function locate(corpus: Corpus, fixture: string): { stored: string; location: string } | undefined {
  const parts = fixture.split('/');
  for (let n = parts.length; n > 0; n--) {
    const stored = parts.slice(0, n).join('/');
    if (!isStoredFile(corpus, stored)) continue;
    if (n === parts.length) return { stored, location: stored };
    if (!javaArchiveExtension(stored)) return undefined;
    let location = stored;
    let segment: string[] = [];
    for (const part of parts.slice(n)) {
      segment.push(part);
      if (javaArchiveExtension(part)) {
        location += `!/${segment.join('/')}`;
        segment = [];
      }
    }
    return segment.length === 0 ? { stored, location } : undefined;
  }
  return undefined;
}

const analyzers = [goBinaryAnalyzer, rustAuditAnalyzer, javaArchiveAnalyzer];
const results = new Map<string, Promise<Package[]>>();
function packagesOf(corpus: Corpus, stored: string): Promise<Package[]> {
  const key = `${corpus}:${stored}`;
  if (!results.has(key)) {
    const content = readFileSync(join(corpusDir, 'fixtures', corpus, stored));
    results.set(key, analyzeFiles(analyzers, [{ path: stored, content, mode: 0o755 }]).then((r) => r.packages));
  }
  return results.get(key)!;
}

for (const corpus of ['trivy', 'syft'] as const) {
  describe(`${corpus} expected packages (Go, Java, Rust)`, () => {
    const all = fixtures(corpus);

    it('every fixture is either checked or excluded with a reason, and no exclusion is stale', () => {
      for (const fixture of all.keys()) {
        const excluded = EXCLUDED[`${corpus}:${fixture}`];
        const located = locate(corpus, fixture);
        expect(Boolean(excluded || located), `${fixture} is neither stored nor excluded`).toBe(true);
        if (excluded && NOT_STORED.has(excluded)) expect(located, `${fixture} is excluded as not stored, but it is`).toBeUndefined();
      }
      for (const key of Object.keys(EXCLUDED).filter((k) => k.startsWith(`${corpus}:`))) {
        expect(all.has(key.slice(corpus.length + 1)), `stale exclusion ${key}`).toBe(true);
      }
      for (const key of Object.keys(EXCLUDED_ENTRIES).filter((k) => k.startsWith(`${corpus}:`))) {
        const [fixture, id] = key.slice(corpus.length + 1).split(' ');
        expect(all.get(fixture!)?.some((e) => `${e.Name}@${e.Version}` === id), `stale entry exclusion ${key}`).toBe(true);
      }
    });

    for (const [fixture, expected] of all) {
      const located = locate(corpus, fixture);
      if (!located || EXCLUDED[`${corpus}:${fixture}`]) continue;
      it(fixture, async () => {
        const packages = await packagesOf(corpus, located.stored);
        for (const e of expected) {
          const excluded = EXCLUDED_ENTRIES[`${corpus}:${fixture} ${e.Name}@${e.Version}`];
          const want = excluded ? excluded.instead : { name: e.Name, version: e.Version };
          if (!want) continue;
          const found = packages.find((p) => p.name === want.name && p.version === want.version && p.paths.includes(located.location));
          expect(found, `${want.name}@${want.version} at ${located.location}; found ${packages.map((p) => `${p.name}@${p.version} ${p.paths.join(',')}`).join('; ')}`).toBeDefined();
        }
      });
    }
  });
}
