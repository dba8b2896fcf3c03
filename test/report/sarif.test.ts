import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvDraft04Module from 'ajv-draft-04';
import type { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { repoRoot } from '../support/paths.js';
import { renderSarif } from '../../src/report/sarif.js';
import type { Finding, Report } from '../../src/model/index.js';
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
    expect(byRule['miner-xmrig'].message.text).toBe('XMRig miner binary');
    expect(byRule['miner-xmrig'].locations[0].message.text).toMatch(/layer 1, deleted in layer 2, still in the image/);
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

interface SarifLog {
  runs: {
    tool: { driver: { rules: { id: string; name: string; shortDescription: { text: string }; help: { text: string; markdown: string }; helpUri?: string; properties: { tags: string[]; 'security-severity': string } }[] } };
    results: { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string } }; message: { text: string }; properties: Record<string, unknown> }[]; properties: Record<string, unknown> }[];
    properties: Record<string, unknown>;
  }[];
}

const dynamicShell: Finding = {
  category: 'backdoor', severity: 'critical', source: 'dynamic', rule: 'behavior.backdoor.reverse-shell', attack: ['T1059.004'],
  title: 'reverse shell: sh -i fed by a connection to 203.0.113.7:4444', path: '/bin/sh',
  evidence: { description: 'A shell whose input comes from an outbound network connection.', count: 2, events: [{ pid: 7, argv: ['sh', '-i'] }], blob: 'x'.repeat(5000) },
};

function threatLog(findings: Finding[]): SarifLog {
  const report = debianReport();
  report.findings = findings;
  const log = JSON.parse(renderSarif([report])) as SarifLog;
  expectValid(log);
  return log;
}

describe('SARIF threat findings', () => {
  it('one rule per finding rule id, with its category and ATT&CK ids, a result per finding', () => {
    const second: Finding = { ...dynamicShell, path: '/usr/bin/bash', severity: 'high', title: 'reverse shell: bash' };
    const { runs: [run] } = threatLog([...debianReport().findings, dynamicShell, second]);
    const rules = run!.tool.driver.rules;
    expect(rules.map((r) => r.id)).toEqual(['secret/aws-access-key', 'pe/present', 'yara/xmrig', 'behavior.backdoor.reverse-shell']);
    expect(run!.results.map((r) => r.ruleId)).toEqual(['secret/aws-access-key', 'pe/present', 'yara/xmrig', 'behavior.backdoor.reverse-shell', 'behavior.backdoor.reverse-shell']);
    for (const r of run!.results) expect(rules[r.ruleIndex]!.id).toBe(r.ruleId);
    const shell = rules[3]!;
    expect(shell.name).toBe('behaviorbackdoorreverseshell');
    expect(shell.shortDescription.text).toBe('backdoor: A shell whose input comes from an outbound network connection.');
    expect(shell.help.text).toMatch(/MITRE ATT&CK: T1059\.004/);
    expect(shell.help.markdown).toContain('[T1059.004](https://attack.mitre.org/techniques/T1059/004/)');
    expect(shell.helpUri).toBe('https://attack.mitre.org/techniques/T1059/004/');
    expect(shell.properties.tags).toEqual(['security', 'threat', 'backdoor', 'external/mitre-attack/T1059.004']);
    // the rule carries the worst severity of its findings, for GitHub's security-severity buckets
    expect(shell.properties['security-severity']).toBe('9.5');
    expect(rules[1]!.properties).toMatchObject({ 'security-severity': '0.0', tags: ['security', 'threat', 'windows-pe'] });
  });

  it('levels follow severity: critical and high are errors, moderate a warning, low and info notes', () => {
    const severities = ['critical', 'high', 'moderate', 'low', 'info'] as const;
    const { runs: [run] } = threatLog(severities.map((severity) => ({ ...dynamicShell, severity, rule: `r-${severity}` })));
    expect(run!.results.map((r) => r.level)).toEqual(['error', 'error', 'warning', 'note', 'note']);
  });

  it('locates a static finding at its file in the image, with the layer and hash in properties', () => {
    const { runs: [run] } = threatLog(debianReport().findings);
    const miner = run!.results.find((r) => r.ruleId === 'yara/xmrig')!;
    expect(miner.message.text).toBe('XMRig miner binary');
    expect(miner.locations[0]!.physicalLocation.artifactLocation.uri).toBe('tmp/xmrig');
    expect(miner.locations[0]!.properties).toEqual({ layer: 1, layerDiffId: debianReport().image.layers[1]!.diffId, removedInLayer: 2, sha256: '9e'.repeat(32) });
    expect(miner.properties).toMatchObject({ category: 'cryptominer', severity: 'critical', source: 'static', layer: 1, removedInLayer: 2 });
  });

  it('carries dynamic findings with a relative URI of the container path and their evidence, bounded', () => {
    const { runs: [run] } = threatLog([dynamicShell]);
    const [result] = run!.results;
    expect(result!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('bin/sh');
    expect(result!.locations[0]!.message.text).toMatch(/seen when the image ran/);
    expect(result!.properties).toMatchObject({ source: 'dynamic', attack: ['T1059.004'] });
    const evidence = result!.properties.evidence as Record<string, string>;
    expect(evidence.count).toBe('2');
    expect(evidence.events).toBe('[{"pid":7,"argv":["sh","-i"]}]');
    expect(evidence.blob!.length).toBeLessThanOrEqual(512);
  });

  it('a finding without a path still has a location (GitHub needs one): the image', () => {
    const { runs: [run] } = threatLog([{ category: 'secret', severity: 'high', title: 'AWS key in ENV', source: 'static', rule: 'secret/env' }]);
    expect(run!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('docker.io/library/example%3A1.0');
    expect(run!.results[0]!.locations[0]!.message.text).toMatch(/image configuration/);
  });

  it('keeps text from the image inert: Markdown escaped, URIs percent-encoded, malformed ATT&CK ids not linked', () => {
    const evil: Finding = {
      ...dynamicShell, rule: 'evil', attack: ['T1059', '](javascript:alert(1))'], path: '/tmp/a b/<img src=x onerror=alert(1)>',
      evidence: { description: '[click](https://evil.example) <script>alert(1)</script> **bold**' },
    };
    const { runs: [run] } = threatLog([evil]);
    const markdown = run!.tool.driver.rules[0]!.help.markdown;
    expect(markdown).not.toMatch(/\[click\]\(/);
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toContain('javascript:');
    expect(markdown).toContain('\\<script\\>');
    expect(run!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('tmp/a%20b/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E');
    expect(run!.results[0]!.properties.attack).toEqual(['T1059']);
  });

  it('puts the verdict in the run properties', () => {
    const { runs: [run] } = threatLog(debianReport().findings);
    expect(run!.properties.verdict).toEqual({ malicious: true, categories: ['cryptominer', 'secret', 'windows-pe'], summary: debianReport().verdict.summary });
  });
});

