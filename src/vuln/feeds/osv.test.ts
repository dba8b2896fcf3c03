import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../../../test/support/paths.js';
import { writeZip } from '../../util/zip.js';
import type { AdvisoryRecord, FeedImporter } from '../model.js';
import { comparatorFor, inRange } from '../versions/index.js';
import { createOsvImporter, osvImporter } from './osv.js';
import { eventsToRanges, mapOsvEcosystem, osvToRecords } from './osv-record.js';

const vulnDir = join(corpusDir, 'vuln');
const haveCorpus = existsSync(vulnDir);

async function collect(importer: FeedImporter, path: string): Promise<{ records: AdvisoryRecord[]; notices: string[] }> {
  const records: AdvisoryRecord[] = [];
  const notices: string[] = [];
  for await (const r of importer.read(path, (m) => notices.push(m))) records.push(r);
  return { records, notices };
}

/** What the file says, read independently of the importer: ids, and which are withdrawn already. */
function jsonlFacts(path: string): { lines: number; ids: Set<string>; withdrawn: Set<string> } {
  const ids = new Set<string>();
  const withdrawn = new Set<string>();
  let lines = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    lines++;
    const rec = JSON.parse(line) as { id: string; withdrawn?: string };
    ids.add(rec.id);
    if (rec.withdrawn && Date.parse(rec.withdrawn) <= Date.now()) withdrawn.add(rec.id);
  }
  return { lines, ids, withdrawn };
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(join(tmpdir(), 'detonate-osv-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('OSV ecosystems', () => {
  it.each([
    ['Debian:12', 'debian:12'],
    ['Debian:11', 'debian:11'],
    ['Alpine:v3.19', 'alpine:3.19'],
    ['Alpine:v3.20', 'alpine:3.20'],
    ['Ubuntu:22.04:LTS', 'ubuntu:22.04'],
    ['Ubuntu:24.10', 'ubuntu:24.10'],
    ['Ubuntu:Pro:18.04:LTS', 'ubuntu-pro:18.04'],
    ['PyPI', 'pypi'],
    ['Go', 'go'],
    ['npm', 'npm'],
    ['Maven', 'maven'],
    ['RubyGems', 'rubygems'],
    ['crates.io', 'crates.io'],
    ['NuGet', 'nuget'],
    ['Packagist', 'packagist'],
    ['Rocky Linux:9', 'rocky:9'],
    ['AlmaLinux:8', 'almalinux:8'],
    ['SwiftURL', 'swifturl'],
  ])('%s → %s', (osv, detonate) => {
    expect(mapOsvEcosystem(osv)).toBe(detonate);
  });

  it('normalises names the way packages are keyed: PEP 503 for PyPI, lower case for NuGet', () => {
    const record = {
      id: 'TEST-1',
      affected: [
        { package: { ecosystem: 'PyPI', name: 'Zope.Interface_Extra' }, versions: ['1.0'] },
        { package: { ecosystem: 'NuGet', name: 'Newtonsoft.Json' }, versions: ['1.0'] },
        { package: { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core' }, versions: ['2.14.1'] },
      ],
    };
    const [r] = osvToRecords(record, 'test', { source: 'osv', maxSplitAffected: 1000 }, () => {});
    expect(r?.affected.map((a) => `${a.ecosystem} ${a.name}`)).toEqual(['pypi zope-interface-extra', 'nuget newtonsoft.json', 'maven org.apache.logging.log4j:log4j-core']);
  });
});

describe('OSV events', () => {
  it('pairs introduced with the next fixed or last_affected; an open range stays open', () => {
    expect(eventsToRanges([{ introduced: '0' }, { fixed: '1.2' }, { introduced: '2.0' }, { last_affected: '2.3' }, { introduced: '3.0' }])).toEqual([
      { introduced: '0', fixed: '1.2' },
      { introduced: '2.0', lastAffected: '2.3' },
      { introduced: '3.0' },
    ]);
  });

  it('ignores GIT ranges and reads severity vectors, ratings and MAL- ids', () => {
    const notices: string[] = [];
    const records = osvToRecords(
      {
        id: 'MAL-2024-1234',
        aliases: ['GHSA-aaaa-bbbb-cccc'],
        summary: 'Malicious code in evil-pkg (npm)',
        severity: [
          { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
          { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
        ],
        database_specific: { severity: 'CRITICAL' },
        affected: [
          { package: { ecosystem: 'npm', name: 'evil-pkg' }, ranges: [{ type: 'GIT', repo: 'x', events: [{ introduced: 'abc' }] }, { type: 'SEMVER', events: [{ introduced: '0' }] }] },
        ],
      },
      'test',
      { source: 'osv', maxSplitAffected: 1000 },
      (m) => notices.push(m),
    );
    expect(notices).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      id: 'MAL-2024-1234',
      aliases: ['GHSA-aaaa-bbbb-cccc'],
      sourceId: 'MAL-2024-1234',
      malicious: true,
      severity: { cvssV3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', cvssV4: expect.stringMatching(/^CVSS:4\.0\//), rating: 'critical' },
      affected: [{ ecosystem: 'npm', name: 'evil-pkg', status: 'affected', ranges: [{ introduced: '0' }] }],
    });
  });

  it('makes one record per CVE (id = the CVE, OSV id and GHSA as aliases), reading `upstream` too', () => {
    const records = osvToRecords(
      { id: 'DSA-5000-1', upstream: ['CVE-2021-1111', 'CVE-2021-2222'], affected: [{ package: { ecosystem: 'Debian:11', name: 'foo' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2-3+deb11u1' }] }] }] },
      'test',
      { source: 'osv', maxSplitAffected: 1000 },
      () => {},
    );
    expect(records.map((r) => [r.id, r.aliases, r.sourceId])).toEqual([
      ['CVE-2021-1111', ['DSA-5000-1'], 'DSA-5000-1'],
      ['CVE-2021-2222', ['DSA-5000-1'], 'DSA-5000-1'],
    ]);
    expect(records[0]?.affected[0]).toMatchObject({ ecosystem: 'debian:11', ranges: [{ introduced: '0', fixed: '1.2-3+deb11u1' }] });
  });

  it('drops records withdrawn in the past, keeps one withdrawn in the future', () => {
    const base = { id: 'PYSEC-1', affected: [{ package: { ecosystem: 'PyPI', name: 'x' }, versions: ['1'] }] };
    const how = { source: 'osv', maxSplitAffected: 1000, now: Date.parse('2025-01-01T00:00:00Z') };
    expect(osvToRecords({ ...base, withdrawn: '2024-01-01T00:00:00Z' }, 't', how, () => {})).toEqual([]);
    expect(osvToRecords({ ...base, withdrawn: '3001-06-06T10:37:00Z' }, 't', how, () => {})).toHaveLength(1);
  });
});

describe.skipIf(!haveCorpus)('OSV corpus files', () => {
  it('reads every record of the Go vulnerability DB (4 291 lines; withdrawn ones dropped)', async () => {
    const path = join(vulnDir, 'osv-go', 'govulndb-osv.jsonl');
    const facts = jsonlFacts(path);
    expect(facts.lines).toBe(4291);
    const { records, notices } = await collect(osvImporter, path);
    expect(notices).toEqual([]);
    const sourceIds = new Set(records.map((r) => r.sourceId));
    expect(sourceIds.size).toBe(facts.ids.size - facts.withdrawn.size);
    for (const id of facts.withdrawn) expect(sourceIds.has(id)).toBe(false);
    expect(records.every((r) => r.source === 'osv' && r.affected.every((a) => a.ecosystem === 'go'))).toBe(true);

    const gin = records.find((r) => r.sourceId === 'GO-2020-0001');
    expect(gin).toMatchObject({
      id: 'CVE-2020-36567',
      aliases: ['GO-2020-0001', 'GHSA-6vm3-jj99-7229'],
      summary: 'Arbitrary log line injection in github.com/gin-gonic/gin',
      published: '2021-04-14T20:04:52Z',
      affected: [{ ecosystem: 'go', name: 'github.com/gin-gonic/gin', status: 'affected', ranges: [{ introduced: '0', fixed: '1.6.0' }] }],
    });
    const go = comparatorFor('go');
    expect(inRange(go, 'v1.5.0', gin!.affected[0]!.ranges[0]!)).toBe(true);
    expect(inRange(go, 'v1.6.0', gin!.affected[0]!.ranges[0]!)).toBe(false);
  });

  it('reads every record of the PyPA advisory DB (2 661 lines), with PEP 503 names and explicit versions', async () => {
    const path = join(vulnDir, 'osv-pypi', 'pypa-osv.jsonl');
    const facts = jsonlFacts(path);
    expect(facts.lines).toBe(2661);
    const { records, notices } = await collect(osvImporter, path);
    expect(notices).toEqual([]);
    expect(new Set(records.map((r) => r.sourceId)).size).toBe(facts.ids.size - facts.withdrawn.size);
    const ac = records.find((r) => r.sourceId === 'PYSEC-2021-335');
    expect(ac).toMatchObject({
      id: 'CVE-2021-32807',
      aliases: ['PYSEC-2021-335', 'GHSA-qcx9-j53g-ccgf'],
      affected: [
        {
          ecosystem: 'pypi',
          name: 'accesscontrol',
          ranges: [
            { introduced: '4.0', fixed: '4.3' },
            { introduced: '5.0', fixed: '5.2' },
          ],
          versions: ['4.0', '4.1', '4.2', '5.0', '5.1'],
        },
      ],
    });
    expect(records.every((r) => r.affected.every((a) => a.ecosystem === 'pypi' && a.name === a.name.toLowerCase() && !/[_.]/.test(a.name)))).toBe(true);
  });

  it('reads an all.zip dump entry by entry, giving the same records as the JSON lines it holds', async () => {
    const lines = readFileSync(join(vulnDir, 'osv-go', 'govulndb-osv.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').slice(0, 400);
    const zipPath = join(tmp, 'Go-all.zip');
    await fs.writeFile(zipPath, writeZip(lines.map((l) => ({ name: `${(JSON.parse(l) as { id: string }).id}.json`, data: l }))));
    const jsonlPath = join(tmp, 'first400.jsonl');
    await fs.writeFile(jsonlPath, lines.join('\n'));
    expect(osvImporter.detect(zipPath, readFileSync(zipPath).subarray(0, 4096))).toBe(true);
    const fromZip = await collect(osvImporter, zipPath);
    const fromLines = await collect(osvImporter, jsonlPath);
    expect(fromZip.notices).toEqual([]);
    expect(fromZip.records.length).toBeGreaterThan(390);
    expect(fromZip.records).toEqual(fromLines.records);
  });

  it('reads single OSV JSON files and YAML records (trivy-db and pypa layouts)', async () => {
    const file = join(vulnDir, 'trivy-db-testdata', 'osv', 'testdata', 'happy', 'vuln-list', 'osv', 'python', 'PYSEC-2018-27.json');
    const { records } = await collect(osvImporter, file);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: 'CVE-2018-10895', aliases: ['PYSEC-2018-27', 'GHSA-wgmx-52ph-qqcw'] });
    const yamlPath = join(tmp, 'PYSEC-2099-1.yaml');
    await fs.writeFile(yamlPath, 'id: PYSEC-2099-1\nmodified: 2024-01-01T00:00:00Z\naliases:\n- CVE-2099-0001\naffected:\n- package:\n    name: Foo_Bar\n    ecosystem: PyPI\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: "0"\n    - fixed: 1.10\n');
    expect(osvImporter.detect(yamlPath, readFileSync(yamlPath))).toBe(true);
    const fromYaml = await collect(osvImporter, yamlPath);
    // the failsafe schema keeps `1.10` as written (not the number 1.1)
    expect(fromYaml.records[0]?.affected[0]).toMatchObject({ name: 'foo-bar', ranges: [{ introduced: '0', fixed: '1.10' }] });
  });
});

describe('hostile OSV input', () => {
  const good = JSON.stringify({ id: 'GO-2099-0001', aliases: ['CVE-2099-1'], affected: [{ package: { ecosystem: 'Go', name: 'example.com/m' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] }] });

  it('skips a truncated line, a 10 MB line and junk with a notice each, and reads the lines after them', async () => {
    const path = join(tmp, 'hostile.jsonl');
    const huge = `{"id":"GO-2099-0002","details":"${'A'.repeat(10 * 1024 * 1024)}"}`;
    await fs.writeFile(path, [good, good.slice(0, 60), huge, 'not json at all', '[1,2', '42', '{}', good.replace('0001', '0003')].join('\n'));
    const { records, notices } = await collect(osvImporter, path);
    expect(records.map((r) => r.sourceId)).toEqual(['GO-2099-0001', 'GO-2099-0003']);
    expect(notices).toHaveLength(6);
    expect(notices[0]).toMatch(/^line 2: not valid JSON/);
    expect(notices[1]).toMatch(/^line 3: 10\.0 MiB, over the 8 MiB record limit; skipped/);
    expect(notices[2]).toMatch(/^line 4: not valid JSON/);
    expect(notices[5]).toMatch(/^line 7: OSV record without an id/);
  });

  it('skips a malformed affected entry but keeps the rest of the record', async () => {
    const notices: string[] = [];
    const records = osvToRecords({ id: 'X-1', affected: [42, { package: { ecosystem: 'npm' } }, { package: { ecosystem: 'npm', name: 'ok' }, versions: ['1.0.0'] }] }, 't', { source: 'osv', maxSplitAffected: 10 }, (m) => notices.push(m));
    expect(records[0]?.affected.map((a) => a.name)).toEqual(['ok']);
    expect(notices).toEqual(['t: X-1: affected[0] is not an object; skipped', 't: X-1: affected[1] has no package ecosystem or name; skipped']);
  });

  it('survives zip bombs: over-ratio, oversized and lying entries give notices, the good entries are read', async () => {
    const importer = createOsvImporter({ maxRecordBytes: 2 * 1024 * 1024 });
    const zip = writeZip([
      { name: 'GO-2099-0001.json', data: good },
      { name: 'ratio.json', data: Buffer.alloc(1.5 * 1024 * 1024, 0x20) }, // 1.5 MiB of blanks: >1000:1
      { name: 'big.json', data: Buffer.alloc(3 * 1024 * 1024, 0x20) }, // over the 2 MiB record limit
      { name: 'liar.json', data: `${good.replace('0001', '0004')}${' '.repeat(5000)}` },
      { name: 'GO-2099-0005.json', data: good.replace('0001', '0005') },
      { name: 'README.md', data: 'not a record' },
    ]);
    // `liar.json` declares fewer expanded bytes than it holds: patch its central directory entry
    const name = Buffer.from('liar.json');
    let at = zip.length;
    while ((at = zip.lastIndexOf(name, at - 1)) >= 0) {
      if (zip.readUInt32LE(at - 46) === 0x02014b50) {
        zip.writeUInt32LE(100, at - 46 + 24);
        break;
      }
    }
    const path = join(tmp, 'bomb.zip');
    await fs.writeFile(path, zip);
    const { records, notices } = await collect(importer, path);
    expect(records.map((r) => r.sourceId)).toEqual(['GO-2099-0001', 'GO-2099-0005']);
    expect(notices).toHaveLength(3);
    expect(notices[0]).toMatch(/^ratio\.json: .*expands \d+:1/);
    expect(notices[1]).toMatch(/^big\.json: expands to 3 MiB, over the 2 MiB limit/);
    expect(notices[2]).toMatch(/^liar\.json: .*beyond its declared 100 bytes/);
  });

  it('reads zip64 archives and archives with data prepended (self-extracting stubs)', async () => {
    const plain = writeZip([0, 1, 2].map((i) => ({ name: `GO-2099-000${i}.json`, data: good.replace('0001', `000${i}`) })));
    // rewrite the end record as zip64: zip64 end record + locator + saturated classic end record
    const eocd = plain.length - 22;
    const entries = plain.readUInt16LE(eocd + 10);
    const size = plain.readUInt32LE(eocd + 12);
    const offset = plain.readUInt32LE(eocd + 16);
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeBigUInt64LE(BigInt(entries), 24);
    record.writeBigUInt64LE(BigInt(entries), 32);
    record.writeBigUInt64LE(BigInt(size), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(eocd), 8);
    locator.writeUInt32LE(1, 16);
    const end = Buffer.from(plain.subarray(eocd));
    end.writeUInt16LE(0xffff, 8);
    end.writeUInt16LE(0xffff, 10);
    end.writeUInt32LE(0xffffffff, 12);
    end.writeUInt32LE(0xffffffff, 16);
    const zip64 = Buffer.concat([plain.subarray(0, eocd), record, locator, end]);
    for (const [name, bytes] of [['zip64.zip', zip64], ['stub.zip', Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n'), plain])], ['stub64.zip', Buffer.concat([Buffer.alloc(1000, 0x41), zip64])]] as const) {
      const path = join(tmp, name);
      await fs.writeFile(path, bytes);
      const { records, notices } = await collect(osvImporter, path);
      expect(notices, name).toEqual([]);
      expect(records.map((r) => r.sourceId), name).toEqual(['GO-2099-0000', 'GO-2099-0001', 'GO-2099-0002']);
    }
  });

  it('refuses an archive that declares too many entries, and a file that is not an archive', async () => {
    const importer = createOsvImporter({ maxZipEntries: 3 });
    const path = join(tmp, 'many.zip');
    await fs.writeFile(path, writeZip(Array.from({ length: 5 }, (_, i) => ({ name: `${i}.json`, data: good }))));
    expect((await collect(importer, path)).notices).toEqual(['archive declares 5 entries (limit 3); file skipped']);
    const fake = join(tmp, 'fake.zip');
    await fs.writeFile(fake, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)]));
    expect((await collect(importer, fake)).notices).toEqual(['not a ZIP archive (no end-of-directory record); file skipped']);
  });
});
