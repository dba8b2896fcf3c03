import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { pythonAnalyzer } from './index.js';
import { normalizePythonName } from './collect.js';
import { parsePythonFile, pythonFileKind } from './parse.js';
import { parsePinnedRequirement } from './requirements.js';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const summary = (pkgs: { name: string; version: string; metadata?: Record<string, unknown> }[]) =>
  pkgs.map((p) => `${p.name}@${p.version}${p.metadata?.dev ? ' (dev)' : ''}`).sort();
const SITE = 'usr/local/lib/python3.11/site-packages';

describe('which files the Python cataloger reads', () => {
  it('installed metadata in dist-info and egg-info directories, in any case, and egg-info files', () => {
    for (const path of [
      `${SITE}/Flask-2.0.0.dist-info/METADATA`,
      `${SITE}/distlib-0.3.1.egg-info/PKG-INFO`,
      `${SITE}/kitchen-1.2.6-py2.7.egg/EGG-INFO/PKG-INFO`,
      `${SITE}/dist-name/DIST-INFO/METADATA`,
      `${SITE}/dist-name/dist-info/METADATA`,
      'usr/lib/python2.7/lib-dynload/Python-2.7.egg-info',
    ]) {
      expect(pythonFileKind(path), path).toBe('metadata');
    }
  });

  it('requirements files and lock files by name', () => {
    expect(pythonFileKind('app/requirements.txt')).toBe('requirements');
    expect(pythonFileKind('app/requirements-dev.txt')).toBe('requirements');
    expect(pythonFileKind('app/1-requirements-dev.txt')).toBe('requirements');
    expect(pythonFileKind('app/Pipfile.lock')).toBe('Pipfile.lock');
    expect(pythonFileKind('app/poetry.lock')).toBe('poetry.lock');
    expect(pythonFileKind('app/uv.lock')).toBe('uv.lock');
    expect(pythonFileKind('app/pdm.lock')).toBe('pdm.lock');
  });

  it('nothing else', () => {
    for (const path of [`${SITE}/somepkg/requirements.txt`, 'usr/lib/python3/dist-packages/x/poetry.lock', 'METADATA', `${SITE}/foo/METADATA`, `${SITE}/x.dist-info/RECORD`, `${SITE}/x.egg-info/PKG-INFO.bak`, 'app/notes.txt', 'app/Gemfile.lock', '.egg-info']) {
      expect(pythonFileKind(path), path).toBeUndefined();
    }
  });
});

describe('installed distributions', () => {
  it('keeps the written name and uses the PEP 503 name in the purl; reads only the header block', async () => {
    const { packages } = await analyzeFiles([pythonAnalyzer], [{ path: `${SITE}/typing_extensions-4.4.0.dist-info/METADATA`, content: fixture('METADATA') }]);
    expect(packages).toEqual([
      expect.objectContaining({
        name: 'typing_extensions',
        version: '4.4.0',
        type: 'pypi',
        purl: 'pkg:pypi/typing-extensions@4.4.0',
        licenses: ['Python Software Foundation License'],
        paths: [`${SITE}/typing_extensions-4.4.0.dist-info/METADATA`],
      }),
    ]);
  });

  it('does not take a pasted licence text for a licence name, falling back to classifiers', () => {
    const { packages } = parsePythonFile('metadata', fixture('PKG-INFO'));
    expect(packages).toEqual([expect.objectContaining({ name: 'Unidecode', version: '0.4.1', licenses: ['GNU General Public License (GPL)'] })]);
  });

  it('prefers License-Expression, then a short License field', () => {
    const licensesOf = (headers: string) => parsePythonFile('metadata', Buffer.from(`Name: p\nVersion: 1.0\n${headers}\n`)).packages[0]!.licenses;
    expect(licensesOf('License-Expression: MIT OR Apache-2.0\nLicense: BSD\nClassifier: License :: OSI Approved :: MIT License')).toEqual(['MIT OR Apache-2.0']);
    expect(licensesOf('License: BSD-3-Clause\nClassifier: License :: OSI Approved :: MIT License')).toEqual(['BSD-3-Clause']);
    expect(licensesOf('License: UNKNOWN')).toBeUndefined();
  });

  it('normalises names as pip does', () => {
    expect(normalizePythonName('Foo.Bar__baz-Qux')).toBe('foo-bar-baz-qux');
    expect(normalizePythonName('FrIeNdLy-_-bArD')).toBe('friendly-bard');
  });

  it('lists a distribution found installed and pinned once, with both paths', async () => {
    const { packages } = await analyzeFiles([pythonAnalyzer], [
      { path: `${SITE}/Flask-2.0.0.dist-info/METADATA`, content: 'Metadata-Version: 2.1\nName: Flask\nVersion: 2.0.0\n' },
      { path: 'app/requirements.txt', content: 'flask==2.0.0\n' },
    ]);
    expect(packages).toHaveLength(1);
    expect(packages[0]).toMatchObject({ purl: 'pkg:pypi/flask@2.0.0', paths: [`${SITE}/Flask-2.0.0.dist-info/METADATA`, 'app/requirements.txt'] });
  });

  it('metadata without a name or a version gives nothing', () => {
    expect(parsePythonFile('metadata', Buffer.from('Metadata-Version: 2.1\nName: only-a-name\n')).packages).toEqual([]);
    expect(parsePythonFile('metadata', Buffer.from('')).packages).toEqual([]);
  });
});

describe('requirements files', () => {
  it('records exact pins only, through comments, hashes, extras, markers and continuations', () => {
    const { packages } = parsePythonFile('requirements', fixture('requirements.txt'));
    expect(summary(packages)).toEqual([
      'Flask@2.0.0',
      'FooProject@1.2',
      'Jinja2@3.0.0',
      'SomeProject@5.4',
      'celery@4.4.7',
      'click@8.0.0',
      'local-version@1.2.3+gcr.2',
      'urllib3@1.26.20',
    ]);
  });

  it('reads UTF-16 files written by Windows tools', () => {
    expect(summary(parsePythonFile('requirements', fixture('requirements-utf16le.txt')).packages)).toEqual(['attrs@20.3.0', 'six@1.16.0']);
    const bigEndian = Buffer.from(fixture('requirements-utf16le.txt').subarray(2)).swap16();
    expect(summary(parsePythonFile('requirements', Buffer.concat([Buffer.from([0xfe, 0xff]), bigEndian])).packages)).toEqual(['attrs@20.3.0', 'six@1.16.0']);
  });

  it('takes the pin before a direct-reference URL, and nothing from template syntax', () => {
    expect(parsePinnedRequirement('GithubSampleProject == 3.7.1 @ git+https://github.com/owner/repo@releases/tag/v3.7.1')).toEqual({ name: 'GithubSampleProject', version: '3.7.1' });
    for (const line of ["%ifcookiecutter.command_line_interface|lower=='click'-%}", "foo|bar=='1.2.4'", 'foo{bar}==%%', "foo=='invalid-version'"]) {
      expect(parsePinnedRequirement(line), line).toBeUndefined();
    }
  });
});

describe('lock files', () => {
  it('Pipfile.lock: default and develop sections; a package in both is not dev-only; unpinned entries skipped', () => {
    expect(summary(parsePythonFile('Pipfile.lock', fixture('Pipfile.lock')).packages)).toEqual(['aiohttp@3.7.4.post0', 'pytest@7.4.0 (dev)']);
  });

  it('poetry.lock: every [[package]], with dev groups; strings that look like headers do not confuse it', () => {
    expect(summary(parsePythonFile('poetry.lock', fixture('poetry.lock')).packages)).toEqual(['Flask@1.0.3', 'click@8.1.8', 'pytest@5.4.3 (dev)']);
  });

  it('uv.lock: registry packages and the editable project; entries without a version skipped', () => {
    expect(summary(parsePythonFile('uv.lock', fixture('uv.lock')).packages)).toEqual(['certifi@2025.1.31', 'charset-normalizer@3.4.1', 'testpkg@0.1.0']);
  });

  it('pdm.lock: every [[package]]', () => {
    expect(summary(parsePythonFile('pdm.lock', fixture('pdm.lock')).packages)).toEqual(['idna@2.7', 'requests@2.27.1']);
  });
});

describe('hostile input', () => {
  it('malformed lock files give a notice naming the problem', () => {
    const bad = parsePythonFile('poetry.lock', Buffer.from('[[package]]\nname = "x\nversion = "1"\n'));
    expect(bad.packages).toEqual([]);
    expect(bad.notices).toEqual([expect.objectContaining({ message: expect.stringMatching(/poetry\.lock could not be parsed: .*line 2/) })]);
    expect(parsePythonFile('Pipfile.lock', Buffer.from('{"default": ')).notices).toHaveLength(1);
  });

  it('refuses files over the size limit with a notice, quickly', () => {
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x20);
    for (const kind of ['poetry.lock', 'uv.lock', 'pdm.lock', 'Pipfile.lock', 'requirements', 'metadata'] as const) {
      const started = Date.now();
      const { packages, notices } = parsePythonFile(kind, huge);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(packages).toEqual([]);
      expect(notices).toEqual([expect.objectContaining({ message: expect.stringMatching(/over the .* limit: not read/) })]);
    }
  });

  it('deep nesting in TOML is refused, not a stack overflow', () => {
    const { notices } = parsePythonFile('uv.lock', Buffer.from(`x = ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`));
    expect(notices).toEqual([expect.objectContaining({ message: expect.stringMatching(/nested too deeply/) })]);
  });

  it('a metadata file of one endless header line is read in bounded time', () => {
    const started = Date.now();
    const { packages } = parsePythonFile('metadata', Buffer.from(`Name: x\nVersion: 1.0\nSummary: ${'a'.repeat(10 * 1024 * 1024)}`));
    expect(summary(packages)).toEqual(['x@1.0']);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('binary garbage yields nothing or a notice, never an exception', async () => {
    const garbage = Buffer.alloc(64 * 1024);
    let seed = 11;
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    const { packages } = await analyzeFiles([pythonAnalyzer], [
      { path: `${SITE}/x.dist-info/METADATA`, content: garbage },
      { path: 'app/requirements.txt', content: garbage },
      { path: 'app/Pipfile.lock', content: garbage },
      { path: 'app/poetry.lock', content: garbage },
      { path: 'app/uv.lock', content: garbage },
    ]);
    expect(packages).toEqual([]);
  });
});
