import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/config/limits.js';
import { listRunCgroups, parseCgroupMounts } from '../../src/detonate/cgroup.js';
import { findExecutable, runBounded } from '../../src/detonate/network/exec.js';
import { GvisorRuntime } from '../../src/detonate/runtime/gvisor/index.js';
import { chooseRuntime, RuntimeError, type Runtime } from '../../src/detonate/runtime/index.js';
import { RuncRuntime } from '../../src/detonate/runtime/runc/index.js';
import { behaviorFromSinkhole, detonateImage, mergeConnections, type DetonateOptions, type DetonationResult, type DroppedFile } from '../../src/detonate/session.js';
import type { SinkholeEvent } from '../../src/detonate/sinkhole/events.js';
import { STRACE_FIFO } from '../../src/detonate/monitor/index.js';
import { syscallMonitor } from '../../src/detonate/monitor/session-monitor.js';
import { GVISOR_BOOT_FIFO } from '../../src/detonate/runtime/gvisor/index.js';
import { BlobCache } from '../../src/image/cache.js';
import { openImageSource } from '../../src/image/open.js';
import type { ResolvedImage } from '../../src/image/types.js';
import { writeOciArchive, type EntrySpec } from '../support/image-builder.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { repoRoot } from '../support/paths.js';
import { processesMentioning } from '../support/leftovers.js';

/*
 * Detonations never run in the host's namespaces: the runs happen only inside the wall (test/support/netns-wall.ts),
 * a fresh network and mount namespace with a private tmpfs on /run.
 */
const busybox = findBusybox();
const wall = netnsWall({
  file: 'test/detonate/session.test.ts',
  title: 'detonation session',
  expectPassed: 12,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : undefined),
});

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
    // each connection carries the sinkhole's details of it (stratum wallet, HTTP requests …) for the verdict's evidence
    const details = events.filter((e) => e.kind === 'connection').map((e) => e.details);
    expect(b.connections).toEqual([
      { proto: 'tcp', dst: '10.213.0.1', port: 3333, host: 'pool.example.test', firstBytes: '{"id":1,"method":"login"}', protocol: 'stratum', details: details[0] },
      { proto: 'tcp', dst: '203.0.113.7', port: 80, host: 'c2.example.com', firstBytes: 'GET / HTTP/1.1', protocol: 'http', details: details[1] },
      { proto: 'tcp', dst: '10.213.0.1', port: 9999, firstBytes: '', protocol: 'unknown', details: details[2] },
    ]);
    // given when the sample's first process started (epoch ms), each record says when it happened on that clock
    const timed = behaviorFromSinkhole(events, '10.213.0.1', 2);
    expect(timed.dns.map((d) => d.atMs)).toEqual([0, 0]);
    expect(timed.connections.map((c) => c.atMs)).toEqual([1, 2, 3]);
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

  it('reads the recorded traces back, streamed through its FIFOs: runc (strace around the full runc path) and gVisor (the JSON boot log)', async () => {
    const fixture = (name: string) => join(repoRoot, 'src/detonate/monitor/testdata', name);
    const dir = mkdtempSync(join(tmpdir(), 'detonate-monitor-'));
    try {
      const ctx = { id: 'm1', traceDir: dir, bundleDir: dir, startedAt: 0 };
      const runc = syscallMonitor({ strace: '/usr/bin/strace' });
      const request = (await runc.prepare!({ ...ctx, runtime: 'runc' }))!;
      expect(request.wrapper?.slice(0, 2)).toEqual(['/usr/bin/strace', '-f']);
      expect(request.wrapper).toContain(join(dir, STRACE_FIFO));
      expect(request.wrapper?.at(-1)).toBe('--');
      const gvisor = syscallMonitor();
      const flags = (await gvisor.prepare!({ ...ctx, runtime: 'gvisor' }))!.runtimeFlags!;
      expect(flags).toEqual(expect.arrayContaining(['--strace', '--debug-log-format=json', `--debug-log=${dir}/runsc.%COMMAND%.log`]));
      // what the tracers would write; nothing of it is stored
      // the runtime starts runc by its full path, so runc's re-exec is `/usr/sbin/runc init`
      await writeFile(join(dir, STRACE_FIFO), readFileSync(fixture('runc-strace.txt'), 'utf8').replaceAll('["runc", "init"]', '["/usr/sbin/runc", "init"]'));
      await writeFile(join(dir, GVISOR_BOOT_FIFO), readFileSync(fixture('gvisor-boot.json.log')));
      for (const [monitor, runtime] of [[runc, 'runc'], [gvisor, 'gvisor']] as const) {
        const found = (await monitor.collect!({ ...ctx, runtime }))!;
        expect(found.processes!.find((p) => p.exe === '/tmp/x'), runtime).toMatchObject({ argv: ['/tmp/x'] });
        const ops = found.files!.map((f) => `${f.op} ${f.path}${f.to ? ` ${f.to}` : ''}`);
        for (const op of ['create /tmp/x', 'chmod /tmp/x', 'delete /tmp/junk', 'create /etc/crontab', 'rename /tmp/x /tmp/y']) expect(ops, runtime).toContain(op);
        expect(found.connections, runtime).toContainEqual(expect.objectContaining({ proto: 'tcp', dst: '203.0.113.7', port: 4444, ok: false }));
        expect(found.trace, runtime).toMatchObject({ complete: true, omitted: { processes: 0, files: 0, connections: 0, kills: 0, events: 0 }, notes: [] });
        expect(found.trace!.traceBytes, runtime).toBeGreaterThan(1000);
      }
      expect(readdirSync(dir).sort()).toEqual([GVISOR_BOOT_FIFO, STRACE_FIFO].sort());
      // collect without a prepare for the run reports nothing
      expect(await syscallMonitor().collect!({ ...ctx, runtime: 'runc' })).toEqual({});
      // runc without strace: nothing traced, and the result says so
      const untraced = syscallMonitor({ strace: false });
      expect(await untraced.prepare!({ ...ctx, id: 'm2', runtime: 'runc' })).toEqual({});
      expect((await untraced.collect!({ ...ctx, id: 'm2', runtime: 'runc' }))!.trace).toMatchObject({ complete: false, notes: [expect.stringContaining('strace is not installed')] });
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
      stateDir: `/nonexistent/${name}`,
      sandbox: new RuncRuntime().sandbox,
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

wall.describe(() => {
  let work: string;
  let stateRoot: string;
  const images: Record<'benign' | 'miner' | 'stubborn' | 'membomb' | 'dropper' | 'writer' | 'filler' | 'litter', ResolvedImage> = {} as never;
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
      writer: [
        'mkdir -p /usr/local/bin',
        `printf '#!/bin/sh\\necho usr-local-ran\\n' > /usr/local/bin/x`,
        'chmod 755 /usr/local/bin/x',
        '/usr/local/bin/x',
        `printf 'payload-%s\\n' 42 > /tmp/drop.sh`,
        'chmod 700 /tmp/drop.sh',
        'mkdir -p /run/app && echo pidfile > /run/app/pid',
        'ln -s /etc/passwd /tmp/link',
        'mkfifo /tmp/fifo',
        '(echo x > /sys/kernel/detonate-probe) 2>/dev/null || echo sys-refused',
        'sleep 30 & sleep 0.3; kill -9 $!',
        'echo hi | nc -w 1 203.0.113.9 8080',
        'echo writer-done',
      ].join('; '),
      filler: 'dd if=/dev/zero of=/tmp/fill bs=1M 2>/dev/null; echo dd-rc=$?; exit 0',
      litter: [
        'mkdir -p /tmp/many /tmp/bin',
        'i=0; while [ $i -lt 1000 ]; do echo $i > /tmp/many/f$i; i=$((i+1)); done',
        `i=0; while [ $i -lt 300 ]; do printf '#!/bin/sh\\n' > /tmp/bin/s$i; chmod +x /tmp/bin/s$i; i=$((i+1)); done`,
        'truncate -s 10G /tmp/sparse',
        'ln -s / /tmp/rootlink; ln -s /etc/passwd /tmp/passwdlink; mkfifo /tmp/fifo',
        'd=/tmp/deep; i=0; while [ $i -lt 100 ]; do d=$d/d; i=$((i+1)); done; mkdir -p $d && echo deep > $d/f',
        'echo litter-done',
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

  async function detonate(runtime: Runtime, image: ResolvedImage, timeoutMs = 20_000, extra: Partial<DetonateOptions> = {}): Promise<DetonationResult> {
    const r = await detonateImage(image, {
      runtime,
      timeoutMs,
      workDir: join(work, 'runs'),
      id: `t${process.pid}-${seq++}`,
      ...extra,
      limits: { memoryBytes: 256 * 1024 * 1024, pids: 128, cpus: 1, ...extra.limits },
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
        // /bin/sh is a link to busybox in the image: the report names the program that ran, the argv how it was called
        expect(r.processes.map((p) => [p.exe, p.argv[0]]), runtime.name).toContainEqual(['/bin/busybox', '/bin/sh']);
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
      expect(r.dns, why).toContainEqual({ name: 'pool.example.test', type: 'A', pid: null, atMs: expect.any(Number) });
      const stratum = r.connections.find((c) => c.protocol === 'stratum');
      expect(stratum, why).toMatchObject({ proto: 'tcp', dst: '203.0.113.7', port: 3333, protocol: 'stratum' });
      expect(stratum!.firstBytes).toContain('"method":"login"');
      expect(stratum!.pid, why).toBeGreaterThan(0);
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
      // both roots are writable now (runc: an overlay on the run's tmpfs)
      expect(ops, why).toContain('create /etc/crontab');
      expect(r.output.stdout, why).not.toContain('etc-read-only');
      expect(r.files.find((f) => f.op === 'chmod' && f.path === '/tmp/x')?.mode, why).toBe(0o755);
      expect(r.files.every((f) => f.pid > 0), why).toBe(true);
      expect(ops.filter((o) => o.includes('/dev/')), why).toEqual([]);
      console.log(`[timing] ${runtime.name}: dropper traced in ${r.durationMs} ms: ${JSON.stringify(r.processes.map((p) => [p.pid, p.ppid, p.argv.join(' ').slice(0, 40)]))} ${ops.join(', ')} ${JSON.stringify(r.connections)}`);
    }
  }, 90_000);

  it('gives both runtimes a writable root, hands dropped files to inspectDropped and records failed writes, kills and pids', async () => {
    for (const runtime of runtimes) {
      const seen: { file: DroppedFile; content: string }[] = [];
      const r = await detonate(runtime, images.writer, 20_000, {
        inspectDropped: async (files) => {
          for (const file of files) seen.push({ file, content: readFileSync(file.hostPath, 'utf8').slice(0, 200) });
          await Promise.resolve();
        },
      });
      const why = `${runtime.name}: ${JSON.stringify({ out: r.output, log: r.runtimeLog, files: r.files, dropped: r.dropped, kills: r.kills, connections: r.connections }).slice(0, 6000)}`;
      expect(r.exitCode, why).toBe(0);
      expect(r.output.stdout, why).toContain('usr-local-ran');
      expect(r.output.stdout, why).toContain('sys-refused');
      expect(r.output.stdout, why).toContain('writer-done');
      const drop = seen.find((s) => s.file.path === '/tmp/drop.sh');
      expect(drop, why).toMatchObject({ content: 'payload-42\n', file: { size: 11, mode: 0o700 } });
      expect(seen.find((s) => s.file.path === '/run/app/pid')?.content, why).toBe('pidfile\n');
      // the link and the FIFO are no dropped files; nothing is outside the sample's own writes
      expect(seen.map((s) => s.file.path).filter((p) => p === '/tmp/link' || p === '/tmp/fifo'), why).toEqual([]);
      // both runtimes' roots are an overlay whose upper layer is read back: a file dropped anywhere is kept
      expect(seen.find((s) => s.file.path === '/usr/local/bin/x'), why).toMatchObject({ content: '#!/bin/sh\necho usr-local-ran\n', file: { mode: 0o755 } });
      // executables first
      expect(seen.findIndex((s) => s.file.path === '/usr/local/bin/x'), why).toBeLessThan(seen.findIndex((s) => s.file.path === '/run/app/pid'));
      const sha = createHash('sha256').update('payload-42\n').digest('hex');
      expect(r.dropped, why).toContainEqual({ path: '/tmp/drop.sh', size: 11, mode: 0o700, sha256: sha });
      expect(r.files.find((f) => f.path === '/sys/kernel/detonate-probe' && f.error), why).toMatchObject({ op: 'create', error: expect.stringMatching(/^E(ROFS|ACCES|PERM)$/) });
      expect(r.files.filter((f) => f.error).every((f) => f.pid > 0), why).toBe(true);
      // busybox's sh runs its applets through /proc/self/exe under gVisor: the target's program is whatever it exec'd
      expect(r.kills, why).toContainEqual(expect.objectContaining({ signal: 'SIGKILL', pid: expect.any(Number), target: expect.any(Number), targetExe: expect.any(String) }));
      const conn = r.connections.find((c) => c.dst === '203.0.113.9' && c.port === 8080);
      expect(conn?.pid, why).toBeGreaterThan(0);
      expect(r.limitsHit.diskFull, why).toBeUndefined();
      console.log(`[timing] ${runtime.name}: writer setup ${r.timings.setupMs} ms, teardown ${r.timings.teardownMs} ms, dropped ${r.dropped?.length}`);
    }
  }, 90_000);

  it('lists a hostile sample\'s leftovers bounded: no links followed, no FIFO opened, no sparse giant read', async () => {
    for (const runtime of runtimes) {
      let handed: DroppedFile[] = [];
      const started = performance.now();
      const r = await detonate(runtime, images.litter, 30_000, { inspectDropped: (files) => Promise.resolve(void (handed = files)) });
      const ms = performance.now() - started;
      const why = `${runtime.name}: ${JSON.stringify({ out: r.output, log: r.runtimeLog, n: r.dropped?.length, first: r.dropped?.slice(0, 3) })}`;
      expect(r.output.stdout, why).toContain('litter-done');
      expect(r.dropped, why).toHaveLength(256);
      expect(handed, why).toHaveLength(256);
      // the 300 scripts come first, then the rest; never the links, the FIFO or the 10 GB sparse file
      expect(handed.slice(0, 256).every((f) => f.path.startsWith('/tmp/bin/s')), why).toBe(true);
      expect(handed.every((f) => !/\/tmp\/(rootlink|passwdlink|fifo|sparse)$/.test(f.path)), why).toBe(true);
      expect(handed.every((f) => f.hostPath.startsWith(join(work, 'runs'))), why).toBe(true);
      expect(r.dropped!.reduce((n, f) => n + f.size, 0), why).toBeLessThanOrEqual(64 * 1024 * 1024);
      console.log(`[timing] ${runtime.name}: litter run with dropped-file listing ${Math.round(ms)} ms`);
    }
  }, 90_000);

  it('stops a disk filler at the writable limit and reports diskFull', async () => {
    for (const runtime of runtimes) {
      const r = await detonate(runtime, images.filler, 20_000, { limits: { writableBytes: 32 * 1024 * 1024 } });
      const why = `${runtime.name}: ${JSON.stringify({ out: r.output, log: r.runtimeLog, files: r.files, limits: r.limitsHit, dropped: r.dropped })}`;
      expect(r.timedOut, why).toBe(false);
      expect(r.output.stdout, why).toMatch(/dd-rc=[1-9]/);
      expect(r.limitsHit.diskFull, why).toBe(true);
      const fill = r.dropped?.find((d) => d.path === '/tmp/fill');
      expect(fill?.size, why).toBeGreaterThan(16 * 1024 * 1024);
      expect(fill!.size, why).toBeLessThanOrEqual(32 * 1024 * 1024);
      // the file it filled is there; its failed write() is not (write() is not traced: a flood of it would bury the rest)
      expect(r.files, why).toContainEqual(expect.objectContaining({ op: 'create', path: '/tmp/fill' }));
    }
  }, 60_000);

  it('refuses a work dir overlayfs cannot take, before anything is made', async () => {
    const odd = join(work, 'odd,dir');
    const runtime = runtimes.find((r) => r.name === 'runc') ?? runtimes[0]!;
    await expect(detonate(runtime, images.benign, 5000, { workDir: odd })).rejects.toThrow(/overlayfs cannot take/);
    expect(readdirSync(odd)).toEqual([]);
  });

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
      // gVisor's kill at the limit is not always counted as the kernel's OOM kill; runc's sample is the kernel's pick
      if (runtime.name === 'runc') expect(r.limitsHit.oomKills, why).toBeGreaterThan(0);
      expect(r.exitCode, why).not.toBe(0);
    }
  }, 60_000);

  it('tears everything down when the detonating process gets SIGTERM during the run, then dies of it', async () => {
    const script = join(repoRoot, 'test/detonate/fixtures/detonate-child.ts');
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
