import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { cryptominerAnalyzer, isMinerCommandLine } from './index.js';
import { MAX_MINER_FINDINGS_PER_FILE } from '../../limits.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const scan = (files: { path: string; content: Buffer | string; mode?: number }[]) => analyzeFiles([cryptominerAnalyzer], files);
const byPath = <T extends { path?: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.path ?? '').localeCompare(b.path ?? ''));
const rules = (findings: { rule: string }[]): string[] => [...new Set(findings.map((f) => f.rule))].sort();

const WALLET = '44Bo9AAPsGvGzQwQxEGh4PAjo5wtbnTLs8hrCWX2b39DQ4WKfFFEwMQYNSjZNeqUPu3iXiMHDWQG4FBsadSuRgF75Khc5FS';

describe('cryptominer/miner-config', () => {
  it('finds an XMRig JSON config with its pool and wallet type', async () => {
    const { findings } = await scan([{ path: 'opt/.cache/config.json', content: fixture('xmrig-config.json') }]);
    const config = findings.find((f) => f.rule === 'cryptominer/miner-config')!;
    expect(config).toMatchObject({ category: 'cryptominer', severity: 'critical', path: 'opt/.cache/config.json', attack: ['T1496'] });
    expect(config.title).toBe('XMRig miner configuration with pool pool.supportxmr.com:3333');
    expect(config.evidence).toMatchObject({ family: 'xmrig', pools: ['pool.supportxmr.com:3333'], walletTypes: ['monero'] });
    expect(config.evidence!.excerpt).toContain('"url": "pool.supportxmr.com:3333"');
    expect(rules(findings)).toEqual(['cryptominer/miner-config', 'cryptominer/wallet']);
  });

  it('reads a hand-edited XMRig config with comments and trailing commas', async () => {
    const text = fixture('xmrig-config.json').toString().replace('"print-time": 60', '// edited\n"print-time": 60,');
    const { findings } = await scan([{ path: 'root/c.json', content: text }]);
    expect(rules(findings)).toContain('cryptominer/miner-config');
  });

  it('finds xmr-stak pools.txt and cpuminer option files', async () => {
    const { findings } = await scan([
      { path: 'opt/xmr-stak/pools.txt', content: fixture('pools.txt') },
      { path: 'etc/cpuminer/cpuminer-conf.json', content: fixture('cpuminer-conf.json') },
    ]);
    const configs = byPath(findings).filter((f) => f.rule === 'cryptominer/miner-config');
    expect(configs.map((f) => [f.path, f.evidence!.family])).toEqual([
      ['etc/cpuminer/cpuminer-conf.json', 'cpuminer'],
      ['opt/xmr-stak/pools.txt', 'xmr-stak'],
    ]);
    expect(configs[1]!.evidence!.pools).toEqual(['xmr-eu1.nanopool.org:14444']);
  });

  it('does not take a database connection-pool config for a miner config', async () => {
    const { findings } = await scan([{ path: 'app/config/pools.json', content: fixture('benign-pool.json') }]);
    expect(findings).toEqual([]);
  });
});

describe('cryptominer/stratum-url', () => {
  it('reports each stratum host:port with its line', async () => {
    const { findings } = await scan([{ path: 'docker-entrypoint.sh', content: fixture('entrypoint.sh'), mode: 0o755 }]);
    const stratum = findings.filter((f) => f.rule === 'cryptominer/stratum-url');
    expect(stratum).toHaveLength(1);
    expect(stratum[0]).toMatchObject({ severity: 'critical', title: 'Stratum mining URL gulf.moneroocean.stream:20128 in entrypoint' });
    expect(stratum[0]!.evidence).toMatchObject({ host: 'gulf.moneroocean.stream', port: 20128, knownPool: 'moneroocean.stream', line: 3, where: 'entrypoint' });
  });
});

describe('cryptominer/miner-command-line', () => {
  it('finds a renamed miner in a crontab, an entrypoint and shell history', async () => {
    const { findings } = await scan([
      { path: 'var/spool/cron/crontabs/root', content: fixture('crontab-miner') },
      { path: 'docker-entrypoint.sh', content: fixture('entrypoint.sh'), mode: 0o755 },
      { path: 'root/.bash_history', content: fixture('bash_history') },
    ]);
    const lines = byPath(findings).filter((f) => f.rule === 'cryptominer/miner-command-line');
    expect(lines.map((f) => [f.path, f.evidence!.line, f.severity])).toEqual([
      ['docker-entrypoint.sh', 3, 'critical'],
      ['root/.bash_history', 4, 'high'],
      ['root/.bash_history', 5, 'high'],
      ['var/spool/cron/crontabs/root', 1, 'critical'],
    ]);
    expect(lines[3]!.title).toBe('Cryptocurrency miner command line in crontab');
  });

  it('ignores curl, ssh and mysql options that share letters with miner options', () => {
    expect(isMinerCommandLine('curl -u deploy:token -o artifact.tgz https://example.test:8443/a.tgz')).toBe(false);
    expect(isMinerCommandLine('ssh -o StrictHostKeyChecking=no -p 2222 deploy@example.test')).toBe(false);
    expect(isMinerCommandLine('mysqldump -u root -p app > dump.sql')).toBe(false);
    expect(isMinerCommandLine('apt-get install -y cpuminer')).toBe(false);
    expect(isMinerCommandLine('xmrig -o pool.example.test:3333 -u W -p x')).toBe(true);
    expect(isMinerCommandLine('./a --algo=rx/0 --url=pool.example.test:3333')).toBe(true);
  });
});

describe('cryptominer/wallet', () => {
  it('finds Monero wallets alone, and Bitcoin/Ethereum only in miner context', async () => {
    const { findings } = await scan([
      { path: 'var/spool/cron/crontabs/root', content: fixture('crontab-miner') },
      { path: 'docker-entrypoint.sh', content: fixture('entrypoint.sh'), mode: 0o755 },
      { path: 'root/.bash_history', content: fixture('bash_history') },
      { path: 'usr/local/bin/run.sh', content: `#!/bin/sh\necho ${WALLET}\n` },
    ]);
    const wallets = byPath(findings).filter((f) => f.rule === 'cryptominer/wallet');
    expect(wallets.map((f) => [f.path, f.evidence!.walletType])).toEqual([
      ['docker-entrypoint.sh', 'ethereum'],
      ['root/.bash_history', 'bitcoin'],
      ['usr/local/bin/run.sh', 'monero'],
      ['var/spool/cron/crontabs/root', 'monero'],
    ]);
    expect(wallets[2]!.evidence!.address).toBe(WALLET);
  });

  it('validates checksums: a Monero-looking string with one character changed is not a wallet', async () => {
    const broken = `${WALLET.slice(0, 50)}${WALLET[50] === 'a' ? 'b' : 'a'}${WALLET.slice(51)}`;
    const { findings } = await scan([{ path: 'usr/local/bin/run.sh', content: `#!/bin/sh\necho ${broken}\n` }]);
    expect(findings).toEqual([]);
  });

  it('recognises the real Monero wallets of the Unit 42 list', async () => {
    const list = readFileSync(new URL('../../../../../shared/corpus/ioc/pan-unit42/xmr_wallets.txt', import.meta.url), 'utf8').split('\n').filter(Boolean).slice(0, 40);
    const { findings } = await scan([{ path: 'opt/w.sh', content: list.join('\n') }]);
    expect(findings.filter((f) => f.rule === 'cryptominer/wallet')).toHaveLength(Math.min(list.length, MAX_MINER_FINDINGS_PER_FILE));
  });
});

describe('cryptominer/pool-domain', () => {
  it('matches listed pool domains and their subdomains as host names', async () => {
    const { findings } = await scan([{ path: 'root/.bash_history', content: fixture('bash_history') }]);
    const pools = findings.filter((f) => f.rule === 'cryptominer/pool-domain');
    expect(pools.map((f) => f.evidence!.host)).toEqual(['c3pool.com']);
    expect(pools[0]).toMatchObject({ title: 'Mining-pool domain c3pool.com in history', severity: 'high' });
  });

  it('does not report a pool host again when its stratum URL or config already names it', async () => {
    const { findings } = await scan([{ path: 'opt/.cache/config.json', content: fixture('xmrig-config.json') }]);
    expect(findings.filter((f) => f.rule === 'cryptominer/pool-domain')).toEqual([]);
  });
});

describe('cryptominer: benign look-alikes and hostile input', () => {
  it('reports nothing for hashes, donation addresses and look-alike names in a script', async () => {
    const { findings } = await scan([{ path: 'usr/local/bin/benign.sh', content: fixture('benign.sh'), mode: 0o755 }]);
    expect(findings).toEqual([]);
  });

  it('skips binary content and survives junk and huge lines', async () => {
    const junk = Buffer.alloc(300_000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 251;
    const hugeLine = `x=${'a.'.repeat(500_000)} -o ${'1'.repeat(100_000)} stratum+tcp://${'b'.repeat(300)}`;
    const { findings, notices } = await scan([
      { path: 'usr/bin/xmrig', content: Buffer.concat([Buffer.from('\x7fELF\0\0'), Buffer.from(fixture('crontab-miner'))]), mode: 0o755 },
      { path: 'etc/junk.conf', content: junk },
      { path: 'etc/huge.conf', content: hugeLine },
      { path: 'etc/bad.json', content: '{"pools": [' + '{'.repeat(100_000) },
    ]);
    expect(notices).toEqual([]);
    expect(findings.filter((f) => f.path !== 'etc/huge.conf')).toEqual([]);
  });

  it('does not open files of other kinds', () => {
    expect(cryptominerAnalyzer.wants('usr/share/doc/xmrig/README.md', { path: '', type: 'file', size: 100, mode: 0o644 })).toBe(false);
    expect(cryptominerAnalyzer.wants('etc/crontab', { path: '', type: 'file', size: 100, mode: 0o644 })).toBe(true);
    expect(cryptominerAnalyzer.wants('usr/local/bin/run', { path: '', type: 'file', size: 100, mode: 0o755 })).toBe(true);
  });
});
