import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { join } from 'node:path';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { ResolvedImage } from '../../src/image/types.js';
import { silentProgress } from '../../src/progress/progress.js';
import { runDetonationStage } from '../../src/scan/detonation.js';
import { writeOciArchive } from '../support/image-builder.js';
import { netnsWall } from '../support/netns-wall.js';
import { closeHarness, createHarness, leftovers, openArchive, RUNTIME_BINARIES, usableRuntime, type Harness } from '../detonate/fixtures/samples/images.js';

/*
 * An image whose entrypoint cannot start, through the detonation stage as a scan runs it, under each runtime: a
 * program the image does not have is a property of the image (a warning naming it), any other start failure is a
 * failed detonation (an error). The runtime's words are read in its own folder; the stage sees the failure's kind.
 */
const installed = RUNTIME_BINARIES.filter((r) => findExecutable(r.binary) !== undefined);

const wall = netnsWall({
  file: 'test/scan/entrypoint-missing.test.ts',
  title: 'detonation stage: an entrypoint that cannot start',
  expectPassed: installed.length * 2 + 1,
  requires: () => (installed.length === 0 ? 'neither runsc nor runc is installed' : undefined),
});

wall.describe(() => {
  let h: Harness;
  const images: Record<'notInPath' | 'absentPath', ResolvedImage> = {} as never;

  beforeAll(async () => {
    h = await createHarness('entrypoint');
    for (const u of h.unusable) console.log(`[skip] ${u}`);
    for (const [name, cmd] of [['notInPath', 'nosuchprog'], ['absentPath', '/bin/nosuch']] as const) {
      const archive = join(h.work, `${name}.tar`);
      await writeOciArchive(archive, {
        layers: [{ entries: [{ name: 'bin/', type: 'directory', mode: 0o755 }, { name: 'etc/', type: 'directory', mode: 0o755 }, { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' }] }],
        config: { Cmd: [cmd], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/' },
      });
      const { image, close } = await openArchive(archive, join(h.work, 'cache'));
      h.closers.push(close);
      images[name] = image;
    }
  });

  afterAll(async () => {
    if (h) await closeHarness(h);
  });

  const stage = (name: string, image: ResolvedImage) =>
    runDetonationStage(image, { runtime: usableRuntime(h, name), timeoutMs: 15_000, workDir: join(h.work, 'runs'), analyzers: [], progress: silentProgress });

  for (const { name } of installed) {
    describe(`under ${name}`, () => {
      it('a program the image does not have: not run, a warning naming it', async () => {
        const r = await stage(name, images.notInPath);
        const message = 'not run: the image\'s program "nosuchprog" is not in the image, so its entrypoint cannot start';
        expect(r.run).toEqual({ error: message });
        expect(r.notices).toEqual([{ level: 'warning', message }]);
        expect(r.droppedFindings).toEqual([]);
      }, 60_000);

      it('a start that fails otherwise: a failed detonation, with the runtime\'s words', async () => {
        const r = await stage(name, images.absentPath);
        expect(r.run).toEqual({ error: expect.stringMatching(/^detonation failed: .*could not start the sample.*\/bin\/nosuch/) });
        expect(r.notices).toEqual([{ level: 'error', message: (r.run as { error: string }).error }]);
      }, 60_000);
    });
  }

  it('leaves nothing behind', async () => {
    expect(await leftovers(h)).toEqual([]);
  });
});
