/**
 * Generates the OCI runtime bundle (runtime-spec 1.0.2 `config.json` plus the files it bind-mounts) that runs an
 * image's entrypoint the way `docker run` would, inside the hardened sandbox: no capabilities, no new privileges,
 * every namespace, cgroup limits, masked /proc. What differs between runtimes is the runtime's `SandboxProfile`:
 * a user namespace, a seccomp profile, who keeps the root's writes, where the pids limit is enforced (runc asks
 * for all of the first; gVisor, whose own kernel is the wall, for none, and keeps its root's writes in memory).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join, posix, resolve } from 'node:path';
import type { ImageConfigFile } from '../image/types.js';
import { ImageError } from '../image/errors.js';
import { readRootfsFile } from './rootfs.js';
import { seccompProfile, type SeccompProfile } from './seccomp.js';
import { removeTree } from '../util/long-paths.js';
import type { WritableRoot } from './writable.js';
import {
  DEV_TMPFS_BYTES,
  MAX_ADDITIONAL_GIDS,
  MAX_CONFIG_ARGS_BYTES,
  MAX_CONFIG_ENV_VARS,
  MAX_DEV_SHM_BYTES,
  MAX_ID_FILE_BYTES,
  MAX_ID_FILE_LINES,
  SAMPLE_OPEN_FILES_LIMIT,
  type BundleLimits,
} from './limits.js';

export interface IdMapping {
  /** Host uid and gid that container id 0 maps to. */
  uid: number;
  gid: number;
  size: number;
}

/**
 * What a runtime needs of its sandbox, as data (each runtime's `sandbox`, src/detonate/runtime/<name>/): the bundle,
 * the owner of the rootfs, the writable layer and the run's cgroup follow from it.
 */
export interface SandboxProfile {
  /**
   * A user namespace whose root is this host id range: the rootfs and the bundle dir are owned by it, every dir above
   * the bundle must let it pass, and /sys is a read-only bind of the host's with the cgroup tree masked (a new sysfs is
   * refused in a user namespace joined to a network namespace of the init user namespace). Absent: no user namespace
   * (the runtime's own kernel is the wall).
   */
  userNamespace?: Readonly<IdMapping>;
  /** Who keeps the root's writes (writable.ts). `runtime`: the spec's root is always writable; `overlay`: read-only unless `writableRoot`. */
  writableRoot: WritableRoot;
  /** The seccomp profile (seccomp.ts) in the bundle; false: the runtime's own kernel filters the sample's calls. */
  seccomp: boolean;
  /**
   * Where the sample's pids limit is enforced: by the run's cgroup, which holds the sample alone; or by the runtime's
   * kernel as RLIMIT_NPROC (a kernel that holds nothing but the sample), while the host cgroup, which also holds the
   * runtime's own tasks, gets `hostLimit(pids)` as a backstop. Forks refused that way show in the syscall trace only.
   */
  pidsLimit: { enforcedBy: 'cgroup' } | { enforcedBy: 'rlimit'; hostLimit(pids: number): number };
}

export interface BundleOptions {
  /** The runtime's `sandbox`. */
  sandbox: SandboxProfile;
  limits: BundleLimits;
  /** The sample's network namespace (`/run/netns/…`); absent: a new, empty one. */
  networkNamespacePath?: string;
  /** The container's /etc/resolv.conf: its full text, or just the sink's address (→ `nameserver <address>`). */
  resolvConf: string;
  /** Default: 12 random hex digits, like a Docker container id. */
  hostname?: string;
  /** Replaces the image's Cmd, as `docker run IMAGE ARGS…` does (the Entrypoint stays). */
  command?: string[];
  /** `linux.cgroupsPath`, chosen by the runtime driver so it can sample and kill the cgroup. */
  cgroupsPath?: string;
  /**
   * The spec's `root.path` when it is not `rootfsDir` (an overlay mounted over it). `rootfsDir` is still what the
   * user is resolved against and what gets the /etc mount points, so they are not in the overlay's upper.
   */
  rootPath?: string;
  /**
   * A writable root when the profile's root is an `overlay` (one whose upper layer is bounded). Default false:
   * read-only. A root whose writes the runtime keeps is always writable.
   */
  writableRoot?: boolean;
  /** Host dirs bind-mounted writable (and executable) instead of the tmpfs at their destination (/tmp, /var/tmp, /run). */
  writableDirs?: { destination: string; source: string }[];
  /**
   * Where the files bind-mounted on /etc/resolv.conf, /etc/hosts and /etc/hostname are written; default the bundle
   * dir. A tmpfs of the run's keeps the host's path, disk and disk size out of what the sample reads (mountinfo, df).
   */
  filesDir?: string;
}

export interface Bundle {
  dir: string;
  configPath: string;
  spec: RuntimeSpec;
}

/** The parts of the OCI runtime-spec this module writes. */
export interface RuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', string[]>;
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
    oomScoreAdj: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: {
    namespaces: { type: string; path?: string }[];
    uidMappings?: { containerID: number; hostID: number; size: number }[];
    gidMappings?: { containerID: number; hostID: number; size: number }[];
    resources: {
      devices: { allow: boolean; access: string }[];
      memory: { limit: number; swap: number };
      pids: { limit: number };
      cpu: { quota: number; period: number };
    };
    cgroupsPath?: string;
    seccomp?: SeccompProfile;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** The image's config cannot be run as asked (no command, unknown user, …). */
export class BundleError extends ImageError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'BundleError';
  }
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CPU_PERIOD_US = 100_000;
/** Largest uid or gid Linux takes: (uid_t)-1 means "no id" to the kernel. */
const MAX_ID = 0xfffffffe;

/** runc's default masked and read-only paths (plus the cgroup tree, which a bind of the host's /sys would show). */
const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * The pids limit of the run's host cgroup for the sample's limit `pids`: that limit when the cgroup enforces it (it
 * holds the sample alone), else the runtime's backstop for its own tasks (see `SandboxProfile.pidsLimit`).
 */
export function sandboxPidsLimit(sandbox: SandboxProfile, pids: number): number {
  const sample = Math.floor(pids);
  return sandbox.pidsLimit.enforcedBy === 'rlimit' ? sandbox.pidsLimit.hostLimit(sample) : sample;
}

interface IdEntry {
  name: string;
  id: number;
  gid: number;
  home: string;
  members: string[];
}

function parseId(text: string): number | null {
  if (!/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n <= MAX_ID ? n : null;
}

/** Bounded parser for passwd (`name:x:uid:gid:gecos:home:shell`) and group (`name:x:gid:members`) files. */
export function parseIdFile(text: string, kind: 'passwd' | 'group'): IdEntry[] {
  const out: IdEntry[] = [];
  const lines = text.split('\n', MAX_ID_FILE_LINES);
  for (const line of lines) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split(':');
    if (kind === 'passwd') {
      if (f.length < 4) continue;
      const id = parseId(f[2]!);
      const gid = parseId(f[3]!);
      if (id === null || gid === null || f[0] === '') continue;
      out.push({ name: f[0]!, id, gid, home: f[5] || '/', members: [] });
    } else {
      if (f.length < 3) continue;
      const id = parseId(f[2]!);
      if (id === null || f[0] === '') continue;
      const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
      out.push({ name: f[0]!, id, gid: id, home: '', members });
    }
  }
  return out;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/**
 * Resolves the image's `User` (`name`, `uid`, `uid:gid`, `name:group`, …) against the rootfs's /etc/passwd and
 * /etc/group the way Docker does: a numeric uid missing from passwd is fine (gid 0, home /), a missing name is not.
 */
export async function resolveUser(spec: string | undefined, rootfsDir: string): Promise<ResolvedUser> {
  const text = (spec ?? '').trim();
  if (text.includes('\u0000')) throw new BundleError('the image config names an invalid user');
  const [userPart = '', groupPart] = text.split(':', 2) as [string?, string?];
  let group: IdEntry[] | undefined;
  const load = async (kind: 'passwd' | 'group'): Promise<IdEntry[]> => {
    const buf = await readRootfsFile(rootfsDir, `etc/${kind}`, MAX_ID_FILE_BYTES);
    return buf ? parseIdFile(buf.toString('utf8'), kind) : [];
  };
  const passwd = await load('passwd');
  let entry: IdEntry | undefined;
  let uid = 0;
  if (userPart === '') {
    entry = passwd.find((e) => e.id === 0);
  } else {
    const n = parseId(userPart);
    if (n !== null) {
      uid = n;
      entry = passwd.find((e) => e.id === n);
    } else {
      entry = passwd.find((e) => e.name === userPart);
      if (!entry) {
        throw new BundleError(`the image's user "${userPart.slice(0, 100)}" is not in its /etc/passwd`, 'the image cannot start as configured (docker would refuse it too)');
      }
      uid = entry.id;
    }
  }
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    const n = parseId(groupPart);
    if (n !== null) gid = n;
    else {
      group = await load('group');
      const g = group.find((e) => e.name === groupPart);
      if (!g) throw new BundleError(`the image's group "${groupPart.slice(0, 100)}" is not in its /etc/group`, 'the image cannot start as configured');
      gid = g.id;
    }
  }
  const additionalGids: number[] = [];
  if (entry) {
    group ??= await load('group');
    for (const g of group) {
      if (g.members.includes(entry.name) && g.id !== gid && !additionalGids.includes(g.id)) additionalGids.push(g.id);
      if (additionalGids.length >= MAX_ADDITIONAL_GIDS) break;
    }
  }
  return { uid, gid, additionalGids, home: entry?.home ?? '/' };
}

function checkStrings(what: string, values: string[]): void {
  let bytes = 0;
  for (const v of values) {
    if (typeof v !== 'string' || v.includes('\u0000')) throw new BundleError(`the image config's ${what} holds a value that is not a string`);
    bytes += Buffer.byteLength(v) + 1;
  }
  if (bytes > MAX_CONFIG_ARGS_BYTES) throw new BundleError(`the image config's ${what} is larger than ${MAX_CONFIG_ARGS_BYTES} bytes`);
}

/** Entrypoint then Cmd (Cmd replaced by `command` when given), as Docker runs them. */
export function processArgs(config: ImageConfigFile['config'], command?: string[]): string[] {
  const entrypoint = config?.Entrypoint ?? [];
  const cmd = command ?? config?.Cmd ?? [];
  const args = [...entrypoint, ...cmd];
  checkStrings('Entrypoint and Cmd', args);
  if (args.length === 0) throw new BundleError('the image sets neither Entrypoint nor Cmd: there is nothing to run', 'give a command to run');
  return args;
}

function processEnv(config: ImageConfigFile['config'], hostname: string, home: string): string[] {
  const env = new Map<string, string>();
  const image = (config?.Env ?? []).filter((e) => typeof e === 'string' && e.indexOf('=') > 0 && !e.includes('\u0000'));
  if (image.length > MAX_CONFIG_ENV_VARS) throw new BundleError(`the image config sets more than ${MAX_CONFIG_ENV_VARS} environment variables`);
  checkStrings('Env', image);
  const put = (entry: string) => env.set(entry.slice(0, entry.indexOf('=')), entry);
  put(DEFAULT_PATH);
  put(`HOSTNAME=${hostname}`);
  for (const e of image) put(e);
  put(`HOSTNAME=${hostname}`);
  if (!env.has('HOME')) put(`HOME=${home}`);
  return [...env.values()];
}

function workingDir(config: ImageConfigFile['config']): string {
  const dir = config?.WorkingDir ?? '';
  if (dir.includes('\u0000')) throw new BundleError('the image config has an invalid WorkingDir');
  return dir === '' ? '/' : posix.normalize(posix.join('/', dir));
}

function profileFor(architecture: string): SeccompProfile {
  try {
    return seccompProfile(architecture);
  } catch (err) {
    throw new BundleError((err as Error).message);
  }
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new BundleError(`detonation limit ${name} must be a positive number (got ${value})`);
}

/** Mount points for the file binds: a link or a missing file there would make the runtime create or follow it. */
async function prepareMountPoints(rootfsDir: string, names: string[]): Promise<void> {
  let etc;
  try {
    etc = await fs.lstat(join(rootfsDir, 'etc'));
  } catch {
    etc = undefined;
  }
  if (!etc) await fs.mkdir(join(rootfsDir, 'etc'), 0o755);
  else if (!etc.isDirectory()) return; // the runtime resolves it inside the rootfs; nothing safe to prepare here
  for (const name of names) {
    const path = join(rootfsDir, 'etc', name);
    const st = await fs.lstat(path).catch(() => undefined);
    if (st?.isFile()) continue;
    if (st) await removeTree(path); // a directory there may be deeper than fs.rm reaches
    await fs.writeFile(path, '', { mode: 0o644, flag: 'wx' });
  }
}

/**
 * Writes `bundleDir/config.json` (and the resolv.conf, hosts and hostname it mounts) for `rootfsDir`, a rootfs
 * made by `materialiseRootfs` (with a user namespace, with `ownership` equal to its id mapping). `bundleDir` is
 * created if needed and made private: 0700, owned by root, or by the mapped root with a user namespace (whose
 * init runs in it and must reach the rootfs).
 */
export async function createBundle(image: ImageConfigFile, rootfsDir: string, bundleDir: string, options: BundleOptions): Promise<Bundle> {
  const { sandbox, limits } = options;
  positive('memoryBytes', limits.memoryBytes);
  positive('pids', limits.pids);
  positive('cpus', limits.cpus);
  positive('tmpfsBytes', limits.tmpfsBytes);
  const hostname = options.hostname ?? randomBytes(6).toString('hex');
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(hostname)) throw new BundleError(`invalid hostname "${hostname.slice(0, 80)}"`);
  if (options.networkNamespacePath !== undefined && !isAbsolute(options.networkNamespacePath)) {
    throw new BundleError('the network namespace path must be absolute');
  }
  if (options.filesDir !== undefined && !isAbsolute(options.filesDir)) throw new BundleError('the bundle files directory must be absolute');
  for (const d of options.writableDirs ?? []) {
    if (!posix.isAbsolute(d.destination) || posix.normalize(d.destination) !== d.destination || d.destination === '/' || !isAbsolute(d.source)) {
      throw new BundleError(`invalid writable dir ${JSON.stringify(d).slice(0, 200)}: destination and source must be absolute, normalised paths`);
    }
  }
  const rootfs = resolve(rootfsDir);
  const dir = resolve(bundleDir);
  const mapping = sandbox.userNamespace;
  const rootStat = await fs.lstat(rootfs).catch(() => undefined);
  if (!rootStat?.isDirectory()) throw new BundleError(`rootfs ${rootfs} is not a directory`);
  if (mapping && rootStat.uid !== mapping.uid) {
    throw new BundleError(
      `rootfs ${rootfs} is owned by uid ${rootStat.uid}, not by ${mapping.uid}, the host uid of the sandbox's root`,
      `materialise it with ownership { uid: ${mapping.uid}, gid: ${mapping.gid}, size: ${mapping.size} }, the sandbox's user namespace`,
    );
  }

  const config = image.config ?? {};
  const args = processArgs(config, options.command);
  const user = await resolveUser(config.User, rootfs);
  if (mapping) {
    for (const id of [user.uid, user.gid, ...user.additionalGids]) {
      if (id >= mapping.size) throw new BundleError(`the image's user or group id ${id} is outside the sandbox's ${mapping.size} mapped ids`);
    }
  }
  const resolvConf = isIP(options.resolvConf.trim()) ? `nameserver ${options.resolvConf.trim()}\n` : options.resolvConf;
  const hosts = `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`;

  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const dirStat = await fs.lstat(dir);
  if (!dirStat.isDirectory()) throw new BundleError(`bundle directory ${dir} is not a directory`);
  await fs.chmod(dir, 0o700);
  if (mapping) await fs.chown(dir, mapping.uid, mapping.gid);
  const filesDir = options.filesDir ? resolve(options.filesDir) : dir;
  if (filesDir !== dir) {
    await fs.mkdir(filesDir, { recursive: true, mode: 0o755 });
    if (!(await fs.lstat(filesDir)).isDirectory()) throw new BundleError(`bundle files directory ${filesDir} is not a directory`);
  }
  const files = { 'resolv.conf': resolvConf, hosts, hostname: `${hostname}\n` };
  for (const [name, text] of Object.entries(files)) {
    const path = join(filesDir, name);
    await fs.rm(path, { force: true });
    await fs.writeFile(path, text, { mode: 0o644, flag: 'wx' });
  }
  await prepareMountPoints(rootfs, Object.keys(files));

  const tmpfs = (destination: string, mode: string, size: number, extra: string[] = []) => ({
    destination,
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'nodev', ...extra, `mode=${mode}`, `size=${size}`],
  });
  const fileBind = (name: string) => ({
    destination: `/etc/${name}`,
    type: 'bind',
    source: join(filesDir, name),
    options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
  });
  const mounts: RuntimeSpec['mounts'] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', `size=${DEV_TMPFS_BYTES / 1024}k`] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    tmpfs('/dev/shm', '1777', Math.min(limits.tmpfsBytes, MAX_DEV_SHM_BYTES), ['noexec']),
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // In a user namespace joined to a network namespace of the init user namespace, mounting a new sysfs is
    // refused; a read-only recursive bind of the host's /sys works (lab report §3b) and the cgroup tree is masked.
    mapping
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'ro', 'rro', 'nosuid', 'noexec', 'nodev'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ...(
      [
        ['/tmp', '1777'],
        ['/run', '755'],
        ['/var/tmp', '1777'],
      ] as const
    ).map(([destination, mode]) => {
      const bind = options.writableDirs?.find((d) => d.destination === destination);
      return bind ? { destination, type: 'bind', source: resolve(bind.source), options: ['rbind', 'rw', 'nosuid', 'nodev'] } : tmpfs(destination, mode, limits.tmpfsBytes);
    }),
    ...(options.writableDirs ?? [])
      .filter((d) => !['/tmp', '/run', '/var/tmp'].includes(d.destination))
      .map((d) => ({ destination: d.destination, type: 'bind', source: resolve(d.source), options: ['rbind', 'rw', 'nosuid', 'nodev'] })),
    fileBind('resolv.conf'),
    fileBind('hosts'),
    fileBind('hostname'),
  ];

  const namespaces: RuntimeSpec['linux']['namespaces'] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
    options.networkNamespacePath ? { type: 'network', path: options.networkNamespacePath } : { type: 'network' },
  ];
  if (mapping) namespaces.push({ type: 'user' });

  const spec: RuntimeSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args,
      env: processEnv(config, hostname, user.home),
      cwd: workingDir(config),
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: SAMPLE_OPEN_FILES_LIMIT, soft: SAMPLE_OPEN_FILES_LIMIT },
        { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
        // A kernel that holds nothing but the sample (gVisor's counts every task of a user, threads too, as the pids
        // controller does), which lacks CAP_SYS_RESOURCE and CAP_SYS_ADMIN to lift it: the sample's pids limit, exact,
        // while the host cgroup also holds the runtime's own tasks. (On the host kernel the cgroup is the sample's
        // alone; RLIMIT_NPROC there would count every run's processes of the shared mapped uid.)
        ...(sandbox.pidsLimit.enforcedBy === 'rlimit' ? [{ type: 'RLIMIT_NPROC', hard: Math.floor(limits.pids), soft: Math.floor(limits.pids) }] : []),
      ],
      noNewPrivileges: true,
      // the host's OOM killer takes the sample first
      oomScoreAdj: 1000,
    },
    root: { path: options.rootPath ? resolve(options.rootPath) : rootfs, readonly: sandbox.writableRoot === 'overlay' && !options.writableRoot },
    hostname,
    mounts,
    linux: {
      namespaces,
      ...(mapping
        ? {
            uidMappings: [{ containerID: 0, hostID: mapping.uid, size: mapping.size }],
            gidMappings: [{ containerID: 0, hostID: mapping.gid, size: mapping.size }],
          }
        : {}),
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        memory: { limit: Math.floor(limits.memoryBytes), swap: Math.floor(limits.memoryBytes) },
        pids: { limit: sandboxPidsLimit(sandbox, limits.pids) },
        cpu: { quota: Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US)), period: CPU_PERIOD_US },
      },
      ...(options.cgroupsPath ? { cgroupsPath: options.cgroupsPath } : {}),
      ...(sandbox.seccomp ? { seccomp: profileFor(image.architecture ?? 'amd64') } : {}),
      // the host's /sys (bound with a user namespace) would show the host's cgroup tree
      maskedPaths: mapping ? [...MASKED_PATHS, '/sys/fs/cgroup'] : [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
  const configPath = join(dir, 'config.json');
  await fs.rm(configPath, { force: true });
  await fs.writeFile(configPath, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { dir, configPath, spec };
}
