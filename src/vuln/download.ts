import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Agent, interceptors, request } from 'undici';
import type { Progress } from '../progress/progress.js';
import { FEED_DOWNLOAD_BODY_TIMEOUT_MS, FEED_DOWNLOAD_HEADERS_TIMEOUT_MS, MAX_FEED_DOWNLOAD_BYTES, MAX_FEED_DOWNLOAD_REDIRECTS } from './limits.js';

export class DownloadError extends Error {}

let agent: ReturnType<Agent['compose']> | undefined;
function feedAgent() {
  agent ??= new Agent({ headersTimeout: FEED_DOWNLOAD_HEADERS_TIMEOUT_MS, bodyTimeout: FEED_DOWNLOAD_BODY_TIMEOUT_MS }).compose(interceptors.redirect({ maxRedirections: MAX_FEED_DOWNLOAD_REDIRECTS }));
  return agent;
}

/**
 * Downloads `url` into `dir`, resuming a partial file with a Range request (validated by ETag) when the server
 * supports it, and skipping the transfer when the server says the cached copy is current (If-None-Match).
 * Returns the local path. Feeds are public data: no credentials are ever sent.
 */
export async function downloadFeed(url: string, dir: string, progress: Progress, label: string, maxBytes = MAX_FEED_DOWNLOAD_BYTES): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const base = createHash('sha256').update(url).digest('hex').slice(0, 16);
  const name = `${base}-${decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).slice(-2).join('-')).replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const final = join(dir, name);
  const partial = `${final}.partial`;
  const etagFile = `${final}.etag`;
  const etag = await fs.readFile(etagFile, 'utf8').catch(() => undefined);
  const have = await fs.stat(final).then(() => true, () => false);
  const partialSize = await fs.stat(partial).then((s) => s.size, () => 0);

  const headers: Record<string, string> = { 'user-agent': 'detonate (advisory DB update)' };
  if (have && etag) headers['if-none-match'] = etag;
  else if (partialSize > 0 && etag) {
    headers.range = `bytes=${partialSize}-`;
    headers['if-range'] = etag;
  }
  let res;
  try {
    res = await request(url, { method: 'GET', headers, dispatcher: feedAgent() });
  } catch (err) {
    if (have) {
      progress.log(`${label}: cannot reach ${url} (${(err as Error).message}); using the copy downloaded earlier`);
      return final;
    }
    throw new DownloadError(`cannot download ${url}: ${(err as Error).message} (offline? build the DB from local files with \`detonate db update --from DIR\`)`);
  }
  if (res.statusCode === 304 && have) {
    await res.body.dump();
    progress.log(`${label}: up to date`);
    return final;
  }
  if (res.statusCode !== 200 && res.statusCode !== 206) {
    await res.body.dump();
    throw new DownloadError(`downloading ${url} failed: HTTP ${res.statusCode}`);
  }
  const resumed = res.statusCode === 206;
  const length = Number(res.headers['content-length'] ?? 0);
  const total = (resumed ? partialSize : 0) + length;
  if (total > maxBytes) {
    await res.body.dump();
    throw new DownloadError(`${url} is ${total} bytes, over the ${maxBytes}-byte limit`);
  }
  const newEtag = res.headers.etag;
  if (typeof newEtag === 'string') await fs.writeFile(etagFile, newEtag);
  else await fs.rm(etagFile, { force: true });
  const task = progress.task(label, total || undefined);
  let done = resumed ? partialSize : 0;
  const out = createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
  try {
    for await (const chunk of res.body) {
      done += (chunk as Buffer).length;
      if (done > maxBytes) throw new DownloadError(`${url} exceeds the ${maxBytes}-byte limit`);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      task.update(done);
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
    // the partial file stays: the next update resumes it
    throw err instanceof DownloadError ? err : new DownloadError(`download of ${url} was interrupted: ${(err as Error).message}; run the update again to resume`);
  }
  if (length && done !== total) throw new DownloadError(`download of ${url} is incomplete (${done} of ${total} bytes); run the update again to resume`);
  await fs.rename(partial, final);
  task.finish(resumed ? 'resumed' : undefined);
  return final;
}
