import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { renderCycloneDx, toCycloneDx, cycloneDxLicenses, type CycloneDxBom } from '../../src/report/cyclonedx.js';
import type { Finding, Report } from '../../src/model/index.js';
import { repoRoot } from '../support/paths.js';
import { alpineReport, debianReport, emptyReport, IMAGE_DIGEST } from './sample-reports.js';

const schemaDir = join(repoRoot, 'node_modules/@cyclonedx/cyclonedx-library/res/schema');
const loadSchema = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(schemaDir, name), 'utf8')) as Record<string, unknown>;

/**
 * The official CycloneDX 1.6 JSON schema (draft-07). It refers to its SPDX license-id and JSF sub-schemas by the
 * file names they have in this folder, resolved against its own $id, so they are registered under those URLs.
 */
function cycloneDx16Validator(): ValidateFunction {
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // Formats of JSON Schema that ajv-formats leaves out; no string Detonate writes uses them, so keep them loose.
  ajv.addFormat('iri-reference', /^\S*$/);
  ajv.addFormat('idn-email', /^\S+@\S+$/);
  ajv.addSchema(loadSchema('spdx.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json');
  ajv.addSchema(loadSchema('jsf-0.82.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json');
  return ajv.compile(loadSchema('bom-1.6.SNAPSHOT.schema.json'));
}

const validate = cycloneDx16Validator();
const fixed = { now: new Date('2024-03-02T10:00:00.123Z'), randomUuid: () => '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9' };

function expectValid(bom: unknown): void {
  const ok = validate(bom);
  expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5), null, 2)).toEqual([]);
  expect(ok).toBe(true);
}

function parse(text: string): CycloneDxBom {
  return JSON.parse(text) as CycloneDxBom;
}

describe('CycloneDX 1.6 output', () => {
  const reports: [string, () => Report][] = [
    ['a Debian image with language packages and odd names', debianReport],
    ['an Alpine image pulled by digest, with vulnerabilities', alpineReport],
    ['an empty scratch image from an archive', emptyReport],
  ];

  for (const [label, make] of reports) {
    it(`validates against the CycloneDX 1.6 schema: ${label}`, () => {
      expectValid(parse(renderCycloneDx([make()])));
    });
  }

  it('stays valid for a package with empty name, version and purl and no paths', () => {
    const report = emptyReport();
    report.packages = [{ name: '', version: '', type: 'npm', purl: '', layer: 7, paths: [] }];
    const bom = toCycloneDx(report, fixed);
    expectValid(bom);
    expect(bom.components[0]).toMatchObject({ type: 'library', name: '', 'bom-ref': 'npm:@' });
  });

  it('the validator itself rejects a BOM that breaks the schema', () => {
    const bom = toCycloneDx(debianReport(), fixed) as unknown as { components: { type: string; licenses?: unknown }[] };
    const broken = structuredClone(bom);
    (broken.components[1] as { type: string }).type = 'package';
    expect(validate(broken)).toBe(false);
    const unknownLicense = structuredClone(bom);
    (unknownLicense.components[1] as { licenses?: unknown }).licenses = [{ license: { id: 'Not-A-License' } }];
    expect(validate(unknownLicense)).toBe(false);
  });

  it('has the header fields: format, spec version, a urn:uuid serial number, version 1, timestamp and tool', () => {
    const report = debianReport();
    const bom = parse(renderCycloneDx([report], fixed));
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toBe('1.6');
    expect(bom.serialNumber).toBe('urn:uuid:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9');
    expect(bom.version).toBe(1);
    expect(bom.metadata.timestamp).toBe('2024-03-02T10:00:00.123Z');
    expect(bom.metadata.tools.components).toEqual([{ type: 'application', name: 'detonate', version: report.tool.version }]);
  });

  it('gives each BOM a fresh serial number by default', () => {
    const a = toCycloneDx(debianReport());
    const b = toCycloneDx(debianReport());
    expect(a.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.serialNumber).not.toBe(b.serialNumber);
  });

  it('describes the image as a container component with its digest and a pkg:oci purl', () => {
    const bom = toCycloneDx(debianReport(), fixed);
    const image = bom.metadata.component;
    expect(image.type).toBe('container');
    expect(image.name).toBe('docker.io/library/example');
    expect(image.version).toBe(IMAGE_DIGEST);
    expect(image.purl).toBe(`pkg:oci/example@${IMAGE_DIGEST}?arch=amd64&repository_url=docker.io%2Flibrary%2Fexample&tag=1.0`);
  });

  it('names images from archives and by-digest references sensibly', () => {
    expect(toCycloneDx(emptyReport()).metadata.component.purl).toBe(`pkg:oci/scratch-image@${emptyReport().image.digest}?arch=arm64`);
    const alpine = toCycloneDx(alpineReport()).metadata.component;
    expect(alpine.name).toBe('ghcr.io/owner/team/alpine-app');
    expect(alpine.purl).toBe(`pkg:oci/alpine-app@${alpineReport().image.digest}?arch=amd64&repository_url=ghcr.io%2Fowner%2Fteam%2Falpine-app`);
  });

  it('lists the OS as an operating-system component', () => {
    const bom = toCycloneDx(debianReport(), fixed);
    const os = bom.components.filter((c) => c.type === 'operating-system');
    expect(os).toEqual([expect.objectContaining({ name: 'debian', version: '12', description: 'Debian GNU/Linux 12 (bookworm)' })]);
  });

  it('lists every package as a library with its purl, name and version, in report order', () => {
    const report = debianReport();
    const bom = toCycloneDx(report, fixed);
    const libraries = bom.components.filter((c) => c.type === 'library');
    expect(libraries.map((c) => [c.name, c.version, c.purl])).toEqual(report.packages.map((p) => [p.name, p.version, p.purl]));
    expect(libraries.map((c) => c.name)).toContain('ünïcödé-包');
    expect(libraries.map((c) => c.purl)).toContain('pkg:npm/%40babel/core@7.24.0');
  });

  it('records where each package was found: layer, layer diffID, paths, source package', () => {
    const report = debianReport();
    const bom = toCycloneDx(report, fixed);
    const libssl = bom.components.find((c) => c.name === 'libssl3');
    const props = (libssl?.properties ?? []).map((p) => [p.name, p.value]);
    expect(props).toEqual(
      expect.arrayContaining([
        ['detonate:layer', '0'],
        ['detonate:layerDiffId', report.image.layers[0]?.diffId],
        ['detonate:path', 'var/lib/dpkg/status'],
        ['detonate:sourceName', 'openssl'],
      ]),
    );
    expect(libssl?.evidence?.occurrences).toEqual([{ location: '/var/lib/dpkg/status' }]);
  });

  it('gives every component a unique bom-ref, also for a package installed twice', () => {
    const bom = toCycloneDx(debianReport(), fixed);
    const refs = [bom.metadata.component, ...bom.components].map((c) => c['bom-ref']);
    expect(new Set(refs).size).toBe(refs.length);
    const lodash = bom.components.filter((c) => c.name === 'lodash');
    expect(lodash).toHaveLength(2);
    expect(lodash[0]?.purl).toBe(lodash[1]?.purl);
  });

  it('makes the image depend on every component, and refers only to existing bom-refs', () => {
    const bom = toCycloneDx(debianReport(), fixed);
    const refs = new Set(bom.components.map((c) => c['bom-ref']));
    expect(bom.dependencies).toEqual([{ ref: bom.metadata.component['bom-ref'], dependsOn: [...refs] }]);
  });

  it('maps declared licenses onto SPDX ids, names or one expression as the schema allows', () => {
    expect(cycloneDxLicenses(['mit'])).toEqual([{ license: { id: 'MIT' } }]);
    expect(cycloneDxLicenses(['BSD License'])).toEqual([{ license: { name: 'BSD License' } }]);
    expect(cycloneDxLicenses(['Apache-2.0 OR MIT'])).toEqual([{ expression: 'Apache-2.0 OR MIT' }]);
    expect(cycloneDxLicenses(['MIT', 'Apache-2.0'])).toEqual([{ license: { id: 'MIT' } }, { license: { id: 'Apache-2.0' } }]);
    expect(cycloneDxLicenses(['GPL-3.0-or-later WITH GCC-exception-3.1', 'GFDL-1.2'])).toEqual([
      { expression: '(GPL-3.0-or-later WITH GCC-exception-3.1) AND GFDL-1.2' },
    ]);
    expect(cycloneDxLicenses(['GPL-2+', 'MIT OR X11'])).toEqual([{ license: { name: 'GPL-2+' } }, { license: { name: 'MIT OR X11' } }]);
    expect(cycloneDxLicenses(['LicenseRef-ring'])).toEqual([{ expression: 'LicenseRef-ring' }]);
    expect(cycloneDxLicenses([])).toBeUndefined();
    expect(cycloneDxLicenses(['MIT', 'MIT', ' '])).toEqual([{ license: { id: 'MIT' } }]);
  });

  it('renders several images as an array of valid BOMs, one per image, with different serial numbers', () => {
    const boms = JSON.parse(renderCycloneDx([debianReport(), alpineReport(), emptyReport()])) as CycloneDxBom[];
    expect(boms).toHaveLength(3);
    for (const bom of boms) expectValid(bom);
    expect(new Set(boms.map((b) => b.serialNumber)).size).toBe(3);
    expect(boms.map((b) => b.metadata.component.version)).toEqual([IMAGE_DIGEST, alpineReport().image.digest, emptyReport().image.digest]);
  });

  it('is deterministic when time and UUID are pinned, and ends in a newline', () => {
    const a = renderCycloneDx([debianReport()], fixed);
    expect(renderCycloneDx([debianReport()], fixed)).toBe(a);
    expect(a.endsWith('}\n')).toBe(true);
  });
});

describe('CycloneDX vulnerabilities section', () => {
  it('lists each matched advisory with its rating, the affected components and the fix; skips malformed entries', () => {
    const report = alpineReport();
    const bom = parse(renderCycloneDx([report], fixed));
    expectValid(bom);
    const libcrypto = bom.components.find((c) => c.name === 'libcrypto3')!;
    expect(bom.vulnerabilities).toEqual([
      expect.objectContaining({
        id: 'CVE-2024-0727',
        source: { name: 'NVD' },
        ratings: [expect.objectContaining({ severity: 'medium', method: 'other' })],
        affects: [{ ref: libcrypto['bom-ref'], versions: [{ version: '3.1.4-r5', status: 'affected' }] }],
        recommendation: 'Upgrade libcrypto3 to 3.1.4-r6 or later',
      }),
    ]);
  });

  it('carries CVSS vectors as ratings with their method, and aliases as references', () => {
    const report = alpineReport();
    report.vulnerabilities = [{
      id: 'CVE-2023-5678', aliases: ['DSA-5532-1', 'GHSA-aaaa-bbbb-cccc'], package: report.packages[2]!.name, purl: report.packages[2]!.purl, installedVersion: report.packages[2]!.version,
      fixedVersion: null, severity: 'moderate', cvss: { score: 5.3, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L' }, source: 'DSA-5532-1', layer: 0, wontFix: true,
    }];
    const bom = parse(renderCycloneDx([report], fixed));
    expectValid(bom);
    expect(bom.vulnerabilities![0]).toMatchObject({
      ratings: [{ score: 5.3, severity: 'medium', method: 'CVSSv31', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L' }],
      references: [{ id: 'DSA-5532-1', source: { name: 'Debian' } }, { id: 'GHSA-aaaa-bbbb-cccc', source: { name: 'GitHub' } }],
      analysis: { state: 'exploitable', response: ['will_not_fix'] },
    });
  });
});

describe('CycloneDX threat findings', () => {
  const shell: Finding = {
    category: 'backdoor', severity: 'critical', source: 'dynamic', rule: 'backdoor/reverse-shell-dev-tcp', path: 'tmp/x', sha256: 'ab'.repeat(32),
    title: 'reverse shell to /dev/tcp', attack: ['T1059.004'], evidence: { droppedAtRuntime: true },
  };

  function withThreats(): Report {
    const report = debianReport();
    report.findings = [
      ...report.findings,
      shell,
      { ...shell, rule: 'yara/shell-dropper', category: 'malware', severity: 'high', title: 'dropper script' },
      { category: 'secret', severity: 'high', source: 'static', rule: 'secret/env-aws', title: 'AWS key in ENV', layer: 0 },
    ];
    return report;
  }

  it('validates against the CycloneDX 1.6 schema with static, dynamic and pathless findings', () => {
    expectValid(toCycloneDx(withThreats(), fixed));
    expectValid((JSON.parse(renderCycloneDx([withThreats(), emptyReport()], fixed)) as CycloneDxBom[])[0]);
  });

  it('lists each flagged file once as a file component with its SHA-256, layer and the findings summarised under detonate:', () => {
    const report = withThreats();
    const bom = toCycloneDx(report, fixed);
    const files = bom.components.filter((c) => c.type === 'file');
    expect(files.map((c) => c.name)).toEqual(['app/.env', 'app/tools/helper.dll', 'tmp/xmrig', 'tmp/x']);
    const miner = files.find((c) => c.name === 'tmp/xmrig')!;
    expect(miner).toMatchObject({ 'bom-ref': 'file:/tmp/xmrig', hashes: [{ alg: 'SHA-256', content: '9e'.repeat(32) }], evidence: { occurrences: [{ location: '/tmp/xmrig' }] } });
    expect(miner.properties).toEqual([
      { name: 'detonate:threat:category', value: 'cryptominer' },
      { name: 'detonate:threat:rule', value: 'yara/xmrig' },
      { name: 'detonate:threat:severity', value: 'critical' },
      { name: 'detonate:threat:source', value: 'static' },
      { name: 'detonate:layer', value: '1' },
      { name: 'detonate:layerDiffId', value: report.image.layers[1]!.diffId },
      { name: 'detonate:removedInLayer', value: '2' },
    ]);
    const dropped = files.find((c) => c.name === 'tmp/x')!;
    expect(dropped.properties).toEqual(expect.arrayContaining([
      { name: 'detonate:threat:category', value: 'backdoor' },
      { name: 'detonate:threat:category', value: 'malware' },
      { name: 'detonate:threat:severity', value: 'critical' },
      { name: 'detonate:threat:source', value: 'dynamic' },
      { name: 'detonate:droppedAtRuntime', value: 'true' },
    ]));
    // the image contains the flagged files too
    expect(bom.dependencies[0]!.dependsOn).toEqual(expect.arrayContaining(files.map((c) => c['bom-ref'])));
  });

  it('records every finding as an annotation by the detonate tool on its file, or on the image when it names none', () => {
    const report = withThreats();
    const bom = toCycloneDx(report, fixed);
    expect(bom.annotations).toHaveLength(report.findings.length);
    const refs = new Set([bom.metadata.component['bom-ref'], ...bom.components.map((c) => c['bom-ref'])]);
    for (const a of bom.annotations!) {
      expect(a.annotator.component).toEqual({ type: 'application', name: 'detonate', version: report.tool.version });
      expect(a.timestamp).toBe('2024-03-02T10:00:00.123Z');
      for (const subject of a.subjects) expect(refs.has(subject)).toBe(true);
    }
    const texts = bom.annotations!.map((a) => a.text);
    expect(texts).toContain('critical cryptominer: XMRig miner binary (rule yara/xmrig; layer 1, deleted in layer 2 but still in the image)');
    expect(texts).toContain('critical backdoor: reverse shell to /dev/tcp (rule backdoor/reverse-shell-dev-tcp; seen when the image ran; MITRE ATT&CK T1059.004)');
    const env = bom.annotations!.find((a) => a.text.startsWith('high secret: AWS key in ENV'))!;
    expect(env.subjects).toEqual([bom.metadata.component['bom-ref']]);
    const allRefs = [...refs, ...bom.annotations!.map((a) => a['bom-ref'])];
    expect(new Set(allRefs).size).toBe(allRefs.length);
  });

  it('carries the verdict in the metadata properties', () => {
    const bom = toCycloneDx(debianReport(), fixed);
    expect(bom.metadata.properties).toEqual(expect.arrayContaining([
      { name: 'detonate:verdict:malicious', value: 'true' },
      { name: 'detonate:verdict:category', value: 'cryptominer' },
      { name: 'detonate:verdict:summary', value: debianReport().verdict.summary },
    ]));
  });

  it('an image without findings has no file components and no annotations; a malformed hash is left out', () => {
    const bom = toCycloneDx(emptyReport(), fixed);
    expect(bom.components.filter((c) => c.type === 'file')).toEqual([]);
    expect(bom).not.toHaveProperty('annotations');
    const report = emptyReport();
    report.findings = [{ ...shell, sha256: 'not-a-hash', path: '/tmp/<img src=x onerror=alert(1)>' }];
    const odd = toCycloneDx(report, fixed);
    expectValid(odd);
    expect(odd.components[0]).toMatchObject({ type: 'file', name: 'tmp/<img src=x onerror=alert(1)>' });
    expect(odd.components[0]).not.toHaveProperty('hashes');
  });
});
