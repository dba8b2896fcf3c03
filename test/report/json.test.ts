import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import type { Report } from '../../src/model/index.js';
import { alpineReport, debianReport, emptyReport } from './sample-reports.js';

/** The same object with its keys, at every level, in reverse order: as a report built in another order would be. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)])) as T;
}

describe('JSON report', () => {
  it('writes one object for one image, an array for several, and an empty array for none', () => {
    expect(JSON.parse(renderJson([debianReport()]))).toMatchObject({ schemaVersion: 1, image: { reference: 'docker.io/library/example:1.0' } });
    const several = JSON.parse(renderJson([debianReport(), alpineReport()])) as Report[];
    expect(several.map((r) => r.image.digest)).toEqual([debianReport().image.digest, alpineReport().image.digest]);
    expect(JSON.parse(renderJson([]))).toEqual([]);
  });

  it('keeps every value of the report', () => {
    for (const report of [debianReport(), alpineReport(), emptyReport()]) {
      expect(JSON.parse(renderJson([report]))).toEqual(JSON.parse(JSON.stringify(report)));
    }
  });

  it('indents with 2 spaces and ends with a newline', () => {
    const text = renderJson([emptyReport()]);
    expect(text.startsWith('{\n  "schemaVersion": 1,\n  "tool": {\n    "name": "detonate",')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('puts keys in the contract order whatever order the report was built in', () => {
    const report = debianReport();
    const text = renderJson([report]);
    expect(renderJson([reverseKeys(report)])).toBe(text);
    const parsed = JSON.parse(text) as Record<string, unknown> & { image: Record<string, unknown>; packages: Record<string, unknown>[]; findings: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'tool', 'image', 'packages', 'vulnerabilities', 'findings', 'behavior', 'verdict', 'notices', 'scannedAt']);
    expect(Object.keys(parsed.image)).toEqual(['reference', 'digest', 'configDigest', 'platform', 'os', 'layers', 'config', 'files']);
    expect(Object.keys(parsed.packages[0] ?? {})).toEqual(['name', 'version', 'sourceName', 'sourceVersion', 'type', 'purl', 'layer', 'paths', 'arch', 'licenses']);
    expect(Object.keys(parsed.findings[0] ?? {})).toEqual(['category', 'severity', 'title', 'source', 'rule', 'path', 'layer', 'removedInLayer', 'attack']);
  });

  it('orders vulnerabilities as the contract does and sorts free-form maps and unknown keys', () => {
    const report = alpineReport();
    report.image.config.labels = { zeta: '1', alpha: '2' };
    (report as unknown as Record<string, unknown>).zExtension = { b: 1, a: 2 };
    (report as unknown as Record<string, unknown>).aExtension = true;
    const parsed = JSON.parse(renderJson([reverseKeys(report)])) as Record<string, unknown> & { vulnerabilities: unknown[]; image: { config: { labels: object } } };
    expect(Object.keys(parsed.vulnerabilities[0] as object)).toEqual(['id', 'aliases', 'package', 'purl', 'installedVersion', 'fixedVersion', 'severity', 'source', 'layer']);
    expect(parsed.vulnerabilities[2]).toBe('not an object');
    expect(Object.keys(parsed.image.config.labels)).toEqual(['alpha', 'zeta']);
    expect(Object.keys(parsed).slice(-2)).toEqual(['aExtension', 'zExtension']);
    expect(Object.keys(parsed.zExtension as object)).toEqual(['a', 'b']);
  });

  it('refuses a report with a reference cycle with a clear error', () => {
    const report = debianReport();
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    report.vulnerabilities = [loop] as unknown as Report['vulnerabilities'];
    expect(() => renderJson([report])).toThrow(/cycle/);
  });

  it('writes the same object twice in a report (shared, not cyclic) in full both times', () => {
    const report = debianReport();
    const shared = { id: 'CVE-2024-1', package: 'bash' };
    report.vulnerabilities = [shared, shared] as unknown as Report['vulnerabilities'];
    const parsed = JSON.parse(renderJson([report])) as Report;
    expect(parsed.vulnerabilities).toEqual([shared, shared]);
  });
});
