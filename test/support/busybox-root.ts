/** A minimal root filesystem around a static busybox: its applets as symlinks, the usual directories, users and a crontab. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { EntrySpec } from './image-builder.js';

export function busyboxRootEntries(busybox: string, moreDirs: readonly string[] = []): EntrySpec[] {
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((a) => a.trim())
    .filter((a) => a && a !== 'busybox' && /^[a-z0-9_.[-]+$/.test(a));
  return [
    ...['bin/', 'etc/', 'tmp/', 'proc/', 'sys/', 'dev/', 'root/', 'var/', 'var/spool/', 'run/', ...moreDirs].map((name) => ({
      name,
      type: 'directory' as const,
      mode: name === 'tmp/' ? 0o1777 : name === 'root/' ? 0o700 : 0o755,
    })),
    { name: 'bin/busybox', content: readFileSync(busybox), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' },
    { name: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { name: 'etc/crontab', content: '# /etc/crontab: system-wide crontab\n' },
  ];
}
