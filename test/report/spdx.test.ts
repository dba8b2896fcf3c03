import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { renderSpdx, toSpdx, type SpdxDocument, type SpdxPackage } from '../../src/report/spdx.js';
import { alpineReport, debianReport, emptyReport, IMAGE_DIGEST } from './sample-reports.js';
import { spdx23Problems } from './spdx23-constraints.js';

const fixed = { now: new Date('2024-03-02T10:00:00.987Z'), randomUuid: () => '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9' };

function purlOf(p: SpdxPackage): string | undefined {
  return p.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
}

function imageOf(doc: SpdxDocument): SpdxPackage {
  const described = doc.relationships.find((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES');
  const image = doc.packages.find((p) => p.SPDXID === described?.relatedSpdxElement);
  if (!image) throw new Error('the document describes no package');
  return image;
}

describe('SPDX 2.3 output', () => {
  const reports: [string, () => Report][] = [
    ['a Debian image with language packages and odd names', debianReport],
    ['an Alpine image pulled by digest, with vulnerabilities', alpineReport],
    ['an empty scratch image from an archive', emptyReport],
  ];

  for (const [label, make] of reports) {
    it(`meets the SPDX 2.3 constraints: ${label}`, () => {
      const doc = JSON.parse(renderSpdx([make()])) as unknown;
      expect(spdx23Problems(doc)).toEqual([]);
    });
  }

  it('stays valid for a package with empty name, version and purl and no paths', () => {
    const report = emptyReport();
    report.packages = [{ name: '', version: '', type: 'npm', purl: '', layer: 7, paths: [], licenses: [''] }];
    const doc = toSpdx(report, fixed);
    expect(spdx23Problems(doc)).toEqual([]);
    expect(doc.packages[1]).toMatchObject({ name: '', SPDXID: 'SPDXRef-Package-npm-x', sourceInfo: 'found in layer 7', licenseDeclared: 'NOASSERTION' });
  });

  it('the constraint check itself catches broken documents', () => {
    const good = toSpdx(debianReport(), fixed);
    const breakages: [string, (d: SpdxDocument & Record<string, unknown>) => void][] = [
      ['an SPDXID with "_"', (d) => void ((d.packages[2] as SpdxPackage).SPDXID = 'SPDXRef-Package_x')],
      ['a duplicate SPDXID', (d) => void ((d.packages[3] as SpdxPackage).SPDXID = (d.packages[2] as SpdxPackage).SPDXID)],
      ['a missing downloadLocation', (d) => void delete (d.packages[2] as Partial<SpdxPackage>).downloadLocation],
      ['an unknown relationship type', (d) => void ((d.relationships[1] as { relationshipType: string }).relationshipType = 'HAS')],
      ['a relationship to nothing', (d) => void ((d.relationships[1] as { relatedSpdxElement: string }).relatedSpdxElement = 'SPDXRef-gone')],
      ['milliseconds in created', (d) => void (d.creationInfo.created = '2024-03-02T10:00:00.987Z')],
      ['a "#" in the namespace', (d) => void (d.documentNamespace += '#x')],
      ['a non-SPDX declared license', (d) => void ((d.packages[2] as SpdxPackage).licenseDeclared = 'GPL-2+')],
      ['an undefined LicenseRef', (d) => void ((d.packages[2] as SpdxPackage).licenseDeclared = 'LicenseRef-ring')],
      ['a purl with a space', (d) => void (((d.packages[2] as SpdxPackage).externalRefs ?? [])[0]!.referenceLocator = 'pkg:npm/a b@1')],
      ['an unknown top-level property', (d) => void (d.extra = 1)],
    ];
    expect(spdx23Problems(good)).toEqual([]);
    for (const [label, breakIt] of breakages) {
      const doc = structuredClone(good) as SpdxDocument & Record<string, unknown>;
      breakIt(doc);
      expect(spdx23Problems(doc), label).not.toEqual([]);
    }
  });

  it('has the document header: version, data license, id, name, a unique namespace, creation info', () => {
    const report = debianReport();
    const doc = toSpdx(report, fixed);
    expect(doc.spdxVersion).toBe('SPDX-2.3');
    expect(doc.dataLicense).toBe('CC0-1.0');
    expect(doc.SPDXID).toBe('SPDXRef-DOCUMENT');
    expect(doc.name).toBe('docker.io/library/example:1.0');
    expect(doc.documentNamespace).toBe('https://detonate.invalid/spdx/example-0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9');
    expect(doc.creationInfo).toEqual({ created: '2024-03-02T10:00:00Z', creators: ['Tool: detonate-0.1.0'] });
    expect(toSpdx(report).documentNamespace).not.toBe(toSpdx(report).documentNamespace);
    expect(toSpdx(report, { ...fixed, namespaceBase: 'https://sbom.example.test/docs/' }).documentNamespace).toBe(
      'https://sbom.example.test/docs/example-0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
    );
  });

  it('describes the image as a CONTAINER package with its digest, checksum and pkg:oci purl', () => {
    const doc = toSpdx(debianReport(), fixed);
    const image = imageOf(doc);
    expect(image.primaryPackagePurpose).toBe('CONTAINER');
    expect(image.versionInfo).toBe(IMAGE_DIGEST);
    expect(image.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: IMAGE_DIGEST.slice('sha256:'.length) }]);
    expect(purlOf(image)).toBe(`pkg:oci/example@${IMAGE_DIGEST}?arch=amd64&repository_url=docker.io%2Flibrary%2Fexample&tag=1.0`);
  });

  it('lists the OS as an OPERATING-SYSTEM package the image contains', () => {
    const doc = toSpdx(debianReport(), fixed);
    const os = doc.packages.filter((p) => p.primaryPackagePurpose === 'OPERATING-SYSTEM');
    expect(os).toEqual([expect.objectContaining({ name: 'debian', versionInfo: '12', description: 'Debian GNU/Linux 12 (bookworm)' })]);
    expect(doc.relationships).toContainEqual({ spdxElementId: imageOf(doc).SPDXID, relationshipType: 'CONTAINS', relatedSpdxElement: os[0]?.SPDXID });
    expect(toSpdx(emptyReport(), fixed).packages.some((p) => p.primaryPackagePurpose === 'OPERATING-SYSTEM')).toBe(false);
  });

  it('lists every package with its purl, name, version and the layer it came from, contained in the image', () => {
    const report = debianReport();
    const doc = toSpdx(report, fixed);
    const image = imageOf(doc);
    const contained = new Set(doc.relationships.filter((r) => r.spdxElementId === image.SPDXID && r.relationshipType === 'CONTAINS').map((r) => r.relatedSpdxElement));
    const listed = doc.packages.filter((p) => p !== image && p.primaryPackagePurpose !== 'OPERATING-SYSTEM');
    expect(listed.map((p) => [p.name, p.versionInfo, purlOf(p)])).toEqual(report.packages.map((p) => [p.name, p.version, p.purl]));
    for (const p of listed) {
      expect(contained.has(p.SPDXID), p.name).toBe(true);
      expect(p.downloadLocation).toBe('NOASSERTION');
      expect(p.filesAnalyzed).toBe(false);
    }
    const libssl = listed.find((p) => p.name === 'libssl3');
    expect(libssl?.sourceInfo).toBe(
      `found in layer 0 (${report.image.layers[0]?.diffId}) at /var/lib/dpkg/status; built from source package openssl 3.0.11-1~deb12u2`,
    );
  });

  it('keeps odd names intact and still makes valid, unique SPDX ids of them', () => {
    const doc = toSpdx(debianReport(), fixed);
    const names = doc.packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['ünïcödé-包', '@babel/core', 'libstdc++6', 'evil\u001b[2Jname\u202egnp.exe']));
    const ids = doc.packages.map((p) => p.SPDXID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
  });

  it('declares licenses only as valid SPDX expressions, keeping other declared text in licenseComments', () => {
    const doc = toSpdx(debianReport(), fixed);
    const byName = (name: string): SpdxPackage | undefined => doc.packages.find((p) => p.name === name);
    expect(byName('libssl3')?.licenseDeclared).toBe('Apache-2.0');
    expect(byName('lodash')?.licenseDeclared).toBe('MIT'); // declared as "mit"
    expect(byName('log4j-core')?.licenseDeclared).toBe('Apache-2.0 OR MIT');
    expect(byName('libstdc++6')?.licenseDeclared).toBe('(GPL-3.0-or-later WITH GCC-exception-3.1) AND GFDL-1.2');
    expect(byName('Jinja2')).toMatchObject({ licenseDeclared: 'NOASSERTION', licenseComments: 'Declared by the package as: BSD License' });
    expect(byName('bash')).toMatchObject({ licenseDeclared: 'NOASSERTION', licenseComments: 'Declared by the package as: GPL-3+' });
    expect(byName('ring')?.licenseDeclared).toBe('NOASSERTION'); // a LicenseRef the document cannot define
    expect(byName('Newtonsoft.Json')).toMatchObject({ licenseDeclared: 'NOASSERTION' });
    expect(byName('Newtonsoft.Json')?.licenseComments).toBeUndefined();
    for (const p of doc.packages) expect(p.licenseConcluded).toBe('NOASSERTION');
  });

  it('renders several images as an array of valid documents with distinct namespaces', () => {
    const docs = JSON.parse(renderSpdx([debianReport(), alpineReport(), emptyReport()])) as SpdxDocument[];
    expect(docs).toHaveLength(3);
    for (const doc of docs) expect(spdx23Problems(doc)).toEqual([]);
    expect(new Set(docs.map((d) => d.documentNamespace)).size).toBe(3);
    expect(docs.map((d) => imageOf(d).versionInfo)).toEqual([IMAGE_DIGEST, alpineReport().image.digest, emptyReport().image.digest]);
  });

  it('is deterministic when time and UUID are pinned, and ends in a newline', () => {
    const a = renderSpdx([debianReport()], fixed);
    expect(renderSpdx([debianReport()], fixed)).toBe(a);
    expect(a.endsWith('}\n')).toBe(true);
  });
});
