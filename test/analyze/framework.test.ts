import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Analyzer, AnalyzedFile } from '../../src/analyze/analyzer.js';
import { mergeLayers } from '../../src/analyze/merge.js';
import { analyzeLayerFiles } from '../../src/analyze/runner.js';
import { scanReference } from '../../src/scan/scan.js';
import { writeOciArchive } from '../support/image-builder.js';
import { expectValidReport } from '../support/report-schema.js';

/** A toy cataloger: each `pkgs/<name>` file lists `name version` lines; it also flags files containing EVIL. */
function lineCatalog(version = 1): Analyzer & { seen: string[] } {
  const seen: string[] = [];
  return {
    name: 'line-catalog',
    version,
    seen,
    wants: (path) => path.startsWith('pkgs/') || path.endsWith('.sh'),
    analyze(file: AnalyzedFile) {
      seen.push(file.path);
      const text = file.content.toString();
      if (file.path.endsWith('.sh')) {
        return text.includes('EVIL') ? { findings: [{ category: 'backdoor', severity: 'high', title: 'evil script', rule: 'test-evil' }] } : {};
      }
      return {
        packages: text.trim().split('\n').filter(Boolean).map((line) => {
          const [name, v] = line.split(' ');
          return { name: name!, version: v!, type: 'npm' as const, purl: `pkg:npm/${name}@${v}` };
        }),
      };
    },
  };
}

const file = (path: string, content: string) => ({ header: { path, type: 'file' as const, size: content.length, mode: 0o644 }, content: Buffer.from(content) });

describe('merging layers', () => {
  it('keeps the packages of the database file a container would see, attributed to the layer that first had them', async () => {
    const a = lineCatalog();
    const l0 = await analyzeLayerFiles([a], 'sha256:0', [file('pkgs/db', 'base 1.0\nlibc 2.0\n')]);
    const l1 = await analyzeLayerFiles([a], 'sha256:1', [file('pkgs/db', 'base 1.0\nlibc 2.1\ncurl 7.0\n')]); // upgrade + install
    const merged = mergeLayers([l0, l1]);
    expect(merged.packages.map((p) => [p.name, p.version, p.layer])).toEqual([['base', '1.0', 0], ['curl', '7.0', 1], ['libc', '2.1', 1]]);
    expect(merged.packages[0]!.paths).toEqual(['pkgs/db']);
  });

  it('drops packages whose database a later layer deletes, but keeps findings on deleted files, marked', async () => {
    const a = lineCatalog();
    const l0 = await analyzeLayerFiles([a], 'sha256:0', [file('pkgs/tool', 'miner 6.0\n'), file('opt/drop.sh', 'EVIL payload')]);
    const l1 = await analyzeLayerFiles([a], 'sha256:1', []);
    l1.whiteouts.push('pkgs/tool');
    l1.opaqueDirs.push('opt');
    const merged = mergeLayers([l0, l1]);
    expect(merged.packages).toEqual([]);
    expect(merged.findings).toHaveLength(1);
    expect(merged.findings[0]).toMatchObject({ path: 'opt/drop.sh', layer: 0, removedInLayer: 1, source: 'static', rule: 'test-evil' });
    expect(merged.findings[0]!.sha256).toMatch(/^[a-f0-9]{64}$/);
    expect(merged.files.has('opt/drop.sh')).toBe(false);
  });

  it('a faulty analyzer becomes a notice; the walk and other analyzers go on', async () => {
    const broken: Analyzer = { name: 'broken', version: 1, wants: () => true, analyze: () => { throw new Error('boom'); } };
    const a = lineCatalog();
    const l0 = await analyzeLayerFiles([broken, a], 'sha256:0', [file('pkgs/db', 'x 1\n')]);
    const merged = mergeLayers([l0]);
    expect(merged.packages.map((p) => p.name)).toEqual(['x']);
    expect(merged.notices).toEqual([expect.objectContaining({ level: 'warning', path: 'pkgs/db', message: expect.stringMatching(/broken could not read this file: boom/) })]);
  });
});

describe('per-layer result cache', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'detonate-cache-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('analyses a layer once across images, and again only when an analyzer version changes', async () => {
    const base = { entries: [{ name: 'pkgs/base', content: 'base 1.0\n' }] };
    await writeOciArchive(join(work, 'a.tar'), { layers: [base, { entries: [{ name: 'pkgs/a', content: 'a 1.0\n' }] }] });
    await writeOciArchive(join(work, 'b.tar'), { layers: [base, { entries: [{ name: 'pkgs/b', content: 'b 2.0\n' }] }] });
    const cacheDir = join(work, 'cache');
    const v1 = lineCatalog(1);
    const [a] = await scanReference(`oci-archive:${join(work, 'a.tar')}`, { cacheDir, analyzers: [v1] });
    const [b] = await scanReference(`oci-archive:${join(work, 'b.tar')}`, { cacheDir, analyzers: [v1] });
    expect(v1.seen).toEqual(['pkgs/base', 'pkgs/a', 'pkgs/b']); // the shared base layer was walked once
    expectValidReport([a, b]);
    expect(a!.packages.map((p) => p.name)).toEqual(['a', 'base']);
    expect(b!.packages.map((p) => p.name)).toEqual(['b', 'base']);
    const again = lineCatalog(1);
    await scanReference(`oci-archive:${join(work, 'a.tar')}`, { cacheDir, analyzers: [again] });
    expect(again.seen).toEqual([]);
    const v2 = lineCatalog(2);
    await scanReference(`oci-archive:${join(work, 'a.tar')}`, { cacheDir, analyzers: [v2] });
    expect(v2.seen).toEqual(['pkgs/base', 'pkgs/a']);
  });
});

describe('concurrent analysis within a layer', () => {
  /** An analyzer that waits a varying time per file, as a YARA scan on another thread does, and records overlap. */
  function slowAnalyzer(): Analyzer & { maxConcurrent: number } {
    let running = 0;
    const a = {
      name: 'slow',
      version: 1,
      maxConcurrent: 0,
      wants: () => true,
      async analyze(file: AnalyzedFile) {
        running++;
        a.maxConcurrent = Math.max(a.maxConcurrent, running);
        const n = Number(file.path.slice(2));
        await new Promise((r) => setTimeout(r, (n * 7) % 5));
        running--;
        return { findings: [{ category: 'suspicious' as const, severity: 'low' as const, title: file.path, rule: 'slow/file' }] };
      },
    };
    return a;
  }

  it('overlaps files that wait on other threads, bounded, and keeps results in layer order', async () => {
    const analyzer = slowAnalyzer();
    const files = Array.from({ length: 60 }, (_, i) => ({ header: { path: `f/${i}`, type: 'file' as const, size: 1, mode: 0o644 }, content: Buffer.from('x') }));
    const result = await analyzeLayerFiles([analyzer], 'sha256:slow', files);
    expect(analyzer.maxConcurrent).toBeGreaterThan(1);
    expect(analyzer.maxConcurrent).toBeLessThanOrEqual(16);
    expect(result.analyses.map((a) => a.path)).toEqual(files.map((f) => f.header.path));
  });
});
