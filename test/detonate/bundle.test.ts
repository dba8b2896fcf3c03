import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv04Module from 'ajv-draft-04';
import { createBundle, BundleError, parseIdFile, processArgs, resolveUser, type BundleOptions, type RuntimeSpec } from '../../src/detonate/bundle.js';
import { GVISOR_HOST_TASKS, GVISOR_SANDBOX } from '../../src/detonate/runtime/gvisor/index.js';
import { RUNC_SANDBOX } from '../../src/detonate/runtime/runc/index.js';
import { DENIED_SYSCALLS } from '../../src/detonate/seccomp.js';
import type { ImageConfigFile } from '../../src/image/types.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const schemaDir = fileURLToPath(new URL('./fixtures/runtime-spec/', import.meta.url));

let work: string;
let n = 0;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-bundle-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function validator(): (spec: unknown) => string[] {
  const Ajv04 = Ajv04Module as unknown as new (opts: object) => {
    addSchema(schema: object, key: string): void;
    getSchema(key: string): ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
  };
  const ajv = new Ajv04({ strict: false, allErrors: true });
  for (const name of ['defs.json', 'defs-linux.json', 'config-linux.json', 'config-schema.json']) {
    ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, name), 'utf8')) as object, name);
  }
  const validate = ajv.getSchema('config-schema.json');
  return (spec) => (validate(spec) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'broken line without fields',
  'app:x:1000:1001:App:/home/app:/bin/sh',
  'big:x:99999999999:1:too big:/:/bin/sh',
].join('\n');
const GROUP = ['root:x:0:', 'staff:x:50:app,other', 'app:x:1001:', 'docker:x:999:app', 'web:x:33:'].join('\n');

/** A small rootfs: passwd and group, and a resolv.conf symlink pointing at the host's, as some images ship. */
function rootfs(options: { owner?: number } = {}): string {
  const dir = join(work, `rootfs${n++}`);
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc/passwd'), PASSWD);
  writeFileSync(join(dir, 'etc/group'), GROUP);
  symlinkSync('/etc/hostname', join(dir, 'etc/hostname'));
  symlinkSync('../run/systemd/resolve/stub-resolv.conf', join(dir, 'etc/resolv.conf'));
  // a rootfs materialised with ownership { uid: owner } has its root dir owned so
  if (options.owner !== undefined) for (const p of ['', 'etc']) chownSync(join(dir, p), options.owner, options.owner);
  return dir;
}

const SANDBOXES = { gvisor: GVISOR_SANDBOX, runc: RUNC_SANDBOX };
const baseOptions = (runtime: keyof typeof SANDBOXES): BundleOptions => ({
  sandbox: SANDBOXES[runtime],
  limits: { memoryBytes: 512 * 1024 * 1024, pids: 256, cpus: 1.5, tmpfsBytes: 64 * 1024 * 1024 },
  networkNamespacePath: '/run/netns/detonate-test-sample',
  resolvConf: '10.213.0.1',
  hostname: 'a1b2c3d4e5f6',
});

const image = (config: ImageConfigFile['config'], architecture = 'amd64'): ImageConfigFile => ({ architecture, os: 'linux', config });

describe('createBundle', () => {
  it('writes a gVisor bundle that validates against the runtime-spec schema', async () => {
    const root = rootfs();
    const bundle = join(work, `bundle${n++}`);
    const { spec, configPath } = await createBundle(
      image({ Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'], Env: ['PATH=/opt/bin:/usr/bin', 'NGINX_VERSION=1.25'], WorkingDir: 'srv/app', User: 'app' }),
      root,
      bundle,
      baseOptions('gvisor'),
    );
    const written = JSON.parse(readFileSync(configPath, 'utf8')) as RuntimeSpec;
    expect(written).toEqual(spec);
    const validate = validator();
    expect(validate(written)).toEqual([]);
    expect(validate({ ...written, ociVersion: undefined, linux: { ...written.linux, namespaces: [{ type: 'time' }] } }).length).toBeGreaterThan(0);
    expect(spec.ociVersion).toBe('1.0.2');
    expect(spec.process.args).toEqual(['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
    expect(spec.process.env).toEqual(['PATH=/opt/bin:/usr/bin', 'HOSTNAME=a1b2c3d4e5f6', 'NGINX_VERSION=1.25', 'HOME=/home/app']);
    expect(spec.process.cwd).toBe('/srv/app');
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1001, additionalGids: [50, 999] });
    expect(spec.process.capabilities).toEqual({ bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] });
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.terminal).toBe(false);
    expect(spec.hostname).toBe('a1b2c3d4e5f6');
    // like runc's, gVisor's root is the run's overlay (writable only when the session asks: it mounts the overlay)
    expect(spec.root).toEqual({ path: root, readonly: true });
    expect(spec.linux.namespaces).toEqual([
      { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' },
      { type: 'network', path: '/run/netns/detonate-test-sample' },
    ]);
    expect(spec.linux.uidMappings).toBeUndefined();
    expect(spec.linux.seccomp).toBeUndefined();
    expect(spec.linux.resources).toEqual({
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 536870912, swap: 536870912 },
      // the host cgroup's: room for gVisor's own threads; the sample's 256 are enforced by its kernel (RLIMIT_NPROC)
      pids: { limit: 256 * GVISOR_HOST_TASKS.perSampleTask + GVISOR_HOST_TASKS.base },
      cpu: { quota: 150000, period: 100000 },
    });
    expect(spec.process.rlimits).toContainEqual({ type: 'RLIMIT_NPROC', hard: 256, soft: 256 });
    const sys = spec.mounts.find((m) => m.destination === '/sys');
    expect(sys).toMatchObject({ type: 'sysfs', options: expect.arrayContaining(['ro']) as string[] });
    // the bind-mounted files, and a private bundle dir
    expect(readFileSync(join(bundle, 'resolv.conf'), 'utf8')).toBe('nameserver 10.213.0.1\n');
    expect(readFileSync(join(bundle, 'hosts'), 'utf8')).toMatch(/^127\.0\.0\.1\tlocalhost\n.*\n127\.0\.1\.1\ta1b2c3d4e5f6\n$/s);
    expect(statSync(bundle).mode & 0o777).toBe(0o700);
    for (const name of ['resolv.conf', 'hosts', 'hostname']) {
      expect(spec.mounts.find((m) => m.destination === `/etc/${name}`)).toEqual({
        destination: `/etc/${name}`, type: 'bind', source: join(bundle, name), options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
      });
      // the image's symlinks at the mount points are replaced by plain files inside the rootfs
      expect(lstatSync(join(root, 'etc', name)).isFile()).toBe(true);
    }
    expect(readFileSync('/etc/hostname', 'utf8')).not.toBe(''); // the host's file was not truncated through the link
  });

  it.skipIf(!isRoot)('writes a hardened runc bundle: user namespace, read-only root, seccomp, masked paths', async () => {
    const root = rootfs({ owner: 100000 });
    const bundle = join(work, `bundle${n++}`);
    const { spec } = await createBundle(image({ Cmd: ['/bin/sh', '-c', 'echo hi'] }), root, bundle, baseOptions('runc'));
    expect(validator()(spec)).toEqual([]);
    expect(spec.root.readonly).toBe(true);
    expect(spec.linux.namespaces.map((x) => x.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'cgroup', 'network', 'user']);
    expect(spec.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    expect(spec.linux.gidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    expect(spec.process.user).toEqual({ uid: 0, gid: 0 });
    expect(spec.process.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=a1b2c3d4e5f6', 'HOME=/root']);
    // the cgroup holds the sample alone: its limit is the sample's, and no RLIMIT_NPROC (the mapped uid is every run's)
    expect(spec.linux.resources.pids).toEqual({ limit: 256 });
    expect(spec.process.rlimits.map((r) => r.type)).not.toContain('RLIMIT_NPROC');
    const tmpfs = spec.mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.destination, m.options.find((o) => o.startsWith('size='))]);
    expect(tmpfs).toEqual([['/dev', 'size=65536k'], ['/dev/shm', 'size=67108864'], ['/tmp', 'size=67108864'], ['/run', 'size=67108864'], ['/var/tmp', 'size=67108864']]);
    expect(spec.mounts.find((m) => m.destination === '/tmp')!.options).not.toContain('noexec');
    expect(spec.mounts.find((m) => m.destination === '/sys')).toMatchObject({ type: 'bind', source: '/sys', options: expect.arrayContaining(['rbind', 'ro']) as string[] });
    expect(spec.linux.maskedPaths).toEqual(expect.arrayContaining(['/proc/kcore', '/proc/keys', '/sys/firmware', '/sys/fs/cgroup']));
    expect(spec.linux.readonlyPaths).toEqual(expect.arrayContaining(['/proc/sys', '/proc/sysrq-trigger']));
    const seccomp = spec.linux.seccomp!;
    expect(seccomp.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect(seccomp.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const denied = seccomp.syscalls.filter((s) => s.action === 'SCMP_ACT_ERRNO' && s.errnoRet === 1 && !s.args).flatMap((s) => s.names);
    for (const name of ['keyctl', 'add_key', 'request_key', 'ptrace', 'mount', 'umount2', 'pivot_root', 'kexec_load', 'bpf', 'perf_event_open', 'userfaultfd', 'unshare', 'setns', 'io_uring_setup']) {
      expect(denied).toContain(name);
    }
    expect(denied).toEqual([...DENIED_SYSCALLS]);
    const cloneUser = seccomp.syscalls.find((s) => s.names.includes('clone') && s.args?.[0]?.value === 0x10000000);
    expect(cloneUser).toEqual({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0x10000000, valueTwo: 0x10000000, op: 'SCMP_CMP_MASKED_EQ' }] });
    expect(seccomp.syscalls.find((s) => s.names.includes('clone3'))).toMatchObject({ errnoRet: 38 });
    expect(statSync(bundle).uid).toBe(100000);
    expect(statSync(bundle).mode & 0o777).toBe(0o700);
  });

  it('gives runc a writable overlay root and binds the writable dirs instead of their tmpfs when asked', async () => {
    const dir = rootfs({ owner: 100000 });
    const spec = (await createBundle(image({ Cmd: ['/bin/sh'] }), dir, join(work, `bundle${n++}`), {
      ...baseOptions('runc'),
      rootPath: '/work/run/bundle/rootfs',
      writableRoot: true,
      writableDirs: [
        { destination: '/tmp', source: '/work/run/capture/binds/tmp' },
        { destination: '/run', source: '/work/run/capture/binds/run' },
      ],
    })).spec;
    expect(spec.root).toEqual({ path: '/work/run/bundle/rootfs', readonly: false });
    const at = (d: string) => spec.mounts.filter((m) => m.destination === d);
    expect(at('/tmp')).toEqual([{ destination: '/tmp', type: 'bind', source: '/work/run/capture/binds/tmp', options: ['rbind', 'rw', 'nosuid', 'nodev'] }]);
    expect(at('/run')).toMatchObject([{ type: 'bind', source: '/work/run/capture/binds/run' }]);
    expect(at('/var/tmp')).toMatchObject([{ type: 'tmpfs' }]);
    // the bind mount points for /etc go into the materialised rootfs, not into the overlay
    expect(lstatSync(join(dir, 'etc/hostname')).isFile()).toBe(true);
    expect((await createBundle(image({ Cmd: ['/bin/sh'] }), dir, join(work, `bundle${n++}`), baseOptions('runc'))).spec.root.readonly).toBe(true);
  });

  it('writes the /etc files where asked (the run\'s tmpfs), not into the bundle dir', async () => {
    const root = rootfs();
    const bundle = join(work, `bundle${n++}`);
    const files = join(work, `files${n++}`);
    const { spec } = await createBundle(image({ Cmd: ['/bin/sh'] }), root, bundle, { ...baseOptions('gvisor'), filesDir: files });
    for (const name of ['resolv.conf', 'hosts', 'hostname']) {
      expect(spec.mounts.find((m) => m.destination === `/etc/${name}`)?.source).toBe(join(files, name));
      expect(lstatSync(join(files, name)).isFile()).toBe(true);
      expect(() => lstatSync(join(bundle, name))).toThrow();
    }
    expect(readFileSync(join(files, 'hostname'), 'utf8')).toBe('a1b2c3d4e5f6\n');
    await expect(createBundle(image({ Cmd: ['/bin/sh'] }), root, join(work, `bundle${n++}`), { ...baseOptions('gvisor'), filesDir: 'relative' })).rejects.toThrow(/must be absolute/);
  });

  it('refuses a runc bundle whose rootfs is not owned by the mapped root', async () => {
    const root = rootfs();
    await expect(createBundle(image({ Cmd: ['/bin/true'] }), root, join(work, `bundle${n++}`), baseOptions('runc'))).rejects.toThrow(/not by 100000/);
  });

  it('refuses images it cannot run as configured', async () => {
    const root = rootfs();
    const make = (config: ImageConfigFile['config'], extra: Partial<BundleOptions> = {}) =>
      createBundle(image(config), root, join(work, `bundle${n++}`), { ...baseOptions('gvisor'), ...extra });
    await expect(make({ Cmd: [] })).rejects.toThrow(BundleError);
    await expect(make({})).rejects.toThrow(/neither Entrypoint nor Cmd/);
    await expect(make({ Cmd: ['x'], User: 'ghost' })).rejects.toThrow(/user "ghost" is not in its \/etc\/passwd/);
    await expect(make({ Cmd: ['x'], User: 'app:nogroup' })).rejects.toThrow(/group "nogroup" is not in its \/etc\/group/);
    await expect(make({ Cmd: ['x'] }, { limits: { memoryBytes: 0, pids: 1, cpus: 1, tmpfsBytes: 1 } })).rejects.toThrow(/memoryBytes must be a positive/);
    await expect(make({ Cmd: ['x'] }, { hostname: 'bad host;name' })).rejects.toThrow(/invalid hostname/);
    await expect(make({ Cmd: ['a\u0000b'] })).rejects.toThrow(/not a string/);
    await expect(createBundle(image({ Cmd: ['x'] }, 's390x'), root, join(work, `bundle${n++}`), baseOptions('runc'))).rejects.toThrow(BundleError);
  });

  it('uses the command override, keeps the entrypoint, and writes a resolv.conf given as text', async () => {
    const root = rootfs();
    const bundle = join(work, `bundle${n++}`);
    const { spec } = await createBundle(image({ Entrypoint: ['/init'], Cmd: ['default'] }), root, bundle, {
      ...baseOptions('gvisor'),
      command: ['sh', '-c', 'echo hi'],
      resolvConf: 'nameserver 10.213.0.5\noptions ndots:0\n',
    });
    expect(spec.process.args).toEqual(['/init', 'sh', '-c', 'echo hi']);
    expect(readFileSync(join(bundle, 'resolv.conf'), 'utf8')).toBe('nameserver 10.213.0.5\noptions ndots:0\n');
    expect(spec.process.cwd).toBe('/');
  });
});

describe('users and groups', () => {
  it('parses passwd and group files, skipping malformed lines and absurd ids', () => {
    expect(parseIdFile(PASSWD, 'passwd').map((e) => e.name)).toEqual(['root', 'daemon', 'app']);
    expect(parseIdFile(GROUP, 'group').find((g) => g.name === 'staff')!.members).toEqual(['app', 'other']);
    expect(parseIdFile(`${'x'.repeat(10_000)}\n`.repeat(50), 'passwd')).toEqual([]);
  });

  it('resolves every form of USER the way Docker does', async () => {
    const root = rootfs();
    expect(await resolveUser(undefined, root)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/root' });
    expect(await resolveUser('app', root)).toEqual({ uid: 1000, gid: 1001, additionalGids: [50, 999], home: '/home/app' });
    expect(await resolveUser('1000', root)).toMatchObject({ uid: 1000, gid: 1001 });
    expect(await resolveUser('4242', root)).toEqual({ uid: 4242, gid: 0, additionalGids: [], home: '/' });
    expect(await resolveUser('4242:33', root)).toMatchObject({ uid: 4242, gid: 33 });
    expect(await resolveUser('app:web', root)).toEqual({ uid: 1000, gid: 33, additionalGids: [50, 999], home: '/home/app' });
    expect(await resolveUser('daemon:0', root)).toMatchObject({ uid: 1, gid: 0 });
  });

  it('reads passwd through links inside the rootfs only', async () => {
    const dir = join(work, `rootfs${n++}`);
    mkdirSync(join(dir, 'etc'), { recursive: true });
    symlinkSync('/etc/../../../../etc/shadow', join(dir, 'etc/passwd')); // the host's shadow must not be read
    await expect(resolveUser('root', dir)).rejects.toThrow(/not in its \/etc\/passwd/);
    expect(await resolveUser('0', dir)).toMatchObject({ uid: 0, gid: 0, home: '/' });
  });

  it('replaces a directory tree deeper than one syscall takes where a bound file goes (/etc/hosts)', async () => {
    const root = rootfs();
    const names = Array.from({ length: 17 }, (_, i) => `${String(i).padStart(2, '0')}${'h'.repeat(250)}`);
    execFileSync('sh', ['-c', 'cd -P "$0" && mkdir hosts && cd -P hosts || exit 1; for c; do mkdir "$c" && cd -P "$c" || exit 1; done; echo x > deep', join(root, 'etc'), ...names]);
    await createBundle(image({ Cmd: ['/bin/true'] }), root, join(work, `bundle${n++}`), baseOptions('gvisor'));
    expect(lstatSync(join(root, 'etc/hosts')).isFile()).toBe(true);
  });

  it('builds argv as Docker does', () => {
    expect(processArgs({ Entrypoint: ['/bin/sh', '-c', 'run.sh'], Cmd: null })).toEqual(['/bin/sh', '-c', 'run.sh']);
    expect(processArgs({ Cmd: ['/bin/sh', '-c', 'echo $HOME'] })).toEqual(['/bin/sh', '-c', 'echo $HOME']);
    expect(processArgs({ Entrypoint: ['tini', '--'], Cmd: ['app'] })).toEqual(['tini', '--', 'app']);
    expect(processArgs({ Entrypoint: ['tini', '--'], Cmd: ['app'] }, ['other'])).toEqual(['tini', '--', 'other']);
  });
});
