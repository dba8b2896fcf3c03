/** The registry client's pure parts and the Docker-config credential lookup (no network). */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRetryAfter, parseWwwAuthenticate } from '../../src/image/registry/challenge.js';
import { configKeyHost, dockerConfigPath, lookupCredentials } from '../../src/image/registry/credentials.js';
import { nextLink } from '../../src/image/registry/client.js';
import { isInsecureHost, isLoopbackHost } from '../../src/image/registry/transport.js';
import { dockerConfigDir, tempDir } from '../support/registry.js';

const cleanup: (() => void)[] = [];
afterAll(() => cleanup.forEach((f) => f()));

function configDir(config: unknown): string {
  const dir = dockerConfigDir(config);
  cleanup.push(dir.remove);
  return dir.path;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('WWW-Authenticate', () => {
  it('parses Docker Hub’s bearer challenge, with a comma inside the quoted scope', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull,push' } });
  });
  it('parses insufficient_scope errors and spaces around separators', () => {
    const [c] = parseWwwAuthenticate('Bearer realm = "https://ghcr.io/token" , service="ghcr.io", scope="repository:o/r:pull", error="insufficient_scope"');
    expect(c?.params).toEqual({ realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/r:pull', error: 'insufficient_scope' });
  });
  it('parses basic challenges, unquoted values and several challenges in one or more headers', () => {
    expect(parseWwwAuthenticate('Basic realm=registry')).toEqual([{ scheme: 'basic', params: { realm: 'registry' } }]);
    const several = parseWwwAuthenticate(['Basic realm="r1", Bearer realm="https://t/token",service=s', 'Negotiate abc123==']);
    expect(several.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(several[1]?.params).toEqual({ realm: 'https://t/token', service: 's' });
  });
  it('handles escaped quotes and never throws on garbage', () => {
    expect(parseWwwAuthenticate('Bearer realm="a\\"b"')[0]?.params.realm).toBe('a"b');
    for (const junk of ['', '===', '"unterminated', 'Bearer realm="x', ',,,', '\u0000\u0001', 'a'.repeat(100_000)]) {
      expect(() => parseWwwAuthenticate(junk)).not.toThrow();
    }
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('insecure registries', () => {
  const docker = { insecureRegistries: [] as string[], loopbackIsInsecure: true };
  it('treats localhost and 127.0.0.0/8 as insecure by default, like Docker', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'registry.localhost:443']) {
      expect(isInsecureHost(host, docker)).toBe(true);
    }
    for (const host of ['docker.io', 'registry-1.docker.io', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1']) {
      expect(isInsecureHost(host, docker)).toBe(false);
    }
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
  });
  it('matches --insecure-registry host, host:port and CIDR entries', () => {
    const options = { insecureRegistries: ['myreg.local', 'other.example:5000', '10.1.0.0/16', 'http://schemed.example/'], loopbackIsInsecure: true };
    expect(isInsecureHost('myreg.local:8443', options)).toBe(true);
    expect(isInsecureHost('MyReg.Local', options)).toBe(true);
    expect(isInsecureHost('other.example:5000', options)).toBe(true);
    expect(isInsecureHost('other.example:5001', options)).toBe(false);
    expect(isInsecureHost('10.1.200.3:5000', options)).toBe(true);
    expect(isInsecureHost('10.2.0.1:5000', options)).toBe(false);
    expect(isInsecureHost('schemed.example', options)).toBe(true);
    expect(isInsecureHost('ghcr.io', options)).toBe(false);
  });
  it('can require HTTPS for loopback too', () => {
    expect(isInsecureHost('127.0.0.1:5000', { insecureRegistries: [], loopbackIsInsecure: false })).toBe(false);
    expect(isInsecureHost('127.0.0.1:5000', { insecureRegistries: ['127.0.0.1:5000'], loopbackIsInsecure: false })).toBe(true);
  });
});

describe('Link pagination', () => {
  it('finds rel="next" targets', () => {
    expect(nextLink('</v2/x/tags/list?n=2&last=b>; rel="next"')).toBe('/v2/x/tags/list?n=2&last=b');
    expect(nextLink('<https://r/a>; rel="prev", <https://r/b>; rel=next')).toBe('https://r/b');
    expect(nextLink('<https://r/a>; rel="prev"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe('Docker config credentials', () => {
  it('uses $DOCKER_CONFIG, else ~/.docker', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/cfg' })).toBe('/cfg/config.json');
    expect(dockerConfigPath({ HOME: '/home/u' })).toBe('/home/u/.docker/config.json');
    expect(configKeyHost('https://index.docker.io/v1/')).toBe('index.docker.io');
    expect(configKeyHost('Registry.Example:5000')).toBe('registry.example:5000');
  });

  it('finds Docker Hub credentials under https://index.docker.io/v1/', async () => {
    const dir = configDir({ auths: { 'ghcr.io': { auth: b64('gh:other') }, 'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') } } });
    const { credentials } = await lookupCredentials('docker.io', { DOCKER_CONFIG: dir });
    expect(credentials).toMatchObject({ username: 'hubuser', password: 'hub:pass' });
    expect(credentials?.source).toContain('auths."https://index.docker.io/v1/"');
  });

  it('accepts other spellings of Docker Hub and of a registry key', async () => {
    const hub = configDir({ auths: { 'docker.io': { username: 'u1', password: 'p1' } } });
    expect((await lookupCredentials('docker.io', { DOCKER_CONFIG: hub })).credentials).toMatchObject({ username: 'u1', password: 'p1' });
    const other = configDir({ auths: { 'https://registry.example:5000/v2/': { auth: b64('u2:p2') } } });
    expect((await lookupCredentials('registry.example:5000', { DOCKER_CONFIG: other })).credentials).toMatchObject({ username: 'u2', password: 'p2' });
    expect((await lookupCredentials('registry.example', { DOCKER_CONFIG: other })).credentials).toBeUndefined();
  });

  it('falls back to ~/.docker/config.json when DOCKER_CONFIG is unset', async () => {
    const home = tempDir('home');
    cleanup.push(home.remove);
    mkdirSync(join(home.path, '.docker'));
    writeFileSync(join(home.path, '.docker', 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { auth: b64('me:tok') } } }));
    expect((await lookupCredentials('ghcr.io', { HOME: home.path })).credentials).toMatchObject({ username: 'me', password: 'tok' });
  });

  it('reads identity and registry tokens', async () => {
    const dir = configDir({ auths: { 'acr.example': { identitytoken: 'refresh-me' }, 'tok.example': { registrytoken: 'bearer-me' } } });
    expect((await lookupCredentials('acr.example', { DOCKER_CONFIG: dir })).credentials).toMatchObject({ identityToken: 'refresh-me' });
    expect((await lookupCredentials('tok.example', { DOCKER_CONFIG: dir })).credentials).toMatchObject({ registryToken: 'bearer-me' });
  });

  it('reports a missing file as no credentials, and a broken one as a problem', async () => {
    const missing = await lookupCredentials('ghcr.io', { DOCKER_CONFIG: '/nonexistent/detonate' });
    expect(missing).toEqual({ configPath: '/nonexistent/detonate/config.json' });
    const broken = await lookupCredentials('ghcr.io', { DOCKER_CONFIG: configDir('{"auths": {') });
    expect(broken.credentials).toBeUndefined();
    expect(broken.problem).toMatch(/cannot parse .*config\.json/);
    const badAuth = await lookupCredentials('ghcr.io', { DOCKER_CONFIG: configDir({ auths: { 'ghcr.io': { auth: b64('no-colon') } } }) });
    expect(badAuth.problem).toMatch(/not base64 of "user:password"/);
    const wrongShape = await lookupCredentials('ghcr.io', { DOCKER_CONFIG: configDir({ auths: [] }) });
    expect(wrongShape.problem).toMatch(/must be objects/);
  });

  it('asks a credential helper (credHelpers, then credsStore) like the Docker CLI', async () => {
    const bin = tempDir('cred-helper');
    cleanup.push(bin.remove);
    // A helper that answers for two servers and logs the server URL it was asked about.
    const script = [
      '#!/bin/sh',
      'read server',
      `echo "$server" >> ${join(bin.path, 'asked.log')}`,
      'case "$server" in',
      '  helped.example) echo \'{"ServerURL":"helped.example","Username":"hu","Secret":"hs"}\' ;;',
      '  https://index.docker.io/v1/) echo \'{"ServerURL":"x","Username":"<token>","Secret":"idtok"}\' ;;',
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
    ].join('\n');
    mkdirSync(bin.path, { recursive: true });
    writeFileSync(join(bin.path, 'docker-credential-fake'), `${script}\n`);
    chmodSync(join(bin.path, 'docker-credential-fake'), 0o755);
    const env = { PATH: `${bin.path}:${process.env.PATH}`, DOCKER_CONFIG: configDir({ credHelpers: { 'helped.example': 'fake' }, credsStore: 'fake', auths: { 'plain.example': { auth: b64('pu:pp') } } }) };
    expect((await lookupCredentials('helped.example', env)).credentials).toMatchObject({ username: 'hu', password: 'hs' });
    expect((await lookupCredentials('docker.io', env)).credentials).toMatchObject({ identityToken: 'idtok' });
    expect((await lookupCredentials('plain.example', env)).credentials).toMatchObject({ username: 'pu', password: 'pp' });
    expect((await lookupCredentials('unknown.example', env)).credentials).toBeUndefined();
    // credHelpers for its host, credsStore for the rest (plain.example's auths entry wins over the store)
    expect(readFileSync(join(bin.path, 'asked.log'), 'utf8').trim().split('\n')).toEqual(['helped.example', 'https://index.docker.io/v1/', 'unknown.example']);
    const missingHelper = await lookupCredentials('x.example', { DOCKER_CONFIG: configDir({ credHelpers: { 'x.example': 'absent-helper' } }), PATH: bin.path });
    expect(missingHelper.problem).toMatch(/docker-credential-absent-helper is not installed/);
    const evil = await lookupCredentials('x.example', { DOCKER_CONFIG: configDir({ credHelpers: { 'x.example': '../../bin/sh' } }) });
    expect(evil.problem).toMatch(/not valid/);
  });
});
