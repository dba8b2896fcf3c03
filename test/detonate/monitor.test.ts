import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  normalise, parseGvisorStrace, parseStrace, straceArgs, gvisorStraceFlags, type Behaviour,
} from '../../src/detonate/monitor/index.js';

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../src/detonate/monitor/testdata/${name}`, import.meta.url)), 'utf8');

const runs: [string, () => Behaviour][] = [
  ['gVisor --strace (glog text)', () => normalise(parseGvisorStrace(fixture('gvisor-boot.log')).events)],
  ['gVisor --strace (JSON log)', () => normalise(parseGvisorStrace(fixture('gvisor-boot.json.log')).events)],
  ['strace -f around runc', () => normalise(parseStrace(fixture('runc-strace.txt')).events)],
];

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

  it('keeps truncated argv bounded and flagged', () => {
    const long = b.processes.find((p) => p.argv[2]?.startsWith('true AAAA'));
    expect(long).toBeDefined();
    expect(long!.argv[2]!.length).toBeLessThanOrEqual(4096);
  });
});

describe('the same story from both runtimes', () => {
  it('has the same programs, files and connections', () => {
    const [gv, , rc] = runs.map(([, run]) => run());
    const story = (b: Behaviour): unknown => ({
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
    ].join('\n')).events);
    expect(b.processes).toEqual([{ pid: 11, ppid: 0, exe: '/bin/sh', argv: ['sh'], startMs: 0 }]);
    expect(b.files).toEqual([]);
    expect(b.connections).toEqual([]);
    expect(b.kills).toEqual([]);
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
    expect(gvisorStraceFlags('/x')).toContain('--debug-log=/x/');
    expect(gvisorStraceFlags('/x').find((f) => f.startsWith('--strace-syscalls='))).toMatch(/execve,.*connect/);
    expect(straceArgs('/o')).toEqual(expect.arrayContaining(['-f', '-yy', '--pidns-translation', '-o', '/o']));
  });
});
