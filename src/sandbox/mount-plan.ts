/**
 * One mount plan for every backend. `buildMountPlan(spec)` turns a LaunchSpec into an ordered list
 * of mount operations that the gVisor backend writes into an OCI config.json and the bubblewrap
 * backend turns into `--ro-bind/--bind/--tmpfs/...` arguments. Both backends therefore give the
 * agent the same view:
 *
 * - the root is empty (gVisor: a read-only skeleton directory; bwrap: a tmpfs remounted read-only);
 * - host system read-only: /usr, /etc (minus shadow files, sudoers, host keys), /bin, /sbin, /lib*
 *   (symlinks recreated as symlinks when the host is usr-merged). Nothing else of the host: no
 *   /home, /root, /run, /var, /mnt, /opt, /srv, docker socket;
 * - /proc (the sandbox's own pid namespace), /dev (minimal), /tmp and the home directory as private
 *   tmpfs (capped by `limits.diskBytes`), the workspace read-write at its own path;
 * - extra mounts from the other doors (proxy socket directory, CA bundle, policy read/write);
 * - when `executables` is set, every bin directory is replaced by a directory that holds only the
 *   allowed programs (see executables.ts), and writable areas are mounted noexec where the backend
 *   can;
 * - masks last: every denied path that would otherwise be visible is covered by an empty read-only
 *   directory or an empty file.
 *
 * Sources are resolved with realpath on the host before use (a symlink in a policy path cannot
 * redirect a mount to somewhere else than what the checks saw), and targets are the resolved
 * paths, so no mount target inside the sandbox passes through a symlink.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { globToRegExp } from '../policy/glob.js';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { LaunchSpec } from './types.js';

export type PlanEntry =
  | { op: 'bind'; source: string; target: string; readonly: boolean; noexec?: boolean; socket?: boolean; file: boolean }
  | { op: 'tmpfs'; target: string; sizeBytes?: number; noexec: boolean; readonly?: boolean; mode: number }
  | { op: 'symlink'; target: string; linkTo: string }
  | { op: 'proc'; target: string }
  | { op: 'dev'; target: string }
  | { op: 'mask'; target: string; dir: boolean };

export interface MountPlan {
  entries: PlanEntry[];
  /** true when some mount is a unix socket (gVisor needs `--host-uds=open`). */
  hasSocket: boolean;
  /** Directory inside the sandbox that serves as HOME. */
  home: string;
}

/** Home directory of the agent inside the sandbox. */
export const SANDBOX_HOME = '/home/agent';

/** Top-level host system paths that are shown read-only (when they exist). */
export const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32', '/etc'];

/** Files under /etc that never enter the sandbox. */
export const ETC_DENY = [
  '/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/sudoers.d',
  '/etc/security/opasswd', '/etc/ssl/private', '/etc/machine-id', '/etc/docker', '/etc/containerd',
  '/etc/kubernetes', '/etc/rancher', '/etc/wireguard', '/etc/NetworkManager/system-connections', '/etc/credstore',
  '/etc/credstore.encrypted', '/etc/ppp/chap-secrets', '/etc/ppp/pap-secrets', '/etc/libvirt', '/etc/openvpn',
];

/** Default size of each private tmpfs when no disk limit is set. */
export const DEFAULT_TMPFS_BYTES = 1024 * 1024 * 1024;

export interface MountPlanOptions {
  /** Bin directory views prepared by executables.ts: host dir → sandbox bin dir, plus file binds. */
  binViews?: { target: string; source: string; files: { source: string; target: string }[] }[];
  /** Extra read-only binds (e.g. the shim directory), applied after the bin views. */
  extraBinds?: { source: string; target: string }[];
}

/** Builds the ordered mount plan for a launch. Pure apart from stat/realpath/readdir of the host. */
export function buildMountPlan(spec: LaunchSpec, opts: MountPlanOptions = {}): MountPlan {
  const entries: PlanEntry[] = [];
  const restricted = spec.executables !== undefined;

  for (const p of SYSTEM_PATHS) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) {
      const to = readLinkSafe(p);
      if (to) entries.push({ op: 'symlink', target: p, linkTo: to });
    } else if (st.isDirectory()) entries.push({ op: 'bind', source: p, target: p, readonly: true, file: false });
  }
  for (const view of opts.binViews ?? []) {
    entries.push({ op: 'bind', source: view.source, target: view.target, readonly: true, file: false });
    for (const f of view.files) entries.push({ op: 'bind', source: f.source, target: f.target, readonly: true, file: true });
  }
  for (const b of opts.extraBinds ?? []) entries.push({ op: 'bind', source: b.source, target: b.target, readonly: true, file: isFile(b.source) });

  entries.push({ op: 'proc', target: '/proc' });
  entries.push({ op: 'dev', target: '/dev' });
  const size = spec.limits.diskBytes ?? DEFAULT_TMPFS_BYTES;
  // POSIX shared memory: a sized tmpfs too (bwrap's /dev would otherwise hold it uncapped).
  entries.push({ op: 'tmpfs', target: '/dev/shm', sizeBytes: size, noexec: true, mode: 0o1777 });
  entries.push({ op: 'tmpfs', target: '/tmp', sizeBytes: size, noexec: restricted, mode: 0o1777 });
  entries.push({ op: 'tmpfs', target: SANDBOX_HOME, sizeBytes: size, noexec: restricted, mode: 0o700 });

  const ws = spec.workspace;
  entries.push({ op: 'bind', source: ws.hostPath, target: ws.sandboxPath, readonly: false, noexec: restricted, file: false });

  let hasSocket = false;
  for (const m of spec.mounts) {
    if (m.kind === 'tmpfs') {
      entries.push({ op: 'tmpfs', target: m.target, noexec: restricted, readonly: m.readonly, mode: 0o755, sizeBytes: size });
      continue;
    }
    const src = safeRealpath(m.source);
    if (!src) continue;
    if (m.socket) hasSocket = true;
    entries.push({ op: 'bind', source: src, target: m.target, readonly: m.readonly, noexec: restricted && !m.readonly, socket: m.socket, file: isFile(src) });
  }

  // Masks: every denied path that is visible through some bind gets covered.
  const binds: { source: string; target: string }[] = entries.filter((e): e is Extract<PlanEntry, { op: 'bind' }> => e.op === 'bind');
  // The (staged) workspace shows the user's tree: a denied path inside the original tree is masked too.
  if (ws.hostPath !== ws.sandboxPath) binds.push({ source: ws.sandboxPath, target: ws.sandboxPath });
  const masked = new Set<string>();
  for (const denied of [...ETC_DENY, ...spec.deny]) {
    const real = safeRealpath(denied);
    const candidates = new Set([denied, ...(real ? [real] : [])]);
    for (const hostPath of candidates) {
      for (const b of binds) {
        const rel = relative(b.source, hostPath);
        if (rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))) {
          const target = rel === '' ? b.target : join(b.target, rel);
          if (masked.has(target)) continue;
          let dir: boolean;
          try {
            dir = statSync(hostPath).isDirectory();
          } catch {
            continue;
          }
          masked.add(target);
          entries.push({ op: 'mask', target, dir });
        }
      }
    }
  }

  // A mask inside a masked directory is already hidden, and could not be mounted there (the
  // covering directory is empty and read-only): drop it — unless a bind below that directory
  // shows the path again, then the mask is still needed.
  const maskedDirs = entries.filter((e) => e.op === 'mask' && e.dir).map((e) => e.target);
  const bindTargets = entries.filter((e) => e.op === 'bind').map((e) => e.target);
  const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
  const hiddenTwice = (e: PlanEntry) =>
    e.op === 'mask' && maskedDirs.some((d) => e.target.startsWith(`${d}/`) && !bindTargets.some((b) => b.startsWith(`${d}/`) && under(e.target, b)));
  return { entries: orderEntries(entries.filter((e) => !hiddenTwice(e))), hasSocket, home: SANDBOX_HOME };
}

/** Parents before children; for equal depth keep the given order (later wins at the same target). */
export function orderEntries(entries: PlanEntry[]): PlanEntry[] {
  const depth = (t: string) => t.split('/').filter(Boolean).length;
  const isMask = (e: PlanEntry) => (e.op === 'mask' ? 1 : 0);
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => depth(a.e.target) - depth(b.e.target) || isMask(a.e) - isMask(b.e) || a.i - b.i)
    .map((x) => x.e);
}

/**
 * Expands `filesystem.deny` globs against the trees the agent will see (bounded walk). Patterns
 * are compiled by policy/glob.ts — linear time, so a crafted file name in the workspace cannot
 * stall the session start; one that is neither absolute nor `**`-led matches at any depth.
 */
export function expandDenyGlobs(patterns: string[], roots: string[], limit = 20000): string[] {
  const out = patterns.filter((p) => !p.includes('*'));
  const res = patterns.filter((p) => p.includes('*')).map((g) => globToRegExp(isAbsolute(g) || g.startsWith('**') ? g : `**/${g}`, 'path'));
  if (!res.length) return out;
  walkBounded(roots, limit, (p, e) => {
    if (res.some((re) => re.test(p))) out.push(p);
    return e.name !== 'node_modules' && e.name !== '.git';
  });
  return out;
}

/** Finds `.env*` files under the given roots (bounded walk). */
export function findDotEnvFiles(roots: string[], pattern: RegExp, limit = 20000): string[] {
  const out: string[] = [];
  walkBounded(roots.filter((r) => existsSync(r)), limit, (p, e) => {
    if (!pattern.test(e.name)) return e.name !== 'node_modules';
    out.push(p);
    return false;
  });
  return out;
}

/**
 * Walks directory trees depth-first, at most 12 levels and `limit` entries in all, never through
 * symlinks. `visit` sees every entry and returns whether to descend into it (directories only).
 */
function walkBounded(roots: string[], limit: number, visit: (path: string, entry: Dirent) => boolean): void {
  let seen = 0;
  const walk = (dir: string, depth: number) => {
    if (depth > 12 || seen > limit) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > limit) return;
      const p = join(dir, e.name);
      if (visit(p, e) && e.isDirectory() && !e.isSymbolicLink()) walk(p, depth + 1);
    }
  };
  for (const r of roots) walk(r, 0);
}

export function safeRealpath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

function readLinkSafe(p: string): string | undefined {
  try {
    // Recreate the link as written (e.g. `usr/bin`), so it resolves inside the sandbox's view.
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

function isFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Hard links: a file in `roots` that is the same inode as a denied file (a hard link planted in the
 * workspace) must be masked too — a path-based deny would not see it. Returns those paths.
 */
export function findHardLinksTo(denied: string[], roots: string[], limit = 50000): string[] {
  const ids = new Set<string>();
  let seen = 0;
  const collect = (p: string, d: number) => {
    if (d > 8 || ++seen > limit) return;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isFile()) ids.add(`${st.dev}:${st.ino}`);
    else if (st.isDirectory()) for (const n of safeReaddir(p)) collect(join(p, n), d + 1);
  };
  for (const p of denied) collect(p, 0);
  if (!ids.size) return [];
  const out: string[] = [];
  seen = 0;
  const walk = (dir: string, d: number) => {
    if (d > 16) return;
    for (const e of safeReaddir(dir)) {
      if (++seen > limit) return;
      const p = join(dir, e);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isFile() && st.nlink > 1 && ids.has(`${st.dev}:${st.ino}`)) out.push(p);
      else if (st.isDirectory()) walk(p, d + 1);
    }
  };
  for (const r of roots) walk(r, 0);
  return out;
}

function safeReaddir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}
