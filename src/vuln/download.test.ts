import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createServer, type Server, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZip } from '../util/zip.js';
import { downloadFeed } from './download.js';
import { updateAdvisoryDb } from './update.js';
import { AdvisoryDb } from './db.js';
import { silentProgress } from '../progress/progress.js';

// An OSV `all.zip` served from 127.0.0.1 with ETag, If-None-Match and Range support, as the OSV bucket does.
const record = (id: string, name: string, fixed: string) =>
  JSON.stringify({ id, aliases: [`CVE-2099-${id.slice(-4)}`], summary: `${name} issue`, affected: [{ package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }] }] });
const zip = writeZip([
  { name: 'GHSA-0001.json', data: Buffer.from(record('GHSA-aaaa-0001', 'left-pad', '1.3.0')) },
  { name: 'GHSA-0002.json', data: Buffer.from(record('GHSA-aaaa-0002', 'event-stream', '3.3.7')) },
]);
const ETAG = '"v1"';

let server: Server;
let base: string;
let work: string;
const requests: IncomingMessage['headers'][] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-download-'));
  server = createServer((req, res) => {
    requests.push(req.headers);
    if (req.headers['if-none-match'] === ETAG) {
      res.writeHead(304).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && req.headers['if-range'] === ETAG) {
      const start = Number(range[1]);
      res.writeHead(206, { etag: ETAG, 'content-length': zip.length - start, 'content-range': `bytes ${start}-${zip.length - 1}/${zip.length}` });
      res.end(zip.subarray(start));
      return;
    }
    res.writeHead(200, { etag: ETAG, 'content-length': zip.length });
    res.end(zip);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(work, { recursive: true, force: true });
});

describe('feed downloads', () => {
  it('builds the DB from a URL, then skips an unchanged download', async () => {
    const dbPath = join(work, 'db.sqlite');
    const downloadDir = join(work, 'feeds');
    const result = await updateAdvisoryDb({ from: [`${base}/npm/all.zip`], dbPath, downloadDir, progress: silentProgress });
    expect(result.records).toBe(2);
    const db = AdvisoryDb.open(dbPath);
    expect(db.find('npm', 'left-pad').map((h) => h.advisory.id)).toEqual(['CVE-2099-0001']);
    db.close();
    requests.length = 0;
    await updateAdvisoryDb({ from: [`${base}/npm/all.zip`], dbPath, downloadDir, progress: silentProgress });
    expect(requests).toEqual([expect.objectContaining({ 'if-none-match': ETAG })]);
  });

  it('resumes a partial download with a Range request', async () => {
    const dir = join(work, 'resume');
    const first = await downloadFeed(`${base}/PyPI/all.zip`, dir, silentProgress, 'feed');
    // cut the file back to a partial download, as an interrupted transfer leaves it
    rmSync(first);
    writeFileSync(`${first}.partial`, zip.subarray(0, 100));
    requests.length = 0;
    const again = await downloadFeed(`${base}/PyPI/all.zip`, dir, silentProgress, 'feed');
    expect(requests[0]).toMatchObject({ range: 'bytes=100-', 'if-range': ETAG });
    expect(readFileSync(again).equals(zip)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('an unreachable server with no earlier copy is a clear error that points to --from', async () => {
    await expect(downloadFeed('http://127.0.0.1:1/x/all.zip', join(work, 'none'), silentProgress, 'feed')).rejects.toThrow(/cannot download .*--from DIR/);
  });
});
