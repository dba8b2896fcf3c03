import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { AnalysisOutput } from '../../analyzer.js';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { osReleaseAnalyzer } from '../../os/index.js';
import { forEachBdbHashValue } from './bdb.js';
import { parseRpmHeader, parseSourceRpmName, RpmHeaderError } from './header.js';
import { rpmAnalyzer } from './index.js';
import { forEachNdbBlob } from './ndb.js';
import { parseContainerManifest, readRpmDatabase } from './parse.js';
import { MAX_RPM_PACKAGES } from '../../limits.js';
import { seededRandom } from '../../../../test/support/prng.js';

const testdataPath = (name: string) => fileURLToPath(new URL(`testdata/${name}`, import.meta.url));
const testdata = (name: string) => readFileSync(testdataPath(name));

/** What `rpm -qa` shows for the five-header fixtures, gpg-pubkey left out (see testdata/README.md). */
const FIVE_HEADER_PACKAGES = [
  'tinyhello 1.0-1 noarch tinyhello 1.0-1 MIT',
  'toolsuite 2:3.4.1-5.fc39 x86_64 toolsuite 2:3.4.1-5.fc39 GPL-2.0-or-later AND BSD-3-Clause',
  'toolsuite-libs 2:3.4.1-5.fc39 x86_64 toolsuite 2:3.4.1-5.fc39 GPL-2.0-or-later AND BSD-3-Clause',
  'zeroepoch 0.9-2.el9 noarch zeroepoch 0.9-2.el9 Apache-2.0',
];

const CONTEXT = { maxNestedArchiveDepth: 4, maxNestedArchiveBytes: 1 << 28 };

/** Runs the analyzer on one file directly, so that a throw would fail the test instead of becoming a notice. */
function analyzeOne(path: string, content: Buffer): AnalysisOutput {
  return rpmAnalyzer.analyze({ path, type: 'file', size: content.length, mode: 0o644, content }, CONTEXT) as AnalysisOutput;
}

describe('rpm databases in every format', () => {
  const cases: [string, string][] = [
    ['rpmdb.sqlite', 'usr/lib/sysimage/rpm/rpmdb.sqlite'],
    ['rpmdb.sqlite', 'var/lib/rpm/rpmdb.sqlite'],
    ['Packages-le-4096', 'var/lib/rpm/Packages'],
    ['Packages-be-8192', 'var/lib/rpm/Packages'],
    ['Packages-le-512-chksum', 'var/lib/rpm/Packages'],
    ['Packages.db', 'usr/lib/sysimage/rpm/Packages.db'],
  ];
  for (const [fixture, path] of cases) {
    it(`reads ${fixture} at ${path}`, async () => {
      const { packages, notices } = await analyzeFiles([rpmAnalyzer], [{ path, content: testdata(fixture) }]);
      expect(notices).toEqual([]);
      expect(packages.map((p) => `${p.name} ${p.version} ${p.arch} ${p.sourceName} ${p.sourceVersion} ${p.licenses?.join()}`)).toEqual(FIVE_HEADER_PACKAGES);
      expect(packages.every((p) => p.type === 'rpm' && p.paths[0] === path)).toBe(true);
    });
  }

  it('keeps the epoch in metadata, 0 included, and leaves it out of the version when 0', async () => {
    const { packages } = await analyzeFiles([rpmAnalyzer], [{ path: 'var/lib/rpm/rpmdb.sqlite', content: testdata('rpmdb.sqlite') }]);
    const byName = new Map(packages.map((p) => [p.name, p]));
    expect(byName.get('toolsuite')?.metadata).toMatchObject({ epoch: 2, release: '5.fc39', sourceRpm: 'toolsuite-3.4.1-5.fc39.src.rpm' });
    expect(byName.get('zeroepoch')?.metadata?.epoch).toBe(0);
    expect(byName.get('tinyhello')?.metadata?.epoch).toBeUndefined();
  });

  it('reads a database of 120 packages spread over many hash pages', () => {
    const result = readRpmDatabase(testdata('Packages-many-le-1024'));
    expect(result.problems.count).toBe(0);
    expect(result.packages).toHaveLength(120);
    const p15 = result.packages.find((p) => p.name === 'synthetic-015');
    expect(p15).toMatchObject({ version: '1.15-1.el9', sourceName: 'synthetic-src-5', metadata: { epoch: 0 } });
    expect(result.packages.find((p) => p.name === 'synthetic-003')?.version).toBe('3:1.3-3.el9');
  });

  it('gives rpm packages a purl with the distro and the epoch as a qualifier', async () => {
    const { packages } = await analyzeFiles([rpmAnalyzer, osReleaseAnalyzer], [
      { path: 'var/lib/rpm/rpmdb.sqlite', content: testdata('rpmdb.sqlite') },
      { path: 'etc/os-release', content: 'ID=fedora\nVERSION_ID=39\n' },
    ]);
    const purl = packages.find((p) => p.name === 'toolsuite-libs')?.purl ?? '';
    expect(purl).toMatch(/^pkg:rpm\/fedora\/toolsuite-libs@3\.4\.1-5\.fc39\?/);
    expect(purl).toContain('epoch=2');
    expect(purl).toContain('distro=fedora-39');
    expect(purl).toContain('upstream=toolsuite');
  });

  it('wants the database files only', () => {
    const wants = (path: string) => rpmAnalyzer.wants(path, { path, type: 'file', size: 1, mode: 0o644 });
    expect(['var/lib/rpm/Packages', 'var/lib/rpm/rpmdb.sqlite', 'usr/lib/sysimage/rpm/Packages.db', 'var/lib/rpmmanifest/container-manifest-2'].every(wants)).toBe(true);
    expect(['var/lib/rpm/Name', 'var/lib/rpm/rpmdb.sqlite-wal', 'opt/var/lib/rpm/Packages', 'var/lib/rpm/__db.001'].some(wants)).toBe(false);
  });
});

/** The rpm tool itself, where installed, as the oracle (DESIGN.md: `rpm` is a test oracle). */
const rpmTool = (() => {
  try {
    execFileSync('rpm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!rpmTool)('agreement with rpm -qa', () => {
  const cases: [string, string, string[]][] = [
    ['rpmdb.sqlite', 'rpmdb.sqlite', []],
    ['Packages-le-4096', 'Packages', ['--define', '_db_backend bdb_ro']],
    ['Packages-be-8192', 'Packages', ['--define', '_db_backend bdb_ro']],
    ['Packages-many-le-1024', 'Packages', ['--define', '_db_backend bdb_ro']],
  ];
  for (const [fixture, fileName, backend] of cases) {
    it(`lists what rpm lists for ${fixture}`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'detonate-rpmdb-'));
      try {
        copyFileSync(testdataPath(fixture), join(dir, fileName));
        const format = '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}\\n';
        const out = execFileSync('rpm', [...backend, '--dbpath', dir, '-qa', '--qf', format], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
        const expected = out.trim().split('\n').filter((l) => !l.startsWith('gpg-pubkey|')).map((line) => {
          const [name, epoch, version, release, arch, sourceRpm] = line.split('|');
          const e = epoch === '(none)' || epoch === '0' ? '' : `${epoch}:`;
          return `${name} ${e}${version}-${release} ${arch} ${sourceRpm}`;
        }).sort();
        const ours = readRpmDatabase(testdata(fixture)).packages.map((p) => `${p.name} ${p.version} ${p.arch} ${p.metadata?.sourceRpm}`).sort();
        expect(expected.length).toBeGreaterThan(0);
        expect(ours).toEqual(expected);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('source rpm names and the Mariner manifest', () => {
  it('splits name-version-release.src.rpm', () => {
    expect(parseSourceRpmName('openssl-1.1.1k-5.el8.src.rpm')).toEqual({ name: 'openssl', version: '1.1.1k', release: '5.el8' });
    expect(parseSourceRpmName('perl-IO-Socket-SSL-2.066-4.module+el8.3.0+6446+594cad75.src.rpm')).toEqual({
      name: 'perl-IO-Socket-SSL', version: '2.066', release: '4.module+el8.3.0+6446+594cad75',
    });
    expect(parseSourceRpmName('kernel-5.14.0-1.nosrc.rpm')).toMatchObject({ name: 'kernel', version: '5.14.0' });
    expect(parseSourceRpmName('nodash.src.rpm')).toBeNull();
    expect(parseSourceRpmName('a-b.src.rpm')).toBeNull();
    expect(parseSourceRpmName('foo-1-2.rpm')).toBeNull();
  });

  it('reads container-manifest-2 lines, epoch included', async () => {
    const manifest = [
      'openssl-libs\t1.1.1k-15.cm2\t1653816591\t1653631609\tMicrosoft Corporation\t(none)\t4365048\tx86_64\t0\topenssl-1.1.1k-15.cm2.src.rpm',
      'vim\t9.0-1.cm2\t1653816591\t1653753130\tMicrosoft Corporation\t2\t45000\tx86_64\t2\tvim-9.0-1.cm2.src.rpm',
      'short line',
      '',
    ].join('\n');
    expect(parseContainerManifest(manifest).malformed).toBe(1);
    const { packages, notices } = await analyzeFiles([rpmAnalyzer], [{ path: 'var/lib/rpmmanifest/container-manifest-2', content: manifest }]);
    expect(packages.map((p) => `${p.name} ${p.version} ${p.sourceName} ${p.sourceVersion}`)).toEqual([
      'openssl-libs 1.1.1k-15.cm2 openssl 1.1.1k-15.cm2',
      'vim 2:9.0-1.cm2 vim 2:9.0-1.cm2',
    ]);
    expect(notices[0]?.message).toMatch(/1 malformed line/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Hostile input. Each case must give a notice or nothing: never a throw out of analyze, never a hang.

interface TestEntry { tag: number; type: number; offset: number; count: number }

/** A header blob from explicit index entries and data, so tests can point entries anywhere. */
function rawHeader(entries: TestEntry[], data: Buffer, il = entries.length, dl = data.length): Buffer {
  const head = Buffer.alloc(8 + entries.length * 16);
  head.writeUInt32BE(il >>> 0, 0);
  head.writeUInt32BE(dl >>> 0, 4);
  entries.forEach((e, i) => {
    head.writeInt32BE(e.tag, 8 + i * 16);
    head.writeUInt32BE(e.type, 12 + i * 16);
    head.writeInt32BE(e.offset, 16 + i * 16);
    head.writeUInt32BE(e.count, 20 + i * 16);
  });
  return Buffer.concat([head, data]);
}

/** A well-formed header with string tags (and an optional epoch). */
function stringHeader(fields: Record<number, string>, epoch?: number): Buffer {
  const entries: TestEntry[] = [];
  const chunks: Buffer[] = [];
  let size = 0;
  for (const [tag, value] of Object.entries(fields)) {
    const bytes = Buffer.from(`${value}\u0000`);
    entries.push({ tag: Number(tag), type: 6, offset: size, count: 1 });
    chunks.push(bytes);
    size += bytes.length;
  }
  if (epoch !== undefined) {
    const pad = (4 - (size % 4)) % 4;
    chunks.push(Buffer.alloc(pad));
    size += pad;
    const int = Buffer.alloc(4);
    int.writeUInt32BE(epoch);
    entries.push({ tag: 1003, type: 4, offset: size, count: 1 });
    chunks.push(int);
  }
  return rawHeader(entries, Buffer.concat(chunks));
}

/** An in-memory rpmdb.sqlite holding the given blobs (made with SQLite itself). */
function sqliteWith(setup: (db: Database.Database) => void): Buffer {
  const db = new Database(':memory:');
  try {
    setup(db);
    return db.serialize();
  } finally {
    db.close();
  }
}

describe('hostile rpm header blobs', () => {
  const name = Buffer.from('evil\u0000');
  const cases: [string, Buffer][] = [
    ['too short', Buffer.from([0, 0, 0])],
    ['no index entries', rawHeader([], Buffer.alloc(0))],
    ['absurd index count', rawHeader([], Buffer.alloc(0), 0x7fffffff, 0)],
    ['absurd data length', rawHeader([{ tag: 1000, type: 6, offset: 0, count: 1 }], name, 1, 0xfffffff0)],
    ['data past the blob', rawHeader([{ tag: 1000, type: 6, offset: 0, count: 1 }], name, 1, 4096)],
    ['negative offset', rawHeader([{ tag: 1000, type: 6, offset: -8, count: 1 }], name)],
    ['offset past the data', rawHeader([{ tag: 1000, type: 6, offset: 5, count: 1 }], name)],
    ['unterminated string', rawHeader([{ tag: 1000, type: 6, offset: 0, count: 1 }], Buffer.from('evil'))],
    ['epoch of the wrong type', rawHeader([{ tag: 1003, type: 6, offset: 0, count: 1 }], name)],
    ['epoch past the data', rawHeader([{ tag: 1003, type: 4, offset: 2, count: 1 }], name)],
    ['name of a numeric type', rawHeader([{ tag: 1000, type: 4, offset: 0, count: 1 }], Buffer.alloc(8))],
  ];
  for (const [label, blob] of cases) {
    it(`rejects a header with ${label}`, () => {
      expect(() => parseRpmHeader(blob)).toThrow(RpmHeaderError);
    });
  }

  it('skips bad headers with one notice and keeps the good ones', () => {
    const good = stringHeader({ 1000: 'good', 1001: '1.0', 1002: '1', 1022: 'noarch' });
    const db = sqliteWith((d) => {
      d.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
      const insert = d.prepare('INSERT INTO Packages (blob) VALUES (?)');
      insert.run(good);
      for (const [, blob] of cases) insert.run(blob.length > 0 ? blob : Buffer.from([0]));
      insert.run(stringHeader({ 1001: '1.0' })); // no name
      insert.run(stringHeader({ 1000: 'gpg-pubkey', 1001: 'abc', 1002: 'def' }));
    });
    const out = analyzeOne('var/lib/rpm/rpmdb.sqlite', db);
    expect(out.packages?.map((p) => `${p.name} ${p.version}`)).toEqual(['good 1.0-1']);
    expect(out.notices).toHaveLength(1);
    expect(out.notices?.[0]?.message).toMatch(/unreadable package headers skipped: \d+ problems/);
  });

  it('reads I18N strings and the epoch from a hand-made header', () => {
    const header = parseRpmHeader(stringHeader({ 1000: 'pkg', 1001: '2.0', 1002: '3.el9', 1014: 'MIT' }, 7));
    expect(header).toEqual({ name: 'pkg', version: '2.0', release: '3.el9', license: 'MIT', epoch: 7 });
  });
});

/** Little helpers to damage a copy of a fixture at a given page. */
function pageOf(file: Buffer, pageSize: number, type: number, littleEndian = true): number {
  for (let p = 1; p < file.length / pageSize; p++) if (file[p * pageSize + 25] === type) return p;
  throw new Error(`no page of type ${type} (${littleEndian ? 'le' : 'be'})`);
}

describe('hostile Berkeley DB files', () => {
  const base = testdata('Packages-le-4096');
  const PAGE = 4096;

  it('a truncated file gives the packages it can still read and a notice', () => {
    for (const length of [base.length - 1, base.length / 2, 5000, 600]) {
      const out = analyzeOne('var/lib/rpm/Packages', base.subarray(0, length));
      expect(out.notices?.length).toBeGreaterThan(0);
    }
    expect(analyzeOne('var/lib/rpm/Packages', base.subarray(0, 100)).notices?.[0]?.message).toMatch(/too small/);
  });

  it('an overflow chain that loops onto itself ends with a notice', () => {
    const damaged = Buffer.from(base);
    const overflow = pageOf(damaged, PAGE, 7);
    damaged.writeUInt32LE(overflow, overflow * PAGE + 16); // next page = itself
    damaged.writeUInt16LE(10, overflow * PAGE + 22); // 10 bytes per visit, so the chain would need many visits
    const started = Date.now();
    const problems = forEachBdbHashValue(damaged, () => true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(problems.messages.join()).toMatch(/used twice|overflow/);
  });

  it('overflow references with absurd lengths or pages are refused', () => {
    const damaged = Buffer.from(base);
    const hashPage = pageOf(damaged, PAGE, 13);
    const entries = damaged.readUInt16LE(hashPage * PAGE + 20);
    for (let i = 1; i < entries; i += 2) {
      const at = hashPage * PAGE + damaged.readUInt16LE(hashPage * PAGE + 26 + i * 2);
      if (damaged[at] !== 3) continue;
      damaged.writeUInt32LE(i % 4 === 1 ? 0xffffffff : 100, at + 8); // total length
      damaged.writeUInt32LE(i % 4 === 1 ? 3 : 0xfffffff0, at + 4); // first page
    }
    const out = analyzeOne('var/lib/rpm/Packages', damaged);
    expect(out.notices?.some((n) => /damaged/.test(n.message))).toBe(true);
  });

  it('a hash page claiming 65535 entries or items outside the page is skipped', () => {
    const damaged = Buffer.from(base);
    const hashPage = pageOf(damaged, PAGE, 13);
    damaged.writeUInt16LE(0xffff, hashPage * PAGE + 20);
    const out = analyzeOne('var/lib/rpm/Packages', damaged);
    expect(out.notices?.[0]?.message).toMatch(/claims 65535 entries/);

    const offsets = Buffer.from(base);
    offsets.writeUInt16LE(0xfff0, hashPage * PAGE + 26 + 2); // first value's offset beyond the page
    expect(analyzeOne('var/lib/rpm/Packages', offsets).notices?.[0]?.message).toMatch(/outside the page/);
  });

  it('refuses invalid page sizes, encryption and btree files with one notice', () => {
    const badSize = Buffer.from(base);
    badSize.writeUInt32LE(1000, 20);
    const encrypted = Buffer.from(base);
    encrypted[24] = 1;
    const btree = Buffer.from(base);
    btree.writeUInt32LE(0x053162, 12);
    for (const [file, message] of [[badSize, /page size/], [encrypted, /encrypted/], [btree, /btree/]] as const) {
      const out = analyzeOne('var/lib/rpm/Packages', file);
      expect(out.packages ?? []).toEqual([]);
      expect(out.notices?.[0]?.message).toMatch(message);
    }
  });

  it('a file that is not a database gives a notice; an empty one gives nothing', () => {
    expect(analyzeOne('var/lib/rpm/Packages', Buffer.from('dummy')).notices?.[0]?.message).toMatch(/not an rpm database/);
    expect(analyzeOne('var/lib/rpm/Packages', Buffer.alloc(0))).toEqual({});
  });
});

describe('hostile ndb files', () => {
  const base = testdata('Packages.db');
  it('refuses an absurd slot page count', () => {
    const damaged = Buffer.from(base);
    damaged.writeUInt32LE(0xffffffff, 12);
    expect(analyzeOne('var/lib/rpm/Packages.db', damaged).notices?.[0]?.message).toMatch(/slot pages/);
  });

  it('skips slots pointing outside the file and blobs overrunning their blocks', () => {
    const damaged = Buffer.from(base);
    damaged.writeUInt32LE(0x7fffffff, 32 + 8); // first slot: block offset far outside
    const second = 48;
    const blobAt = damaged.readUInt32LE(second + 8) * 16;
    damaged.writeUInt32LE(0x00ffffff, blobAt + 12); // second blob: absurd length
    const values: Buffer[] = [];
    const problems = forEachNdbBlob(damaged, (blob) => values.push(blob) > 0);
    expect(values).toHaveLength(3);
    expect(problems.count).toBe(2);
    const out = analyzeOne('usr/lib/sysimage/rpm/Packages.db', damaged);
    expect(out.notices?.[0]?.message).toMatch(/damaged/);
  });
});

describe('hostile SQLite files', () => {
  it('a view named Packages, even a never-ending one, is not queried', () => {
    const db = sqliteWith((d) => d.exec('CREATE VIEW Packages AS WITH RECURSIVE r(n, blob) AS (SELECT 1, x\'00\' UNION ALL SELECT n + 1, blob FROM r) SELECT blob FROM r'));
    const out = analyzeOne('var/lib/rpm/rpmdb.sqlite', db);
    expect(out.notices?.[0]?.message).toMatch(/no Packages table/);
  });

  it('a generated blob column (which could be made to allocate without bound) is refused', () => {
    const db = sqliteWith((d) => {
      d.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB GENERATED ALWAYS AS (zeroblob(10)) VIRTUAL)');
      d.exec('INSERT INTO Packages (hnum) VALUES (1)');
    });
    expect(analyzeOne('var/lib/rpm/rpmdb.sqlite', db).notices?.[0]?.message).toMatch(/no stored blob column/);
  });

  it('rows without blobs are counted, damaged pages end the scan with a notice', () => {
    const db = sqliteWith((d) => {
      d.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)');
      d.prepare('INSERT INTO Packages VALUES (?, ?)').run(1, 'text, not a blob');
      d.prepare('INSERT INTO Packages VALUES (?, ?)').run(2, stringHeader({ 1000: 'ok', 1001: '1', 1002: '1' }));
    });
    const out = analyzeOne('var/lib/rpm/rpmdb.sqlite', db);
    expect(out.packages?.map((p) => p.name)).toEqual(['ok']);
    expect(out.notices?.[0]?.message).toMatch(/holds no blob/);

    const garbage = Buffer.concat([Buffer.from('SQLite format 3\u0000'), Buffer.alloc(4096, 0x5a)]);
    expect(analyzeOne('var/lib/rpm/rpmdb.sqlite', garbage).notices?.length).toBe(1);
  });

  it(`stops at MAX_RPM_PACKAGES (${MAX_RPM_PACKAGES}) packages with a notice`, () => {
    const blob = stringHeader({ 1000: 'many', 1001: '1', 1002: '1' });
    const db = sqliteWith((d) => {
      d.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)');
      const insert = d.prepare('INSERT INTO Packages (blob) VALUES (?)');
      d.transaction(() => {
        for (let i = 0; i < MAX_RPM_PACKAGES + 2; i++) insert.run(blob);
      })();
    });
    const out = analyzeOne('var/lib/rpm/rpmdb.sqlite', db);
    expect(out.packages).toHaveLength(MAX_RPM_PACKAGES);
    expect(out.notices?.[0]?.message).toMatch(/stopped after/);
  });

  it('never writes the database to disk or changes the caller\'s buffer', () => {
    const original = testdata('rpmdb.sqlite');
    const copy = Buffer.from(original);
    analyzeOne('var/lib/rpm/rpmdb.sqlite', copy);
    expect(copy.equals(original)).toBe(true);
  });
});

describe('mutation fuzzing of every fixture', () => {
  /** Deterministic, so a failure can be replayed. */
  const prng = seededRandom;

  const fixtures: [string, string][] = [
    ['Packages-le-4096', 'var/lib/rpm/Packages'],
    ['Packages-be-8192', 'var/lib/rpm/Packages'],
    ['Packages-le-512-chksum', 'var/lib/rpm/Packages'],
    ['Packages-many-le-1024', 'var/lib/rpm/Packages'],
    ['Packages.db', 'usr/lib/sysimage/rpm/Packages.db'],
    ['rpmdb.sqlite', 'var/lib/rpm/rpmdb.sqlite'],
  ];
  for (const [fixture, path] of fixtures) {
    it(`never throws or hangs on damaged copies of ${fixture}`, () => {
      const base = testdata(fixture);
      const random = prng(fixture.length * 7919);
      const started = Date.now();
      for (let round = 0; round < 150; round++) {
        const damaged = Buffer.from(base);
        const flips = 1 + Math.floor(random() * 16);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(random() * damaged.length);
          // Favour the structural bytes: headers of pages and of blobs, where offsets and counts live.
          damaged[random() < 0.5 ? at - (at % 512) + Math.floor(random() * 32) : at] = Math.floor(random() * 256);
        }
        const cut = random() < 0.2 ? Math.floor(random() * damaged.length) : damaged.length;
        const out = analyzeOne(path, damaged.subarray(0, cut));
        for (const p of out.packages ?? []) expect(typeof p.name).toBe('string');
      }
      expect(Date.now() - started).toBeLessThan(20_000);
    });
  }
});
