import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { gemAnalyzer } from './index.js';
import { gemFileKind, parseGemFile, parseGemspec, rubyStringLiterals } from './parse.js';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const summary = (pkgs: { name: string; version: string }[]) => pkgs.map((p) => `${p.name}@${p.version}`).sort();
const SPECS = 'usr/local/bundle/specifications';

describe('which files the gem cataloger reads', () => {
  it('installed specifications and Bundler lock files, nothing else', () => {
    expect(gemFileKind(`${SPECS}/rake-13.0.3.gemspec`)).toBe('gemspec');
    expect(gemFileKind('usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec')).toBe('gemspec');
    expect(gemFileKind('specifications/x-1.gemspec')).toBe('gemspec');
    expect(gemFileKind('app/Gemfile.lock')).toBe('Gemfile.lock');
    expect(gemFileKind('app/Gemfile.next.lock')).toBe('Gemfile.lock');
    expect(gemFileKind('app/gems.locked')).toBe('Gemfile.lock');
    for (const other of ['usr/local/bundle/gems/rack-3.0.8/Gemfile.lock', 'vendor/bundle/ruby/3.2.0/gems/x-1.0/Gemfile.lock', 'src/mygem/mygem.gemspec', 'app/Gemfile', 'app/yarn.lock', 'app/poetry.lock']) expect(gemFileKind(other), other).toBeUndefined();
  });
});

describe('installed gemspecs', () => {
  it('reads name, version, licences and platform from RubyGems stubs', async () => {
    const { packages } = await analyzeFiles([gemAnalyzer], [{ path: `${SPECS}/nokogiri-1.15.4-x86_64-linux.gemspec`, content: fixture('nokogiri-1.15.4-x86_64-linux.gemspec') }]);
    expect(packages).toEqual([
      expect.objectContaining({
        name: 'nokogiri',
        version: '1.15.4',
        type: 'gem',
        purl: 'pkg:gem/nokogiri@1.15.4',
        licenses: ['MIT'],
        metadata: { platform: 'x86_64-linux' },
      }),
    ]);
  });

  it('understands %q<> literals, Gem::Version.new, comments and the singular license', () => {
    expect(parseGemspec(fixture('rack-3.0.8.gemspec').toString()).packages).toEqual([
      expect.objectContaining({ name: 'rack', version: '3.0.8', licenses: ['MIT'] }),
    ]);
  });

  it('ignores assignments to another receiver than the block variable, and files without a version', () => {
    const wrongReceiver = 'Gem::Specification.new do |spec|\n  s.name = "async".freeze\n  s.version = "1.25.0"\nend\n';
    const noVersion = 'Gem::Specification.new do |s|\n  s.name = "async".freeze\nend\n';
    expect(parseGemspec(wrongReceiver).packages).toEqual([]);
    expect(parseGemspec(noVersion).packages).toEqual([]);
  });

  it('takes string literals the way Ruby writes them', () => {
    expect(rubyStringLiterals('["Ruby".freeze,"BSDL".freeze, \'PSFL\'] # comment "x"')).toEqual(['Ruby', 'BSDL', 'PSFL']);
    expect(rubyStringLiterals('"a \\"quoted\\" name".freeze')).toEqual(['a "quoted" name']);
    expect(rubyStringLiterals('"https://github.com/x/#{s.name}".freeze')).toEqual([]);
    expect(rubyStringLiterals('%q{braced}')).toEqual(['braced']);
  });
});

describe('Gemfile.lock', () => {
  it('reads the specs of GEM, GIT and PATH sources; platform variants of a gem are one package', () => {
    const { packages } = parseGemFile('Gemfile.lock', fixture('Gemfile.lock'));
    expect(summary(packages)).toEqual(['mini_portile2@2.8.4', 'myapp@0.1.0', 'nokogiri@1.15.4', 'racc@1.7.1', 'rack@3.0.8', 'turbolinks@3.0.0']);
    expect(packages.find((p) => p.name === 'nokogiri')).toMatchObject({ purl: 'pkg:gem/nokogiri@1.15.4', metadata: { platform: 'x86_64-linux' } });
  });

  it('lists a gem installed and locked once, with both paths', async () => {
    const { packages } = await analyzeFiles([gemAnalyzer], [
      { path: `${SPECS}/rack-3.0.8.gemspec`, content: fixture('rack-3.0.8.gemspec') },
      { path: 'app/Gemfile.lock', content: fixture('Gemfile.lock') },
    ]);
    expect(packages.find((p) => p.name === 'rack')!.paths).toEqual([`${SPECS}/rack-3.0.8.gemspec`, 'app/Gemfile.lock']);
  });
});

describe('hostile input', () => {
  it('refuses oversized files with a notice, quickly', () => {
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x20);
    for (const kind of ['gemspec', 'Gemfile.lock'] as const) {
      const started = Date.now();
      const { packages, notices } = parseGemFile(kind, huge);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(packages).toEqual([]);
      expect(notices).toEqual([expect.objectContaining({ message: expect.stringMatching(/over the .* limit: not read/) })]);
    }
  });

  it('a large lock and a long-line gemspec are read in bounded time', () => {
    const lines = ['GEM', '  remote: https://rubygems.org/', '  specs:'];
    for (let i = 0; i < 200_000; i++) lines.push(`    gem${i} (1.0.${i})`, `      dep${i} (~> 1.0)`);
    let started = Date.now();
    expect(parseGemFile('Gemfile.lock', Buffer.from(lines.join('\n'))).packages).toHaveLength(200_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    started = Date.now();
    const manyLicenses = Array.from({ length: 200_000 }, (_, i) => `"L${i}".freeze`).join(', ');
    const longLine = `Gem::Specification.new do |s|\n  s.name = "x"\n  s.version = "1.0"\n  s.licenses = [${manyLicenses}]\nend\n`;
    const [pkg] = parseGemFile('gemspec', Buffer.from(longLine)).packages;
    expect(pkg).toMatchObject({ name: 'x', version: '1.0' });
    expect(pkg!.licenses).toHaveLength(32);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('binary garbage and nonsense values yield nothing, never an exception', async () => {
    const garbage = Buffer.alloc(64 * 1024);
    let seed = 3;
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    const { packages, notices } = await analyzeFiles([gemAnalyzer], [
      { path: `${SPECS}/bad.gemspec`, content: garbage },
      { path: 'app/Gemfile.lock', content: garbage },
      { path: `${SPECS}/evil.gemspec`, content: 'Gem::Specification.new do |s|\n  s.name = "../../etc"\n  s.version = "1.0; rm -rf /"\nend\n' },
    ]);
    expect(packages).toEqual([]);
    expect(notices).toEqual([]);
  });
});
