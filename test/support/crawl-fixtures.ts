/**
 * Fixtures of the crawl tests, all on 127.0.0.1:
 * - `populateRegistry` fills a real registry (`startRegistry`) with many repositories cheaply: one tiny layer (built
 *   with image-builder's `layerTar`) and one config per tag are uploaded once, every other repository mounts them
 *   (`POST …/blobs/uploads/?mount=…&from=…`) and gets one manifest per tag. 200 repositories × 3 tags take seconds.
 * - `FakeDockerHub` serves Docker Hub's API shapes (see src/crawl/dockerhub.ts for the fields) from memory:
 *   namespace and tag listings with `page`/`page_size` and absolute `next` links, a 404 past the last page, search
 *   by substring with a result cap (no page past the cap, `count` still the full number), a token endpoint, and a
 *   `handle` hook that sees every request first (429s, hostile answers).
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { layerTar } from './image-builder.js';

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Basic credentials for the pushes of `populateRegistry` (`user:password`), for registries behind htpasswd. */
let pushCredentials: string | undefined;

/** One request to a registry on loopback (the pushes of the fixtures and the bench), its whole answer. */
export function registryRequest(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Answer> {
  const auth: Record<string, string> = pushCredentials ? { authorization: `Basic ${Buffer.from(pushCredentials).toString('base64')}` } : {};
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...auth, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<Answer> {
  const a = await answer;
  if (a.status !== status) throw new Error(`${what}: ${a.status} ${a.body.toString().slice(0, 300)}`);
  return a;
}

async function uploadBlob(host: string, repository: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await expectStatus(registryRequest('POST', `http://${host}/v2/${repository}/blobs/uploads/`), 202, `start upload to ${repository}`);
  const location = new URL(String(start.headers.location), `http://${host}`);
  location.searchParams.set('digest', digest);
  await expectStatus(registryRequest('PUT', location.href, { 'content-type': 'application/octet-stream' }, data), 201, `upload ${digest} to ${repository}`);
  return digest;
}

function mountBlob(host: string, repository: string, from: string, digest: string): Promise<Answer> {
  return expectStatus(registryRequest('POST', `http://${host}/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}`), 201, `mount ${digest} into ${repository}`);
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface FixtureTag {
  name: string;
  /** The config's `created`. */
  created: string;
}

export interface PopulatedRegistry {
  /** Manifest digest and total size (config + layer) per tag: the same in every repository. */
  manifests: Map<string, { digest: string; size: number }>;
}

async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Pushes `tags` (one manifest each, sharing one layer) into every repository of `repositories`. */
export async function populateRegistry(host: string, repositories: readonly string[], tags: readonly FixtureTag[], options: { creds?: string } = {}): Promise<PopulatedRegistry> {
  pushCredentials = options.creds;
  try {
    return await push(host, repositories, tags);
  } finally {
    pushCredentials = undefined;
  }
}

async function push(host: string, repositories: readonly string[], tags: readonly FixtureTag[]): Promise<PopulatedRegistry> {
  const layer = await layerTar([{ name: 'hello.txt', content: 'a tiny layer shared by every image of the crawl tests\n' }]);
  const diffId = sha256(layer);
  const seed = repositories[0]!;
  const layerDigest = await uploadBlob(host, seed, layer);
  const configs = new Map<string, { digest: string; size: number }>();
  const manifests = new Map<string, { digest: string; size: number; body: string }>();
  for (const tag of tags) {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: tag.created, rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }));
    const configDigest = await uploadBlob(host, seed, config);
    configs.set(tag.name, { digest: configDigest, size: config.length });
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    });
    manifests.set(tag.name, { digest: sha256(body), size: config.length + layer.length, body });
  }
  await pool(repositories, 8, async (repository) => {
    if (repository !== seed) {
      await mountBlob(host, repository, seed, layerDigest);
      for (const c of configs.values()) await mountBlob(host, repository, seed, c.digest);
    }
    for (const [tag, m] of manifests) {
      await expectStatus(registryRequest('PUT', `http://${host}/v2/${repository}/manifests/${tag}`, { 'content-type': OCI_MANIFEST }, m.body), 201, `put ${repository}:${tag}`);
    }
  });
  return { manifests: new Map([...manifests].map(([tag, { digest, size }]) => [tag, { digest, size }])) };
}

// ---- A Docker Hub API on loopback --------------------------------------------------------------------------------

export interface HubRepository {
  namespace: string;
  name: string;
  pull_count: number;
  last_updated?: string;
  tags: HubTag[];
}

export interface HubTag {
  name: string;
  digest?: string;
  full_size?: number;
  last_updated?: string;
  tag_last_pushed?: string;
  images?: { architecture: string; os: string; digest?: string; size?: number }[];
}

export interface HubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
  at: number;
}

/** Return true when the request was answered. */
export type HubHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export class FakeDockerHub {
  readonly repositories: HubRepository[] = [];
  readonly requests: HubRequest[] = [];
  /** Search answers at most this many results for one query (no page past it), as Docker Hub does. */
  searchCap = 10_000;
  /** Credentials the token endpoint accepts, and the token it issues. */
  account: { identifier: string; secret: string; token: string } | undefined;
  handle: HubHandler | undefined;
  private server: Server | undefined;
  port = 0;

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.serve(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests whose path starts with `prefix`. */
  seen(prefix: string): HubRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  }

  /** One page of `items` as Docker Hub pages them, or a 404 past the last page. */
  private page(res: ServerResponse, url: URL, items: unknown[], total = items.length): void {
    const size = Math.max(1, Math.min(100, Number(url.searchParams.get('page_size') ?? 10) || 10));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const start = (page - 1) * size;
    if (page > 1 && start >= items.length) {
      this.json(res, 404, { message: 'page not found', errinfo: null });
      return;
    }
    let next: string | null = null;
    if (start + size < items.length) {
      const n = new URL(url.href, this.base);
      n.searchParams.set('page', String(page + 1));
      next = n.href;
    }
    this.json(res, 200, { count: total, next, previous: null, results: items.slice(start, start + size) });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), at: Date.now() });
    if (this.handle && (await this.handle(req, res, url))) return;
    const path = url.pathname;
    if (path === '/v2/auth/token' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { identifier?: string; secret?: string };
      if (this.account && body.identifier === this.account.identifier && body.secret === this.account.secret) this.json(res, 200, { access_token: this.account.token });
      else this.json(res, 401, { detail: 'Incorrect authentication credentials' });
      return;
    }
    if (this.account && req.headers.authorization && req.headers.authorization !== `Bearer ${this.account.token}`) {
      this.json(res, 401, { detail: 'invalid token' });
      return;
    }
    let m = /^\/v2\/namespaces\/([^/]+)\/repositories$/.exec(path);
    if (m) {
      const namespace = decodeURIComponent(m[1]!);
      const list = this.repositories.filter((r) => r.namespace === namespace).sort((a, b) => (a.name < b.name ? -1 : 1));
      if (list.length === 0) {
        this.json(res, 404, { message: 'namespace not found', errinfo: null });
        return;
      }
      const results = list.map((r) => ({ name: r.name, namespace: r.namespace, repository_type: 'image', pull_count: r.pull_count, last_updated: r.last_updated ?? null, is_private: false }));
      this.page(res, url, results);
      return;
    }
    m = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const repo = this.repositories.find((r) => r.namespace === decodeURIComponent(m![1]!) && r.name === decodeURIComponent(m![2]!));
      if (!repo) {
        this.json(res, 404, { message: 'repository not found', errinfo: null });
        return;
      }
      if (m[3] !== undefined) {
        const tag = repo.tags.find((t) => t.name === decodeURIComponent(m![3]!));
        if (tag) this.json(res, 200, tag);
        else this.json(res, 404, { message: 'tag not found', errinfo: null });
        return;
      }
      // Docker Hub lists the most recently pushed first
      const tags = [...repo.tags].sort((a, b) => ((b.tag_last_pushed ?? b.last_updated ?? '') < (a.tag_last_pushed ?? a.last_updated ?? '') ? -1 : 1));
      this.page(res, url, tags);
      return;
    }
    if (path === '/v2/search/repositories/' || path === '/v2/search/repositories') {
      const query = (url.searchParams.get('query') ?? '').toLowerCase();
      const matches = this.repositories
        .map((r) => ({ repo_name: r.namespace === 'library' ? r.name : `${r.namespace}/${r.name}`, short_description: '', star_count: 0, pull_count: r.pull_count, repo_owner: '', is_automated: false, is_official: r.namespace === 'library' }))
        .filter((r) => r.repo_name.includes(query))
        .sort((a, b) => b.pull_count - a.pull_count || (a.repo_name < b.repo_name ? -1 : 1));
      this.page(res, url, matches.slice(0, this.searchCap), matches.length);
      return;
    }
    this.json(res, 404, { message: 'not found', errinfo: null });
  }
}
