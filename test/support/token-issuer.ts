/**
 * A Docker-token-spec issuer for tests, on 127.0.0.1: `GET /token?service=…&scope=…` with optional Basic auth,
 * answering RS256 JWTs that distribution's `auth.token` verifies through the `x5c` chain against its
 * `rootcertbundle`. The key and self-signed certificate are made with the `openssl` CLI.
 *
 * Valid credentials get every action they ask for; anonymous requests get a token with no access (as Docker Hub
 * does for a private repository); wrong credentials get 401.
 */
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SigningKey {
  keyPath: string;
  certPath: string;
}

/** An RSA key and a self-signed certificate for it (valid one day), in `dir`. */
export async function makeSigningKey(dir: string, commonName = 'detonate-test-issuer'): Promise<SigningKey> {
  const keyPath = join(dir, 'issuer.key');
  const certPath = join(dir, 'issuer.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', `/CN=${commonName}`]);
  return { keyPath, certPath };
}

export interface TokenRequest {
  user?: string;
  scopes: string[];
  service?: string;
  method: string;
  /** 'granted' | 'anonymous' | 'refused' */
  outcome: string;
}

export interface TokenIssuer {
  realm: string;
  issuer: string;
  service: string;
  requests: TokenRequest[];
  /** Field that carries the token in answers; may be changed while running. */
  field: 'token' | 'access_token';
  stop(): Promise<void>;
}

export interface TokenIssuerOptions {
  key: SigningKey;
  users: Record<string, string>;
  service: string;
  issuer?: string;
  /** Field that carries the token in the answer: `token` (Docker) or `access_token` (OAuth2). */
  field?: 'token' | 'access_token';
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function basicUser(req: IncomingMessage): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `repository:name:pull,push` → access entry. */
function accessFor(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const privateKey = await fs.readFile(options.key.keyPath, 'utf8');
  const certDer = new X509Certificate(await fs.readFile(options.key.certPath)).raw;
  const issuer = options.issuer ?? 'detonate-test-issuer';
  const requests: TokenRequest[] = [];
  let field: 'token' | 'access_token' = options.field ?? 'token';

  const sign = (subject: string, access: unknown[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: subject, aud: options.service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey);
    return `${signingInput}.${base64url(signature)}`;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const creds = basicUser(req);
    const record: TokenRequest = { scopes, method: req.method ?? 'GET', outcome: '', ...(creds ? { user: creds.user } : {}), ...(url.searchParams.get('service') ? { service: url.searchParams.get('service')! } : {}) };
    requests.push(record);
    if (creds && options.users[creds.user] !== creds.password) {
      record.outcome = 'refused';
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
      return;
    }
    record.outcome = creds ? 'granted' : 'anonymous';
    const access = creds ? scopes.map(accessFor).filter((a) => a !== undefined) : [];
    const token = sign(creds?.user ?? '', access);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ [field]: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    issuer,
    service: options.service,
    requests,
    get field() {
      return field;
    },
    set field(value) {
      field = value;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
