import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from '../support/cli.js';
import { corpusDir } from '../support/paths.js';
import { debianImage } from '../support/debian-image.js';
import { layerTar } from '../support/image-builder.js';
import type { Report } from '../../src/model/index.js';

// The real mmdebstrap Debian image, plus a layer of installed language packages at versions the corpus feeds name,
// scanned against a DB the CLI builds from the corpus.
let work: string;
let report: Report;

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  const base = await debianImage();
  work = mkdtempSync(join(tmpdir(), 'detonate-debian-vulns-'));
  const env = { DETONATE_CACHE_DIR: join(work, 'cache') };
  const db = join(work, 'advisories.sqlite');
  const update = await runCli(['db', 'update', '-q', '--db', db, '--from', join(corpusDir, 'vuln')], env, 120_000);
  expect(update.code, update.stderr).toBe(0);

  // an OCI layout: the Debian image's blobs (hard-linked) plus one more layer
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const blobPath = (d: string, dir = layout) => join(dir, 'blobs', 'sha256', d.slice(7));
  const put = (data: Buffer) => {
    const d = sha(data);
    writeFileSync(blobPath(d), data);
    return { digest: d, size: data.length };
  };
  for (const l of base.layers) {
    try {
      linkSync(blobPath(l.digest, base.layoutDir), blobPath(l.digest));
    } catch {
      copyFileSync(blobPath(l.digest, base.layoutDir), blobPath(l.digest));
    }
  }
  const tar = await layerTar([
    { name: 'usr/local/lib/python3.11/dist-packages/urllib3-1.26.4.dist-info/METADATA', content: 'Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.4\n' },
    { name: 'srv/app/node_modules/lodash/package.json', content: JSON.stringify({ name: 'lodash', version: '4.17.4' }) },
  ]);
  const gz = gzipSync(tar);
  const extra = put(gz);
  const baseIndex = JSON.parse(readFileSync(join(base.layoutDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const baseManifest = JSON.parse(readFileSync(blobPath(baseIndex.manifests[0]!.digest, base.layoutDir), 'utf8')) as { config: { digest: string }; layers: object[] };
  const baseConfig = JSON.parse(readFileSync(blobPath(baseManifest.config.digest, base.layoutDir), 'utf8')) as { rootfs: { diff_ids: string[] }; history: object[] };
  baseConfig.rootfs.diff_ids.push(sha(tar));
  baseConfig.history.push({ created_by: 'pip install urllib3==1.26.4 && npm install lodash@4.17.4' });
  const config = put(Buffer.from(JSON.stringify(baseConfig)));
  const manifest = put(Buffer.from(JSON.stringify({
    ...baseManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [...baseManifest.layers, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...extra }],
  })));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');

  const scan = await runCli(['scan', '--static-only', '-q', '--format', 'json', '--db', db, `oci:${layout}`], env, 120_000);
  expect(scan.code, scan.stderr).toBe(0);
  report = JSON.parse(scan.stdout) as Report;
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a real Debian image with language packages, against the corpus feeds', () => {
  it('finds the PyPA and npm advisories for the added packages, in the layer that added them', () => {
    const urllib3 = report.vulnerabilities.filter((v) => v.package === 'urllib3');
    expect(urllib3.length).toBeGreaterThan(0);
    expect(urllib3.every((v) => v.layer === 2 && v.installedVersion === '1.26.4')).toBe(true);
    expect(urllib3.map((v) => [v.id, ...v.aliases]).flat()).toContain('CVE-2021-33503');
    const lodash = report.vulnerabilities.filter((v) => v.package === 'lodash').map((v) => v.id);
    expect(lodash).toEqual(expect.arrayContaining(['CVE-2018-3721', 'CVE-2018-16487']));
  });

  it('reports nothing for the Debian packages: the corpus lists (2023-04) hold no bookworm fixes', () => {
    expect(report.packages.filter((p) => p.type === 'deb').length).toBeGreaterThan(100);
    expect(report.vulnerabilities.filter((v) => report.packages.find((p) => p.purl === v.purl)?.type === 'deb')).toEqual([]);
  });
});
