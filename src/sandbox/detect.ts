/**
 * Capability detection for `airlock doctor` and `runtime.isolation: auto`: which isolation
 * backends *actually work* on this host. Presence of a binary proves nothing, so each backend is
 * probed by starting a trivial sandbox:
 * - gVisor: `runsc --root=TMP --network=none --ignore-cgroups do /bin/true` (plus `--rootless`
 *   when not root), with a timeout; the version is parsed from `runsc --version` and versions
 *   before release-20230227 get a warning about the statx/AT_NO_AUTOMOUNT bug (`ls` fails inside);
 *   the platform (systrap/ptrace/kvm) comes from `runsc flags`.
 * - bubblewrap: `bwrap --unshare-all --die-with-parent --ro-bind / / /bin/true`.
 * - microVM: `/dev/kvm` must open read-write AND a microVM runtime (firecracker, kata) must be
 *   installed; airlock has no microVM backend yet, so it never becomes the default.
 * Also reported: user namespaces (`unshare -Ur true`), cgroups (v1/v2/hybrid and controllers), and
 * whether overlayfs can be mounted (tried inside a private mount namespace, so nothing leaks).
 *
 * Every probe is `spawn(file, argv)` with a timeout; nothing here changes the host.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { arch, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './which.js';
import { bwrapTracerChoice, ebpfUnavailableReason } from '../audit/ebpf-tracer.js';
import { straceAvailable } from '../audit/strace-tracer.js';

export type DetectedBackendName = 'gvisor' | 'bwrap' | 'microvm';

export interface BackendReport {
  name: DetectedBackendName;
  /** True only when a trivial sandbox was actually started and exited 0. */
  available: boolean;
  /** Version as reported by the tool (e.g. `20240729` for runsc, `0.8.0` for bwrap). */
  version?: string;
  /** One line: what was tried and what happened. */
  detail: string;
  warnings: string[];
  /** gVisor only: the platform runsc uses (systrap, ptrace, kvm). */
  platform?: string;
  /** Absolute path of the binary, when found. */
  path?: string;
  /** How long the probe sandbox took to start and exit. */
  probeMs?: number;
}

export interface DoctorReport {
  host: { kernel: string; arch: string; uid: number };
  backends: BackendReport[];
  userNamespaces: { available: boolean; detail: string };
  cgroups: { version: 'v1' | 'v2' | 'hybrid' | 'none'; v1Controllers: string[]; v2Controllers: string[]; detail: string };
  overlayfs: { available: boolean; detail: string };
  /** The strongest working backend: gvisor > bwrap (microvm only once a backend exists). */
  strongest: 'gvisor' | 'bwrap' | null;
}

/** gVisor release that fixed statx with AT_NO_AUTOMOUNT (Debian 12 coreutils `ls` fails before it). */
export const RUNSC_STATX_FIX = 20230227;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: string;
  timedOut: boolean;
  ms: number;
}

/** Runs `file argv` with a timeout; never throws. */
export function run(file: string, argv: string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child;
    try {
      child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: null, signal: null, stdout, stderr, error: (err as Error).message, timedOut, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let error: string | undefined;
    child.on('error', (err) => (error = err.message));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, error, timedOut, ms: Date.now() - t0 });
    });
  });
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n').filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

function failure(r: RunResult): string {
  if (r.timedOut) return 'timed out';
  if (r.error) return r.error;
  return `exit ${r.code ?? r.signal}${r.stderr.trim() ? `: ${lastLine(r.stderr)}` : ''}`;
}

/** `runsc version 0.0~20240729.0` / `runsc version release-20240729.0` → 20240729. */
export function parseRunscVersion(text: string): number | undefined {
  const m = /runsc version\s+(?:\S*?[~-])?(\d{8})(?:\.\d+)?/.exec(text) ?? /\b(20\d{6})\b/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The `(default "systrap")` of `runsc flags`' -platform entry. */
export function parseRunscPlatform(flagsText: string): string | undefined {
  const m = /-platform string\s*\n[^\n]*?\(default "([a-z]+)"\)/.exec(flagsText);
  return m?.[1];
}

/** Probes gVisor; `runsc` overrides the binary (tests use a fake one); the sandbox start is cut off after `timeoutMs`. */
export async function probeGvisor(runsc?: string, timeoutMs = 30_000): Promise<BackendReport> {
  const path = runsc ?? which('runsc');
  if (!path) return { name: 'gvisor', available: false, detail: 'runsc not found on PATH', warnings: ['install it: apt-get install runsc (Debian 12: from bookworm-backports for release 20240729)'] };
  const warnings: string[] = [];
  const [ver, flags] = await Promise.all([run(path, ['--version'], 10_000), run(path, ['flags'], 10_000)]);
  const version = parseRunscVersion(ver.stdout + ver.stderr);
  const platform = parseRunscPlatform(flags.stdout + flags.stderr);
  if (version === undefined) warnings.push(`cannot parse the runsc version from: ${lastLine(ver.stdout + ver.stderr) || failure(ver)}`);
  else if (version < RUNSC_STATX_FIX) warnings.push(`runsc ${version} predates release-20230227: statx with AT_NO_AUTOMOUNT fails inside, so coreutils ls/stat print "Invalid argument"; install a newer runsc (bookworm-backports)`);
  if (platform === 'ptrace') warnings.push('platform ptrace is slow for file- and exec-heavy work (systrap is faster where available)');

  const root = mkdtempSync(join(tmpdir(), 'airlock-doctor-runsc-'));
  try {
    const argv = [`--root=${root}`, '--network=none', '--ignore-cgroups'];
    if (process.getuid?.() !== 0) argv.push('--rootless');
    argv.push('do', '/bin/true');
    const r = await run(path, argv, timeoutMs);
    const base = { name: 'gvisor' as const, version: version !== undefined ? String(version) : undefined, platform, path, warnings, probeMs: r.ms };
    if (r.code === 0) return { ...base, available: true, detail: `started a sandbox (runsc do /bin/true) in ${r.ms} ms${platform ? `, platform ${platform}` : ''}` };
    return { ...base, available: false, detail: `runsc is installed but could not start a sandbox: ${failure(r)}` };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Which process tracer bwrap sessions get here: the choice a session makes (bwrapTracerChoice). */
function bwrapProcessTracer(): { name: string; warning?: string } {
  const noEbpf = ebpfUnavailableReason();
  let choice: 'ebpf' | 'strace';
  try {
    choice = bwrapTracerChoice();
  } catch (err) {
    return { name: 'none', warning: `${(err as Error).message}: bwrap sessions will not start` };
  }
  if (choice === 'ebpf') return noEbpf ? { name: 'none', warning: `AIRLOCK_BWRAP_TRACER=ebpf, but ${noEbpf}: bwrap sessions will not start` } : { name: 'eBPF (bpftrace)' };
  const noStrace = straceAvailable();
  if (noStrace) return { name: 'none', warning: `no process tracer: ${noStrace}${noEbpf ? `, and ${noEbpf}` : ''}; bwrap sessions will not start` };
  const why = noEbpf ? `eBPF is unavailable (${noEbpf})` : 'AIRLOCK_BWRAP_TRACER=strace';
  return { name: 'strace', warning: `process events from strace, which stops every fork and exec (+50-70% on exec-heavy work): ${why}` };
}

/** Probes bubblewrap; `bwrap` overrides the binary (tests use a fake one). */
export async function probeBwrap(bwrap?: string): Promise<BackendReport> {
  const path = bwrap ?? which('bwrap');
  if (!path) return { name: 'bwrap', available: false, detail: 'bwrap not found on PATH', warnings: ['install it: apt-get install bubblewrap'] };
  const ver = await run(path, ['--version'], 10_000);
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(ver.stdout)?.[1];
  const r = await run(path, ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '/bin/true'], 20_000);
  const warnings = ['shares the host kernel: weaker than gVisor against kernel exploits'];
  const tracer = bwrapProcessTracer();
  if (tracer.warning) warnings.push(tracer.warning);
  if (r.code === 0) return { name: 'bwrap', available: true, version, path, warnings, probeMs: r.ms, detail: `started a sandbox (bwrap --unshare-all ... /bin/true) in ${r.ms} ms; process events: ${tracer.name}` };
  return { name: 'bwrap', available: false, version, path, warnings, probeMs: r.ms, detail: `bwrap is installed but could not start a sandbox: ${failure(r)}` };
}

export async function probeMicrovm(): Promise<BackendReport> {
  let kvm: string;
  let kvmOk = false;
  try {
    const fd = openSync('/dev/kvm', constants.O_RDWR);
    closeSync(fd);
    kvmOk = true;
    kvm = '/dev/kvm opens read-write';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    kvm = code === 'ENOENT' ? 'no /dev/kvm' : `/dev/kvm cannot be opened read-write (${code})`;
  }
  const runtimes = ['firecracker', 'kata-runtime', 'containerd-shim-kata-v2', 'cloud-hypervisor'].filter((b) => which(b));
  const warnings: string[] = [];
  let cpuFlags = '';
  try {
    cpuFlags = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    /* not Linux */
  }
  if (kvmOk && !/\b(vmx|svm)\b/.test(cpuFlags)) warnings.push('the CPU does not advertise vmx/svm: /dev/kvm is likely a paravirtual (nested) KVM; microVM performance and support are uncertain');
  const detail = `${kvm}; ${runtimes.length ? `found ${runtimes.join(', ')}` : 'no microVM runtime (firecracker, kata) installed'}; airlock has no microVM backend yet`;
  return { name: 'microvm', available: false, detail, warnings };
}

async function probeUserNamespaces(): Promise<DoctorReport['userNamespaces']> {
  let max = '';
  try {
    max = readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim();
  } catch {
    /* absent */
  }
  if (max === '0') return { available: false, detail: 'user.max_user_namespaces is 0' };
  const unshare = which('unshare');
  if (!unshare) return { available: max !== '', detail: `unshare not found; max_user_namespaces=${max || 'unknown'}` };
  const r = await run(unshare, ['--user', '--map-root-user', '/bin/true'], 10_000);
  return r.code === 0 ? { available: true, detail: `unshare --user works (max_user_namespaces=${max || '?'})` } : { available: false, detail: `unshare --user failed: ${failure(r)}` };
}

/** Parses /proc/self/mounts for cgroup v1 hierarchies and the v2 mount. */
export function parseCgroupMounts(mounts: string, readControllers: (dir: string) => string | undefined): DoctorReport['cgroups'] {
  const v1 = new Set<string>();
  let v2Dir: string | undefined;
  for (const line of mounts.split('\n')) {
    const [, dir, type, opts] = line.split(' ');
    if (type === 'cgroup2' && dir && !v2Dir) v2Dir = dir;
    if (type === 'cgroup' && opts) {
      for (const o of opts.split(',')) if (['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'devices', 'freezer', 'hugetlb', 'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc'].includes(o)) v1.add(o);
    }
  }
  const v2 = v2Dir ? (readControllers(v2Dir) ?? '').split(/\s+/).filter(Boolean) : [];
  const version = v1.size && v2Dir ? 'hybrid' : v1.size ? 'v1' : v2Dir ? 'v2' : 'none';
  const v1Controllers = [...v1].sort();
  const detail =
    version === 'none'
      ? 'no cgroup filesystem mounted: limits cannot be enforced'
      : `${version}: ${[v1Controllers.length ? `v1 controllers ${v1Controllers.join(', ')}` : '', v2Dir ? `v2 at ${v2Dir} with ${v2.length ? v2.join(', ') : 'no controllers'}` : ''].filter(Boolean).join('; ')}`;
  return { version, v1Controllers, v2Controllers: v2, detail };
}

function probeCgroups(): DoctorReport['cgroups'] {
  let mounts = '';
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    /* not Linux */
  }
  return parseCgroupMounts(mounts, (dir) => {
    try {
      return readFileSync(join(dir, 'cgroup.controllers'), 'utf8');
    } catch {
      return undefined;
    }
  });
}

async function probeOverlayfs(): Promise<DoctorReport['overlayfs']> {
  let fs = '';
  try {
    fs = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    /* not Linux */
  }
  if (!/\boverlay\b/.test(fs)) return { available: false, detail: 'overlay is not in /proc/filesystems (modprobe overlay?)' };
  const unshare = which('unshare');
  const mount = which('mount');
  if (!unshare || !mount) return { available: false, detail: 'cannot test: unshare or mount not found' };
  const dir = mkdtempSync(join(tmpdir(), 'airlock-doctor-ovl-'));
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(dir, d));
    // A private mount namespace: the mount disappears with the process, nothing to clean up.
    const ns = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
    const r = await run(unshare, [...ns, mount, '-t', 'overlay', 'overlay', '-o', `lowerdir=${join(dir, 'lower')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, join(dir, 'merged')], 10_000);
    return r.code === 0 ? { available: true, detail: `mounted an overlay in a private mount namespace${ns.includes('--user') ? ' (user namespace)' : ''}` } : { available: false, detail: `overlay mount failed: ${failure(r)}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Probes everything (in parallel) and picks the strongest working backend. */
export async function detectBackends(): Promise<DoctorReport> {
  const [gvisor, bwrap, microvm, userNamespaces, overlayfs] = await Promise.all([probeGvisor(), probeBwrap(), probeMicrovm(), probeUserNamespaces(), probeOverlayfs()]);
  const strongest = gvisor.available ? 'gvisor' : bwrap.available ? 'bwrap' : null;
  return {
    host: { kernel: release(), arch: arch(), uid: process.getuid?.() ?? -1 },
    backends: [gvisor, bwrap, microvm],
    userNamespaces,
    cgroups: probeCgroups(),
    overlayfs,
    strongest,
  };
}

/** The report as a short table for a terminal. */
export function renderDoctorReport(r: DoctorReport): string {
  const rows: [string, string, string, string][] = [['backend', 'status', 'version', 'detail']];
  for (const b of r.backends) rows.push([b.name, b.available ? 'ok' : 'unavailable', b.version ?? '-', b.detail]);
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const out = rows.map((row) => `${row[0].padEnd(w[0]!)}  ${row[1].padEnd(w[1]!)}  ${row[2].padEnd(w[2]!)}  ${row[3]}`);
  out.push('');
  const status = (ok: boolean) => (ok ? 'ok' : 'unavailable').padEnd(11);
  out.push(`user namespaces  ${status(r.userNamespaces.available)}  ${r.userNamespaces.detail}`);
  out.push(`cgroups          ${(r.cgroups.version === 'none' ? 'unavailable' : 'ok').padEnd(11)}  ${r.cgroups.detail}`);
  out.push(`overlayfs        ${status(r.overlayfs.available)}  ${r.overlayfs.detail}`);
  const warnings = r.backends.flatMap((b) => b.warnings.map((w) => `${b.name}: ${w}`));
  if (warnings.length) out.push('', 'warnings:', ...warnings.map((x) => `  ! ${x}`));
  out.push('');
  out.push(r.strongest ? `strongest available backend: ${r.strongest} (used for runtime.isolation: auto)` : 'no isolation backend works on this host: install gVisor (runsc) or bubblewrap');
  return `${out.join('\n')}\n`;
}
