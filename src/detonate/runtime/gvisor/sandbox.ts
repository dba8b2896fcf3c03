/**
 * The sandbox gVisor needs: its own kernel is the wall, so no user namespace and no seccomp profile of ours; its root
 * is the run's overlay (writable.ts: the materialised rootfs under an upper layer on the run's tmpfs), which its gofer
 * writes (`--overlay2=none`), so every file the sample drops anywhere is read back after the run, as under runc; and
 * the sample's pids limit is RLIMIT_NPROC in its kernel, with a backstop for its own tasks on the host cgroup.
 */
import type { SandboxProfile } from '../../bundle.js';

/**
 * gVisor's own host tasks, which share the run's host cgroup with the sample: the sentry's and the gofer's threads
 * (about 50) and, under the ptrace platform, a stub process for each of the sample's processes with a thread for each
 * sentry thread that ran in it (measured on a 2-vCPU host: 9 to 10 host tasks per sample process; a sample's thread
 * adds none). The sample's own limit is enforced inside the sentry (RLIMIT_NPROC); the host cgroup's limit under
 * gVisor is `pids × perSampleTask + base`, a backstop that keeps a runaway sandbox off the host's pid space.
 */
export const GVISOR_HOST_TASKS: Readonly<{ perSampleTask: number; base: number }> = Object.freeze({ perSampleTask: 16, base: 256 });

export const GVISOR_SANDBOX: SandboxProfile = Object.freeze({
  writableRoot: 'overlay',
  seccomp: false,
  pidsLimit: Object.freeze({ enforcedBy: 'rlimit', hostLimit: (pids: number) => pids * GVISOR_HOST_TASKS.perSampleTask + GVISOR_HOST_TASKS.base }),
});
