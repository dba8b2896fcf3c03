/**
 * Precision of the static threat detectors on benign images: a Debian image, every image in ../shared/images/, an
 * image of Debian's libwine (hundreds of Windows PE files), and an image holding a real node_modules tree and a real
 * Python dist-packages tree. None may get a finding in a malicious category.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanReference } from '../../../src/scan/scan.js';
import type { FindingCategory, Report } from '../../../src/model/index.js';
import { debianImage } from '../../support/debian-image.js';
import { debianPackageDir } from '../../support/debian-packages.js';
import { directoryEntries, writeOciArchive } from '../../support/image-builder.js';
import { imagesDir, repoRoot } from '../../support/paths.js';
import { expectValidReport } from '../../support/report-schema.js';

const MALICIOUS: FindingCategory[] = ['cryptominer', 'hacking-tool', 'backdoor', 'windows-malware', 'malware', 'malicious-package'];

let dir: string;
let cacheDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'detonate-precision-'));
  cacheDir = join(dir, 'cache');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every report a benign image gets must also validate against the report schema. */
async function scan(reference: string): Promise<Report[]> {
  const reports = await scanReference(reference, { cacheDir, platform: 'all' });
  expectValidReport(reports, `the reports of ${reference}`);
  return reports;
}

function maliciousFindings(reports: Report[]): string[] {
  return reports.flatMap((r) => r.findings.filter((f) => MALICIOUS.includes(f.category)).map((f) => `${f.category} ${f.rule} ${f.path ?? ''}: ${f.title}`));
}

describe('precision on benign images', () => {
  it('a Debian image (mmdebstrap, with python3, perl and curl)', async () => {
    const image = await debianImage();
    const reports = await scan(`oci-archive:${image.archive}`);
    expect(maliciousFindings(reports)).toEqual([]);
    expect(reports[0]!.verdict.malicious).toBe(false);
  }, 300_000);

  it.each([
    'docker-archive:dive/test-docker-image.tar',
    'docker-archive:dive/test-kaniko-image.tar',
    'oci-archive:dive/test-oci-gzip-image.tar',
    'oci-archive:dive/test-oci-zstd-image.tar',
    'oci-archive:dive/test-oci-uncompressed-image.tar',
    'oci-archive:dive/test-oci-estargz-image.tar',
    'docker-archive:ggcr/hello-world-v25.tar',
  ])('%s from ../shared/images', async (ref) => {
    const [kind, file] = ref.split(':') as [string, string];
    const reports = await scan(`${kind}:${join(imagesDir, file)}`);
    expect(reports.length).toBeGreaterThan(0);
    expect(maliciousFindings(reports)).toEqual([]);
  }, 60_000);

  it('an image of Debian libwine: hundreds of Windows PE files, all windows-pe (info) and nothing malicious', async () => {
    const archive = join(dir, 'libwine.oci.tar');
    await writeOciArchive(archive, { layers: [{ entries: await directoryEntries(debianPackageDir('libwine'), ''), compression: 'none' }] });
    const [report] = await scan(`oci-archive:${archive}`);
    const pe = report!.findings.filter((f) => f.category === 'windows-pe');
    expect(pe.length).toBeGreaterThan(600);
    expect(pe.every((f) => f.severity === 'info')).toBe(true);
    expect(maliciousFindings([report!])).toEqual([]);
    expect(report!.verdict.malicious).toBe(false);
  }, 300_000);

  it('an image with a real node_modules tree and a Python dist-packages tree', async () => {
    const python = '/usr/lib/python3/dist-packages';
    const archive = join(dir, 'deps.oci.tar');
    await writeOciArchive(archive, {
      layers: [
        { entries: await directoryEntries(join(repoRoot, 'node_modules'), 'app/node_modules'), compression: 'none' },
        ...(existsSync(python) ? [{ entries: await directoryEntries(python, 'usr/lib/python3/dist-packages'), compression: 'none' as const }] : []),
      ],
    });
    const [report] = await scan(`oci-archive:${archive}`);
    expect(report!.packages.filter((p) => p.type === 'npm').length).toBeGreaterThan(100);
    expect(maliciousFindings([report!])).toEqual([]);
  }, 300_000);
});
