/**
 * The seccomp filter for the bubblewrap backend, generated as classic BPF (`struct sock_filter[]`)
 * in TypeScript and handed to bwrap with `--seccomp FD`. No native code, no prebuilt binaries.
 *
 * What the program does, in order:
 * 1. `seccomp_data.arch` must be the architecture airlock runs on; anything else (e.g. i386
 *    `int 0x80` on x86_64) is killed with SECCOMP_RET_KILL_PROCESS.
 * 2. On x86_64, syscall numbers with the x32 bit (0x40000000) are killed: the x32 ABI is refused.
 * 3. A deny list answers EPERM: mount/umount2, unshare, setns, ptrace, process_vm_readv/writev,
 *    keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd, io_uring_*, kexec_*,
 *    init/finit/delete_module, reboot, swapon/swapoff, pivot_root, chroot, open_by_handle_at,
 *    name_to_handle_at, the new mount API (fsopen, fsconfig, fsmount, fspick, open_tree,
 *    move_mount, mount_setattr), and a few host-administration calls (acct, syslog, quotactl, ...).
 * 4. `clone` is allowed unless its flags (argument 0) ask for any new namespace (CLONE_NEW*).
 *    `clone3` answers ENOSYS: its flags live in memory the filter cannot read, and libc then falls
 *    back to `clone`, which the filter can check.
 * 5. `ioctl` is allowed unless the request (argument 1, the kernel reads it as 32 bits) is TIOCSTI
 *    (inject input into the terminal) or TIOCLINUX.
 * 6. Everything else is allowed: the namespaces, the dropped capabilities and the mount view do the
 *    rest. The filter is a guard on the shared kernel's attack surface, not an allowlist.
 *
 * Example:
 * ```ts
 * const bytes = buildSeccompFilter();          // Buffer, 8 bytes per instruction
 * spawn('bwrap', ['--seccomp', '3', ...], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] }).stdio[3].end(bytes);
 * ```
 */

// BPF opcodes (linux/bpf_common.h, linux/filter.h)
export const BPF = {
  LD_W_ABS: 0x20,
  JEQ_K: 0x15,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const EPERM = 1;
export const ENOSYS = 38;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const X32_SYSCALL_BIT = 0x40000000;

export const CLONE_NEW_FLAGS =
  0x00020000 /* NEWNS */ | 0x02000000 /* NEWCGROUP */ | 0x04000000 /* NEWUTS */ | 0x08000000 /* NEWIPC */ |
  0x10000000 /* NEWUSER */ | 0x20000000 /* NEWPID */ | 0x40000000 /* NEWNET */ | 0x00000080 /* NEWTIME */;
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;

/** Syscalls answered with EPERM, by name. */
export const DENIED_SYSCALLS = [
  'mount', 'umount2', 'unshare', 'setns', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'keyctl', 'add_key',
  'request_key', 'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot', 'swapon', 'swapoff',
  'pivot_root', 'chroot', 'open_by_handle_at', 'name_to_handle_at', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'open_tree', 'move_mount', 'mount_setattr', 'acct', 'syslog', 'quotactl', 'lookup_dcookie', 'vhangup', 'pidfd_getfd',
  'kcmp', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'nfsservctl', 'iopl', 'ioperm', 'uselib',
  'create_module', 'get_kernel_syms', 'query_module', '_sysctl', 'umount',
] as const;

export interface ArchTable {
  name: string;
  auditArch: number;
  /** Syscall numbers by name; names missing on this architecture are skipped. */
  nr: Record<string, number>;
  /** true on x86_64: numbers with the x32 bit are refused. */
  x32Check: boolean;
}

export const X86_64: ArchTable = {
  name: 'x86_64',
  auditArch: AUDIT_ARCH_X86_64,
  x32Check: true,
  nr: {
    ioctl: 16, clone: 56, ptrace: 101, syslog: 103, uselib: 134, vhangup: 153, pivot_root: 155, _sysctl: 156,
    adjtimex: 159, chroot: 161, acct: 163, settimeofday: 164, mount: 165, umount2: 166, swapon: 167, swapoff: 168,
    reboot: 169, iopl: 172, ioperm: 173, create_module: 174, init_module: 175, delete_module: 176,
    get_kernel_syms: 177, query_module: 178, quotactl: 179, nfsservctl: 180, lookup_dcookie: 212,
    clock_settime: 227, kexec_load: 246, add_key: 248, request_key: 249, keyctl: 250, unshare: 272,
    perf_event_open: 298, name_to_handle_at: 303, open_by_handle_at: 304, clock_adjtime: 305, setns: 308,
    process_vm_readv: 310, process_vm_writev: 311, kcmp: 312, finit_module: 313, kexec_file_load: 320, bpf: 321,
    userfaultfd: 323, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, open_tree: 428,
    move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, clone3: 435, pidfd_getfd: 438,
    mount_setattr: 442,
  },
};

export const AARCH64: ArchTable = {
  name: 'aarch64',
  auditArch: AUDIT_ARCH_AARCH64,
  x32Check: false,
  nr: {
    lookup_dcookie: 18, ioctl: 29, umount2: 39, mount: 40, pivot_root: 41, nfsservctl: 42, chroot: 51, vhangup: 58,
    quotactl: 60, acct: 89, unshare: 97, kexec_load: 104, init_module: 105, delete_module: 106, clock_settime: 112,
    syslog: 116, ptrace: 117, reboot: 142, settimeofday: 170, adjtimex: 171, add_key: 217, request_key: 218,
    keyctl: 219, clone: 220, swapon: 224, swapoff: 225, perf_event_open: 241, name_to_handle_at: 264,
    open_by_handle_at: 265, clock_adjtime: 266, setns: 268, process_vm_readv: 270, process_vm_writev: 271, kcmp: 272,
    finit_module: 273, bpf: 280, userfaultfd: 282, kexec_file_load: 294, io_uring_setup: 425, io_uring_enter: 426,
    io_uring_register: 427, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433,
    clone3: 435, pidfd_getfd: 438, mount_setattr: 442,
  },
};

/** The table for the architecture Node runs on; throws (fail closed) on any other. */
export function hostArch(arch: string = process.arch): ArchTable {
  if (arch === 'x64') return X86_64;
  if (arch === 'arm64') return AARCH64;
  throw new Error(`no seccomp syscall table for architecture "${arch}"; the bwrap backend refuses to start without its filter`);
}

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Offsets in struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
const OFF_NR = 0;
const OFF_ARCH = 4;
/** Low 32 bits of args[i] (little-endian). */
const offArgLo = (i: number) => 16 + 8 * i;

type Jump = number | string; // label name, or 0 = fall through
interface PendingInsn {
  code: number;
  jt: Jump;
  jf: Jump;
  k: number;
  label?: string;
}

/** Builds the filter program as instructions (see the module doc for its logic). */
export function buildSeccompProgram(table: ArchTable = hostArch()): Insn[] {
  const p: PendingInsn[] = [];
  const ld = (off: number, label?: string) => p.push({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: off, label });
  const jeq = (k: number, jt: Jump, jf: Jump = 0) => p.push({ code: BPF.JEQ_K, jt, jf, k });
  const ret = (k: number, label?: string) => p.push({ code: BPF.RET_K, jt: 0, jf: 0, k, label });

  ld(OFF_ARCH);
  jeq(table.auditArch, 0, 'kill');
  ld(OFF_NR);
  if (table.x32Check) p.push({ code: BPF.JGE_K, jt: 'kill', jf: 0, k: X32_SYSCALL_BIT });
  for (const name of DENIED_SYSCALLS) {
    const nr = table.nr[name];
    if (nr !== undefined) jeq(nr, 'eperm');
  }
  jeq(table.nr.clone!, 'clone');
  jeq(table.nr.clone3!, 'enosys');
  jeq(table.nr.ioctl!, 'ioctl');
  ret(SECCOMP_RET_ALLOW);
  ld(offArgLo(0), 'clone');
  p.push({ code: BPF.JSET_K, jt: 'eperm', jf: 'allow', k: CLONE_NEW_FLAGS });
  ld(offArgLo(1), 'ioctl');
  jeq(TIOCSTI, 'eperm');
  jeq(TIOCLINUX, 'eperm', 'allow');
  ret(SECCOMP_RET_ERRNO | EPERM, 'eperm');
  ret(SECCOMP_RET_ERRNO | ENOSYS, 'enosys');
  ret(SECCOMP_RET_KILL_PROCESS, 'kill');
  ret(SECCOMP_RET_ALLOW, 'allow');

  const labels = new Map<string, number>();
  p.forEach((insn, i) => insn.label && labels.set(insn.label, i));
  const resolve = (j: Jump, at: number): number => {
    if (typeof j === 'number') return j;
    const target = labels.get(j);
    if (target === undefined) throw new Error(`seccomp: unknown label ${j}`);
    const off = target - at - 1;
    if (off < 0 || off > 255) throw new Error(`seccomp: jump to ${j} out of range (${off})`);
    return off;
  };
  return p.map((insn, i) => ({ code: insn.code, jt: resolve(insn.jt, i), jf: resolve(insn.jf, i), k: insn.k >>> 0 }));
}

/** Serialises instructions as `struct sock_filter[]` (u16 code, u8 jt, u8 jf, u32 k; little-endian). */
export function encodeProgram(prog: Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(insn.jt, i * 8 + 2);
    buf.writeUInt8(insn.jf, i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buf;
}

/** The filter bytes for bwrap `--seccomp FD`. */
export function buildSeccompFilter(table: ArchTable = hostArch()): Buffer {
  return encodeProgram(buildSeccompProgram(table));
}

/**
 * The same policy as an OCI `linux.seccomp` profile, for gVisor (`runsc --oci-seccomp` applies it
 * inside the Sentry to the agent's syscalls), so both backends refuse the same calls the same way.
 * gVisor itself already only runs the agent on its own kernel; this keeps the agent from using
 * namespaces, ptrace, keyrings, ... *inside* it, as on bwrap.
 */
export function ociSeccompProfile(table: ArchTable = hostArch()): Record<string, unknown> {
  const names = DENIED_SYSCALLS.filter((n) => table.nr[n] !== undefined && !['create_module', 'get_kernel_syms', 'query_module', '_sysctl', 'umount', 'nfsservctl', 'uselib'].includes(n));
  const newFlags: number[] = [];
  for (let bit = 0; bit < 32; bit++) if (CLONE_NEW_FLAGS & (1 << bit)) newFlags.push((1 << bit) >>> 0);
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: [table === AARCH64 ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64'],
    syscalls: [
      { names, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      ...newFlags.map((f) => ({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: f, valueTwo: f, op: 'SCMP_CMP_MASKED_EQ' }] })),
      // No clone3 rule: gVisor answers OCI errno rules with EPERM (not errnoRet), and glibc falls
      // back to clone only on ENOSYS — with EPERM no thread could be created. gVisor's own clone3
      // path is checked by its Sentry; namespaces created inside it stay inside it.
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 1, value: TIOCSTI, op: 'SCMP_CMP_EQ' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 1, value: TIOCLINUX, op: 'SCMP_CMP_EQ' }] },
    ],
  };
}
