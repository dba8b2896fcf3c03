/**
 * Registries for integration tests, all on 127.0.0.1:
 * - `startRegistry`: Debian's `docker-registry` (distribution 2.8) with a temp storage dir, optionally behind
 *   htpasswd or token auth; `push` copies an image into it with `skopeo`.
 * - `FakeRegistry`: a small Node HTTP server that serves an OCI layout's content through the registry API and lets
 *   a test replace any answer (429s, 500s, corrupt or truncated blobs, garbage manifests, stalls, redirects).
 * Every start has a matching `stop()` that kills what it started and removes its temp dirs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fs, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `detonate-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export type RegistryAuth =
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundle: string };

export interface RealRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** Copies `source` (a skopeo image name such as `docker-archive:/x.tar`) to `host/destination`. */
  push(source: string, destination: string, options?: { creds?: string; all?: boolean; format?: 'v2s2' | 'oci' }): Promise<void>;
  /** Uploads a manifest (e.g. a hand-written manifest list) under `repository:tag`; registries without auth only. */
  putManifest(repository: string, tag: string, body: string, mediaType: string): Promise<void>;
  /** The raw manifest at `host/reference`, as skopeo sees it. */
  rawManifest(reference: string, creds?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startRegistry(options: { auth?: RegistryAuth } = {}): Promise<RealRegistry> {
  const dir = tempDir('registry');
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir.path, 'data')}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  const auth = options.auth;
  if (auth?.kind === 'htpasswd') {
    const entries: string[] = [];
    for (const [user, password] of Object.entries(auth.users)) {
      const { stdout } = await run('htpasswd', ['-Bbn', user, password]);
      entries.push(stdout.trim());
    }
    await fs.writeFile(join(dir.path, 'htpasswd'), `${entries.join('\n')}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: detonate-test', `    path: ${join(dir.path, 'htpasswd')}`);
  } else if (auth?.kind === 'token') {
    lines.push('auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`, `    rootcertbundle: ${auth.rootCertBundle}`);
  }
  const configPath = join(dir.path, 'config.yml');
  await fs.writeFile(configPath, `${lines.join('\n')}\n`);

  // No inherited REGISTRY_* variables: they would override the config file.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', configPath], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = `127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    dir.remove();
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      dir.remove();
      throw new Error(`docker-registry exited: ${stderr}`);
    }
    try {
      const status = await httpStatus(`http://${host}/v2/`);
      if (status === 200 || status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    host,
    async push(source, destination, opts = {}) {
      const args = ['copy', '--quiet', '--insecure-policy', '--dest-tls-verify=false'];
      args.push(...(opts.creds ? ['--dest-creds', opts.creds] : ['--dest-no-creds']));
      if (opts.all) args.push('--all');
      if (opts.format) args.push('--format', opts.format);
      args.push(source, `docker://${host}/${destination}`);
      await run('skopeo', args, { env: { ...process.env, REGISTRY_AUTH_FILE: join(dir.path, 'no-auth.json') } });
    },
    putManifest(repository, tag, body, mediaType) {
      return new Promise<void>((resolve, reject) => {
        const req = httpRequest(`http://${host}/v2/${repository}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': mediaType } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`PUT manifest: ${res.statusCode} ${text}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    async rawManifest(reference, creds) {
      const args = ['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', creds] : ['--no-creds']), `docker://${host}/${reference}`];
      const { stdout } = await run('skopeo', args, { env: { ...process.env, REGISTRY_AUTH_FILE: join(dir.path, 'no-auth.json') } });
      return stdout;
    },
    stop,
  };
}

/** Writes a Docker `config.json` into a new temp dir (use it as `DOCKER_CONFIG`). */
export function dockerConfigDir(config: unknown): { path: string; remove(): void } {
  const dir = tempDir('docker-config');
  writeFileSync(join(dir.path, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// ---- OCI layouts -------------------------------------------------------------------------------------------------

export interface LayoutIndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** Copies `source` into the OCI layout `dir` under `tag` (skopeo `oci:DIR:TAG`). */
export async function copyToLayout(source: string, dir: string, tag: string): Promise<void> {
  await run('skopeo', ['copy', '--quiet', '--insecure-policy', source, `oci:${dir}:${tag}`]);
}

export async function readLayoutIndex(dir: string): Promise<{ schemaVersion: number; manifests: LayoutIndexEntry[] }> {
  return JSON.parse(await fs.readFile(join(dir, 'index.json'), 'utf8')) as { schemaVersion: number; manifests: LayoutIndexEntry[] };
}

/** Stores `data` as a blob of the layout and returns its descriptor fields. */
export async function writeLayoutBlob(dir: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(data);
  const digest = sha256(bytes);
  await fs.writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

// ---- A scriptable fake registry -----------------------------------------------------------------------------------

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Host header the request was sent to. */
  host: string;
}

/** Return true when the request was answered. */
export type FakeHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;

export interface FakeRegistryOptions {
  /** Require Basic auth with these credentials (`user:password`). */
  basic?: string;
  tls?: { key: string; cert: string };
}

/**
 * Serves manifests (by tag and digest) and blobs of one repository from memory, loaded from an OCI layout; `handle`
 * sees every request first and may answer it instead.
 */
export class FakeRegistry {
  readonly requests: FakeRequest[] = [];
  readonly manifests = new Map<string, { body: Buffer; mediaType: string }>();
  readonly tags = new Map<string, string>();
  readonly blobs = new Map<string, Buffer>();
  handle: FakeHandler | undefined;
  private server: Server | undefined;
  port = 0;

  constructor(private readonly options: FakeRegistryOptions = {}) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Loads every manifest and blob of an OCI layout; tags come from `org.opencontainers.image.ref.name`. */
  async loadLayout(dir: string): Promise<void> {
    const index = await readLayoutIndex(dir);
    const blobDir = join(dir, 'blobs', 'sha256');
    for (const name of await fs.readdir(blobDir)) this.blobs.set(`sha256:${name}`, await fs.readFile(join(blobDir, name)));
    for (const entry of index.manifests) {
      const body = this.blobs.get(entry.digest)!;
      this.manifests.set(entry.digest, { body, mediaType: entry.mediaType });
      const tag = entry.annotations?.['org.opencontainers.image.ref.name'];
      if (tag) this.tags.set(tag, entry.digest);
      const parsed = JSON.parse(body.toString()) as { manifests?: LayoutIndexEntry[] };
      for (const child of parsed.manifests ?? []) this.manifests.set(child.digest, { body: this.blobs.get(child.digest)!, mediaType: child.mediaType });
    }
  }

  /** Adds or replaces a manifest (and its tag) by content. */
  putManifest(tag: string | undefined, body: Buffer | string, mediaType: string): string {
    const bytes = Buffer.from(body);
    const digest = sha256(bytes);
    this.manifests.set(digest, { body: bytes, mediaType });
    if (tag) this.tags.set(tag, digest);
    return digest;
  }

  async start(): Promise<this> {
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      void this.serve(req, res).catch(() => res.destroy());
    };
    this.server = this.options.tls ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, listener) : createHttpServer(listener);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, host: req.headers.host ?? '' });
    if (this.handle && (await this.handle(req, res, path))) return;
    if (this.options.basic) {
      const expected = `Basic ${Buffer.from(this.options.basic).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"', 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
    }
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, , kind, reference] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const digest = reference.includes(':') ? reference : this.tags.get(reference);
      const manifest = digest ? this.manifests.get(digest) : undefined;
      if (!digest || !manifest) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
        return;
      }
      res.writeHead(200, { 'content-type': manifest.mediaType, 'docker-content-digest': digest, 'content-length': manifest.body.length });
      res.end(req.method === 'HEAD' ? undefined : manifest.body);
      return;
    }
    const blob = this.blobs.get(reference);
    if (!blob) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': reference });
    res.end(blob);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
