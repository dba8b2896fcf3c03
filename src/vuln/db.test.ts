import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, AdvisoryDbWriter, AdvisoryDbError, ADVISORY_DB_SCHEMA } from './db.js';
import type { AdvisoryRecord } from './model.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-db-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const record = (id: string, name: string, fixed: string): AdvisoryRecord => ({
  id,
  aliases: [`DSA-${id.slice(-4)}-1`],
  source: 'debian-dsa',
  sourceId: `DSA-${id.slice(-4)}-1`,
  severity: { cvssV3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
  affected: [{ ecosystem: 'debian:12', name, status: 'affected', ranges: [{ introduced: '0', fixed }] }],
});

describe('advisory DB', () => {
  it('stores records, reports its status, and finds advisories by ecosystem and package', async () => {
    const path = join(work, 'a', 'advisories.sqlite');
    const writer = await AdvisoryDbWriter.create(path, '9.9.9');
    writer.add(record('CVE-2023-0001', 'openssl', '3.0.9-1~deb12u1'));
    writer.add(record('CVE-2023-0002', 'openssl', '3.0.10-1~deb12u1'));
    writer.add(record('CVE-2023-0003', 'curl', '7.88.1-10+deb12u1'));
    writer.addSource('debian-dsa DSA-list', '/corpus/DSA-list', 3);
    await writer.finish();
    const db = AdvisoryDb.open(path);
    try {
      const s = db.status();
      expect(s).toMatchObject({ schema: ADVISORY_DB_SCHEMA, toolVersion: '9.9.9', advisories: 3, affectedPackages: 3 });
      expect(s.sources).toEqual([expect.objectContaining({ name: 'debian-dsa DSA-list', origin: '/corpus/DSA-list', records: 3 })]);
      expect(Date.now() - Date.parse(s.builtAt)).toBeLessThan(60_000);
      const hits = db.find('debian:12', 'openssl');
      expect(hits.map((h) => h.advisory.id).sort()).toEqual(['CVE-2023-0001', 'CVE-2023-0002']);
      expect(hits[0]!.affected.ranges[0]!.introduced).toBe('0');
      expect(hits[0]!.advisory.severity?.cvssV3).toMatch(/^CVSS:3.1/);
      expect(db.find('debian:11', 'openssl')).toEqual([]);
    } finally {
      db.close();
    }
    expect(readdirSync(join(work, 'a'))).toEqual(['advisories.sqlite']); // no temporary files left
  });

  it('a failed build leaves the previous DB in place', async () => {
    const path = join(work, 'b.sqlite');
    const first = await AdvisoryDbWriter.create(path, '1');
    first.add(record('CVE-2023-0001', 'openssl', '1'));
    await first.finish();
    const second = await AdvisoryDbWriter.create(path, '2');
    second.add(record('CVE-2023-0009', 'zlib', '1'));
    await second.abort();
    const db = AdvisoryDb.open(path);
    expect(db.status().toolVersion).toBe('1');
    db.close();
  });

  it('a missing, corrupt or foreign file is a clear error naming the fix', () => {
    expect(() => AdvisoryDb.open(join(work, 'none.sqlite'))).toThrow(AdvisoryDbError);
    expect(() => AdvisoryDb.open(join(work, 'none.sqlite'))).toThrow(/detonate db update/);
    const garbage = join(work, 'garbage.sqlite');
    writeFileSync(garbage, 'not a database at all'.repeat(100));
    expect(() => AdvisoryDb.open(garbage)).toThrow(/detonate db update/);
    expect(existsSync(garbage)).toBe(true);
  });
});
