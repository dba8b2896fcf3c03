/**
 * The shipped rules on what the real monitor makes of the real captures in src/detonate/monitor/testdata (the
 * script detonate.sh.txt run under runc + strace and under gVisor).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STRACE_FIFO } from '../../src/detonate/monitor/index.js';
import { syscallMonitor } from '../../src/detonate/monitor/session-monitor.js';
import { GVISOR_BOOT_FIFO } from '../../src/detonate/runtime/gvisor/index.js';
import type { MonitorFindings } from '../../src/detonate/session.js';
import { loadVerdictRules } from '../../src/verdict/index.js';
import { detonation } from './behavior.js';

const testdata = fileURLToPath(new URL('../../src/detonate/monitor/testdata/', import.meta.url));

async function captured(runtime: 'runc' | 'gvisor'): Promise<MonitorFindings> {
  const dir = mkdtempSync(join(tmpdir(), 'detonate-verdict-monitor-'));
  try {
    const ctx = { id: 'v1', traceDir: dir, bundleDir: dir, startedAt: 0, runtime };
    const monitor = syscallMonitor({ strace: '/usr/bin/strace' });
    await monitor.prepare!(ctx);
    // the tracer's output, into the FIFO the monitor reads
    if (runtime === 'runc') {
      await writeFile(join(dir, STRACE_FIFO), readFileSync(join(testdata, 'runc-strace.txt'), 'utf8').replaceAll('["runc", "init"]', '["/usr/sbin/runc", "init"]'));
    } else {
      await writeFile(join(dir, GVISOR_BOOT_FIFO), readFileSync(join(testdata, 'gvisor-boot.json.log')));
    }
    return (await monitor.collect!(ctx)) ?? {};
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('shipped behaviour rules on the monitor\'s real captures', () => {
  it.each(['runc', 'gvisor'] as const)('%s: runs a file it wrote, writes a crontab, overwrites its history; nothing malicious', async (runtime) => {
    const found = await captured(runtime);
    const rules = await loadVerdictRules();
    const result = detonation({
      sandbox: runtime,
      processes: found.processes ?? [],
      files: found.files ?? [],
      kills: found.kills ?? [],
      // the connect to 203.0.113.7:4444 failed in the capture (no network): the session reports no connection
      connections: [],
    });
    const findings = rules.evaluateBehavior(result);
    const why = JSON.stringify({ findings, processes: result.processes.map((p) => p.argv.join(' ').slice(0, 60)), files: result.files }, null, 1).slice(0, 4000);
    const ids = findings.map((f) => f.rule).sort();
    expect(ids, why).toEqual(['behavior.dropper.exec-dropped', 'behavior.evasion.clear-history-file', 'behavior.persistence.cron']);
    expect(findings.find((f) => f.rule === 'behavior.dropper.exec-dropped')?.path, why).toBe('/tmp/x');
    expect(findings.find((f) => f.rule === 'behavior.persistence.cron')?.path, why).toBe('/etc/crontab');
  });
});
