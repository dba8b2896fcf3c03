/**
 * Bounds of a detonation (listed in `LIMIT_MODULES`, src/config/limits.ts): the sample's resources and deadline,
 * what the bundle reads of the image's config, the rootfs, the writable layer and the files the sample dropped, the
 * sinkhole process as the session runs it, the host commands that set up and tear down a run. The sample is
 * hostile: each bound turns a flood, a fork bomb, a full disk or a hung command into a kill, a cut, a notice or a
 * clear error. The trace's bounds are in monitor/limits.ts, the sinkhole's in sinkhole/limits.ts, the runtime
 * drivers' in runtime/limits.ts. Constants and their types only: every module of the stage may import it.
 */

// --- The run: the sample's resources and deadline (session.ts, bundle.ts, cgroup.ts) ---

/** What the sandbox grants the sample. */
export interface BundleLimits {
  memoryBytes: number;
  /** The sample's processes and threads at once, under either runtime (see `sandboxPidsLimit` for the host's). */
  pids: number;
  /** CPU cores, fractions allowed (1.5 → quota 150000 per 100000 µs period). */
  cpus: number;
  /** Size of each tmpfs (/tmp, /run, /var/tmp); their pages also count against `memoryBytes`. */
  tmpfsBytes: number;
}

export interface DetonationLimits extends BundleLimits {
  /** Disk budget of the materialised rootfs (all regular files). */
  diskBytes: number;
  /**
   * Size of the run's writable layer (a host tmpfs: an overlay root's upper layer (runc's) and, for every runtime,
   * /tmp, /var/tmp and /run). Filling it is reported as `limitsHit.diskFull`. Its pages count against `memoryBytes`.
   */
  writableBytes: number;
}

/**
 * The limits of a run: enough for a real service to start and show what it does, small enough that a bomb hits them
 * at once. `pids` is the sample's processes and threads at once under any runtime: runc's cgroup holds the sample
 * alone; gVisor's kernel enforces it on the sample's tasks, and the host cgroup gets a backstop for gVisor's own
 * threads on top (`SandboxProfile.pidsLimit` in bundle.ts).
 */
export const DEFAULT_DETONATION_LIMITS: Readonly<DetonationLimits> = Object.freeze({
  memoryBytes: 512 * 1024 * 1024,
  pids: 256,
  cpus: 1,
  tmpfsBytes: 64 * 1024 * 1024,
  diskBytes: 4 * 1024 * 1024 * 1024,
  writableBytes: 256 * 1024 * 1024,
});
/**
 * Wall time of the run in the sandbox, start to kill (`--detonate-timeout`'s default): a minute, long enough for a
 * service to start and dial out, short enough for a scan of many images.
 */
export const DEFAULT_DETONATE_TIMEOUT_MS = 60_000;
/** Bytes kept of the sample's stdout and of its stderr (the start of each) by default: a flood costs no memory. */
export const DEFAULT_SAMPLE_OUTPUT_BYTES = 64 * 1024;
/** Size of the sandbox's /dev tmpfs: device nodes and links only, so a sample cannot fill memory through it. */
export const DEV_TMPFS_BYTES = 64 * 1024 * 1024;
/** /dev/shm is the run's `tmpfsBytes` up to this: shared memory needs little, and its pages count as memory. */
export const MAX_DEV_SHM_BYTES = 64 * 1024 * 1024;
/** The sample's RLIMIT_NOFILE (soft and hard): plenty for a service, stops a descriptor flood. */
export const SAMPLE_OPEN_FILES_LIMIT = 4096;
/** Cgroup samples kept (one a second, the last ones): an hour, far past any deadline. */
export const MAX_CGROUP_SAMPLES = 3600;

// --- The image's config and user database, as the bundle reads them (bundle.ts) ---

/** Environment variables an image config may set; real images set tens. */
export const MAX_CONFIG_ENV_VARS = 4096;
/** Bytes of the image config's command (Entrypoint and Cmd together, or the env), as the kernel's exec would take. */
export const MAX_CONFIG_ARGS_BYTES = 1024 * 1024;
/** Largest /etc/passwd or /etc/group read to resolve the image's user, and lines of one looked at. */
export const MAX_ID_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_ID_FILE_LINES = 100_000;
/** Supplementary groups given to the image's user (Linux's NGROUPS_MAX is far larger; real users have a few). */
export const MAX_ADDITIONAL_GIDS = 64;

// --- The rootfs the sample runs on (rootfs.ts) ---

/** Disk budget of a materialised rootfs when the caller names none (the run's `diskBytes` above, by default). */
export const DEFAULT_ROOTFS_DISK_BUDGET_BYTES = 4 * 1024 * 1024 * 1024;
/** Symlinks followed while resolving one path in the rootfs, as the kernel's ELOOP limit. */
export const MAX_ROOTFS_LINK_HOPS = 40;
/** Notices kept while materialising (and entries Linux cannot hold kept for the report); the rest are counted. */
export const MAX_ROOTFS_NOTICES = 100;

// --- The writable layer and the files the sample dropped (writable.ts, scan/detonation.ts) ---

/** How much of what the sample left is collected for the static detectors. */
export interface DroppedLimits {
  maxFiles: number;
  maxBytes: number;
  /** Directory entries looked at before the walk gives up (a sample may leave 100k files). */
  maxEntries: number;
}

/** A sample that drops a payload drops a few files; one that sprays files gets its first (executables first) read. */
export const DEFAULT_DROPPED_LIMITS: Readonly<DroppedLimits> = Object.freeze({ maxFiles: 256, maxBytes: 64 * 1024 * 1024, maxEntries: 20_000 });
/** Directory levels the walk goes down; deeper than the kernel's PATH_MAX is fine (the walk uses `LongPaths`). */
export const MAX_DROPPED_WALK_DEPTH = 1024;
/** Dropped files opened to tell executables from data (they are collected first); the rest count as data. */
export const MAX_DROPPED_EXECUTABLE_PEEKS = 4096;
/** Bytes read of one dropped file for the static detectors (the session already bounds count and total). */
export const MAX_DROPPED_FILE_BYTES = 32 * 1024 * 1024;
/** Bytes of the sample's stdout and of its stderr the report keeps: enough to see what it printed. */
export const MAX_REPORTED_OUTPUT_BYTES = 4096;
/** The writable layer's mount, overlay and umount commands: they are local and quick, a hung one is an error. */
export const MOUNT_TIMEOUT_MS = 10_000;

// --- The sinkhole process, as the session runs it (session.ts) ---

/** How long the sinkhole gets to bind its ports and say it is ready (node's start on a loaded machine included). */
export const SINKHOLE_READY_TIMEOUT_MS = 20_000;
/** How long the sinkhole gets, after SIGTERM, to record its open connections and exit before SIGKILL. */
export const SINKHOLE_STOP_TIMEOUT_MS = 5_000;
/** The sinkhole's records the session keeps, and its longest record line read (its own bounds keep lines short). */
export const MAX_SINKHOLE_EVENTS_KEPT = 10_000;
export const MAX_SINKHOLE_LINE_CHARS = 1024 * 1024;
/** Characters of the sinkhole's stderr kept to say why it did not start. */
export const MAX_SINKHOLE_STDERR_CHARS = 8192;

// --- Host commands: the network namespaces, firewall and cleanup (network/) ---

/** Defaults of every bounded host command (ip, nft, nsenter, mount…): a deadline and bytes kept of each stream. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;
export const DEFAULT_COMMAND_OUTPUT_BYTES = 1024 * 1024;
/** The network's commands (namespaces, links, firewall, and the stale cleanup's kill and delete): local, quick. */
export const NETWORK_COMMAND_TIMEOUT_MS = 10_000;
/** Bytes read of the sink's conntrack table dump; the last partial line of a cut dump is dropped. */
export const MAX_CONNTRACK_DUMP_BYTES = 8 * 1024 * 1024;
/** Bytes read of the conntrack table when checking at set-up that it is readable at all. */
export const CONNTRACK_PROBE_BYTES = 4096;

// --- Teardown and stale cleanup (session.ts, stale.ts) ---

/** Retries of removing a run's work dir (a file the sample's last process held may be busy for a moment). */
export const REMOVE_TREE_RETRIES = 3;
/**
 * A memory peak this close to the limit counts as reaching it: the kernel charges in pages, and the allocation
 * that failed was never charged, so usage stops just short of the limit.
 */
export const MEMORY_LIMIT_SLACK_BYTES = 1024 * 1024;
