import { describe, expect, it } from 'vitest';
import type { CgroupStats, RunCgroup } from '../../src/detonate/cgroup.js';
import { classifyKill } from '../../src/detonate/runtime/common.js';
import type { RuntimeRunOptions } from '../../src/detonate/runtime/runtime.js';

function withStats(stats: Partial<CgroupStats>): RuntimeRunOptions {
  const all: CgroupStats = {
    cpu: { seconds: 0, peakCores: 0 },
    memory: { peakBytes: 0 },
    pids: { peak: 1 },
    oomKills: 0,
    memoryLimitReached: false,
    pidsLimitHits: 0,
    series: [],
    ...stats,
  };
  const cgroup = { sample: () => Promise.resolve(all) } as unknown as RunCgroup;
  return { cgroup } as unknown as RuntimeRunOptions;
}

describe('how a run ended (classifyKill)', () => {
  it('names the deadline first, whatever the counters say', async () => {
    expect(await classifyKill(withStats({ oomKills: 1 }), true, 137)).toBe('deadline');
  });

  it('names the memory limit for a kernel OOM kill', async () => {
    expect(await classifyKill(withStats({ oomKills: 1 }), false, 137)).toBe('memory');
  });

  it('names the memory limit for a SIGKILL at the limit with no OOM kill counted (gVisor on a loaded machine)', async () => {
    expect(await classifyKill(withStats({ memoryLimitReached: true }), false, 137)).toBe('memory');
  });

  it('does not blame the memory limit for a sample that reached it and exited on its own', async () => {
    expect(await classifyKill(withStats({ memoryLimitReached: true }), false, 1)).toBeUndefined();
    expect(await classifyKill(withStats({ memoryLimitReached: true }), false, 0)).toBeUndefined();
  });

  it('does not blame the memory limit for a SIGKILL well below it', async () => {
    expect(await classifyKill(withStats({}), false, 137)).toBeUndefined();
  });

  it('names the pids limit when forks were refused and the run failed', async () => {
    expect(await classifyKill(withStats({ pidsLimitHits: 3 }), false, 2)).toBe('pids');
  });
});
