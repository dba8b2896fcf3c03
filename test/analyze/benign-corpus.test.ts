/**
 * Precision (issue 16, part 5): real Debian images a user would run, built from Debian's packages with mmdebstrap
 * (a web server, a database, a language runtime with common libraries, an admin toolbox with curl, netcat and socat),
 * scanned with every detector, the bundled YARA rules and the unpacking on. None may be judged malicious, and nothing
 * unpacked from them may be called a threat. What is "worth a look" is printed for the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benignDebianImage, type BenignImageSpec } from '../support/debian-image.js';
import { createDetectors, type Detectors } from '../../src/analyze/detectors.js';
import { scanReference } from '../../src/scan/scan.js';
import { MALICIOUS_CATEGORIES, type Report } from '../../src/model/index.js';

const CORPUS: BenignImageSpec[] = [
  { name: 'web-server', packages: ['nginx-light', 'ca-certificates'], config: { Cmd: ['nginx', '-g', 'daemon off;'], ExposedPorts: { '80/tcp': {} } } },
  { name: 'database', packages: ['postgresql'], config: { Cmd: ['pg_ctlcluster', '--foreground', '15', 'main', 'start'], User: 'postgres', ExposedPorts: { '5432/tcp': {} } } },
  {
    name: 'python-runtime',
    packages: ['python3', 'python3-pip', 'python3-requests', 'python3-yaml', 'python3-cryptography', 'python3-flask', 'python3-jinja2'],
    config: { Cmd: ['python3'] },
  },
  {
    name: 'admin-toolbox',
    packages: ['curl', 'netcat-openbsd', 'socat', 'dnsutils', 'iproute2', 'procps', 'jq', 'openssh-client', 'less', 'vim-tiny', 'ca-certificates'],
    config: { Cmd: ['/bin/bash'] },
  },
];

let work: string;
let detectors: Detectors;
const reports = new Map<string, Report>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-benign-'));
  detectors = await createDetectors();
  // two builds at a time: mmdebstrap is mostly downloads and unpacking
  const images = new Map<string, string>();
  for (let i = 0; i < CORPUS.length; i += 2) {
    const built = await Promise.all(CORPUS.slice(i, i + 2).map(async (spec) => [spec.name, (await benignDebianImage(spec)).archive] as const));
    for (const [name, archive] of built) images.set(name, archive);
  }
  for (const spec of CORPUS) {
    const [report] = await scanReference(`oci-archive:${images.get(spec.name)!}`, {
      cacheDir: join(work, 'cache'),
      analyzers: detectors.analyzers,
      imageChecks: detectors.imageChecks,
    });
    reports.set(spec.name, report!);
  }
}, 900_000);

afterAll(async () => {
  await detectors?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('benign images a user would run', () => {
  it.each(CORPUS.map((spec) => spec.name))('%s is not judged malicious, and nothing unpacked from it is called a threat', (name) => {
    const report = reports.get(name)!;
    expect(report.packages.length).toBeGreaterThan(50);
    const strong = report.findings.filter((f) => MALICIOUS_CATEGORIES.has(f.category) && (f.severity === 'critical' || f.severity === 'high'));
    expect(strong.map((f) => `${f.rule} ${f.path ?? ''}`)).toEqual([]);
    expect(report.findings.filter((f) => f.payload && MALICIOUS_CATEGORIES.has(f.category)).map((f) => `${f.rule} ${f.path ?? ''}`)).toEqual([]);
    expect(report.verdict.malicious).toBe(false);
    const byCategory: Record<string, number> = {};
    for (const f of report.findings) byCategory[`${f.category}/${f.severity}`] = (byCategory[`${f.category}/${f.severity}`] ?? 0) + 1;
    console.log(`[precision] ${name}: ${report.packages.length} packages; ${report.verdict.summary}; findings ${JSON.stringify(byCategory)}`);
  });
});
