import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';
import { parseFailOn, meetsFailOn } from '../../src/cli/scan.js';
import type { Report } from '../../src/model/index.js';

const example = `oci-archive:${join(repoRoot, 'examples/example-app.oci.tar')}`;
let work: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-cli-'));
  env = { DETONATE_CACHE_DIR: join(work, 'cache') };
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('detonate scan', () => {
  it('writes the JSON report of the example image to stdout, progress to stderr, exit 0', async () => {
    const r = await runCli(['scan', '--static-only', '--format', 'json', example], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.schemaVersion).toBe(1);
    expect(report.image.layers).toHaveLength(3);
    expect(report.image.layers[1]!.createdBy).toBe('COPY app/ /srv/app/ # buildkit');
    expect(report.image.config).toMatchObject({ user: 'app', entrypoint: ['node', '/srv/app/server.js'], exposedPorts: ['8080/tcp'] });
    expect(report.image.files?.removed).toBe(1); // tmp/build-cache.txt, deleted in layer 2
    expect(r.stderr).toMatch(/example-app\.oci\.tar \(linux\/amd64\): \d+ packages in 3 layers/);
  });

  it('writes to --output and defaults to JSON when stdout is not a terminal', async () => {
    const out = join(work, 'report.json');
    const r = await runCli(['scan', '--static-only', '--quiet', '--output', out, example], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).image.reference).toBe(example);
  });

  it('an array of reports for several images', async () => {
    const r = await runCli(['scan', '--static-only', '-q', example, example], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(2);
  });

  it.each([
    [['scan', '--static-only', 'oci-archive:/nonexistent/image.tar'], /cannot open archive \/nonexistent\/image.tar: no such file/],
    [['scan', '--static-only', '--platform', 'linux', example], /invalid platform "linux": expected os\/arch/],
    [['scan', '--static-only', '--fail-on', 'bogus', example], /"bogus" is neither a severity/],
    [['scan', '--format', 'pdf', example], /argument 'pdf' is invalid/],
    [['scan', '--nonsense', example], /unknown option '--nonsense'/],
    [['scan'], /missing required argument 'image'/],
  ])('exit 2 with a clear message: %j', async (args, message) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});

describe('--fail-on', () => {
  const report = (findings: Partial<Report['findings'][number]>[], critical = 0) =>
    ({ findings: findings.map((f) => ({ category: 'suspicious', severity: 'low', title: 't', source: 'static', rule: 'r', ...f })), verdict: { vulnerabilities: { critical, high: 0, moderate: 0, low: 0, unknown: 0 } } }) as unknown as Report;

  it('is met by a finding at or above the severity, by a listed category, or by vulnerability counts', () => {
    expect(meetsFailOn(report([{ severity: 'high' }]), parseFailOn('high'))).toBe(true);
    expect(meetsFailOn(report([{ severity: 'moderate' }]), parseFailOn('high'))).toBe(false);
    expect(meetsFailOn(report([{ category: 'cryptominer', severity: 'info' }]), parseFailOn('critical,cryptominer'))).toBe(true);
    expect(meetsFailOn(report([{ category: 'secret', severity: 'moderate' }]), parseFailOn('cryptominer'))).toBe(false);
    expect(meetsFailOn(report([], 1), parseFailOn('high'))).toBe(true);
    expect(meetsFailOn(report([], 0), parseFailOn('low'))).toBe(false);
  });
});
