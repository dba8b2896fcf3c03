import { describe, expect, it } from 'vitest';
import type { Package, Report, Vulnerability } from '../../src/model/index.js';
import { inventoryMatchKeys, reportMatchSummary } from '../../src/vuln/fingerprint.js';
import { npm, unmatchedReport } from '../rematch/fixtures.js';

const vuln = (pkg: Package, id: string, extra: Partial<Vulnerability> = {}): Vulnerability => ({
  id, aliases: ['GHSA-xxxx-yyyy-zzzz'], package: pkg.name, purl: pkg.purl, installedVersion: pkg.version, fixedVersion: '9.9.9', severity: 'high',
  cvss: null, source: 'GHSA-xxxx-yyyy-zzzz', layer: pkg.layer, ...extra,
});

function reportWith(packages: Package[], vulnerabilities: Vulnerability[]): Report {
  return { ...unmatchedReport(`sha256:${'1'.repeat(64)}`, packages), vulnerabilities, tool: { name: 'detonate', version: '0.1.0', advisoryDb: { builtAt: '2099-01-01T00:00:00.000Z', sources: [] } } };
}

describe('match fingerprints (what a rematch reads instead of a report)', () => {
  const lodash = npm('lodash', '4.17.4');
  const express = npm('express', '4.18.2');

  it('keys are JSON text: names with NUL, quotes or separators stay distinct and storable', () => {
    const keys = inventoryMatchKeys([npm('a\u0000b', '1'), npm('a', '\u0000b1'), npm('x"y', '1'), npm('a\u0000b', '1')], null);
    expect(keys).toHaveLength(3);
    for (const k of keys) expect(k).not.toContain('\u0000');
    expect(keys.map((k) => JSON.parse(k) as string[])).toContainEqual(['npm', 'a\u0000b', '1']);
  });

  it('is the same for the same hits whatever their order, and differs when a hit, its fix or the judging differs', () => {
    const a = reportMatchSummary(reportWith([lodash, express], [vuln(lodash, 'CVE-1'), vuln(express, 'CVE-2')]), 'rules-1')!;
    const b = reportMatchSummary(reportWith([express, lodash], [vuln(express, 'CVE-2'), vuln(lodash, 'CVE-1')]), 'rules-1')!;
    expect(b).toEqual(a);
    expect(reportMatchSummary(reportWith([lodash, express], [vuln(lodash, 'CVE-1')]), 'rules-1')!.fingerprint).not.toBe(a.fingerprint);
    expect(reportMatchSummary(reportWith([lodash, express], [vuln(lodash, 'CVE-1', { fixedVersion: null }), vuln(express, 'CVE-2')]), 'rules-1')!.fingerprint).not.toBe(a.fingerprint);
    // the same advisory on the other package is another hit
    expect(reportMatchSummary(reportWith([lodash, express], [vuln(express, 'CVE-1'), vuln(express, 'CVE-2')]), 'rules-1')!.fingerprint).not.toBe(a.fingerprint);
    expect(reportMatchSummary(reportWith([lodash, express], [vuln(lodash, 'CVE-1'), vuln(express, 'CVE-2')]), 'rules-2')!.fingerprint).not.toBe(a.fingerprint);
  });

  it('counts a suppressed vulnerability as a hit (the ignore entries are in the judging digest)', () => {
    const shown = reportMatchSummary(reportWith([lodash], [vuln(lodash, 'CVE-1')]), 'rules-1')!;
    const suppressed = { ...reportWith([lodash], []), suppressed: [{ vulnerability: vuln(lodash, 'CVE-1'), reason: 'r', ignoredBy: 'f:1' }] };
    expect(reportMatchSummary(suppressed, 'rules-1')).toEqual(shown);
  });

  it('has none for a report whose hit names a package it does not list', () => {
    expect(reportMatchSummary(reportWith([lodash], [vuln(express, 'CVE-2')]), 'rules-1')).toBeNull();
  });
});
