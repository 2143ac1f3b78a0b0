/**
 * The gVisor backend (default): the agent runs on gVisor's user-space kernel (the Sentry), which
 * implements Linux syscalls itself; only a small, seccomp-confined set of host syscalls is used by
 * the Sentry and its file proxy. A kernel bug reachable from the agent is a bug in gVisor, not an
 * escape to the host.
 *
 * Per session: an OCI bundle in the run directory — a read-only root that is an empty skeleton
 * directory, and the mount plan as OCI mounts (so only /usr, /etc minus secrets, /lib*, the
 * workspace and declared paths exist; /tmp and home are tmpfs, noexec when commands are
 * restricted) — run with `runsc --network=none run --bundle DIR ID`: no network interface but
 * loopback, `--host-uds=open` only when a socket is mounted, `--overlay2=none` (the root is
 * read-only; nothing to overlay), no capabilities, `noNewPrivileges`, new pid/ipc/uts/mount/net
 * namespaces. Limits: `linux.cgroupsPath` + `resources` (memory, cpu) — else `--ignore-cgroups`;
 * pids through RLIMIT_NPROC inside the Sentry. `runsc run` is started through
 * `setpriv --pdeathsig KILL` so that it (and, being attached, its sandbox) dies with airlock; the
 * reaper deletes the container state left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { airlockHome } from '../session/store.js';
import { AirlockError } from '../util/errors.js';
import { CGROUP_PARENT, removeDir } from './cgroup.js';
import type { MountPlan } from './mount-plan.js';
import { releaseOwned, removeOwner, writeOwner } from './reaper.js';
import { ociSeccompProfile } from './seccomp.js';
import { prepareView, supervise } from './supervise.js';
import type { Backend, LaunchSpec, SandboxHandle } from './types.js';
import { which } from './which.js';

export interface GvisorOptions {
  /** runsc platform; systrap is the default and the fastest available without KVM. */
  platform?: string;
  /** Extra global runsc flags (benchmarks use this to compare settings). */
  extraFlags?: string[];
}

export function runscStateRoot(): string {
  return resolve(airlockHome(), 'runsc');
}

export function containerId(sessionId: string): string {
  return `airlock-${sessionId}`;
}

/** The OCI config.json for a launch. */
export function ociConfig(spec: LaunchSpec, plan: MountPlan, empty: { file: string; dir: string }, cgroupsPath?: string): Record<string, unknown> {
  const mounts: Record<string, unknown>[] = [];
  for (const e of plan.entries) {
    switch (e.op) {
      case 'bind': {
        const opts = [e.file ? 'bind' : 'rbind', e.readonly ? 'ro' : 'rw', 'nosuid', 'nodev'];
        if (e.noexec) opts.push('noexec');
        mounts.push({ destination: e.target, type: 'bind', source: e.source, options: opts });
        break;
      }
      case 'tmpfs': {
        const opts = ['nosuid', 'nodev', `mode=${e.mode.toString(8)}`];
        if (e.noexec) opts.push('noexec');
        if (e.sizeBytes) opts.push(`size=${e.sizeBytes}`);
        if (e.readonly) opts.push('ro');
        mounts.push({ destination: e.target, type: 'tmpfs', source: 'tmpfs', options: opts });
        break;
      }
      case 'proc':
        mounts.push({ destination: e.target, type: 'proc', source: 'proc' });
        break;
      case 'dev':
        // gVisor provides its own minimal /dev (null, zero, full, random, urandom, tty, pts, shm,
        // fuse, net/tun). Its FUSE and TUN are Sentry-internal, but the agent needs neither.
        for (const d of ['/dev/fuse', '/dev/net/tun']) mounts.push({ destination: d, type: 'bind', source: empty.file, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] });
        break;
      case 'mask':
        mounts.push({ destination: e.target, type: 'bind', source: e.dir ? empty.dir : empty.file, options: [e.dir ? 'rbind' : 'bind', 'ro', 'nosuid', 'nodev', 'noexec'] });
        break;
      case 'symlink':
        break; // created in the root skeleton
    }
  }
  const { memoryBytes, cpus } = spec.limits;
  const pids = spec.limits.pids ?? spec.defaultLimits?.pids;
  const resources: Record<string, unknown> = {};
  if (memoryBytes) resources.memory = { limit: memoryBytes, swap: memoryBytes };
  if (cpus) resources.cpu = { quota: Math.max(1000, Math.round(cpus * 100000)), period: 100000 };
  const rlimits = [{ type: 'RLIMIT_NOFILE', hard: 65536, soft: 65536 }];
  if (pids) rlimits.push({ type: 'RLIMIT_NPROC', hard: pids, soft: pids });
  const noCaps = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.tty,
      user: { uid: 0, gid: 0 },
      args: [...spec.prelude, ...spec.argv],
      env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      cwd: spec.cwd,
      capabilities: noCaps,
      noNewPrivileges: true,
      rlimits,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'airlock',
    mounts,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      ...(cgroupsPath ? { cgroupsPath, resources } : {}),
      seccomp: ociSeccompProfile(),
      maskedPaths: [],
      readonlyPaths: [],
    },
  };
}

export function makeGvisorBackend(options: GvisorOptions = {}): Backend {
  return {
    name: 'gvisor',
    securityModel:
      'gVisor (runsc): the agent talks to a user-space kernel, not the host kernel; no network interface but loopback; ' +
      'read-only system view; no capabilities; resource limits through cgroups. Host exposure: the Sentry and Gofer, seccomp-confined.',
    async launch(spec: LaunchSpec): Promise<SandboxHandle> {
      const runsc = which('runsc');
      if (!runsc) throw new AirlockError('backend-unavailable', 'gvisor backend: runsc is not installed', 'install gVisor (apt-get install -t bookworm-backports runsc) or use --backend bwrap', 2);
      const setpriv = which('setpriv');
      const prepared = prepareView(spec);
      const bundle = join(spec.runDir, 'bundle');
      const rootfs = join(bundle, 'rootfs');
      mkdirSync(rootfs, { recursive: true, mode: 0o755 });
      for (const e of prepared.plan.entries) {
        if (e.op === 'symlink' && dirname(e.target) === '/') symlinkSync(e.linkTo, join(rootfs, e.target));
        else if (dirname(e.target) === '/' && e.op !== 'mask') mkdirSync(join(rootfs, e.target), { recursive: true });
      }
      const id = containerId(spec.sessionId);
      const limited = Boolean(spec.limits.memoryBytes || spec.limits.cpus);
      const cgroupsPath = limited ? `/${CGROUP_PARENT}/gvisor-${spec.sessionId}` : undefined;
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(ociConfig(spec, prepared.plan, { file: prepared.emptyFile, dir: prepared.emptyDir }, cgroupsPath), null, 1));

      const root = runscStateRoot();
      mkdirSync(root, { recursive: true, mode: 0o700 });
      const flags = ['--root', root, '--network=none', '--overlay2=none', '--oci-seccomp', `--platform=${options.platform ?? 'systrap'}`];
      if (prepared.plan.hasSocket) flags.push('--host-uds=open');
      if (!limited) flags.push('--ignore-cgroups');
      if (spec.monitor?.gvisorPodInitConfig) flags.push(`--pod-init-config=${spec.monitor.gvisorPodInitConfig}`);
      flags.push(...(options.extraFlags ?? []), ...tuningFlags(process.env.AIRLOCK_RUNSC_TUNING));
      const cgroupDirs = cgroupsPath ? ['memory', 'cpu', 'cpuacct', 'pids', 'cpuset', 'devices', 'freezer', 'blkio', 'systemd'].map((c) => join('/sys/fs/cgroup', c, cgroupsPath)) : [];
      const owner = writeOwner({ sessionId: spec.sessionId, runsc: { bin: runsc, root, id }, cgroups: cgroupDirs });

      const runArgv = [runsc, ...flags, 'run', '--bundle', bundle, id];
      const argv = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', ...runArgv] : runArgv;
      // Host sockets given to runsc as stdio get shut down when the sandbox exits — which would cut
      // airlock's own stderr too (e.g. under a parent that uses socketpairs for stdio, as Node
      // does). Sockets are therefore relayed through pipes. So are regular files as stdout/stderr:
      // gVisor writes them at an offset of its own, starting at 0, so output redirected to a file
      // would overwrite what was already there (and be overwritten by the next writer).
      const relay = [0, 1, 2].map((fd) => isSocket(fd) || (fd > 0 && isRegularFile(fd)));
      // Without a TTY, runsc gets its own process group (signals reach it only through airlock's
      // forwarding); with one it must stay in the foreground group to own the terminal, which it
      // puts in raw mode so that ^C travels as a byte to the sandbox's own terminal.
      const child = spawn(argv[0]!, argv.slice(1), { stdio: relay.map((r, fd) => (r ? 'pipe' : fd)) as ('pipe' | number)[], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, detached: !spec.tty });
      if (relay[0] && child.stdin) {
        process.stdin.pipe(child.stdin);
        child.stdin.on('error', () => undefined);
      }
      if (relay[1] && child.stdout) child.stdout.pipe(process.stdout, { end: false });
      if (relay[2] && child.stderr) child.stderr.pipe(process.stderr, { end: false });
      const runscCtl = (args: string[]) => spawnSync(runsc, ['--root', root, ...args], { stdio: 'ignore', timeout: 10_000 });
      let killed = false;
      return supervise({
        child,
        wallTimeMs: spec.limits.wallTimeMs,
        signal(sig) {
          runscCtl(['kill', id, sig.replace(/^SIG/, '')]);
        },
        killAll() {
          killed = true;
          runscCtl(['kill', '--all', id, 'KILL']);
          setTimeout(() => {
            try {
              if (child.exitCode === null) child.kill('SIGKILL');
            } catch {
              /* gone */
            }
          }, 2000).unref();
        },
        diagnose(r) {
          if (r.exitCode === 128 && !killed) return 'runsc failed to start the sandbox (see its message above)';
          if (r.exitCode === 137 && !killed && spec.limits.memoryBytes) return `the sandbox was killed (exit 137): most likely the memory limit of ${Math.round(spec.limits.memoryBytes / 2 ** 20)}MiB was reached`;
          return undefined;
        },
        teardown() {
          // `runsc run` deletes its container when it ends normally; only a container whose state is
          // still there (killed, failed start) needs `runsc kill` + `runsc delete` (~2 runsc starts).
          if (stateLeft(root, id)) releaseOwned(owner);
          for (const d of cgroupDirs) removeDir(d);
          removeOwner(spec.sessionId);
        },
      });
    },
  };
}

export const gvisorBackend: Backend = makeGvisorBackend();

/**
 * Performance knobs for benchmarks and tuning (`AIRLOCK_RUNSC_TUNING="--platform=ptrace --directfs=false"`).
 * Only flags that do not change the isolation boundary are accepted; anything else is an error.
 */
export function tuningFlags(text: string | undefined): string[] {
  if (!text?.trim()) return [];
  const allowed = /^--(platform=(systrap|ptrace)|directfs=(true|false)|file-access=(exclusive|shared)|file-access-mounts=(exclusive|shared)|dcache=\d+)$/;
  const out = text.trim().split(/\s+/);
  for (const f of out) {
    if (!allowed.test(f)) throw new AirlockError('usage', `AIRLOCK_RUNSC_TUNING: "${f}" is not an accepted runsc tuning flag`, 'accepted: --platform=systrap|ptrace --directfs=true|false --file-access[-mounts]=exclusive|shared --dcache=N', 2);
  }
  return out;
}

function stateLeft(root: string, id: string): boolean {
  try {
    return readdirSync(root).some((n) => n.startsWith(`${id}_`) || n === `runsc-${id}.sock`);
  } catch {
    return false;
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}
