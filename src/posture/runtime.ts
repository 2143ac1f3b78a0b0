/**
 * Runtime probe: is the process that runs the audit (and so an agent started beside it) isolated,
 * and by what? All probes are file reads under an injectable root (`/` normally; a fake tree in
 * tests via the hidden `--root DIR`), plus PATH lookups — nothing is executed, nothing is
 * connected to, so the probe is fast and changes nothing.
 *
 * Clues, strongest boundary first:
 * - gVisor: `/proc/version` is gVisor's fixed `Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016`,
 *   `/proc/1/cgroup` has gVisor's `job` controller, the boot log says "Starting gVisor".
 * - microVM: the kernel command line names Firecracker / Kata / Cloud Hypervisor, or the DMI vendor does.
 * - container (shared kernel): `/.dockerenv`, `/run/.containerenv`, a `container=` marker, container
 *   runtimes in `/proc/1/cgroup`, an overlay root filesystem in `/proc/self/mountinfo`, a user
 *   namespace (`/proc/self/uid_map` not the identity map), PID 1 being bwrap/tini/a shim.
 * Docker socket: `/var/run/docker.sock`, `/run/docker.sock`, podman sockets, `DOCKER_HOST`.
 * Backends: `runsc`, `bwrap` on PATH; user namespaces enabled; `/dev/kvm` present and accessible.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { RuntimeReport } from './types.js';
import { readTextFile, statOrUndefined } from './fsread.js';

export interface RuntimeProbeOptions {
  /** Filesystem root the probes read under; default `/`. */
  root?: string;
  /** Environment for DOCKER_HOST, PATH and XDG_RUNTIME_DIR; default process.env. */
  env?: Record<string, string | undefined>;
  /** Effective uid; default process.getuid(). */
  uid?: number;
}

const GVISOR_VERSION = /^Linux version 4\.4\.0 #1 SMP Sun Jan 10 15:06:54 PST 2016/;

export function probeRuntime(opts: RuntimeProbeOptions = {}): RuntimeReport {
  const root = opts.root ?? '/';
  const env = opts.env ?? process.env;
  const at = (p: string) => join(root, p);
  const read = (p: string) => {
    const r = readTextFile(at(p), 1024 * 1024);
    return r.ok ? r.text : undefined;
  };
  const exists = (p: string) => statOrUndefined(at(p)) !== undefined;

  const version = read('proc/version') ?? '';
  const cgroup1 = read('proc/1/cgroup') ?? '';
  const cgroupSelf = read('proc/self/cgroup') ?? '';
  const mountinfo = read('proc/self/mountinfo') ?? '';
  const cmdline = read('proc/cmdline') ?? '';
  const dmesg = read('var/log/dmesg') ?? '';
  const dmi = `${read('sys/class/dmi/id/sys_vendor') ?? ''} ${read('sys/class/dmi/id/product_name') ?? ''}`.trim();
  const cpuinfo = read('proc/cpuinfo') ?? '';

  const gvisor: string[] = [];
  if (GVISOR_VERSION.test(version)) gvisor.push('/proc/version is gVisor\'s fixed kernel string');
  if (/^\d+:job:/m.test(cgroup1) || /^\d+:job:/m.test(cgroupSelf)) gvisor.push('/proc/1/cgroup lists gVisor\'s "job" controller');
  if (/Starting gVisor/.test(dmesg)) gvisor.push('boot log: "Starting gVisor"');

  const microvm: string[] = [];
  if (/firecracker/i.test(cmdline)) microvm.push('kernel command line mentions Firecracker');
  if (/\bkata\b|agent\.(log|debug_console)/i.test(cmdline)) microvm.push('kernel command line mentions Kata Containers');
  if (/cloud-hypervisor|\bchv\b/i.test(cmdline) || /Cloud Hypervisor/i.test(dmi)) microvm.push('Cloud Hypervisor');
  if (/Firecracker|Kata/i.test(dmi)) microvm.push(`DMI: ${dmi}`);
  if (!microvm.length && /virtio_mmio\.device=/.test(cmdline) && !/-generic|-aws|-azure|-gcp/.test(version)) microvm.push('kernel command line declares virtio-mmio devices (typical of microVMs)');

  const container: string[] = [];
  if (exists('.dockerenv')) container.push('/.dockerenv exists');
  if (exists('run/.containerenv')) container.push('/run/.containerenv exists (podman)');
  const runtimeInCgroup = /(docker|kubepods|containerd|libpod|lxc|crio|garden)[/-]/i.exec(`${cgroup1}\n${cgroupSelf}`);
  if (runtimeInCgroup) container.push(`/proc/1/cgroup names ${runtimeInCgroup[1]}`);
  const rootLine = mountinfo.split('\n').find((l) => l.split(' ')[4] === '/');
  const rootFs = rootLine?.split(' - ')[1]?.split(' ')[0];
  if (rootFs && /^(overlay|aufs|fuse-overlayfs)$/.test(rootFs) && !gvisor.length) container.push(`root filesystem is ${rootFs}`);
  if (env.container) container.push(`container=${env.container}`);
  const uidMap = read('proc/self/uid_map');
  if (uidMap !== undefined && uidMap.trim() && !/^\s*0\s+0\s+4294967295\s*$/.test(uidMap) && !gvisor.length) container.push(`in a user namespace (uid_map: ${uidMap.trim().split('\n')[0]!.replace(/\s+/g, ' ')})`);
  const init = (read('proc/1/cmdline') ?? '').split('\0')[0]!.split('/').pop();
  if (init && /^(bwrap|runc|crun|conmon|containerd-shim.*|tini|dumb-init|docker-init|catatonit)$/.test(init)) container.push(`PID 1 is ${init}`);
  if (env.KUBERNETES_SERVICE_HOST) container.push('KUBERNETES_SERVICE_HOST is set');

  let isolation: RuntimeReport['isolation'] = 'none';
  let evidence: string[] = [];
  if (gvisor.length) [isolation, evidence] = ['gvisor', gvisor];
  else if (microvm.length) [isolation, evidence] = ['microvm', microvm];
  else if (container.length) [isolation, evidence] = ['container', container];
  else evidence = ['no container, gVisor or microVM clues'];
  if (isolation !== 'gvisor' && /\bhypervisor\b/.test(cpuinfo)) evidence.push('CPU reports a hypervisor (this may be a VM the user works in, not a per-agent boundary)');

  // Docker socket.
  const sockets: string[] = [];
  const candidates = ['var/run/docker.sock', 'run/docker.sock', 'run/podman/podman.sock', 'var/run/podman/podman.sock'];
  if (env.XDG_RUNTIME_DIR) candidates.push(join(env.XDG_RUNTIME_DIR, 'docker.sock').replace(/^\//, ''), join(env.XDG_RUNTIME_DIR, 'podman/podman.sock').replace(/^\//, ''));
  for (const c of candidates) {
    const st = statOrUndefined(at(c));
    if (st && st.isSocket() && accessible(at(c), constants.R_OK | constants.W_OK)) sockets.push(`/${c}`);
  }
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost?.startsWith('unix://')) {
    const p = dockerHost.slice(7);
    const st = statOrUndefined(at(p.replace(/^\//, '')));
    if (st?.isSocket() && !sockets.includes(p)) sockets.push(p);
  }
  const reachable = sockets.length > 0 || (!!dockerHost && /^(tcp|ssh|https?):\/\//.test(dockerHost));

  // Backends.
  const path = (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter(Boolean);
  const which = (name: string) => {
    for (const d of path) {
      const p = join(root, d, name);
      const st = statOrUndefined(p);
      if (st?.isFile() && (st.mode & 0o111) !== 0) return join(d, name);
    }
    return undefined;
  };
  const runsc = which('runsc');
  const bwrap = which('bwrap');
  const maxUserNs = Number((read('proc/sys/user/max_user_namespaces') ?? '1').trim());
  const unprivClone = read('proc/sys/kernel/unprivileged_userns_clone');
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  const userNamespaces = maxUserNs > 0 && (uid === 0 || unprivClone === undefined || unprivClone.trim() === '1');
  const kvm = statOrUndefined(at('dev/kvm'));
  const kvmOk = !!kvm && kvm.isCharacterDevice() && accessible(at('dev/kvm'), constants.R_OK | constants.W_OK);

  return {
    isolation,
    sharedKernel: isolation === 'container' || isolation === 'none',
    evidence,
    container: { detected: container.length > 0, evidence: container },
    dockerSocket: { reachable, paths: sockets, ...(dockerHost ? { dockerHost: dockerHost.replace(/\/\/[^@/]*@/, '//…@') } : {}) },
    runningAsRoot: uid === 0,
    backends: {
      gvisor: { available: !!runsc, ...(runsc ? { path: runsc } : {}) },
      bwrap: { available: !!bwrap && userNamespaces, ...(bwrap ? { path: bwrap } : {}), userNamespaces },
      // airlock has no microVM backend yet; /dev/kvm is reported so the gap is visible.
      microvm: { available: false, detail: kvm ? (kvmOk ? '/dev/kvm present and accessible, but airlock has no microVM backend yet' : '/dev/kvm present but not accessible') : 'no /dev/kvm' },
    },
    probed: true,
  };
}

function accessible(p: string, mode: number): boolean {
  try {
    accessSync(p, mode);
    return true;
  } catch {
    return false;
  }
}

/** The report used with `--no-runtime-probe`. */
export function unprobedRuntime(): RuntimeReport {
  return {
    isolation: 'none',
    sharedKernel: true,
    evidence: ['runtime not probed (--no-runtime-probe)'],
    container: { detected: false, evidence: [] },
    dockerSocket: { reachable: false, paths: [] },
    runningAsRoot: false,
    backends: { gvisor: { available: false }, bwrap: { available: false, userNamespaces: false }, microvm: { available: false, detail: 'not probed' } },
    probed: false,
  };
}
