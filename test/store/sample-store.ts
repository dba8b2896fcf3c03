/**
 * A small store of judged images for the aggregate figures and the site: a clean image (100 pulls), a miner run in
 * a sandbox under two tags (5,000 pulls, with an older result that must not count), a Linux image with Windows
 * malware and a hostile DNS name (no pull count), a failed scan and a skipped one.
 */
import type { Store } from '../../src/store/index.js';
import type { Report } from '../../src/model/index.js';
import { sampleReport, sampleRun } from './sample-report.js';

export const HOSTILE_DOMAIN = '<img src=x onerror=alert(1)>|`x`.test';
export const storeDigest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const digest = storeDigest;

function withImage(report: Report, reference: string): Report {
  return { ...report, image: { ...report.image, reference } };
}

export async function fillSampleStore(store: Store): Promise<void> {
  const meta = { rulesDigest: 'rules-1' };
  // a clean image with one moderate vulnerability, 100 pulls
  await store.recordScan(withImage(sampleReport({ digest: digest(1) }), 'docker.io/team/web:1.0'), { ...meta, pullCount: 100 });
  // a miner, run in a sandbox, under two tags of a repository with 5,000 pulls; its older scan must not count
  const miner = withImage(sampleReport({ digest: digest(2), malicious: true, run: sampleRun() }), 'docker.io/team/miner:latest');
  await store.recordScan({ ...miner, verdict: { ...miner.verdict, summary: 'an older result' } }, { ...meta, rulesDigest: 'rules-0', pullCount: 5000, finishedAt: new Date(Date.now() - 3_600_000) });
  await store.recordScan(miner, { ...meta, pullCount: 5000 });
  await store.linkImage('docker.io/team/miner:v2', digest(2), 'linux/amd64', 5000);
  // Windows malware in a Linux image, a critical vulnerability, a hostile DNS name, no pull count known
  const windows = withImage(sampleReport({ digest: digest(3), run: { ...sampleRun(), dns: [{ name: HOSTILE_DOMAIN, type: 'A', pid: 1 }], connections: [] } }), 'registry.example.test/odd/tools:1');
  await store.recordScan({
    ...windows,
    findings: [{ category: 'windows-malware', severity: 'high', title: 'a Windows program YARA calls malware', source: 'static', rule: 'yara/Win_Trojan', path: 'opt/x.exe', layer: 0, removedInLayer: null }],
    verdict: { ...windows.verdict, malicious: true, categories: ['windows-malware'], vulnerabilities: { critical: 1, high: 0, moderate: 1, low: 0, unknown: 0 } },
  }, meta);
  await store.recordFailedScan({ reference: 'docker.io/team/broken:1' }, 'pull', 'manifest unknown', meta);
  await store.recordSkippedScan({ reference: 'docker.io/team/huge:1' }, 'larger than --max-image-size', meta);
}
