import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, imagesDir } from '../support/paths.js';
import { writeOciArchive } from '../support/image-builder.js';

// The installed CLI is a bundle (scripts/bundle.mjs); these run it as a user would, including the parts that load
// lazily (native zstd, SQLite, the YAML parser, each renderer).
const bundle = join(repoRoot, 'dist', 'bin', 'detonate.mjs');
let work: string;

function detonate(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_DATA_DIR: join(work, 'data') };
  const r = spawnSync(process.execPath, [bundle, ...args], { env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // always re-bundle (under a second), so the test covers the code as it is now
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: repoRoot });
  work = mkdtempSync(join(tmpdir(), 'detonate-bundle-'));
  chmodSync(work, 0o755); // the private store's server runs as postgres when the tests run as root
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the bundled CLI', () => {
  it('prints its version', () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    expect(detonate(['--version']).stdout.trim()).toBe(version);
  });

  it.each([
    ['json', (out: string) => expect(JSON.parse(out).packages.length).toBeGreaterThan(10)],
    ['cyclonedx', (out: string) => expect(JSON.parse(out)).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6' })],
    ['spdx', (out: string) => expect(JSON.parse(out)).toMatchObject({ spdxVersion: 'SPDX-2.3' })],
    ['table', (out: string) => expect(out).toMatch(/libssl3\s+3\.0\.11-1~deb12u2\s+deb\s+openssl/)],
    ['sarif', (out: string) => expect(JSON.parse(out)).toMatchObject({ version: '2.1.0', runs: [{ tool: { driver: { name: 'detonate' } } }] })],
  ])('scans the example image as %s', (format, check) => {
    const r = detonate(['scan', '--static-only', '-q', '--format', format, `oci-archive:${join(repoRoot, 'examples/example-app.oci.tar')}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    check(r.stdout);
  });

  it('records a scan in the private results store (pg, and the migrations found from dist/bin)', () => {
    const scan = detonate(['scan', '--static-only', '-q', '--store', `oci-archive:${join(repoRoot, 'examples/example-app.oci.tar')}`]);
    expect(scan.code).toBe(0);
    const status = detonate(['store', 'status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ kind: 'private', running: false, schemaVersion: 8, images: 1, scans: { done: 1, failed: 0, skipped: 0 } });
  });

  it('reads zstd layers, SQLite rpm databases and pnpm lock files', async () => {
    const zstd = detonate(['scan', '--static-only', '-q', `oci-archive:${join(imagesDir, 'dive/test-oci-zstd-image.tar')}`]);
    expect(zstd.code).toBe(0);
    expect(JSON.parse(zstd.stdout).image.files.count).toBe(1);
    const archive = join(work, 'mixed.tar');
    await writeOciArchive(archive, {
      layers: [{
        compression: 'zstd',
        entries: [
          { name: 'var/lib/rpm/rpmdb.sqlite', content: readFileSync(join(repoRoot, 'src/analyze/packages/rpm/testdata/rpmdb.sqlite')) },
          { name: 'app/pnpm-lock.yaml', content: readFileSync(join(repoRoot, 'src/analyze/packages/npm/testdata/pnpm-v9.yaml')) },
        ],
      }],
    });
    const r = detonate(['scan', '--static-only', '-q', `oci-archive:${archive}`]);
    expect(r.code).toBe(0);
    const types = new Set((JSON.parse(r.stdout).packages as { type: string }[]).map((p) => p.type));
    expect([...types].sort()).toEqual(['npm', 'rpm']);
  });
});
