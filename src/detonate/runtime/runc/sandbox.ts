/**
 * The sandbox hardened runc needs around the host kernel: a user namespace (the sample's root is an unprivileged
 * host id range), the seccomp profile, a root that is an overlay we mount (its upper layer on the run's tmpfs, read
 * back for dropped files), and the run's cgroup, which holds the sample alone, as its pids limit.
 */
import type { SandboxProfile } from '../../bundle.js';

export const RUNC_SANDBOX: SandboxProfile = Object.freeze({
  userNamespace: Object.freeze({ uid: 100000, gid: 100000, size: 65536 }),
  writableRoot: 'overlay',
  seccomp: true,
  pidsLimit: Object.freeze({ enforcedBy: 'cgroup' }),
});
