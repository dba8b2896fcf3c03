import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { firstExecFromLog } from '../../src/detonate/runtime/gvisor/index.js';

describe("gVisor's first exec from its debug log", () => {
  const dir = mkdtempSync(join(tmpdir(), 'detonate-gvlog-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the EXEC line of the real JSON boot log, relative to the start of the run', async () => {
    const log = readFileSync(fileURLToPath(new URL('../../src/detonate/monitor/testdata/gvisor-boot.json.log', import.meta.url)), 'utf8');
    writeFileSync(join(dir, 'runsc.log.20261130-153651.boot.txt'), log);
    const started = Date.parse('2026-11-30T15:36:51.700Z');
    expect(await firstExecFromLog(dir, started)).toBe(165);
  });

  it('says nothing when there is no log or no EXEC line', async () => {
    expect(await firstExecFromLog(join(dir, 'missing'), 0)).toBeUndefined();
    const empty = mkdtempSync(join(tmpdir(), 'detonate-gvlog-'));
    writeFileSync(join(empty, 'runsc.log.1.boot.txt'), '{"msg":"starting","level":"info","time":"2026-11-30T15:36:51Z"}\n');
    expect(await firstExecFromLog(empty, 0)).toBeUndefined();
    rmSync(empty, { recursive: true, force: true });
  });
});
