import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/model/index.js';
import { renderTable } from '../../src/report/table.js';
import { displayWidth, formatBytes, terminalSafe, truncate, wrap } from '../../src/report/text.js';
import { alpineReport, debianReport, emptyReport, IMAGE_DIGEST, pkg } from './sample-reports.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const plain = (text: string): string => text.replace(ANSI, '');
const lines = (text: string): string[] => text.split('\n');

/** The lines of one section: from its heading to the blank line that ends it. */
function section(text: string, heading: string): string[] {
  const all = lines(text);
  const start = all.findIndex((l) => l.startsWith(heading));
  if (start === -1) return [];
  const end = all.indexOf('', start);
  return all.slice(start, end === -1 ? undefined : end);
}

describe('table output', () => {
  it('starts with what the image is: reference, digest, platform, OS, layers and size, packages by type', () => {
    const text = renderTable([debianReport()], { color: false, width: 120 });
    const head = section(text, 'docker.io/library/example:1.0');
    expect(head[0]).toBe('docker.io/library/example:1.0');
    expect(head).toContain(`  Digest    ${IMAGE_DIGEST}`);
    expect(head).toContain('  Platform  linux/amd64');
    expect(head).toContain('  OS        Debian GNU/Linux 12 (bookworm)');
    expect(head).toContain('  Layers    3 (77.3 MB)');
    expect(head).toContain('  Packages  17: deb 4, npm 5, pypi 2, gem 1, golang 2, maven 1, nuget 1, cargo 1');
    expect(head).toContain('  User      app');
    expect(head).toContain('  Command   /usr/local/bin/tool serve --port 8080');
    expect(head.join('\n')).toContain('Verdict   MALICIOUS: Debian GNU/Linux 12');
  });

  it('opens with the verdict, the threat categories, the strongest evidence and what the detonation saw', () => {
    const report = debianReport();
    report.verdict.evidence = [
      { category: 'cryptominer', severity: 'critical', source: 'dynamic', rule: 'behavior.cryptominer.stratum', title: 'speaks stratum to pool.example.test:3333' },
      { category: 'cryptominer', severity: 'high', source: 'static', rule: 'yara/Miner_XMRig', title: 'XMRig miner', path: 'usr/local/bin/kdevtmpfsi' },
    ];
    const head = section(renderTable([report], { color: false, width: 120 }), 'docker.io/library/example:1.0');
    expect(head[1]).toMatch(/^ {2}Verdict {3}MALICIOUS: /);
    expect(head).toContain(`  Threats   ${report.verdict.categories.join(', ')}`);
    expect(head).toContain('  Evidence  critical cryptominer: speaks stratum to pool.example.test:3333');
    expect(head).toContain('            high cryptominer: XMRig miner (/usr/local/bin/kdevtmpfsi)');
    expect(head).toContain('  Behavior  not run (--static-only)');
    expect(head.findIndex((l) => l.startsWith('  Verdict'))).toBeLessThan(head.findIndex((l) => l.startsWith('  Digest')));
  });

  it('lists the layers with index, size, package count and a readable command', () => {
    const text = renderTable([debianReport()], { color: false, width: 160 });
    expect(section(text, 'Layers (3)')).toEqual([
      'Layers (3)',
      '  #     SIZE  PKGS  CREATED BY',
      '  0  29.2 MB     3  ADD file:6e5a7f1b2c3d4e5f in /',
      '  1   1.8 kB     1  RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*',
      '  2  48.1 MB    13  COPY app /app \\x1b]0;pwned\\x07',
    ]);
  });

  it('lists packages grouped by type then name, with the source package only where it differs', () => {
    const text = renderTable([debianReport()], { color: false, width: 120 });
    const rows = section(text, 'Packages (17)');
    expect(rows[1]).toMatch(/^ {2}NAME +VERSION +TYPE +SOURCE +LAYER$/);
    const names = rows.slice(2).map((r) => r.trim().split(/ {2,}/)[0]);
    expect(names.slice(0, 6)).toEqual(['bash', 'libssl3', 'libstdc++6', 'tzdata', '@babel/core', 'evil\\x1b[2Jname\\u202egnp.exe']);
    expect(rows.find((r) => r.includes('libssl3'))).toMatch(/libssl3 +3\.0\.11-1~deb12u2 +deb +openssl +0$/);
    expect(rows.find((r) => r.includes('bash'))).toMatch(/bash +5\.2\.15-2\+b2 +deb +bash 5\.2\.15-2 +0$/);
    expect(rows.find((r) => r.includes('tzdata'))).toMatch(/tzdata +2024a-0\+deb12u1 +deb +1$/);
    // Columns line up: every row has its LAYER value in the header's LAYER column.
    const layerEnd = (rows[1] ?? '').length;
    for (const row of rows.slice(2)) expect(displayWidth(row), row).toBe(layerEnd);
  });

  it('drops the source column when no package has a different source', () => {
    const report = debianReport({ packages: [pkg({ type: 'npm', name: 'left-pad', version: '1.3.0', layer: 0, paths: ['package.json'] })] });
    expect(section(renderTable([report], { color: false }), 'Packages (1)')[1]).toMatch(/^ {2}NAME +VERSION +TYPE +LAYER$/);
  });

  it('lists findings, most severe first, with where they are and whether a later layer removed them', () => {
    const rows = section(renderTable([debianReport()], { color: false, width: 140 }), 'Findings (3)');
    expect(rows.slice(2).map((r) => r.trim().split(/ {2,}/))).toEqual([
      ['critical', 'cryptominer', 'XMRig miner binary', '/tmp/xmrig', '1 (removed in 2)'],
      ['high', 'secret', 'AWS access key', '/app/.env', '2'],
      ['info', 'windows-pe', 'Windows executable (.NET assembly)', '/app/tools/helper.dll', '2'],
    ]);
  });

  it('lists vulnerabilities it can read, most severe first, and counts the ones it cannot', () => {
    const text = renderTable([alpineReport()], { color: false, width: 120 });
    expect(text).toContain('  Vulns     1 critical, 1 moderate');
    const rows = section(text, 'Vulnerabilities (2)');
    expect(rows[0]).toBe('Vulnerabilities (2), advisory database built 2024-03-01T00:00:00Z');
    expect(rows.slice(2).map((r) => r.trim().split(/ {2,}/))).toEqual([
      ['critical', 'CVE-2023-42363', 'busybox', '1.36.1-r15', 'no fix'],
      ['moderate', 'CVE-2024-0727', 'libcrypto3', '3.1.4-r5', '3.1.4-r6'],
      ['2 entries not shown: no id'],
    ]);
  });

  it('says when vulnerabilities were not checked, and when none are known', () => {
    expect(renderTable([debianReport()], { color: false })).toContain('\nVulnerabilities: not checked (no advisory database)\n');
    const checked = debianReport({ tool: { name: 'detonate', version: '0.1.0', advisoryDb: { builtAt: '2024-03-01T00:00:00Z', sources: [] } } });
    expect(renderTable([checked], { color: false })).toContain('\nVulnerabilities: none known, advisory database built 2024-03-01T00:00:00Z\n');
  });

  it('lists notices at the end, wrapped to the width', () => {
    const text = renderTable([debianReport()], { color: false, width: 60 });
    const notices = section(text, 'Notices (2)');
    expect(text.trimEnd().endsWith(notices.join('\n'))).toBe(true);
    expect(notices.join('\n')).toBe(
      [
        'Notices (2)',
        '  warning  skipped a file larger than the 64 MiB analysis',
        '           limit (/opt/huge.bin, layer 2)',
        '  error    unreadable package database: truncated record at',
        '           byte 4096',
      ].join('\n'),
    );
  });

  it('shows what the detonation saw: ending, DNS, network, files, dropped files, resources, limits and the process tree', () => {
    const report = debianReport();
    report.behavior = {
      sandbox: 'gvisor', durationMs: 8012, exitCode: null, timedOut: true, killedBy: 'deadline',
      processes: [
        { pid: 1, ppid: 0, exe: '/bin/sh', argv: ['/bin/sh', '/entry.sh'], startMs: 0 },
        { pid: 7, ppid: 1, exe: '/bin/nc', argv: ['nc', 'pool.example.test', '3333'], startMs: 40 },
        { pid: 9, ppid: 1, exe: '/tmp/x', argv: ['/tmp/x', '\u001b[31mred\u001b[0m'], startMs: 90 },
      ],
      files: [{ op: 'create', path: '/tmp/x', pid: 1 }, { op: 'write', path: '/etc/crontab', pid: 1, error: 'EROFS' }],
      dns: [{ name: 'pool.example.test', type: 'A', pid: null }],
      connections: [{ proto: 'tcp', dst: '10.213.0.1', port: 3333, host: 'pool.example.test', firstBytes: '{"method":"login"}', protocol: 'stratum', pid: 7 }],
      kills: [],
      dropped: [{ path: '/tmp/x', size: 2048, mode: 0o755, sha256: 'ab'.repeat(32) }],
      cpu: { seconds: 4.25, peakCores: 1 }, memory: { peakBytes: 12_000_000 }, pids: { peak: 3 },
      limitsHit: { oomKills: 0, pidsLimitHits: 0, diskFull: true },
      series: [], output: { stdout: '', stderr: '', truncated: false }, timings: { setupMs: 500, teardownMs: 150 },
    };
    const text = renderTable([report], { color: false, width: 120 });
    const lines = section(text, 'Detonation');
    expect(lines[0]).toBe('Detonation (gvisor, 8.0 s, stopped at the deadline)');
    expect(lines).toContain('  DNS         pool.example.test');
    expect(lines).toContain('  Network     tcp pool.example.test (10.213.0.1):3333 stratum');
    expect(lines).toContain('  Files       create /tmp/x, write /etc/crontab (EROFS)');
    expect(lines).toContain('  Dropped     /tmp/x (2.0 kB)');
    expect(lines).toContain('  Limits hit  disk limit');
    expect(lines.some((l) => /^\s+7\s+nc pool\.example\.test 3333$/.test(l)), lines.join('\n')).toBe(true);
    expect(lines.join('\n')).not.toContain('\u001b');
  });

  it('says when the behaviour record is incomplete, and why', () => {
    const report = debianReport();
    report.behavior = {
      sandbox: 'runc', durationMs: 7300, exitCode: 0, timedOut: false,
      processes: [{ pid: 1, ppid: 0, exe: '/bin/sh', argv: ['/bin/sh', '/sample.sh'], startMs: 0 }],
      files: [], dns: [], connections: [], kills: [],
      trace: { complete: false, traceBytes: 250_061, omitted: { processes: 51, files: 0, connections: 0, kills: 0, events: 0 }, notes: ['51 of 307 processes are not listed'] },
      cpu: { seconds: 2, peakCores: 0.4 }, memory: { peakBytes: 3_000_000 }, pids: { peak: 2 },
      limitsHit: { oomKills: 0, pidsLimitHits: 0 },
      series: [], output: { stdout: '', stderr: '', truncated: false }, timings: { setupMs: 500, teardownMs: 150 },
    };
    const lines = section(renderTable([report], { color: false, width: 120 }), 'Detonation');
    expect(lines, lines.join('\n')).toContain('  Trace      incomplete: 51 of 307 processes are not listed');
    report.behavior.trace = { complete: true, traceBytes: 1000, omitted: { processes: 0, files: 0, connections: 0, kills: 0, events: 0 }, notes: [] };
    expect(section(renderTable([report], { color: false, width: 120 }), 'Detonation').join('\n')).not.toContain('Trace');
  });

  it('says when the image was not detonated, and why', () => {
    expect(renderTable([debianReport()], { color: false })).toContain('Detonation: not run (--static-only)');
    const report = debianReport();
    report.behavior = { error: 'not run: the image\'s program "node" is not in the image, so its entrypoint cannot start' };
    expect(section(renderTable([report], { color: false }), 'Detonation: not done')[1]).toContain('"node" is not in the image');
  });

  it('lists what the ignore file suppressed, with the reason, expiry and the entry that did it', () => {
    const report = debianReport();
    const finding = report.findings[0]!;
    report.suppressed = [{ finding, reason: 'vendored test fixture', expires: '2027-01-31', ignoredBy: '.detonateignore.yaml:4' }];
    const lines = section(renderTable([report], { color: false, width: 160 }), 'Suppressed (1)');
    expect(lines[1]).toMatch(/WHAT +REASON +EXPIRES +IGNORED BY/);
    expect(lines[2]).toContain(finding.rule);
    expect(lines[2]).toMatch(/vendored test fixture +2027-01-31 +\.detonateignore\.yaml:4$/);
  });

  it('renders an empty image without failing', () => {
    const text = renderTable([emptyReport()], { color: false });
    expect(text).toContain('  OS        unknown');
    expect(text).toContain('  Layers    0 (0 B)');
    expect(text).toContain('  Packages  none found');
    expect(text).toContain('\nLayers: none\n');
    expect(text).toContain('\nFindings: none\n');
    expect(text).not.toContain('Notices');
  });

  it('separates several images and handles none', () => {
    const text = renderTable([debianReport(), alpineReport(), emptyReport()], { color: false });
    const headings = lines(text).filter((l) => /^(docker|ghcr)/.test(l) || l.startsWith('docker-archive:'));
    expect(headings.map((h) => h.split(' ')[0])).toEqual(['docker.io/library/example:1.0', expect.stringMatching(/^ghcr\.io\/owner\/team\/alpine-app@sha256:/), 'docker-archive:/tmp/scratch']);
    expect(renderTable([], { color: false })).toBe('No images scanned.\n');
  });

  it.each([40, 60, 80, 100, 120, 200])('keeps every line within %i columns', (width) => {
    const text = renderTable([debianReport(), alpineReport(), emptyReport()], { color: true, width });
    for (const line of lines(plain(text))) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
  });

  it('cuts the least needed columns first and keeps versions whole at 80 columns', () => {
    const rows = section(renderTable([debianReport()], { color: false, width: 80 }), 'Packages (17)');
    expect(rows.find((r) => r.includes('nokogiri'))).toContain('1.16.2-x86_64-linux');
    expect(rows.find((r) => r.includes('bash'))).toContain('bash 5.2.15…');
  });

  it('uses colour only when asked, and never lets image content reach the terminal raw', () => {
    const plainText = renderTable([debianReport(), alpineReport()], { color: false });
    // eslint-disable-next-line no-control-regex
    expect(plainText).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(plainText).toContain('evil\\x1b[2Jname\\u202egnp.exe');
    const colored = renderTable([debianReport(), alpineReport()], { color: true });
    expect(colored).toMatch(ANSI);
    expect(colored).toContain('\u001b[1;31mcritical\u001b[0m');
    // The only escape sequences in colour output are the SGR colour codes Detonate writes.
    expect(colored.replace(ANSI, '')).toBe(plainText);
  });

  it('stays fast and bounded with a huge hostile name and thousands of packages', () => {
    const many: Report = debianReport({
      packages: Array.from({ length: 5000 }, (_, i) =>
        pkg({ type: 'npm', name: i === 0 ? 'x'.repeat(1_000_000) : `pkg-${i}`, version: `1.0.${i}`, layer: 2, paths: ['a/package.json'] }),
      ),
    });
    const started = performance.now();
    const text = renderTable([many], { color: false, width: 100 });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(text.length).toBeLessThan(2_000_000);
    for (const line of lines(text)) expect(displayWidth(line)).toBeLessThanOrEqual(100);
  });
});

describe('terminal text helpers', () => {
  it('escapes control characters and bidi overrides, turns line breaks into spaces', () => {
    expect(terminalSafe('a\u001b[31mb\u0007\u009b\u202e\u2066c\u200bd\ufeff')).toBe('a\\x1b[31mb\\x07\\x9b\\u202e\\u2066c\\u200bd\\ufeff');
    expect(terminalSafe('RUN a &&\\\n\tb\r\n')).toBe('RUN a &&\\ b ');
  });

  it('measures wide characters and combining marks as a terminal shows them', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('包包')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('🙂')).toBe(2);
  });

  it('cuts to a width with an ellipsis without splitting a wide character', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('包包包', 4)).toBe('包…');
    expect(displayWidth(truncate('包包包', 4))).toBeLessThanOrEqual(4);
    expect(truncate('abc', 0)).toBe('');
  });

  it('wraps words and breaks words longer than a line', () => {
    expect(wrap('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrap('', 10)).toEqual(['']);
  });

  it('formats sizes in SI units', () => {
    expect([0, 999, 1000, 1843, 29_153_245, 999_960, 5e12, -1].map(formatBytes)).toEqual(['0 B', '999 B', '1.0 kB', '1.8 kB', '29.2 MB', '1.0 MB', '5.0 TB', '?']);
  });
});

describe('vulnerability summary line', () => {
  it('counts by severity and names the worst vulnerability with its fix', async () => {
    const { renderTable } = await import('../../src/report/table.js');
    const { alpineReport } = await import('./sample-reports.js');
    const out = renderTable([alpineReport()], { color: false, width: 200 });
    expect(out).toMatch(/Vulns\s+1 critical, 1 moderate; worst: CVE-2023-42363 in busybox 1\.36\.1-r15 \(critical, no fix yet\)/);
  });
});

describe('findings table with many info findings', () => {
  it('shows one row for hundreds of windows-pe findings and every stronger finding in full', () => {
    const report: Report = {
      ...debianReport(),
      findings: [
        ...Array.from({ length: 300 }, (_, i) => ({
          category: 'windows-pe' as const,
          severity: 'info' as const,
          title: `Windows executable (PE32+ x86-64) ${i}`,
          source: 'static' as const,
          rule: 'executables/windows-pe',
          path: `usr/lib/x86_64-linux-gnu/wine/x86_64-windows/f${i}.dll`,
          layer: 0,
          removedInLayer: null,
        })),
        { category: 'cryptominer', severity: 'critical', title: 'XMRig cryptominer', source: 'static', rule: 'yara/XMRig', path: 'usr/local/bin/kdevtmpfsi', layer: 1, removedInLayer: null },
      ],
    };
    const text = plain(renderTable([report], { color: false, width: 160 }));
    const rows = section(text, 'Findings (301)');
    expect(rows.some((l) => l.includes('300 findings') && l.includes('/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/…'))).toBe(true);
    expect(rows.filter((l) => l.includes('windows-pe'))).toHaveLength(1);
    expect(rows.some((l) => l.includes('XMRig cryptominer') && l.includes('/usr/local/bin/kdevtmpfsi'))).toBe(true);
  });
});
