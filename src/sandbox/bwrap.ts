/**
 * The bubblewrap backend: the fast, weaker boundary (the host kernel is shared).
 *
 * Enforced by the kernel: new user, mount, pid, ipc, uts, net and cgroup namespaces
 * (`--unshare-all`), no capabilities (`--cap-drop ALL`), a new session (no TIOCSTI into the
 * caller's terminal), death with the parent (`--die-with-parent`: nothing survives airlock, even
 * SIGKILL), the mount plan (only /usr, /etc minus secrets, /lib*, the workspace and the declared
 * paths exist), and airlock's own seccomp filter (seccomp.ts: namespace/mount/ptrace/keyring/bpf/
 * io_uring/module/... syscalls refused, other architectures and x32 killed). The network namespace
 * has only a loopback interface: no route out, no host abstract sockets.
 * Limits: cgroups (memory, pids, cpu) joined by a launcher before bwrap starts; tmpfs sizes.
 * Not enforced: the kernel itself is the attack surface for every allowed syscall; bwrap's --tmpfs
 * cannot be mounted noexec, so with `commands.allow` the writable areas of bwrap stay executable
 * (gVisor enforces noexec) — see docs/sandbox.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_TMPFS_BYTES } from './mount-plan.js';
import { removeOwner, unmount, writeOwner } from './reaper.js';
import { AirlockError } from '../util/errors.js';
import { cgroupAvailable, createCgroup, type Cgroup } from './cgroup.js';
import { buildSeccompFilter } from './seccomp.js';
import { prepareView, supervise } from './supervise.js';
import type { Backend, LaunchSpec, SandboxHandle } from './types.js';
import type { MountPlan } from './mount-plan.js';
import { which } from './which.js';

/** Constant launcher script: joins each cgroup.procs given before `--`, then execs the rest. No interpolation. */
const CGROUP_LAUNCHER = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/**
 * `noexecDir`: a host directory on a noexec tmpfs (see `mountNoexecTmpfs`); noexec tmpfs entries of
 * the plan become binds of fresh subdirectories of it, because bwrap's own --tmpfs cannot be noexec
 * and a bind mount keeps (and, in the sandbox's user namespace, locks) the source mount's noexec.
 */
export function bwrapArgs(spec: LaunchSpec, plan: MountPlan, empty: { file: string; dir: string }, noexecDir?: string): string[] {
  const a = ['--unshare-all', '--new-session', '--die-with-parent', '--cap-drop', 'ALL', '--hostname', 'airlock'];
  const ro: string[] = [];
  for (const e of plan.entries) {
    switch (e.op) {
      case 'symlink':
        a.push('--symlink', e.linkTo, e.target);
        break;
      case 'bind':
        a.push(e.readonly ? '--ro-bind' : '--bind', e.source, e.target);
        break;
      case 'tmpfs':
        if (e.noexec && noexecDir) {
          const sub = join(noexecDir, e.target.replace(/\//g, '_'));
          mkdirSync(sub, { recursive: true });
          chmodSync(sub, e.mode);
          a.push(e.readonly ? '--ro-bind' : '--bind', sub, e.target);
          break;
        }
        a.push('--perms', e.mode.toString(8).padStart(4, '0'));
        if (e.sizeBytes) a.push('--size', String(e.sizeBytes));
        a.push('--tmpfs', e.target);
        if (e.readonly) ro.push(e.target);
        break;
      case 'proc':
        a.push('--proc', e.target);
        break;
      case 'dev':
        a.push('--dev', e.target);
        break;
      case 'mask':
        if (e.dir) a.push('--ro-bind', empty.dir, e.target);
        else a.push('--ro-bind', empty.file, e.target);
        break;
    }
  }
  for (const t of ro) a.push('--remount-ro', t);
  a.push('--remount-ro', '/');
  a.push('--chdir', spec.cwd, '--clearenv');
  for (const [k, v] of Object.entries(spec.env)) a.push('--setenv', k, v);
  a.push('--seccomp', '3', '--', ...spec.prelude, ...spec.argv);
  return a;
}

export const bwrapBackend: Backend = {
  name: 'bwrap',
  securityModel:
    'bubblewrap: Linux namespaces (user, mount, pid, ipc, uts, net, cgroup), no capabilities, airlock seccomp filter, ' +
    'read-only system view, private /tmp and home, die-with-parent. Shares the host kernel: a kernel bug is an escape.',
  async launch(spec: LaunchSpec): Promise<SandboxHandle> {
    const bwrap = which('bwrap');
    if (!bwrap) throw new AirlockError('backend-unavailable', 'bwrap backend: bwrap is not installed', 'install bubblewrap (apt-get install bubblewrap) or use --backend gvisor', 2);
    const prepared = prepareView(spec);
    const filter = buildSeccompFilter();
    let noexecDir: string | undefined;
    if (spec.executables && process.getuid?.() === 0) {
      // Writable areas noexec: a host tmpfs mounted noexec, capped at the disk limit.
      noexecDir = join(spec.runDir, 'noexec');
      mountNoexecTmpfs(noexecDir, spec.limits.diskBytes ?? DEFAULT_TMPFS_BYTES);
    }
    const args = bwrapArgs(spec, prepared.plan, { file: prepared.emptyFile, dir: prepared.emptyDir }, noexecDir);

    const { memoryBytes, cpus } = spec.limits;
    let pids = spec.limits.pids;
    if (pids === undefined && spec.defaultLimits?.pids && process.getuid?.() === 0 && cgroupAvailable()) pids = spec.defaultLimits.pids;
    let cg: Cgroup | undefined;
    let argv = [spec.monitor?.bwrapPath ?? bwrap, ...args];
    if (spec.monitor?.tracerArgv?.length) argv = [...spec.monitor.tracerArgv, ...argv];
    if (memoryBytes || pids || cpus) {
      if (!cgroupAvailable()) throw new AirlockError('limits-unavailable', 'runtime.limits: cgroups are not available to set memory/pids/cpus limits', 'run as root on a host with cgroup v1 memory/pids/cpu controllers or cgroup v2', 2);
      cg = createCgroup(`bwrap-${spec.sessionId}`, { memoryBytes, pids, cpus });
      argv = ['/bin/sh', '-c', CGROUP_LAUNCHER, 'airlock-launcher', ...cg.procsFiles, '--', ...argv];
    }
    writeOwner({ sessionId: spec.sessionId, cgroups: cg?.procsFiles.map((f) => dirname(f)) ?? [], mounts: noexecDir ? [noexecDir] : [] });
    // detached: bwrap gets its own process group, so a terminal's ^C reaches airlock only (which
    // forwards it to the agent) instead of killing bwrap; the agent never reads the terminal as a
    // background job because --new-session detaches it from the controlling terminal.
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, detached: true });
    const fd3 = child.stdio[3] as NodeJS.WritableStream | null;
    fd3?.on('error', () => undefined);
    fd3?.end(filter);

    const descendants = (): number[] => {
      const out: number[] = [];
      const walk = (pid: number) => {
        for (const t of safeList(`/proc/${pid}/task`)) {
          for (const c of readChildren(pid, t)) {
            out.push(c);
            walk(c);
          }
        }
      };
      if (child.pid) walk(child.pid);
      return out;
    };
    const killAll = () => {
      for (const pid of descendants().reverse()) safeKill(pid, 'SIGKILL');
      if (child.pid) safeKill(child.pid, 'SIGKILL');
    };
    // Window size changes reach airlock (the terminal's foreground group), not the agent, which
    // runs in its own session: pass them on so full-screen agents redraw.
    let forwardWinch: (() => void) | undefined;
    const handle = supervise({
      child,
      wallTimeMs: spec.limits.wallTimeMs,
      signal(sig) {
        // bwrap does not forward signals: deliver to the agent's process group (the first process
        // below bwrap's init in the new pid namespace leads its own session).
        const d = descendants();
        const agent = d.length >= 2 ? d[d.length >= 3 && spec.monitor?.tracerArgv ? 2 : 1] : d[0];
        if (agent) {
          safeKill(-agent, sig);
          safeKill(agent, sig);
        } else if (child.pid) safeKill(child.pid, sig);
      },
      killAll,
      diagnose(r) {
        const s = cg?.stats();
        if (s?.oomKilled) return `memory limit of ${Math.round(memoryBytes! / 2 ** 20)}MiB reached; the sandbox was killed (exit ${r.exitCode})`;
        if (s?.pidsLimitHit) return `process limit (pids: ${pids}) was reached during the session`;
        if (r.exitCode === 128 + 31) return 'the agent was killed by the seccomp filter (a forbidden architecture or ABI)';
        return undefined;
      },
      teardown() {
        if (forwardWinch) process.off('SIGWINCH', forwardWinch);
        killAll();
        cg?.remove();
        if (noexecDir) unmount(noexecDir);
        removeOwner(spec.sessionId);
      },
    });
    if (spec.tty) {
      forwardWinch = () => handle.kill('SIGWINCH');
      process.on('SIGWINCH', forwardWinch);
    }
    return handle;
  },
};

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readChildren(pid: number, tid: string): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function safeKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Mounts a tmpfs with noexec,nosuid,nodev of `size` bytes at `dir` (root only). Fails closed. */
export function mountNoexecTmpfs(dir: string, size: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `noexec,nosuid,nodev,mode=0755,size=${size}`, 'airlock-noexec', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new AirlockError('sandbox-mount', `bwrap backend: cannot mount the noexec tmpfs at ${dir}: ${(r.stderr || r.error?.message || '').trim()}`, 'commands.allow needs noexec writable areas; run airlock as root', 1);
}
