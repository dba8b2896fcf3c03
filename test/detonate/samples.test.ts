import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Runtime } from '../../src/detonate/runtime/index.js';
import type { DetonationResult, DroppedFile } from '../../src/detonate/session.js';
import type { ResolvedImage } from '../../src/image/types.js';
import type { Finding, FindingCategory } from '../../src/model/index.js';
import { loadVerdictRules } from '../../src/verdict/index.js';
import type { EntrySpec } from '../support/image-builder.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import {
  buildSample,
  closeHarness,
  createHarness,
  detonateSample,
  leftovers,
  RUNTIME_BINARIES,
  sampleProgram,
  shows,
  type Harness,
  usableRuntime,
} from './fixtures/samples/images.js';

/*
 * The issue's sample images (busybox-static plus a shell program from fixtures/samples), each detonated under
 * gVisor and under runc, in the wall (test/support/netns-wall.ts). Assertions are on what a user sees in the
 * result: processes, DNS names, connections with protocol and host, files, limits.
 */
const busybox = findBusybox();
const installed = RUNTIME_BINARIES.filter((r) => findExecutable(r.binary) !== undefined);
const SAMPLES = ['miner', 'reverse-shell', 'dropper', 'persistence', 'webserver'] as const;
type Sample = (typeof SAMPLES)[number];

const wall = netnsWall({
  file: 'test/detonate/samples.test.ts',
  title: 'sample images',
  expectPassed: SAMPLES.length * installed.length + 1,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : installed.length === 0 ? 'neither runsc nor runc is installed' : undefined),
});

/** What a user would read as "this image is malicious". */
/** The categories a user sees in the verdict, sorted. */
const categoriesOf = (findings: readonly { category: FindingCategory }[]): FindingCategory[] => [...new Set(findings.map((f) => f.category))].sort();
const MALICIOUS: readonly FindingCategory[] = ['cryptominer', 'backdoor', 'windows-malware', 'malware', 'malicious-package'];

/** The shipped behaviour rules on a result; every finding cites the events behind it. */
async function verdict(label: string, r: DetonationResult): Promise<Finding[]> {
  const findings = (await loadVerdictRules()).evaluateBehavior(r);
  console.log(`[verdict] ${label}: ${JSON.stringify(findings.map((f) => `${f.category} ${f.rule}: ${f.title}`))}`);
  for (const f of findings) {
    const events = (f.evidence as { events?: unknown } | undefined)?.events;
    expect(Array.isArray(events) && events.length > 0, `${label}: ${f.rule} cites no event: ${JSON.stringify(f)}`).toBe(true);
  }
  return findings;
}

const finding = (category: FindingCategory, rule: string): unknown => expect.objectContaining({ category, rule, source: 'dynamic' });

const WALLET = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

wall.describe(() => {
  let h: Harness;
  const images = {} as Record<Sample, ResolvedImage>;

  beforeAll(async () => {
    h = await createHarness('samples');
    for (const u of h.unusable) console.log(`[skip] ${u}`);
    for (const name of SAMPLES) {
      const extra: EntrySpec[] =
        name === 'webserver'
          ? [{ name: 'www/', type: 'directory' }, { name: 'www/index.html', content: '<h1>hello from a benign sample</h1>\n' }]
          : name === 'persistence'
            ? // as in a real base image, the directories exist: under runc's read-only root the writes then fail with EROFS
              ['var/spool/cron/', 'var/spool/cron/crontabs/', 'root/.ssh/'].map((d) => ({ name: d, type: 'directory' as const, mode: 0o700 }))
            : [];
      images[name] = await buildSample(h, busybox!, name, sampleProgram(`${name}.sh`), extra);
    }
  });

  afterAll(async () => {
    if (h) await closeHarness(h);
  });

  const why = (r: DetonationResult): string =>
    JSON.stringify({ exit: r.exitCode, out: r.output, log: r.runtimeLog, processes: r.processes, files: r.files, dns: r.dns, connections: r.connections }).slice(0, 6000);

  for (const { name } of installed) {
    describe(`under ${name}`, () => {
      const runtime = (): Runtime => usableRuntime(h, name);

      it('miner: looks up the pool, logs in over stratum with its wallet, and burns CPU', async () => {
        const r = await detonateSample(h, runtime(), images.miner, { timeoutMs: 8000 });
        shows(`${name} miner`, r);
        expect(r.output.stdout, why(r)).toContain('miner-done');
        expect(r.dns, why(r)).toContainEqual(expect.objectContaining({ name: 'pool.example.test', type: 'A' }));
        const stratum = r.connections.find((c) => c.protocol === 'stratum');
        expect(stratum, why(r)).toMatchObject({ proto: 'tcp', port: 3333, host: 'pool.example.test' });
        expect(stratum!.firstBytes).toContain('"method":"login"');
        // one clock for the timeline: the lookup comes before the connection, both within the run, after nc started
        const lookup = r.dns.find((d) => d.name === 'pool.example.test')!;
        const client = r.processes.find((p) => p.pid === stratum!.pid)!;
        expect(lookup.atMs, why(r)).toBeLessThanOrEqual(stratum!.atMs!);
        expect(stratum!.atMs!, why(r)).toBeLessThanOrEqual(r.durationMs);
        expect(stratum!.atMs! + 100, why(r)).toBeGreaterThanOrEqual(client.startMs);
        const event = r.sinkhole.events.find((e) => e.kind === 'connection' && e.protocol === 'stratum');
        expect(event, why(r)).toMatchObject({ details: { wallet: WALLET, agent: expect.stringMatching(/^XMRig\/6\.21\.0/), jobSent: true } });
        expect(r.output.stdout, why(r)).toContain('got-a-job');
        expect(r.cpu.seconds, why(r)).toBeGreaterThan(1);
        const nc = r.processes.find((p) => p.argv[0] === 'nc' && p.argv.includes('3333'));
        expect(nc, why(r)).toBeDefined();
        expect(r.processes.some((p) => p.argv.join(' ') === 'sh -c while :; do :; done'), why(r)).toBe(true);
        // the connection names the process that made it
        expect(stratum!.pid, why(r)).toBe(nc!.pid);
        // exe is the program that ran: busybox applets re-run through /proc/self/exe and forks without an exec
        // show the program they run, no magic link, no marker
        for (const p of r.processes) expect(p.exe, JSON.stringify(p)).toMatch(/^\/(?!proc\/)[^\0]*$/);
        const findings = await verdict(`${name} miner`, r);
        expect(findings, why(r)).toContainEqual(finding('cryptominer', 'behavior.cryptominer.stratum'));
        // 4 s of busy loop in a run of about 4.5 s
        expect(findings, why(r)).toContainEqual(finding('cryptominer', 'behavior.cryptominer.sustained-cpu'));
        expect(categoriesOf(findings), why(r)).toEqual(['cryptominer']);
      }, 40_000);

      it('reverse shell: connects to 192.0.2.10:4444 and hands the socket to a shell', async () => {
        const r = await detonateSample(h, runtime(), images['reverse-shell'], { timeoutMs: 4000 });
        shows(`${name} reverse-shell`, r);
        expect(r.connections, why(r)).toContainEqual(expect.objectContaining({ proto: 'tcp', dst: '192.0.2.10', port: 4444 }));
        expect(r.connections, why(r)).toContainEqual(expect.objectContaining({ proto: 'tcp', dst: '192.0.2.10', port: 4445 }));
        const nc = r.processes.find((p) => p.argv.includes('-e') && p.argv.includes('192.0.2.10'));
        expect(nc, why(r)).toBeDefined();
        // busybox nc -e execs the shell in place (same pid) once connected; a fork would make nc its parent
        const shell = r.processes.find((p) => p.argv[0] === '/bin/sh' && p.exe === '/bin/busybox' && (p.pid === nc!.pid || p.ppid === nc!.pid) && p !== nc);
        expect(shell, why(r)).toBeDefined();
        // the interactive shell over the fifo prints its prompt into the connection
        const fifo = r.connections.find((c) => c.port === 4445);
        expect(fifo?.firstBytes, why(r)).toMatch(/[#$] /);
        expect(r.processes.some((p) => p.argv.join(' ') === 'sh -i'), why(r)).toBe(true);
        // the connection names the nc that made it
        expect(r.connections.find((c) => c.port === 4444)?.pid, why(r)).toBe(nc!.pid);
        const findings = await verdict(`${name} reverse-shell`, r);
        expect(findings, why(r)).toContainEqual(finding('backdoor', 'behavior.backdoor.reverse-shell'));
        expect(categoriesOf(findings), why(r)).toEqual(['backdoor']);
      }, 40_000);

      it('dropper: fetches http://dl.invalid/x, makes it executable and runs it', async () => {
        const dropped: DroppedFile[] = [];
        const r = await detonateSample(h, runtime(), images.dropper, { timeoutMs: 6000, inspectDropped: async (files) => void dropped.push(...files) });
        shows(`${name} dropper`, r);
        expect(r.dns, why(r)).toContainEqual(expect.objectContaining({ name: 'dl.invalid', type: 'A' }));
        const http = r.connections.find((c) => c.protocol === 'http');
        expect(http, why(r)).toMatchObject({ proto: 'tcp', port: 80, host: 'dl.invalid' });
        const event = r.sinkhole.events.find((e) => e.kind === 'connection' && e.protocol === 'http');
        expect(event, why(r)).toMatchObject({ details: { requests: [expect.objectContaining({ method: 'GET', path: '/x', host: 'dl.invalid', userAgent: 'dropper/0.1' })] } });
        const ops = r.files.map((f) => `${f.op} ${f.path}`);
        expect(ops, why(r)).toContain('create /tmp/x');
        expect(ops, why(r)).toContain('chmod /tmp/x');
        expect(r.files.find((f) => f.op === 'chmod' && f.path === '/tmp/x')?.mode, why(r)).toBe(0o755);
        // the nc that fetched it wrote it
        const nc = r.processes.find((p) => p.argv[0] === 'nc');
        expect(r.files.find((f) => f.op === 'create' && f.path === '/tmp/x')?.pid, why(r)).toBe(nc?.pid);
        expect(http!.pid, why(r)).toBe(nc!.pid);
        // The sinkhole's answer is not a program: execve(/tmp/x) fails with ENOEXEC and busybox sh then runs the file
        // as a script (`ash /tmp/x`), which shows, as a #! script would, as a run of /tmp/x.
        expect(r.output.stdout, why(r)).toMatch(/exec-rc=[1-9]/);
        expect(r.processes.find((p) => p.exe === '/tmp/x'), why(r)).toMatchObject({ argv: ['ash', '/tmp/x'] });
        // the dropped file is handed over (read from the writable layer) for the static detectors
        expect(dropped.find((f) => f.path === '/tmp/x'), why(r)).toMatchObject({ mode: 0o755, size: expect.any(Number) });
        expect(r.dropped, why(r)).toContainEqual(expect.objectContaining({ path: '/tmp/x', mode: 0o755, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }));
        const findings = await verdict(`${name} dropper`, r);
        expect(findings, why(r)).toContainEqual(finding('suspicious', 'behavior.dropper.download-chmod-exec'));
        expect(categoriesOf(findings), why(r)).toEqual(['suspicious']);
      }, 40_000);

      it('persistence: writes a crontab and an authorized_keys', async () => {
        const r = await detonateSample(h, runtime(), images.persistence, { timeoutMs: 5000 });
        shows(`${name} persistence`, r);
        expect(r.output.stdout, why(r)).toContain('persistence-done');
        // gVisor's root is a writable overlay in memory, runc's a writable layer over the read-only image (or, before
        // that, read-only): either the write is there, or the failed attempt with its errno
        const marks: Record<string, string> = { '/etc/crontab': 'crontab-failed', '/var/spool/cron/crontabs/root': 'spool-failed', '/root/.ssh/authorized_keys': 'keys-failed' };
        for (const [path, failed] of Object.entries(marks)) {
          const record = r.files.find((f) => f.path === path && (f.op === 'create' || f.op === 'write'));
          expect(record, `${path}: ${why(r)}`).toBeDefined();
          if (r.output.stdout.includes(failed)) expect(record!.error, `${path}: ${why(r)}`).toMatch(/^E[A-Z]+$/);
          else expect(record!.error, `${path}: ${why(r)}`).toBeUndefined();
        }
        if (!r.output.stdout.includes('chmod-failed')) {
          expect(r.files, why(r)).toContainEqual(expect.objectContaining({ op: 'chmod', path: '/root/.ssh/authorized_keys', mode: 0o600 }));
        }
        const findings = await verdict(`${name} persistence`, r);
        expect(findings, why(r)).toContainEqual(finding('backdoor', 'behavior.backdoor.authorized-keys'));
        expect(findings, why(r)).toContainEqual(finding('suspicious', 'behavior.persistence.cron'));
        expect(categoriesOf(findings), why(r)).toEqual(['backdoor', 'suspicious']);
        expect(findings.find((f) => f.rule === 'behavior.backdoor.authorized-keys')?.path, why(r)).toBe('/root/.ssh/authorized_keys');
      }, 40_000);

      it('benign web server: serves until the deadline, with no dns and no outbound connections', async () => {
        const r = await detonateSample(h, runtime(), images.webserver, { timeoutMs: 3000 });
        shows(`${name} webserver`, r);
        expect(r.timedOut, why(r)).toBe(true);
        expect(r.killedBy, why(r)).toBe('deadline');
        // killed at the deadline: 128 + SIGKILL, as the runtime contract reports a death by signal
        expect(r.exitCode, why(r)).toBe(137);
        expect(r.dns, why(r)).toEqual([]);
        expect(r.connections, why(r)).toEqual([]);
        expect(r.output.stdout, why(r)).toContain('serving');
        expect(r.processes.some((p) => p.argv.includes('httpd') || p.exe.endsWith('/httpd')), why(r)).toBe(true);
        expect(r.files.filter((f) => f.op !== 'write' || !f.path.startsWith('/dev/')), why(r)).toEqual([]);
        const findings = await verdict(`${name} webserver`, r);
        expect(findings.filter((f) => MALICIOUS.includes(f.category)), why(r)).toEqual([]);
        expect(findings, why(r)).toEqual([]);
      }, 40_000);
    });
  }

  it('leaves nothing behind: no namespace, cgroup, mount, runtime state or process', async () => {
    expect(h.ids.length).toBeGreaterThan(0);
    expect(await leftovers(h)).toEqual([]);
  });
});
