/**
 * A results store filled the way production fills one: sample images pushed to a loopback registry (Debian's
 * docker-registry), `detonate crawl registry:HOST` into a fresh PostgreSQL database, then `detonate worker --drain`
 * detonating every image in a sandbox. Both commands run as child processes of the real CLI. The images:
 *
 * - the sample miner, its script prefixed with hostile strings: a command line, a file it writes and DNS names it
 *   looks up; hostile file names in a layer and hostile config labels; tagged in `samples/miner` and in a
 *   repository whose name and tag are at the edge of the distribution grammar;
 * - the sample reverse shell (to 192.0.2.10, TEST-NET-1);
 * - a clean busybox image with one Debian package in its dpkg status;
 * - an image over `--max-image-size` (skipped) and one whose config lies about its layers (failed).
 *
 * Everything listens on 127.0.0.1: callers run inside the netns wall (test/support/netns-wall.ts).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { busyboxRootEntries } from '../support/busybox-root.js';
import { runCli } from '../support/cli.js';
import { writeOciArchive, type EntrySpec } from '../support/image-builder.js';
import type { TestPostgres } from '../support/postgres.js';
import { startRegistry, type RealRegistry } from '../support/registry.js';
import { sampleProgram } from '../detonate/fixtures/samples/images.js';
import { finished, query, startWorker } from '../worker/helpers.js';

/** Free-form hostile strings, each with a canary: run as markup, one would set `window.__xss` or open a dialog. */
export const HOSTILE = {
  img: '<img src=x onerror=alert(1)>',
  script: '"><script>window.__xss=1</script>',
  rlo: 'invoice\u202egpj.sh',
  ansi: '\u001b[31mred\u001b[0m',
} as const;

/** Repository and tag names the registry accepts, at the edge of its grammar: separators, nesting, length. */
export const EDGE_REPOSITORY = 'a.b-c__d/e---f/g_h.i/deeply/nested/path/x0-9';
export const EDGE_TAG = `_v1.0-rc.1__${'x'.repeat(116)}`; // 128 characters, the longest a tag may be

/**
 * DNS names the miner looks up, and what the sinkhole records of each: dig's presentation (lower case, bytes outside
 * 0x21–0x7e as `\DDD`, so a space is `\032` and an escape `\027`).
 */
export const HOSTILE_LOOKUPS = [
  { asked: `${HOSTILE.img}.test`, recorded: '<img\\032src=x\\032onerror=alert(1)>.test' },
  { asked: `${HOSTILE.script}.test`, recorded: '"><script>window.__xss=1</script>.test' },
  { asked: `${HOSTILE.ansi}.test`, recorded: '\\027[31mred\\027[0m.test' },
] as const;

/** Quoted for a POSIX shell: single quotes, with a single quote as `'\''`. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The miner with a prelude: a hostile command line, a hostile file name written, hostile DNS names looked up. */
function hostileMinerScript(): string {
  const [shebang, ...rest] = sampleProgram('miner.sh').split('\n');
  const prelude = [
    `echo ${shellQuote(HOSTILE.script)} > ${shellQuote(`/tmp/${HOSTILE.img}`)}`,
    `sh -c ${shellQuote(`echo ${shellQuote(HOSTILE.rlo)}`)} > /dev/null`,
    ...HOSTILE_LOOKUPS.map((l) => `nslookup ${shellQuote(l.asked)} > /dev/null 2>&1`),
  ];
  return [shebang, ...prelude, ...rest].join('\n');
}

/** The wallet miner.sh logs in with. */
export const MINER_WALLET = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

/** File names in a layer: a tar entry name may hold any byte but `/` (a path separator) and NUL. */
export const HOSTILE_FILES = [`opt/${HOSTILE.img}`, `opt/${HOSTILE.script}`, `opt/${HOSTILE.rlo}`, `opt/${HOSTILE.ansi}`] as const;

export const HOSTILE_LABELS: Readonly<Record<string, string>> = {
  'org.opencontainers.image.title': HOSTILE.img,
  'org.opencontainers.image.description': HOSTILE.script,
  [HOSTILE.img]: HOSTILE.rlo,
  'vendor.ansi': HOSTILE.ansi,
};

/** The clean image's one package, as its dpkg status names it. */
export const CLEAN_PACKAGE = { name: 'busybox-static', version: '1:1.35.0-4+deb12u1' } as const;

const BUSYBOX_CONFIG = { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'], WorkingDir: '/' };

async function writeImages(work: string, busybox: string): Promise<Record<'miner' | 'reverseShell' | 'clean' | 'huge' | 'lying', string>> {
  const root = busyboxRootEntries(busybox);
  const run = (script: string): EntrySpec => ({ name: 'sample.sh', content: script, mode: 0o755 });
  const cmd = { ...BUSYBOX_CONFIG, Cmd: ['/bin/sh', '/sample.sh'] };
  const archives = {
    miner: join(work, 'miner.tar'),
    reverseShell: join(work, 'reverse-shell.tar'),
    clean: join(work, 'clean.tar'),
    huge: join(work, 'huge.tar'),
    lying: join(work, 'lying.tar'),
  };
  // HOSTILE.script holds a `/`: its file is `</script>`-ish, under a directory named by the rest
  const opt: EntrySpec[] = [{ name: 'opt/', type: 'directory' }, { name: `opt/${HOSTILE.script.slice(0, HOSTILE.script.lastIndexOf('/') + 1)}`, type: 'directory' }];
  // each a miner's launcher with its wallet: a finding of its own, at its hostile path
  const launcher = `#!/bin/sh\nexec xmrig -o stratum+tcp://pool.example.test:3333 -u ${MINER_WALLET}\n`;
  await Promise.all([
    writeOciArchive(archives.miner, {
      layers: [{ entries: [...root, run(hostileMinerScript())] }, { entries: [...opt, ...HOSTILE_FILES.map((name) => ({ name, content: launcher, mode: 0o755 }))] }],
      config: { ...cmd, Labels: HOSTILE_LABELS },
    }),
    writeOciArchive(archives.reverseShell, { layers: [{ entries: [...root, run(sampleProgram('reverse-shell.sh'))] }], config: cmd }),
    writeOciArchive(archives.clean, {
      layers: [{
        entries: [
          ...root, run('#!/bin/sh\necho hello from a clean image\n'),
          { name: 'var/lib/', type: 'directory' }, { name: 'var/lib/dpkg/', type: 'directory' },
          { name: 'var/lib/dpkg/status', content: `Package: ${CLEAN_PACKAGE.name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${CLEAN_PACKAGE.version}\n\n` },
        ],
      }],
      config: cmd,
    }),
    // incompressible: the registry's compressed size is over the crawl's --max-image-size
    writeOciArchive(archives.huge, { layers: [{ entries: [{ name: 'blob', content: randomBytes(4 * 1024 * 1024) }] }], config: cmd }),
    writeOciArchive(archives.lying, {
      layers: [{ entries: [...root, run('#!/bin/sh\necho never run\n')] }],
      config: cmd,
      claimDiffIds: [`sha256:${'e'.repeat(64)}`],
    }),
  ]);
  return archives;
}

/** Where each image was pushed (repository:tag on the registry). */
export const PUSHED = {
  miner: ['samples/miner:6.21', `${EDGE_REPOSITORY}:${EDGE_TAG}`],
  reverseShell: ['samples/reverse-shell:1'],
  clean: ['library/busybox-clean:1.35'],
  huge: ['samples/huge:1'],
  lying: ['samples/lying:1'],
} as const;

export const MAX_IMAGE_SIZE = '3MB';

export interface CrawledStore {
  /** The store database's URL. */
  url: string;
  registry: RealRegistry;
  /** `registry.host/repository:tag` of a pushed name. */
  reference(pushed: string): string;
  /** The digest the store holds for a pushed name. */
  digest(pushed: string): Promise<string>;
  /** What the crawl and the worker printed, for failure messages. */
  log: string;
}

/**
 * Pushes the images, crawls the registry into a fresh database of `postgres` and drains the queue with a worker
 * detonating in `sandbox`, within `budgetMs`. The registry is the caller's to stop (`registry.stop()`).
 */
export async function fillStoreByCrawl(options: { postgres: TestPostgres; work: string; busybox: string; sandbox: 'gvisor' | 'runc'; budgetMs: number }): Promise<CrawledStore> {
  const { work } = options;
  const deadline = Date.now() + options.budgetMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const [registry, archives, url] = await Promise.all([startRegistry(), writeImages(work, options.busybox), options.postgres.freshDatabase()]);
  for (const [image, names] of Object.entries(PUSHED) as Array<[keyof typeof PUSHED, readonly string[]]>) {
    for (const name of names) await registry.push(`oci-archive:${archives[image]}`, name);
  }
  const env = { DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_WORK_DIR: join(work, 'runs') };
  const crawl = await runCli(
    ['crawl', `registry:${registry.host}`, '--store', url, '--tags', 'all', '--detonate-timeout', '8s', '--max-image-size', MAX_IMAGE_SIZE, '--format', 'json'],
    env,
    left(),
  );
  let log = `crawl (exit ${crawl.code}):\n${crawl.stdout}${crawl.stderr}`;
  if (crawl.code !== 0) throw new Error(log);
  // one at a time: a second job for an image another job is detonating waits BUSY_IMAGE_WAIT_MS (30 s) to link
  const worker = startWorker(['--store', url, '--drain', '--no-vulns', '--sandbox', options.sandbox, '--concurrency', '1'], env);
  const code = await finished(worker, left());
  log += `\nworker (exit ${code}):\n${worker.stderr()}`;
  if (code !== 0) throw new Error(log);
  const reference = (pushed: string) => `${registry.host}/${pushed}`;
  return {
    url,
    registry,
    reference,
    log,
    async digest(pushed) {
      const colon = pushed.lastIndexOf(':');
      const rows = await query<{ digest: string }>(url, 'SELECT digest FROM images WHERE repository = $1 AND tag = $2', [pushed.slice(0, colon), pushed.slice(colon + 1)]);
      if (rows.length !== 1) throw new Error(`the store has ${rows.length} images for ${pushed}`);
      return rows[0]!.digest;
    },
  };
}
