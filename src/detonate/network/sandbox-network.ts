import { processStartTime } from '../../util/process.js';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chooseAddresses, NetworkConfigError } from './addressing.js';
import { describeFailure, findExecutable, runBounded, spawnChild, type RunOptions, type RunResult } from './exec.js';
import {
  iptablesRuleset,
  nftRuleset,
  NFT_TABLE,
  validatePorts,
  type FirewallBackend,
  type SinkPorts,
} from './firewall.js';
import { checkNetworkPrerequisites, type NetworkTools } from './prerequisites.js';
import { CONNTRACK_PROBE_BYTES, MAX_CONNTRACK_DUMP_BYTES, NETWORK_COMMAND_TIMEOUT_MS } from '../limits.js';

/** Where iproute2 keeps named network namespaces. */
export const NETNS_DIR = '/run/netns';
export const NETNS_PREFIX = 'detonate-';
/** Owner records (pid and start time of the process that made a network), for `cleanupStale`. */
export const DEFAULT_STATE_DIR = '/run/detonate/netns';

const SAMPLE_IFACE = 'dsample0';
const SINK_IFACE = 'dsink0';
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;

export interface SandboxNetworkOptions {
  /** Run id: letters, digits, `_` and `-`, at most 48 characters. Names the namespaces. */
  id: string;
  /** Both addresses, if given, must be the two hosts of one private /30. */
  sinkAddress?: string;
  sampleAddress?: string;
  /** Private pool the run's /30 is derived from (by hashing the id); default 10.213.0.0/16. */
  subnet?: string;
  /** Ports in the sink namespace the redirected traffic lands on. Default dns 53, tcp 9999, udp 9998. */
  ports?: Partial<SinkPorts>;
  /** Force a firewall backend; default nft when installed, else iptables. */
  firewall?: FirewallBackend;
  /** Where the owner record goes; default /run/detonate/netns. */
  stateDir?: string;
  /** Deadline for each setup or teardown command; default 10 s. */
  commandTimeoutMs?: number;
}

export interface NamespaceSide {
  /** Name as `ip netns list` shows it. */
  name: string;
  /** `/run/netns/<name>`: give this to `nsenter --net=` or as an OCI `linux.namespaces[].path`. */
  path: string;
  /** The one non-loopback interface in this namespace. */
  iface: string;
  address: string;
}

export interface SandboxNetwork {
  readonly id: string;
  readonly sample: NamespaceSide;
  readonly sink: NamespaceSide;
  readonly sampleNamespace: string;
  readonly sinkNamespace: string;
  readonly samplePath: string;
  readonly sinkPath: string;
  readonly sinkAddress: string;
  readonly sampleAddress: string;
  /** The run's /30, e.g. `10.213.4.8/30`. */
  readonly subnet: string;
  readonly ports: Readonly<SinkPorts>;
  readonly firewall: FirewallBackend;
  /** Wall time the setup took. */
  readonly setupMs: number;
  /** Runs a program in the sink namespace (`nsenter --net=…`, host mount namespace). Bounded; never rejects on exit codes. */
  runInSink(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Spawns a program in the sink namespace. The child is killed by `destroy()` if still running. */
  spawnInSink(cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  runInSample(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  spawnInSample(cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** /proc/net/nf_conntrack as seen inside the sink namespace (at most 8 MiB, cut at a line end). */
  readConntrack(): Promise<string>;
  /**
   * Kills every process still in either namespace, removes the veth, the firewall table and both namespaces.
   * Idempotent; throws only if something could not be removed (calling again retries).
   */
  destroy(): Promise<void>;
}

export class NetworkSetupError extends Error {
  override name = 'NetworkSetupError';
  constructor(
    message: string,
    /** What the setup was doing when it failed. */
    readonly step: string,
  ) {
    super(message);
  }
}

export class NetworkTeardownError extends Error {
  override name = 'NetworkTeardownError';
}

interface OwnerRecord {
  pid: number;
  start: string;
  created: number;
}


async function ownerAlive(record: OwnerRecord): Promise<boolean> {
  return (await processStartTime(record.pid)) === record.start;
}

async function readOwner(file: string): Promise<OwnerRecord | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as OwnerRecord).pid === 'number' &&
      typeof (value as OwnerRecord).start === 'string'
    ) {
      return value as OwnerRecord;
    }
  } catch {
    /* missing or garbage: no owner */
  }
  return undefined;
}

function namespaceNames(id: string): { sample: string; sink: string } {
  return { sample: `${NETNS_PREFIX}${id}-sample`, sink: `${NETNS_PREFIX}${id}-sink` };
}

async function namespacePids(tools: NetworkTools, name: string, timeoutMs: number): Promise<number[]> {
  const r = await runBounded(tools.ip, ['netns', 'pids', name], { timeoutMs });
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
}

/** SIGKILLs every process inside the namespace and waits (up to ~3 s) until none is left. */
async function killNamespaceProcesses(tools: NetworkTools, name: string, timeoutMs: number): Promise<number[]> {
  let left: number[] = [];
  for (let round = 0; round < 30; round++) {
    left = await namespacePids(tools, name, timeoutMs);
    if (left.length === 0) return [];
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return left;
}

const SYSCTL_SCRIPT = `set -e
for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do
  if [ -e "$f" ]; then echo 1 > "$f"; fi
done
echo 0 > /proc/sys/net/ipv4/ip_forward
cat /proc/sys/net/ipv4/ip_forward
`;

class Network implements SandboxNetwork {
  readonly sample: NamespaceSide;
  readonly sink: NamespaceSide;
  readonly subnet: string;
  readonly ports: Readonly<SinkPorts>;
  readonly firewall: FirewallBackend;
  setupMs = 0;
  private readonly children = new Set<ChildProcess>();
  private readonly created = { owner: false, sink: false, sample: false, veth: false, firewall: false };
  private destroyed = false;
  private destroying: Promise<void> | undefined;
  private readonly ownerFile: string;

  constructor(
    readonly id: string,
    private readonly tools: NetworkTools,
    addresses: { sinkAddress: string; sampleAddress: string; subnet: string },
    ports: SinkPorts,
    private readonly stateDir: string,
    private readonly timeoutMs: number,
  ) {
    const names = namespaceNames(id);
    this.sample = { name: names.sample, path: join(NETNS_DIR, names.sample), iface: SAMPLE_IFACE, address: addresses.sampleAddress };
    this.sink = { name: names.sink, path: join(NETNS_DIR, names.sink), iface: SINK_IFACE, address: addresses.sinkAddress };
    this.subnet = addresses.subnet;
    this.ports = Object.freeze({ ...ports });
    this.firewall = tools.firewall;
    this.ownerFile = join(stateDir, `${id}.owner`);
  }

  get sampleNamespace(): string {
    return this.sample.name;
  }
  get sinkNamespace(): string {
    return this.sink.name;
  }
  get samplePath(): string {
    return this.sample.path;
  }
  get sinkPath(): string {
    return this.sink.path;
  }
  get sinkAddress(): string {
    return this.sink.address;
  }
  get sampleAddress(): string {
    return this.sample.address;
  }

  private async must(step: string, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const r = await runBounded(cmd, args, { timeoutMs: this.timeoutMs, ...options });
    if (r.code !== 0) throw new NetworkSetupError(`network setup failed (${step}): ${describeFailure(cmd, args, r)}`, step);
    return r;
  }

  private nsArgs(side: NamespaceSide, cmd: string, args: readonly string[]): string[] {
    return [`--net=${side.path}`, '--', cmd, ...args];
  }

  private runIn(side: NamespaceSide, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (this.destroyed) return Promise.reject(new Error(`sandbox network ${this.id} is destroyed`));
    return runBounded(this.tools.nsenter, this.nsArgs(side, cmd, args), options);
  }

  private spawnIn(side: NamespaceSide, cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error(`sandbox network ${this.id} is destroyed`);
    const child = spawnChild(this.tools.nsenter, this.nsArgs(side, cmd, args), options);
    this.children.add(child);
    const forget = (): void => void this.children.delete(child);
    child.once('exit', forget);
    child.once('error', forget);
    return child;
  }

  runInSink(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.runIn(this.sink, cmd, args, options);
  }
  spawnInSink(cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess {
    return this.spawnIn(this.sink, cmd, args, options);
  }
  runInSample(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.runIn(this.sample, cmd, args, options);
  }
  spawnInSample(cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess {
    return this.spawnIn(this.sample, cmd, args, options);
  }

  async readConntrack(): Promise<string> {
    const r = await this.runIn(this.sink, 'cat', ['/proc/net/nf_conntrack'], { maxOutputBytes: MAX_CONNTRACK_DUMP_BYTES });
    if (r.code !== 0) throw new Error(`cannot read conntrack in ${this.sink.name}: ${describeFailure('cat', ['/proc/net/nf_conntrack'], r)}`);
    return r.truncated ? r.stdout.slice(0, r.stdout.lastIndexOf('\n') + 1) : r.stdout;
  }

  async setUp(): Promise<void> {
    const started = performance.now();
    const { ip, nsenter } = this.tools;
    await this.claimOwner();

    for (const side of [this.sink, this.sample]) {
      await this.must('create namespace', ip, ['netns', 'add', side.name]);
      this.created[side === this.sink ? 'sink' : 'sample'] = true;
      const r = await this.must('sysctl', nsenter, this.nsArgs(side, 'sh', ['-c', SYSCTL_SCRIPT]));
      if (r.stdout.trim() !== '0') throw new NetworkSetupError(`forwarding stayed on in ${side.name}`, 'sysctl');
    }

    // Made inside the sample namespace with its peer put straight into the sink's: the pair never exists in
    // the caller's namespace, not even for a moment.
    await this.must('create veth', ip, [
      '-n', this.sample.name, 'link', 'add', SAMPLE_IFACE, 'type', 'veth', 'peer', 'name', SINK_IFACE, 'netns', this.sink.name,
    ]);
    this.created.veth = true;
    for (const side of [this.sink, this.sample]) {
      await this.must('address', ip, ['-n', side.name, 'addr', 'add', `${side.address}/30`, 'dev', side.iface]);
      await this.must('link up', ip, ['-n', side.name, 'link', 'set', 'lo', 'up']);
      await this.must('link up', ip, ['-n', side.name, 'link', 'set', side.iface, 'up']);
    }
    await this.must('route', ip, ['-n', this.sample.name, 'route', 'add', 'default', 'via', this.sink.address, 'dev', SAMPLE_IFACE]);

    if (this.firewall === 'nft') {
      await this.must('firewall', nsenter, this.nsArgs(this.sink, this.tools.firewallTool, ['-f', '-']), {
        input: nftRuleset(SINK_IFACE, this.ports),
      });
    } else {
      await this.must('firewall', nsenter, this.nsArgs(this.sink, this.tools.firewallTool, ['-w', '5']), {
        input: iptablesRuleset(SINK_IFACE, this.ports),
      });
    }
    this.created.firewall = true;

    await this.verify();
    this.setupMs = performance.now() - started;
  }

  private async claimOwner(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const record: OwnerRecord = {
      pid: process.pid,
      start: (await processStartTime(process.pid)) ?? '',
      created: Date.now(),
    };
    const body = `${JSON.stringify(record)}\n`;
    try {
      await writeFile(this.ownerFile, body, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const previous = await readOwner(this.ownerFile);
      if (previous && (await ownerAlive(previous))) {
        throw new NetworkSetupError(`sandbox network id ${this.id} is in use by process ${previous.pid}`, 'claim id');
      }
      await writeFile(this.ownerFile, body, { mode: 0o600 });
    }
    this.created.owner = true;
  }

  /** Checks the result rather than trusting each step: exactly lo and the veth on each side, conntrack live. */
  private async verify(): Promise<void> {
    for (const side of [this.sink, this.sample]) {
      const r = await this.must('verify', this.tools.ip, ['-n', side.name, '-o', 'link', 'show']);
      const names = r.stdout
        .split('\n')
        .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
        .filter((n): n is string => n !== undefined)
        .sort();
      const expected = [side.iface, 'lo'].sort();
      if (names.join(',') !== expected.join(',')) {
        throw new NetworkSetupError(`${side.name} has interfaces ${names.join(', ')}, expected ${expected.join(', ')}`, 'verify');
      }
    }
    const ct = await runBounded(this.tools.nsenter, this.nsArgs(this.sink, 'cat', ['/proc/net/nf_conntrack']), {
      timeoutMs: this.timeoutMs,
      maxOutputBytes: CONNTRACK_PROBE_BYTES,
    });
    if (ct.code !== 0) {
      throw new NetworkSetupError(
        `conntrack is not readable in ${this.sink.name} (the kernel needs nf_conntrack): ${describeFailure('cat', ['/proc/net/nf_conntrack'], ct)}`,
        'verify',
      );
    }
  }

  destroy(): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    this.destroying ??= this.tearDown().finally(() => {
      this.destroying = undefined;
    });
    return this.destroying;
  }

  private async tearDown(): Promise<void> {
    const { ip, nsenter } = this.tools;
    const problems: string[] = [];
    for (const child of this.children) child.kill('SIGKILL');
    // Only namespaces this object made: after a failed setup, a clashing run's namespace of the same name stays.
    const ours = [this.sample, this.sink].filter((s) => this.created[s === this.sink ? 'sink' : 'sample']);
    for (const side of ours.filter((s) => existsSync(s.path))) {
      const left = await killNamespaceProcesses(this.tools, side.name, this.timeoutMs);
      if (left.length > 0) problems.push(`processes ${left.join(', ')} did not die in ${side.name}`);
    }
    const opts = { timeoutMs: this.timeoutMs };
    if (this.created.veth && existsSync(this.sample.path)) {
      // Removing one end removes the pair, at once rather than when the namespace is reaped.
      await runBounded(ip, ['-n', this.sample.name, 'link', 'del', SAMPLE_IFACE], opts);
    }
    if (this.created.firewall && existsSync(this.sink.path)) {
      if (this.firewall === 'nft') {
        await runBounded(nsenter, this.nsArgs(this.sink, this.tools.firewallTool, ['delete', 'table', 'ip', NFT_TABLE]), opts);
      } else if (this.tools.iptables) {
        await runBounded(nsenter, this.nsArgs(this.sink, this.tools.iptables, ['-w', '5', '-t', 'nat', '-F']), opts);
        await runBounded(nsenter, this.nsArgs(this.sink, this.tools.iptables, ['-w', '5', '-F']), opts);
      }
    }
    for (const side of ours) {
      if (!existsSync(side.path)) continue;
      const r = await runBounded(ip, ['netns', 'del', side.name], opts);
      if (r.code !== 0 && existsSync(side.path)) problems.push(describeFailure(ip, ['netns', 'del', side.name], r));
    }
    if (this.created.owner) await rm(this.ownerFile, { force: true }).catch(() => undefined);
    if (problems.length > 0) {
      throw new NetworkTeardownError(`sandbox network ${this.id} not fully removed: ${problems.join('; ')}`);
    }
    this.destroyed = true;
  }

  /** After a failed setup: remove only what this attempt made (a clashing run's namespaces are left alone). */
  rollBack(): Promise<void> {
    return this.tearDown();
  }
}

/**
 * Creates the run's two network namespaces, `detonate-<id>-sample` and `detonate-<id>-sink`, joined by one veth
 * pair and attached to nothing else. The sample's default route is the sink; the sink forwards nothing and
 * redirects DNS (port 53, UDP and TCP) to `ports.dns`, every other TCP flow to `ports.tcp` and every other UDP
 * datagram to `ports.udp` on its own address, with conntrack recording the original destination. IPv6 is off
 * on both sides. A failed setup removes whatever it made before rethrowing.
 */
export async function createSandboxNetwork(options: SandboxNetworkOptions): Promise<SandboxNetwork> {
  if (!ID_PATTERN.test(options.id)) {
    throw new NetworkConfigError(`network id must match ${ID_PATTERN.source}, got ${JSON.stringify(options.id)}`);
  }
  const addresses = chooseAddresses(options.id, options);
  const ports = validatePorts(options.ports);
  const prereq = checkNetworkPrerequisites();
  if (!prereq.ok || !prereq.tools) throw new NetworkSetupError(prereq.message, 'prerequisites');
  let tools = prereq.tools;
  if (options.firewall && options.firewall !== tools.firewall) {
    tools = forceBackend(tools, options.firewall);
  }
  const network = new Network(
    options.id,
    tools,
    addresses,
    ports,
    options.stateDir ?? DEFAULT_STATE_DIR,
    options.commandTimeoutMs ?? NETWORK_COMMAND_TIMEOUT_MS,
  );
  try {
    await network.setUp();
  } catch (err) {
    await network.rollBack().catch(() => undefined);
    throw err;
  }
  return network;
}

function forceBackend(tools: NetworkTools, backend: FirewallBackend): NetworkTools {
  if (backend === 'nft') {
    const nft = findExecutable('nft');
    if (!nft) throw new NetworkSetupError('`nft` not found: install nftables (apt-get install nftables)', 'prerequisites');
    return { ip: tools.ip, nsenter: tools.nsenter, firewall: 'nft', firewallTool: nft };
  }
  const restore = findExecutable('iptables-restore');
  const iptables = findExecutable('iptables');
  if (!restore || !iptables) {
    throw new NetworkSetupError('`iptables-restore` not found: install iptables (apt-get install iptables)', 'prerequisites');
  }
  return { ip: tools.ip, nsenter: tools.nsenter, firewall: 'iptables', firewallTool: restore, iptables };
}

export interface CleanupStaleOptions {
  /** Namespaces older than this are removed even if their owner still runs. Default 60. */
  maxAgeMinutes?: number;
  /** Namespaces without a live owner are left alone while younger than this (a run being set up). Default 10. */
  graceSeconds?: number;
  stateDir?: string;
}

export interface CleanupStaleResult {
  removed: string[];
  kept: string[];
  /** Namespaces that could not be removed, with the reason. */
  failed: string[];
}

/**
 * Removes namespaces a crashed run left behind: `<prefix><id>-sample|sink` whose owning process is gone (and that
 * are older than `graceSeconds`), or that are older than `maxAgeMinutes`. Processes still inside them (a sample
 * that outlived its run) are killed first. Namespaces not matching the pattern are never touched.
 */
export async function cleanupStale(prefix = NETNS_PREFIX, options: CleanupStaleOptions = {}): Promise<CleanupStaleResult> {
  const result: CleanupStaleResult = { removed: [], kept: [], failed: [] };
  const prereq = checkNetworkPrerequisites();
  if (!prereq.tools) {
    if (prereq.problems.length > 0 && !existsSync(NETNS_DIR)) return result;
    throw new NetworkSetupError(prereq.message, 'prerequisites');
  }
  const tools = prereq.tools;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const maxAgeMs = (options.maxAgeMinutes ?? 60) * 60_000;
  const graceMs = (options.graceSeconds ?? 10) * 1000;
  let entries: string[];
  try {
    entries = await readdir(NETNS_DIR);
  } catch {
    entries = [];
  }
  const now = Date.now();
  const ownerCache = new Map<string, boolean>();
  for (const name of entries.sort()) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(.+)-(sample|sink)$/.exec(name.slice(prefix.length));
    if (!m || !ID_PATTERN.test(m[1]!)) continue;
    const id = m[1]!;
    const path = join(NETNS_DIR, name);
    let ageMs: number;
    try {
      ageMs = now - (await stat(path)).mtimeMs;
    } catch {
      continue;
    }
    let alive = ownerCache.get(id);
    if (alive === undefined) {
      const owner = await readOwner(join(stateDir, `${id}.owner`));
      alive = owner !== undefined && (await ownerAlive(owner));
      ownerCache.set(id, alive);
    }
    const stale = ageMs > maxAgeMs || (!alive && ageMs > graceMs);
    if (!stale) {
      result.kept.push(name);
      continue;
    }
    const left = await killNamespaceProcesses(tools, name, NETWORK_COMMAND_TIMEOUT_MS);
    const del = await runBounded(tools.ip, ['netns', 'del', name], { timeoutMs: NETWORK_COMMAND_TIMEOUT_MS });
    if (del.code !== 0 && existsSync(path)) {
      result.failed.push(`${name}: ${describeFailure(tools.ip, ['netns', 'del', name], del)}`);
    } else {
      result.removed.push(name);
      if (left.length > 0) result.failed.push(`${name}: processes ${left.join(', ')} survived SIGKILL`);
    }
  }
  if (prefix === NETNS_PREFIX) {
    // owner records whose run is gone and whose namespaces are gone too
    const records = await readdir(stateDir).catch(() => [] as string[]);
    for (const file of records) {
      const id = file.endsWith('.owner') ? file.slice(0, -'.owner'.length) : '';
      if (!ID_PATTERN.test(id)) continue;
      const names = namespaceNames(id);
      if (existsSync(join(NETNS_DIR, names.sample)) || existsSync(join(NETNS_DIR, names.sink))) continue;
      const owner = await readOwner(join(stateDir, file));
      if (owner && (await ownerAlive(owner))) continue;
      await rm(join(stateDir, file), { force: true }).catch(() => undefined);
    }
  }
  return result;
}
