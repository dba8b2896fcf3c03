import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { dotnetAnalyzer } from './index.js';
import { dotnetFileKind, parseDotnetFile } from './parse.js';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const summary = (pkgs: { name: string; version: string }[]) => pkgs.map((p) => `${p.name}@${p.version}`).sort();

describe('which files the .NET cataloger reads', () => {
  it('deps.json files and NuGet lock files only', () => {
    expect(dotnetFileKind('app/WebApp.deps.json')).toBe('deps.json');
    expect(dotnetFileKind('usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json')).toBe('deps.json');
    expect(dotnetFileKind('src/WebApp/packages.lock.json')).toBe('packages.lock.json');
    for (const other of ['app/WebApp.runtimeconfig.json', 'app/deps.json.bak', 'app/package-lock.json', 'app/mypackages.lock.json']) {
      expect(dotnetFileKind(other), other).toBeUndefined();
    }
  });
});

describe('deps.json', () => {
  it('reports NuGet packages as pkg:nuget, not the application’s projects or framework references', async () => {
    const { packages } = await analyzeFiles([dotnetAnalyzer], [{ path: 'app/WebApp.deps.json', content: fixture('WebApp.deps.json') }]);
    expect(summary(packages)).toEqual(['Newtonsoft.Json@13.0.1', 'System.Text.Encodings.Web@4.5.0']);
    expect(packages.find((p) => p.name === 'Newtonsoft.Json')).toMatchObject({
      type: 'nuget',
      purl: 'pkg:nuget/Newtonsoft.Json@13.0.1',
      paths: ['app/WebApp.deps.json'],
    });
  });
});

describe('packages.lock.json', () => {
  it('every resolved package once across target frameworks; project references skipped', () => {
    expect(summary(parseDotnetFile('packages.lock.json', fixture('packages.lock.json')).packages)).toEqual([
      'Microsoft.Extensions.Logging@6.0.0',
      'Serilog@2.12.0',
      'System.Memory@4.5.5',
    ]);
  });
});

describe('hostile input', () => {
  it('invalid JSON gives a notice', () => {
    const { packages, notices } = parseDotnetFile('deps.json', Buffer.from('{"libraries": {"A/1.0": {"type": "package"'));
    expect(packages).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/deps\.json could not be parsed/) })]);
  });

  it('oversized files are refused with a notice, quickly', () => {
    const started = Date.now();
    const { notices } = parseDotnetFile('deps.json', Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(notices).toEqual([expect.objectContaining({ message: expect.stringMatching(/over the .* limit: not read/) })]);
  });

  it('odd shapes, bad keys and binary garbage yield nothing, never an exception', async () => {
    const garbage = Buffer.alloc(64 * 1024);
    let seed = 5;
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    const odd = JSON.stringify({ libraries: { 'NoVersion': { type: 'package' }, '/1.0.0': { type: 'package' }, '../../x/1.0': { type: 'package' }, 'A/1.0': 'package' }, dependencies: [] });
    const { packages } = await analyzeFiles([dotnetAnalyzer], [
      { path: 'app/a.deps.json', content: garbage },
      { path: 'app/b.deps.json', content: odd },
      { path: 'app/packages.lock.json', content: JSON.stringify({ dependencies: { net8: { X: { type: 'Direct', resolved: 42 } } } }) },
      { path: 'app/c.deps.json', content: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
    ]);
    expect(packages).toEqual([]);
  });
});
