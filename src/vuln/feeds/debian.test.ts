import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir } from '../../../test/support/paths.js';
import type { AdvisoryRecord, FeedImporter } from '../model.js';
import { dpkgVersions, inRange } from '../versions/index.js';
import { debianDsaListImporter, debianVulnListImporter } from './debian-dsa-list.js';
import { createDebianTrackerImporter, debianTrackerImporter } from './debian-tracker.js';
import { detectFeed } from './index.js';

const trackerDir = join(corpusDir, 'vuln', 'debian-security-tracker');
const vulnListDir = join(corpusDir, 'vuln', 'trivy-db-testdata', 'debian', 'testdata', 'happy', 'vuln-list-debian', 'tracker');
const haveCorpus = existsSync(trackerDir);

async function collect(importer: FeedImporter, path: string): Promise<{ records: AdvisoryRecord[]; notices: string[] }> {
  const records: AdvisoryRecord[] = [];
  const notices: string[] = [];
  for await (const r of importer.read(path, (m) => notices.push(m))) records.push(r);
  return { records, notices };
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(join(tmpdir(), 'detonate-debian-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A small tracker export in the shape security-tracker.debian.org/tracker/data/json serves. */
const TRACKER = {
  openssl: {
    'CVE-2023-0286': {
      description: 'X.400 address type confusion in X.509 GeneralName',
      scope: 'remote',
      debianbug: 1031327,
      releases: {
        bookworm: { status: 'resolved', repositories: { bookworm: '3.0.11-1~deb12u2' }, fixed_version: '3.0.8-1', urgency: 'not yet assigned' },
        bullseye: { status: 'resolved', repositories: { bullseye: '1.1.1w-0+deb11u1' }, fixed_version: '1.1.1n-0+deb11u4', urgency: 'high' },
        buster: { status: 'open', repositories: { buster: '1.1.1n-0+deb10u3' }, urgency: 'low**', nodsa: 'Minor issue', nodsa_reason: 'postponed' },
        sid: { status: 'resolved', repositories: { sid: '3.1.4-2' }, fixed_version: '3.0.8-1', urgency: 'not yet assigned' },
        trixie: { status: 'resolved', repositories: { trixie: '3.1.4-2' }, fixed_version: '0', urgency: 'unimportant' },
      },
    },
    'TEMP-0000000-ABCDEF': { releases: { bookworm: { status: 'open', urgency: 'unimportant' }, bullseye: { status: 'undetermined' }, stretch: { status: 'open', urgency: 'end-of-life' } } },
  },
  'linux': { 'CVE-2024-0001': { description: 'kernel bug', releases: { bookworm: { status: 'resolved', fixed_version: '6.1.76-1' }, hamm: { status: 'open' }, bullseye: { status: 'weird' } } } },
  broken: 42,
};

describe('Debian security tracker JSON', () => {
  it('maps release statuses, codenames and urgencies', async () => {
    const path = join(tmp, 'data-json');
    await fs.writeFile(path, JSON.stringify(TRACKER, null, 1));
    expect(detectFeed(path, readFileSync(path).subarray(0, 4096))).toBe(debianTrackerImporter);
    const { records, notices } = await collect(debianTrackerImporter, path);
    const byId = new Map(records.map((r) => [r.id, r]));
    expect(byId.get('CVE-2023-0286')).toEqual({
      id: 'CVE-2023-0286',
      aliases: [],
      source: 'debian-tracker',
      sourceId: 'CVE-2023-0286',
      summary: 'X.400 address type confusion in X.509 GeneralName',
      references: ['https://bugs.debian.org/1031327'],
      affected: [
        { ecosystem: 'debian:12', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '3.0.8-1' }] },
        { ecosystem: 'debian:11', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '1.1.1n-0+deb11u4' }], severity: 'high' },
        { ecosystem: 'debian:10', name: 'openssl', status: 'ignored', ranges: [], severity: 'low' },
        { ecosystem: 'debian:sid', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '3.0.8-1' }] },
        { ecosystem: 'debian:13', name: 'openssl', status: 'not-affected', ranges: [], severity: 'unimportant' },
      ],
    });
    expect(byId.get('TEMP-0000000-ABCDEF')?.affected.map((a) => [a.ecosystem, a.status, a.severity])).toEqual([
      ['debian:12', 'unfixed', 'unimportant'],
      ['debian:11', 'unfixed', undefined],
      ['debian:9', 'ignored', 'end-of-life'],
    ]);
    expect(byId.get('CVE-2024-0001')?.affected.map((a) => a.ecosystem)).toEqual(['debian:12']);
    expect(notices).toEqual([
      'unknown Debian release "hamm"; its entries are skipped',
      'linux CVE-2024-0001: release bullseye has unknown status "weird"; skipped',
      'broken: not an object of CVEs; skipped',
    ]);
    const fix = byId.get('CVE-2023-0286')!.affected[1]!.ranges[0]!;
    expect(inRange(dpkgVersions, '1.1.1n-0+deb11u3', fix)).toBe(true);
    expect(inRange(dpkgVersions, '1.1.1n-0+deb11u4', fix)).toBe(false);
  });

  it('streams one source package at a time: an oversized one is skipped, a truncated file keeps what came before', async () => {
    const importer = createDebianTrackerImporter({ maxMemberBytes: 2048 });
    const big = { 'CVE-2024-9': { description: 'x'.repeat(5000), releases: { bookworm: { status: 'open' } } } };
    const text = JSON.stringify({ a: TRACKER.linux, huge: big, b: TRACKER.linux });
    const path = join(tmp, 'stream.json');
    await fs.writeFile(path, text);
    const whole = await collect(importer, path);
    expect(whole.records.map((r) => r.affected[0]?.name)).toEqual(['a', 'b']);
    expect(whole.notices.filter((n) => n.startsWith('huge'))).toEqual([`huge: value is ${JSON.stringify(big).length} bytes, over the 2048 bytes limit; skipped`]);
    const truncated = join(tmp, 'truncated.json');
    await fs.writeFile(truncated, text.slice(0, text.indexOf('"b"') + 30));
    const part = await collect(importer, truncated);
    expect(part.records.map((r) => r.affected[0]?.name)).toEqual(['a']);
    expect(part.notices.at(-1)).toMatch(/the object is not closed \(truncated file\?\).*; the rest of the file is skipped$/);
    const garbage = join(tmp, 'garbage.json');
    await fs.writeFile(garbage, '{"x": {"CVE-1": {}} ] trailing');
    expect((await collect(importer, garbage)).notices.at(-1)).toMatch(/expected , or \} at byte 20/);
  });
});

describe.skipIf(!haveCorpus)('Debian DSA / DLA / DTSA lists (corpus)', () => {
  /** Advisory ids in a list, read independently: every line starting with `[date] DSA-…`. */
  function headerIds(name: string): string[] {
    return readFileSync(join(trackerDir, name), 'utf8')
      .split('\n')
      .flatMap((l) => /^\[[^\]]+\]\s+((?:DSA|DLA|DTSA)-[\d-]+)/.exec(l)?.[1] ?? []);
  }

  it.each([
    ['DSA-list', 5406, 'debian-dsa'],
    ['DLA-list', 3534, 'debian-dla'],
    ['DTSA-list', 208, 'debian-dtsa'],
  ])('%s: every advisory (%i) is imported, without notices', async (name, count, source) => {
    const ids = headerIds(name);
    expect(ids).toHaveLength(count);
    const path = join(trackerDir, name);
    expect(detectFeed(path, readFileSync(path).subarray(0, 4096))).toBe(debianDsaListImporter);
    const { records, notices } = await collect(debianDsaListImporter, path);
    expect(notices).toEqual([]);
    expect(new Set(records.map((r) => r.sourceId))).toEqual(new Set(ids));
    expect(records.every((r) => r.source === source)).toBe(true);
  });

  it('DSA-5380-1: the CVE as id, the DSA as alias, the bullseye fix', async () => {
    const { records } = await collect(debianDsaListImporter, join(trackerDir, 'DSA-list'));
    expect(records.filter((r) => r.sourceId === 'DSA-5380-1')).toEqual([
      {
        id: 'CVE-2023-1393',
        aliases: ['DSA-5380-1'],
        source: 'debian-dsa',
        sourceId: 'DSA-5380-1',
        summary: 'xorg-server - security update',
        published: '2023-03-29',
        affected: [{ ecosystem: 'debian:11', name: 'xorg-server', status: 'affected', ranges: [{ introduced: '0', fixed: '2:1.20.11-1+deb11u6' }] }],
      },
    ]);
    // one record per CVE of a multi-CVE DSA, none naming the others
    const xen = records.filter((r) => r.sourceId === 'DSA-5378-1');
    expect(xen.map((r) => r.id)).toEqual(['CVE-2022-23824', 'CVE-2022-42331', 'CVE-2022-42332', 'CVE-2022-42333', 'CVE-2022-42334']);
    expect(xen.every((r) => r.aliases.length === 1 && r.aliases[0] === 'DSA-5378-1')).toBe(true);
    // a DSA without CVEs keeps its own id
    expect(records.find((r) => r.sourceId === 'DSA-5356-2')).toMatchObject({
      id: 'DSA-5356-2',
      aliases: [],
      summary: 'sox - regression update',
      affected: [{ ecosystem: 'debian:11', name: 'sox', ranges: [{ introduced: '0', fixed: '14.4.2+git20190427-2+deb11u2' }] }],
    });
    // an epoch and ~ in the fixed version order as dpkg orders them
    const thunderbird = records.find((r) => r.sourceId === 'DSA-5375-1')!.affected[0]!.ranges[0]!;
    expect(thunderbird.fixed).toBe('1:102.9.0-1~deb11u1');
    expect(inRange(dpkgVersions, '1:102.8.0-1~deb11u1', thunderbird)).toBe(true);
    expect(inRange(dpkgVersions, '102.9.0-1', thunderbird)).toBe(true);
    expect(inRange(dpkgVersions, '1:102.9.0-1', thunderbird)).toBe(false);
  });

  it('reads markers and urgencies: <not-affected>, <end-of-life>, <unfixed> (high)', async () => {
    const path = join(tmp, 'DSA-list');
    await fs.writeFile(
      path,
      [
        '[01 Jan 2005] DSA-9999-1 foo - several vulnerabilities',
        '\t{CVE-2005-0001 CVE-2005-0002 }',
        '\t[woody] - foo <unfixed> (high)',
        '\t[sarge] - foo 1.2-3sarge1 (bug #1234; medium)',
        '\t[etch] - foo <not-affected> (vulnerable code not present)',
        '\t[lenny] - foo <end-of-life>',
        '\t[hamm] - foo 1.0',
        '\tNOTE: anything',
        '\tgarbage line',
        '[August 26th, 2005] DTSA-1-1 kismet - various',
      ].join('\n'),
    );
    const { records, notices } = await collect(debianDsaListImporter, path);
    expect(records[0]?.affected).toEqual([
      { ecosystem: 'debian:3.0', name: 'foo', status: 'unfixed', ranges: [], severity: 'high' },
      { ecosystem: 'debian:3.1', name: 'foo', status: 'affected', ranges: [{ introduced: '0', fixed: '1.2-3sarge1' }], severity: 'medium' },
      { ecosystem: 'debian:4', name: 'foo', status: 'not-affected', ranges: [] },
      { ecosystem: 'debian:5', name: 'foo', status: 'ignored', ranges: [] },
    ]);
    expect(records.map((r) => r.id)).toEqual(['CVE-2005-0001', 'CVE-2005-0002', 'DTSA-1-1']);
    expect(records[2]?.published).toBe('2005-08-26');
    expect(notices).toEqual(['line 7: unknown Debian release "hamm"; its lines are skipped', 'line 9: unrecognised line in DSA-9999-1: "garbage line"; skipped']);
  });

  it('reads the CVE/list file of the tracker repository with the same parser', async () => {
    const dir = join(tmp, 'CVE');
    await fs.mkdir(dir, { recursive: true });
    const path = join(dir, 'list');
    await fs.writeFile(
      path,
      [
        'CVE-2023-9999 (Buffer overflow in foo before 1.3 ...)',
        '\t{DSA-5500-1 DLA-3500-1}',
        '\t- foo 1.3-1 (bug #1050000)',
        '\t[bookworm] - foo 1.2-3+deb12u1',
        '\t[bullseye] - foo <no-dsa> (Minor issue)',
        '\t[buster] - foo <postponed> (Revisit when fixed upstream)',
        '\tNOTE: https://example.org/fix',
        'CVE-2023-9998',
        '\tRESERVED',
        'CVE-2023-9997 (Something in a Windows-only product)',
        '\tNOT-FOR-US: Example Corp',
      ].join('\n'),
    );
    expect(detectFeed(path, readFileSync(path))).toBe(debianDsaListImporter);
    const { records, notices } = await collect(debianDsaListImporter, path);
    expect(notices).toEqual([]);
    expect(records).toEqual([
      {
        id: 'CVE-2023-9999',
        aliases: ['DSA-5500-1', 'DLA-3500-1'],
        source: 'debian-cve-list',
        sourceId: 'CVE-2023-9999',
        summary: 'Buffer overflow in foo before 1.3 ...',
        affected: [
          { ecosystem: 'debian:sid', name: 'foo', status: 'affected', ranges: [{ introduced: '0', fixed: '1.3-1' }] },
          { ecosystem: 'debian:12', name: 'foo', status: 'affected', ranges: [{ introduced: '0', fixed: '1.2-3+deb12u1' }] },
          { ecosystem: 'debian:11', name: 'foo', status: 'ignored', ranges: [] },
          { ecosystem: 'debian:10', name: 'foo', status: 'ignored', ranges: [] },
        ],
      },
      // RESERVED and NOT-FOR-US entries name no package: nothing to match, no record
    ]);
  });

  it("reads vuln-list's JSON copies of the lists (trivy-db test data)", async () => {
    const dla = await collect(debianVulnListImporter, join(vulnListDir, 'DLA', 'DLA-2691-1.json'));
    expect(dla.records).toEqual([
      {
        id: 'CVE-2021-33560',
        aliases: ['DLA-2691-1'],
        source: 'debian-dla',
        sourceId: 'DLA-2691-1',
        summary: 'libgcrypt20 - security update',
        published: '2021-06-25',
        affected: [{ ecosystem: 'debian:9', name: 'libgcrypt20', status: 'affected', ranges: [{ introduced: '0', fixed: '1.7.6-2+deb9u4' }] }],
      },
    ]);
    const cve = await collect(debianVulnListImporter, join(vulnListDir, 'CVE', 'CVE-2021-29629.json'));
    expect(cve.records[0]?.affected).toEqual([
      { ecosystem: 'debian:sid', name: 'dacs', status: 'unfixed', ranges: [], severity: 'unimportant' },
      { ecosystem: 'debian:9', name: 'dacs', status: 'not-affected', ranges: [] },
      { ecosystem: 'debian:10', name: 'dacs', status: 'ignored', ranges: [] },
    ]);
    const broken = join(corpusDir, 'vuln', 'trivy-db-testdata', 'debian', 'testdata', 'broken-cve', 'vuln-list-debian', 'tracker', 'CVE', 'CVE-2021-33560.json');
    expect(detectFeed(broken, readFileSync(broken).subarray(0, 4096))).toBeNull();
  });
});
