/**
 * Makes `examples/demo-miner.oci.tar`, the image the README's first command scans and detonates: Debian's static
 * busybox (the machine's, from the busybox-static package) with examples/demo-miner/miner.sh as its entrypoint,
 * a program that only pretends to mine (see its header). Its dpkg database lists busybox-static as this machine's
 * dpkg knows it, so the static side has a real package to match against the advisory DB. Deterministic: fixed mtimes, sorted entries, uncompressed
 * layers, so the same busybox gives the same image byte for byte. No download: everything comes from this
 * repository and the machine's Debian packages. `scripts/install.sh` runs it; by hand:
 *   npx tsx scripts/make-demo-image.ts [OUT]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { busyboxRootEntries } from '../test/support/busybox-root.js';
import { writeOciArchive } from '../test/support/image-builder.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../examples/demo-miner.oci.tar', import.meta.url));
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
if (!busybox) {
  console.error('busybox not found: install Debian\'s busybox-static package (scripts/install.sh does)');
  process.exit(1);
}
/** busybox-static's entry in this machine's dpkg database, the fields a status file needs. */
function dpkgStatus(): string {
  const q = spawnSync('dpkg-query', ['-W', '-f', 'Package: ${Package}\nStatus: install ok installed\nArchitecture: ${Architecture}\nSource: ${source:Package}\nVersion: ${Version}\nDescription: ${binary:Summary}\n', 'busybox-static'], { encoding: 'utf8' });
  return q.status === 0 ? `${q.stdout}\n` : '';
}
const osRelease = ['/usr/lib/os-release', '/etc/os-release'].find((p) => existsSync(p));
const miner = readFileSync(fileURLToPath(new URL('../examples/demo-miner/miner.sh', import.meta.url)), 'utf8');

await writeOciArchive(out, {
  tag: 'detonate-demo-miner:1',
  config: {
    Cmd: ['/bin/sh', '/opt/demo/miner.sh'],
    Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
    WorkingDir: '/',
    Labels: {
      'org.opencontainers.image.title': 'Detonate demo miner',
      'org.opencontainers.image.description': 'pretends to mine: a DNS lookup under .test and a stratum login to 192.0.2.10 (TEST-NET-1), both caught by the sinkhole',
    },
  },
  layers: [
    {
      createdBy: 'ADD busybox-static / # Debian busybox-static',
      compression: 'none',
      entries: [
        ...busyboxRootEntries(busybox, ['usr/', 'usr/lib/', 'var/lib/', 'var/lib/dpkg/']),
        ...(osRelease ? [{ name: 'usr/lib/os-release', content: readFileSync(osRelease, 'utf8') }] : []),
        { name: 'var/lib/dpkg/status', content: dpkgStatus() },
      ],
    },
    { createdBy: 'COPY miner.sh /opt/demo/miner.sh', compression: 'none', entries: [{ name: 'opt/', type: 'directory' }, { name: 'opt/demo/', type: 'directory' }, { name: 'opt/demo/miner.sh', content: miner, mode: 0o755 }] },
  ],
});
console.log(`wrote ${out}`);
