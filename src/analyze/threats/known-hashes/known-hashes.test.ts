import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { HashListError, createKnownHashesAnalyzer, loadHashLists } from './index.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'detonate-hashes-'));
function list(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('known-bad hash lists', () => {
  it('reads plain, sha256sum, CSV and prefixed lines, with comments', () => {
    const l = loadHashLists([
      list('a.txt', `# bad things\n${sha('one')}\n${sha('two').toUpperCase()}  dropper.exe\n`),
      list('b.csv', `sha256,name\n${sha('three')},kinsing\nsha256:${sha('four')} # miner\n`),
    ]);
    expect(l.entries.get(sha('one'))).toBe('');
    expect(l.entries.get(sha('two'))).toBe('dropper.exe');
    expect(l.entries.get(sha('three'))).toBe('kinsing');
    expect(l.entries.has(sha('four'))).toBe(true);
    expect(l.sources).toEqual(['a.txt', 'b.csv']);
  });

  it('names the file and line of a malformed entry', () => {
    const path = list('bad.txt', `${sha('one')}\nnot-a-hash\n`);
    expect(() => loadHashLists([path])).toThrow(HashListError);
    expect(() => loadHashLists([path])).toThrow(/bad\.txt:2: expected a SHA-256/);
  });

  it('flags files whose content is listed, wherever they are and whatever they are called', async () => {
    const analyzer = createKnownHashesAnalyzer(loadHashLists([list('c.txt', `${sha('evil payload')} family-x\n`)]));
    const { findings } = await analyzeFiles([analyzer], [
      { path: 'tmp/.x/kworker', content: 'evil payload', mode: 0o755 },
      { path: 'usr/share/doc/readme', content: 'evil payload!' },
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ category: 'malware', severity: 'critical', rule: 'known-hashes/match', path: 'tmp/.x/kworker', sha256: sha('evil payload') });
    expect(findings[0]!.title).toContain('family-x');
  });

  it('makes the list part of the cache key', () => {
    const a = createKnownHashesAnalyzer(loadHashLists([list('d.txt', `${sha('1')}\n`)]));
    const b = createKnownHashesAnalyzer(loadHashLists([list('e.txt', `${sha('2')}\n`)]));
    expect(a.configKey).not.toBe(b.configKey);
  });
});
