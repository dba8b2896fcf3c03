/**
 * The seccomp profile of the hardened runc sandbox (OCI runtime-spec `linux.seccomp`).
 *
 * Default-allow with a deny list, unlike Docker's default-deny allow list: the sample must run as it would in
 * production (unknown programs, odd syscalls) while the calls that attack the kernel or the sandbox itself fail
 * with EPERM. The list is the set Docker's default profile refuses a container without extra capabilities:
 * kernel keyrings, module and kexec loading, BPF and perf, userfaultfd, mount and namespace manipulation
 * (`unshare`, `setns`, `clone` with any CLONE_NEW* flag: new user namespaces are the usual way to reach kernel
 * attack surface that needs capabilities), tracing other processes, clock and reboot control, io_uring (which
 * bypasses syscall filtering), and obsolete calls with a history of bugs. `clone3` answers ENOSYS, so C
 * libraries fall back to `clone`, whose flags can be checked (the pointer argument of `clone3` cannot).
 */

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

export interface SeccompSyscall {
  names: string[];
  action: 'SCMP_ACT_KILL' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_TRACE' | 'SCMP_ACT_ALLOW';
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  architectures: string[];
  syscalls: SeccompSyscall[];
}

const EPERM = 1;
const ENOSYS = 38;

/** Refused outright (EPERM). Names unknown on an architecture are skipped by runc/libseccomp. */
export const DENIED_SYSCALLS: readonly string[] = Object.freeze([
  // kernel keyrings
  'add_key', 'keyctl', 'request_key',
  // kernel code, modules, kexec, BPF, perf
  'bpf', 'create_module', 'delete_module', 'finit_module', 'init_module', 'get_kernel_syms', 'query_module',
  'kexec_file_load', 'kexec_load', 'perf_event_open', 'lookup_dcookie',
  // memory tricks used in kernel exploits and sandbox escapes
  'userfaultfd', 'move_pages', 'mbind', 'set_mempolicy', 'get_mempolicy', 'migrate_pages',
  // mounts and namespaces
  'mount', 'umount', 'umount2', 'pivot_root', 'chroot', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount',
  'fspick', 'mount_setattr', 'unshare', 'setns', 'name_to_handle_at', 'open_by_handle_at',
  // other processes
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd',
  // clocks, reboot, swap, quotas, accounting, syslog
  'clock_adjtime', 'clock_settime', 'settimeofday', 'stime', 'adjtimex', 'reboot', 'swapon', 'swapoff', 'quotactl',
  'quotactl_fd', 'acct', 'syslog', 'vhangup', 'nfsservctl', 'sysfs', '_sysctl', 'ustat', 'uselib',
  // raw hardware access
  'ioperm', 'iopl', 'vm86', 'vm86old',
  // io_uring runs operations outside the syscall filter
  'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  // fanotify and open_tree-like inspection of the host
  'fanotify_init',
]);

/** CLONE_NEW* flags: `clone` with any of them is refused. */
export const CLONE_NAMESPACE_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  CLONE_NEWTIME: 0x00000080,
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
});

/** Seccomp architectures for an OCI architecture name (native plus its compat ABIs, as Docker lists them). */
export function seccompArchitectures(architecture: string): string[] {
  switch (architecture) {
    case 'amd64':
      return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case '386':
      return ['SCMP_ARCH_X86'];
    case 'arm64':
      return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'arm':
      return ['SCMP_ARCH_ARM'];
    default:
      throw new Error(`no seccomp profile for architecture ${architecture}: detonation supports amd64, 386, arm64 and arm`);
  }
}

export function seccompProfile(architecture: string): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: seccompArchitectures(architecture),
    syscalls: [
      { names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
      // One rule per flag: rules are ORed, the comparisons of one rule ANDed. clone's flags are argument 0 on x86
      // and arm (s390 swaps the first two arguments; not a supported architecture).
      ...Object.values(CLONE_NAMESPACE_FLAGS).map((flag): SeccompSyscall => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      })),
    ],
  };
}
