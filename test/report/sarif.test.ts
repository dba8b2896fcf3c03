import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04Module from 'ajv-draft-04';
import type { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { repoRoot } from '../support/paths.js';
import { renderSarif } from '../../src/report/sarif.js';
import type { Report } from '../../src/report/model.js';
import { alpineReport, debianReport, emptyReport } from './sample-reports.js';

// The SARIF 2.1.0 JSON schema as Microsoft's SARIF tooling ships it (draft-04).
const schema = JSON.parse(readFileSync(join(repoRoot, 'node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8')) as object;
// the schema's language-tag pattern is not a valid unicode-mode regular expression
// both packages are CommonJS with a default export; under NodeNext the class sits on `.default`
const AjvDraft04 = (AjvDraft04Module as unknown as { default: new (options: object) => Ajv }).default;
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

function expectValid(log: unknown): void {
  const ok = validate(log);
  expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5), null, 2)).toEqual([]);
  expect(ok).toBe(true);
}

function withThreats(report: Report): Report {
  report.findings = [
    { category: 'cryptominer', severity: 'critical', title: 'XMRig miner binary', source: 'static', rule: 'miner-xmrig', path: 'usr/local/bin/kdevtmpfsi', layer: 1, removedInLayer: 2, sha256: 'a'.repeat(64), attack: ['T1496'] },
    { category: 'secret', severity: 'high', title: 'AWS access key in ENV', source: 'static', rule: 'secret-aws-access-key', layer: 0, removedInLayer: null },
  ];
  return report;
}

describe('SARIF 2.1.0 output', () => {
  it.each([
    ['a Debian image', debianReport],
    ['an Alpine image with vulnerabilities', alpineReport],
    ['an empty image', emptyReport],
  ])('validates against the SARIF 2.1.0 schema: %s', (_label, make) => {
    expectValid(JSON.parse(renderSarif([withThreats(make())])));
  });

  it('reports vulnerabilities and threat findings as results of rules with a security severity', () => {
    const report = withThreats(alpineReport());
    const log = JSON.parse(renderSarif([report]));
    const run = log.runs[0];
    expect(run.tool.driver.name).toBe('detonate');
    const byRule = Object.fromEntries(run.results.map((r: { ruleId: string }) => [r.ruleId, r]));
    expect(byRule['miner-xmrig']).toMatchObject({ level: 'error', locations: [{ physicalLocation: { artifactLocation: { uri: 'usr/local/bin/kdevtmpfsi' } } }] });
    expect(byRule['miner-xmrig'].message.text).toMatch(/deleted in layer 2, still in the image/);
    expect(byRule['CVE-2024-0727']).toMatchObject({ level: 'warning', properties: { fixedVersion: '3.1.4-r6' } });
    const rule = run.tool.driver.rules[byRule['CVE-2024-0727'].ruleIndex];
    expect(rule).toMatchObject({ id: 'CVE-2024-0727', helpUri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-0727', properties: { 'security-severity': '5.5' } });
    // malformed entries of the sample report are not results
    expect(run.results.filter((r: { ruleId: string }) => !r.ruleId)).toEqual([]);
  });

  it('one run per image', () => {
    const log = JSON.parse(renderSarif([debianReport(), alpineReport()]));
    expectValid(log);
    expect(log.runs).toHaveLength(2);
  });
});
