import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';
import { startRegistry, type RealRegistry } from '../support/registry.js';
import type { Report } from '../../src/model/index.js';

let registry: RealRegistry;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-cli-registry-'));
  registry = await startRegistry();
  await registry.push(`oci-archive:${join(repoRoot, 'examples/example-app.oci.tar')}`, 'examples/app:1.0');
});
afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('detonate scan REGISTRY/REPO:TAG', () => {
  it('pulls from a real registry on loopback and reports the same image as the archive', async () => {
    const env = { DETONATE_CACHE_DIR: join(work, 'cache') };
    const fromRegistry = await runCli(['scan', '--static-only', '--format', 'json', `${registry.host}/examples/app:1.0`], env);
    expect(fromRegistry.stderr).not.toMatch(/error/i);
    expect(fromRegistry.code).toBe(0);
    const fromArchive = await runCli(['scan', '--static-only', '-q', '--format', 'json', `oci-archive:${join(repoRoot, 'examples/example-app.oci.tar')}`], env);
    const a = JSON.parse(fromRegistry.stdout) as Report;
    const b = JSON.parse(fromArchive.stdout) as Report;
    expect(a.image.reference).toBe(`${registry.host}/examples/app:1.0`);
    expect(a.image.layers.map((l) => l.diffId)).toEqual(b.image.layers.map((l) => l.diffId));
    expect(a.image.config).toEqual(b.image.config);
    expect(a.packages.map((p) => p.purl)).toEqual(b.packages.map((p) => p.purl));
    expect(a.image.files).toEqual(b.image.files);
  });

  it('a missing tag is a clear error with exit 2', async () => {
    const r = await runCli(['scan', '--static-only', '-q', `${registry.host}/examples/app:nope`], { DETONATE_CACHE_DIR: join(work, 'cache2') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not found/i);
  });
});
