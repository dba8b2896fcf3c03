import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZip } from '../util/zip.js';
import { silentProgress } from '../progress/progress.js';
import { osvRecord, startOsvBucket, type OsvBucket } from '../../test/support/osv-bucket.js';
import { AdvisoryDb } from './db.js';
import { refreshAdvisoryDbIfDue } from './refresh.js';
import { updateAdvisoryDb } from './update.js';

// the OSV bucket on 127.0.0.1: npm's all.zip with two advisories, every other ecosystem's empty
const npmRecords = [osvRecord('GHSA-aaaa-0001', 'npm', 'left-pad', '1.3.0'), osvRecord('GHSA-aaaa-0002', 'npm', 'event-stream', '3.3.7')];
let bucket: OsvBucket;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-refresh-'));
  bucket = await startOsvBucket({ npm: npmRecords });
});
afterAll(async () => {
  await bucket?.close();
  rmSync(work, { recursive: true, force: true });
});

const env = () => ({ DETONATE_OSV_BASE_URL: bucket.base });
let n = 0;
const fresh = () => {
  const dir = join(work, `case-${n++}`);
  return { dbPath: join(dir, 'db', 'advisories.sqlite'), downloadDir: join(dir, 'feeds') };
};
const builtAt = (dbPath: string) => {
  const db = AdvisoryDb.open(dbPath);
  try {
    return db.status().builtAt;
  } finally {
    db.close();
  }
};

describe('the advisory DB a scan fetches for itself', () => {
  it('is fetched when missing, left alone while current, and fetched again once a day old', async () => {
    const paths = fresh();
    const first = await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env() });
    expect(first).toEqual({ action: 'updated', records: 2 });
    const built = builtAt(paths.dbPath);
    const before = bucket.requests;
    expect(await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env(), now: new Date(Date.parse(built) + 3_600_000) })).toEqual({ action: 'current', builtAt: built });
    expect(bucket.requests).toBe(before);
    const dayLater = new Date(Date.parse(built) + 25 * 3_600_000);
    expect(await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env(), now: dayLater })).toMatchObject({ action: 'updated' });
    expect(bucket.requests).toBeGreaterThan(before);
    expect(existsSync(`${paths.dbPath}.update-lock`)).toBe(false);
  });

  it('offline: says what failed and what the scan goes on with, and keeps the DB it had', async () => {
    const paths = fresh();
    const offline = { DETONATE_OSV_BASE_URL: 'http://127.0.0.1:9' }; // the discard port: nothing listens
    const none = await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: offline });
    expect(none.action).toBe('failed');
    expect(none.action === 'failed' && none.message).toMatch(/could not be updated \(cannot download http:\/\/127\.0\.0\.1:9\/.*\); vulnerabilities are not checked\. .*--skip-db-update stops trying$/);
    await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env() });
    const built = builtAt(paths.dbPath);
    bucket.failing = true;
    try {
      const stale = await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env(), now: new Date(Date.parse(built) + 48 * 3_600_000) });
      expect(stale.action === 'failed' && stale.message).toMatch(new RegExp(`HTTP 503\\); matching against the DB built ${built.replace(/[.]/g, '\\.')}`));
    } finally {
      bucket.failing = false;
    }
    expect(builtAt(paths.dbPath)).toBe(built);
  });

  it('never replaces a DB built from the user\'s own feeds', async () => {
    const paths = fresh();
    const feed = join(work, 'own-feed.zip');
    writeFileSync(feed, writeZip(npmRecords.map((r, i) => ({ name: `${i}.json`, data: Buffer.from(r) }))));
    await updateAdvisoryDb({ from: [feed], dbPath: paths.dbPath, downloadDir: paths.downloadDir, progress: silentProgress });
    const built = builtAt(paths.dbPath);
    const outcome = await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env(), now: new Date(Date.parse(built) + 30 * 86_400_000) });
    expect(outcome).toEqual({ action: 'left', why: expect.stringContaining(feed) });
    expect(builtAt(paths.dbPath)).toBe(built);
  });

  it('one refresh at a time: a running process\'s lock is respected, a dead one\'s taken over', async () => {
    const paths = fresh();
    mkdirSync(join(paths.dbPath, '..'), { recursive: true });
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(`${paths.dbPath}.update-lock`, String(holder.pid));
      expect(await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env() })).toEqual({ action: 'left', why: 'another detonate process is updating it now' });
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    expect(await refreshAdvisoryDbIfDue({ ...paths, progress: silentProgress, env: env() })).toMatchObject({ action: 'updated' });
  });
});
