import type { Report, RunRecord } from '../../src/model/index.js';

export const DIGEST = `sha256:${'a'.repeat(64)}`;

/** A run record with one of each thing indicators are drawn from. */
export function sampleRun(): RunRecord {
  return {
    sandbox: 'gvisor',
    durationMs: 5000,
    exitCode: 0,
    timedOut: false,
    processes: [{ pid: 1, ppid: 0, exe: '/usr/bin/xmrig', argv: ['xmrig'], startMs: 0 }],
    files: [],
    dns: [{ name: 'Pool.Example.', type: 'A', pid: 1 }],
    connections: [
      { proto: 'tcp', dst: '10.99.0.1', port: 3333, host: 'pool.example', firstBytes: '{"method":"login"}', protocol: 'stratum', pid: 1, details: { wallet: '4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge' } },
      { proto: 'tcp', dst: '203.0.113.7', port: 80, firstBytes: 'GET / HTTP/1.1', protocol: 'http', pid: 1 },
    ],
    kills: [],
    dropped: [{ path: '/tmp/x', size: 10, mode: 0o755, sha256: 'b'.repeat(64) }],
    cpu: { seconds: 4, peakCores: 1 },
    memory: { peakBytes: 1 << 20 },
    pids: { peak: 2 },
    limitsHit: { oomKills: 0, pidsLimitHits: 0 },
    series: [],
    output: { stdout: 'hello', stderr: '', truncated: false },
    timings: { setupMs: 100, teardownMs: 50 },
    sinkAddress: '10.99.0.1',
  };
}

/** A small, valid report of an image `digest`; `malicious` decides the verdict. */
export function sampleReport(options: { digest?: string; platform?: string; malicious?: boolean; advisoryDbBuiltAt?: string | null; run?: RunRecord | null } = {}): Report {
  const malicious = options.malicious ?? false;
  return {
    schemaVersion: 1,
    tool: {
      name: 'detonate',
      version: '0.1.0',
      advisoryDb: options.advisoryDbBuiltAt === null ? null : { builtAt: options.advisoryDbBuiltAt ?? '2026-12-01T00:00:00.000Z', sources: ['osv'] },
    },
    image: {
      reference: 'registry.example.test/team/app:1.0',
      digest: options.digest ?? DIGEST,
      platform: options.platform ?? 'linux/amd64',
      layers: [{ index: 0, diffId: `sha256:${'c'.repeat(64)}`, size: 100 }],
      config: { user: '', entrypoint: ['/app'], cmd: [], env: [], exposedPorts: [], labels: {} },
    },
    packages: [
      { name: 'openssl', version: '3.0.11-1~deb12u2', type: 'deb', purl: 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64', layer: 0, paths: ['var/lib/dpkg/status'] },
      { name: 'left-pad', version: '1.3.0', type: 'npm', purl: 'pkg:npm/left-pad@1.3.0', layer: 0, paths: ['app/node_modules/left-pad/package.json'] },
    ],
    vulnerabilities: [
      {
        id: 'CVE-2023-5678', aliases: ['DSA-5532-1'], package: 'openssl', purl: 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64',
        installedVersion: '3.0.11-1~deb12u2', fixedVersion: '3.0.13-1~deb12u1', severity: 'moderate', source: 'DSA-5532-1', layer: 0,
      },
    ],
    findings: malicious
      ? [
          {
            category: 'cryptominer', severity: 'critical', title: 'XMRig miner configuration', source: 'static', rule: 'cryptominer/miner-config',
            path: 'etc/config.json', layer: 0, sha256: 'd'.repeat(64), evidence: { family: 'xmrig', pools: ['stratum+tcp://Pool.Example:3333'] },
          },
        ]
      : [],
    behavior: options.run === undefined ? null : options.run,
    verdict: {
      malicious,
      categories: malicious ? ['cryptominer'] : [],
      vulnerabilities: { critical: 0, high: 0, moderate: 1, low: 0, unknown: 0 },
      summary: malicious ? 'A cryptominer.' : 'Nothing malicious found.',
    },
    scannedAt: '2026-12-07T10:00:00.000Z',
  };
}
