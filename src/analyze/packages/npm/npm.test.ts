import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { npmAnalyzer } from './index.js';
import { npmFileKind, parseNpmFile } from './parse.js';
import { MAX_NPM_FILE_BYTES, MAX_NPM_LOCK_V1_NESTING } from '../../limits.js';
import { parsePnpmKey } from './pnpm-lock.js';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const summary = (pkgs: { name: string; version: string; metadata?: Record<string, unknown> }[]) =>
  pkgs.map((p) => `${p.name}@${p.version}${p.metadata?.dev ? ' (dev)' : ''}`).sort();

describe('which files the npm cataloger reads', () => {
  it('recognises manifests and lock files by name only', () => {
    expect(npmFileKind('app/node_modules/@babel/core/package.json')).toBe('package.json');
    expect(npmFileKind('package.json')).toBe('package.json');
    expect(npmFileKind('srv/app/package-lock.json')).toBe('package-lock');
    expect(npmFileKind('srv/app/npm-shrinkwrap.json')).toBe('package-lock');
    expect(npmFileKind('srv/app/yarn.lock')).toBe('yarn.lock');
    expect(npmFileKind('srv/app/pnpm-lock.yaml')).toBe('pnpm-lock');
    for (const other of ['app/node_modules/uri-js/yarn.lock', 'node_modules/x/package-lock.json', 'app/node_modules/.package-lock.json', 'app/mypackage.json', 'app/yarn.lock.bak', 'etc/passwd', 'app/tsconfig.json']) {
      expect(npmFileKind(other), other).toBeUndefined();
    }
  });
});

describe('installed packages and manifests', () => {
  it('reports an installed package with its scope as purl namespace, and lists it once when the lock has it too', async () => {
    const { packages } = await analyzeFiles([npmAnalyzer], [
      { path: 'app/node_modules/@babel/core/package.json', content: JSON.stringify({ name: '@babel/core', version: '7.0.0', license: 'MIT' }) },
      { path: 'app/package-lock.json', content: JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/@babel/core': { version: '7.0.0' } } }) },
    ]);
    expect(packages).toHaveLength(1);
    expect(packages[0]).toMatchObject({
      name: '@babel/core',
      version: '7.0.0',
      type: 'npm',
      purl: 'pkg:npm/%40babel/core@7.0.0',
      licenses: ['MIT'],
      paths: ['app/node_modules/@babel/core/package.json', 'app/package-lock.json'],
    });
  });

  it("records an application's own package.json, and nothing for manifests without a name and a version", async () => {
    const { packages } = await analyzeFiles([npmAnalyzer], [
      { path: 'srv/app/package.json', content: JSON.stringify({ name: 'shop-frontend', version: '3.1.0', private: true }) },
      { path: 'srv/app/node_modules/date-fns/esm/fp/package.json', content: JSON.stringify({ sideEffects: false, typings: '../typings.d.ts' }) },
      { path: 'srv/app/node_modules/x/package.json', content: JSON.stringify({ name: 'x' }) },
      { path: 'srv/app/node_modules/y/package.json', content: JSON.stringify({ version: '1.0.0' }) },
      { path: 'srv/app/node_modules/z/package.json', content: JSON.stringify({ name: '@invalid/packageName/', version: '1.0.0' }) },
    ]);
    expect(summary(packages)).toEqual(['shop-frontend@3.1.0']);
  });

  it('reads licences in every shape npm has used and ignores the rest', () => {
    const licensesOf = (manifest: Record<string, unknown>) =>
      parseNpmFile('package.json', Buffer.from(JSON.stringify({ name: 'p', version: '1.0.0', ...manifest }))).packages[0]!.licenses;
    expect(licensesOf({ license: 'Apache-2.0' })).toEqual(['Apache-2.0']);
    expect(licensesOf({ license: { type: 'MIT', url: 'https://x' } })).toEqual(['MIT']);
    expect(licensesOf({ licenses: [{ type: 'MIT' }, { type: 'Public Domain' }] })).toEqual(['MIT', 'Public Domain']);
    expect(licensesOf({ license: [{ type: '' }, { type: 'MIT' }] })).toEqual(['MIT']);
    expect(licensesOf({ licenses: ['MIT'] })).toEqual(['MIT']);
    expect(licensesOf({ license: 42 })).toBeUndefined();
    expect(licensesOf({ license: { foo: 'bar' } })).toBeUndefined();
    expect(licensesOf({ license: null })).toBeUndefined();
  });

  it('accepts a byte-order mark before the JSON', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name":"bom","version":"1.0.0"}')]);
    expect(summary(parseNpmFile('package.json', withBom).packages)).toEqual(['bom@1.0.0']);
  });
});

describe('package-lock.json', () => {
  it('v1: walks nested dependencies, resolves npm: aliases, keeps dev flags, skips git and file dependencies', () => {
    const { packages, notices } = parseNpmFile('package-lock', fixture('package-lock-v1.json'));
    expect(notices).toEqual([]);
    expect(summary(packages)).toEqual([
      '@bundled-es-modules/chai@4.2.2 (dev)',
      'debug@2.6.9',
      'debug@4.3.4',
      'express@4.18.2',
      'lodash@3.10.1',
      'mocha@10.2.0 (dev)',
      'shop@2.0.0',
    ]);
  });

  it('v3: names workspace members by their link, reads aliases from `name`, and a package is dev only if every copy is', () => {
    const { packages } = parseNpmFile('package-lock', fixture('package-lock-v3.json'));
    expect(summary(packages)).toEqual([
      '@acme/api@0.3.0',
      '@babel/core@7.23.0 (dev)',
      'json5@2.2.3 (dev)',
      'lodash@3.10.1',
      'monorepo@1.0.0',
      'semver@6.3.1',
    ]);
    const lodash = packages.find((p) => p.name === 'lodash')!;
    expect(lodash.licenses).toEqual(['MIT']);
    expect(lodash.purl).toBe('pkg:npm/lodash@3.10.1');
  });

  it('gives a notice, not an exception, for text that is not JSON', () => {
    const { packages, notices } = parseNpmFile('package-lock', Buffer.from('{"lockfileVersion": 3, "packages": {'));
    expect(packages).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/package-lock could not be parsed/) })]);
  });

  it('stops following v1 nesting past its limit and says so, keeping what it read', () => {
    let deps: Record<string, unknown> = {};
    const root = deps;
    for (let i = 0; i < MAX_NPM_LOCK_V1_NESTING + 50; i++) {
      const next: Record<string, unknown> = {};
      deps[`pkg${i}`] = { version: '1.0.0', dependencies: next };
      deps = next;
    }
    const { packages, notices } = parseNpmFile('package-lock', Buffer.from(JSON.stringify({ lockfileVersion: 1, dependencies: root })));
    expect(packages).toHaveLength(MAX_NPM_LOCK_V1_NESTING);
    expect(notices).toEqual([expect.objectContaining({ message: expect.stringMatching(/deeper than 256 levels/) })]);
  });

  it('survives JSON nested a million levels deep', () => {
    const deep = Buffer.from(`{"lockfileVersion":2,"packages":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`);
    const { packages } = parseNpmFile('package-lock', deep);
    expect(packages).toEqual([]);
  });
});

describe('yarn.lock', () => {
  it('v1: one package per entry, aliases and registry URLs name the real package, local and unknown protocols skipped', () => {
    const { packages } = parseNpmFile('yarn.lock', fixture('yarn-v1.lock'));
    expect(summary(packages)).toEqual(['@babel/code-frame@7.10.4', 'lodash@3.10.1', 'lodash@4.17.21', 'tool@1.2.0']);
  });

  it('Berry: reads resolutions, keeps versioned workspaces, skips patches, portals and unversioned workspaces', () => {
    const { packages } = parseNpmFile('yarn.lock', fixture('yarn-berry.lock'));
    expect(summary(packages)).toEqual(['@acme/ui@2.1.0', 'debug@4.3.4', 'string-width@4.2.3']);
  });

  it('npm-written v1 locks with quoted keys', () => {
    const text = '"jquery@^3.6.0":\n  "integrity" "sha512-x"\n  "resolved" "https://registry.npmjs.org/jquery/-/jquery-3.6.0.tgz"\n  "version" "3.6.0"\n';
    expect(summary(parseNpmFile('yarn.lock', Buffer.from(text)).packages)).toEqual(['jquery@3.6.0']);
  });
});

describe('pnpm-lock.yaml', () => {
  it('v5: `/name/version_peer` keys, tarball entries by their fields, dev flags', () => {
    const { packages } = parseNpmFile('pnpm-lock', fixture('pnpm-v5.yaml'));
    expect(summary(packages)).toEqual([
      '@types/react@18.0.28 (dev)',
      'acorn-jsx@5.3.2 (dev)',
      'loose-envify@1.4.0',
      'react@18.2.0',
      'tool@1.2.0',
    ]);
  });

  it('v6: `/name@version(peer)` keys; importer links are not packages', () => {
    const { packages } = parseNpmFile('pnpm-lock', fixture('pnpm-v6.yaml'));
    expect(summary(packages)).toEqual(['@babel/core@7.21.4', '@babel/helper-plugin-utils@7.20.2 (dev)']);
  });

  it('v9: packages, snapshots and importers give each package once; file: tarballs by their version field', () => {
    const { packages } = parseNpmFile('pnpm-lock', fixture('pnpm-v9.yaml'));
    expect(summary(packages)).toEqual(['debug@4.3.4', 'jquery@3.6.0', 'lodash@4.17.21', 'ms@2.1.2', 'supports-color@8.1.1']);
  });

  it('splits keys of every format', () => {
    expect(parsePnpmKey('/@babel/core/7.0.0', 5)).toEqual({ name: '@babel/core', version: '7.0.0' });
    expect(parsePnpmKey('/acorn-jsx/5.3.2_acorn@8.8.0', 5)).toEqual({ name: 'acorn-jsx', version: '5.3.2' });
    expect(parsePnpmKey('/@babel/core@7.0.0(supports-color@8.1.1)', 6)).toEqual({ name: '@babel/core', version: '7.0.0' });
    expect(parsePnpmKey('debug@4.3.4(supports-color@8.1.1)', 9)).toEqual({ name: 'debug', version: '4.3.4' });
    expect(parsePnpmKey('lodash@file:foo/bar/lodash.tgz', 9)).toEqual({ name: 'lodash' });
    expect(parsePnpmKey('nonsense', 9)).toBeUndefined();
  });

  it('gives a notice for YAML syntax errors and for alias bombs', () => {
    expect(parseNpmFile('pnpm-lock', Buffer.from('packages:\n  a@1.0.0: {resolution: [\n')).notices).toHaveLength(1);
    // Ten levels of nine-fold aliases: 9^10 nodes if expanded.
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) bomb.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
    const started = Date.now();
    const { packages, notices } = parseNpmFile('pnpm-lock', Buffer.from(`${bomb.join('\n')}\npackages:\n  ms@2.1.2: {}\n`));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(packages).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ message: expect.stringMatching(/could not be parsed/) })]);
  });
});

describe('hostile input', () => {
  it('refuses lock files over the size limit with a notice, without parsing them', () => {
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x20);
    for (const kind of ['package-lock', 'yarn.lock', 'pnpm-lock', 'package.json'] as const) {
      const started = Date.now();
      const { packages, notices } = parseNpmFile(kind, huge);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(packages).toEqual([]);
      expect(notices).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/over the .* limit: not read/) })]);
    }
    expect(MAX_NPM_FILE_BYTES['package-lock']).toBeLessThan(huge.length);
  });

  it('parses a large yarn.lock just under the limit in linear time', () => {
    const entry = (i: number) => `pkg-${i}@^1.0.0:\n  version "1.0.${i}"\n  resolved "https://registry.yarnpkg.com/pkg-${i}/-/pkg-${i}-1.0.${i}.tgz#${'a'.repeat(40)}"\n  integrity sha512-${'b'.repeat(88)}\n\n`;
    const parts: string[] = [];
    let size = 0;
    for (let i = 0; size < 24 * 1024 * 1024; i++) {
      parts.push(entry(i));
      size += parts[parts.length - 1]!.length;
    }
    const started = Date.now();
    const { packages } = parseNpmFile('yarn.lock', Buffer.from(parts.join('')));
    expect(packages).toHaveLength(parts.length);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('deeply nested YAML gives nothing or a notice in bounded time', () => {
    const started = Date.now();
    const { packages } = parseNpmFile('pnpm-lock', Buffer.from(`packages: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`));
    expect(packages).toEqual([]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('binary garbage in any file kind yields nothing or a notice, never an exception', async () => {
    const garbage = Buffer.alloc(64 * 1024);
    let seed = 7;
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    const { packages } = await analyzeFiles([npmAnalyzer], [
      { path: 'a/package.json', content: garbage },
      { path: 'a/package-lock.json', content: garbage },
      { path: 'a/yarn.lock', content: garbage },
      { path: 'a/pnpm-lock.yaml', content: garbage },
    ]);
    expect(packages).toEqual([]);
  });
});
