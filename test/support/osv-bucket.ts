/**
 * The OSV project's bucket layout (`<ecosystem>/all.zip`) on 127.0.0.1, for tests of the advisory DB's fetch:
 * the zips given by ecosystem, an empty zip for every other one. Counts requests; `failing` makes it answer 503.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeZip } from '../../src/util/zip.js';

export interface OsvBucket {
  /** What DETONATE_OSV_BASE_URL points at. */
  base: string;
  requests: number;
  /** While set, every request is answered 503. */
  failing: boolean;
  close(): Promise<void>;
}

/** One OSV record: `name` in `ecosystem`, affected from 0 to `fixed` (every version when not given). */
export function osvRecord(id: string, ecosystem: string, name: string, fixed?: string, aliases: string[] = []): string {
  const events = [{ introduced: '0' }, ...(fixed ? [{ fixed }] : [])];
  return JSON.stringify({ id, aliases, summary: `${name} issue`, modified: '2026-01-01T00:00:00Z', affected: [{ package: { ecosystem, name }, ranges: [{ type: 'SEMVER', events }] }] });
}

/** Serves `zips` (ecosystem → records as JSON texts) until `close`. */
export async function startOsvBucket(zips: Record<string, string[]>): Promise<OsvBucket> {
  const bodies = new Map(Object.entries(zips).map(([ecosystem, records]) => [
    `/${encodeURIComponent(ecosystem)}/all.zip`,
    writeZip(records.map((r, i) => ({ name: `${i}.json`, data: Buffer.from(r) }))),
  ]));
  const empty = writeZip([]);
  const server = createServer((req, res) => {
    bucket.requests++;
    if (bucket.failing) {
      res.writeHead(503).end();
      return;
    }
    const body = bodies.get(req.url ?? '') ?? empty;
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bucket: OsvBucket = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: 0,
    failing: false,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return bucket;
}
