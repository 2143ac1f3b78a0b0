/**
 * Resource limits for the bubblewrap backend through cgroups (v1 controllers memory/pids/cpu, or
 * the unified v2 hierarchy when it has the controllers). The group is created before the sandbox;
 * the launcher writes its own PID into each `cgroup.procs` and then execs bwrap, so every sandboxed
 * process is born inside the group. `stats()` tells whether a limit was hit; `remove()` kills any
 * leftover and removes the group (also used by the sweep of stale sessions).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';
export const CGROUP_PARENT = 'airlock';

export interface Limits {
  memoryBytes?: number;
  pids?: number;
  cpus?: number;
}

export interface Cgroup {
  /** The `cgroup.procs` files the launcher must join. */
  procsFiles: string[];
  stats(): { oomKilled: boolean; pidsLimitHit: boolean };
  remove(): void;
}

function isV2(): boolean {
  return existsSync(join(ROOT, 'cgroup.controllers'));
}

export function cgroupAvailable(): boolean {
  if (isV2()) return true;
  return ['memory', 'pids', 'cpu'].every((c) => existsSync(join(ROOT, c, 'cgroup.procs')));
}

/** Creates the group `airlock/<name>` with the given limits. Throws when limits cannot be set (fail closed). */
export function createCgroup(name: string, limits: Limits): Cgroup {
  if (isV2()) return createV2(name, limits);
  const dirs: Record<string, string> = {};
  const made: string[] = [];
  try {
    for (const ctrl of ['memory', 'pids', 'cpu']) {
      const want = (ctrl === 'memory' && limits.memoryBytes) || (ctrl === 'pids' && limits.pids) || (ctrl === 'cpu' && limits.cpus);
      if (!want) continue;
      const dir = join(ROOT, ctrl, CGROUP_PARENT, name);
      mkdirSync(dir, { recursive: true });
      made.push(dir);
      dirs[ctrl] = dir;
    }
    if (dirs.memory) {
      writeFileSync(join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      try {
        writeFileSync(join(dirs.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      } catch {
        /* no swap accounting: memory limit alone */
      }
    }
    if (dirs.pids) writeFileSync(join(dirs.pids, 'pids.max'), String(limits.pids));
    if (dirs.cpu) {
      writeFileSync(join(dirs.cpu, 'cpu.cfs_period_us'), '100000');
      writeFileSync(join(dirs.cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(limits.cpus! * 100000))));
    }
  } catch (err) {
    for (const d of made) removeDir(d);
    throw err;
  }
  return {
    procsFiles: Object.values(dirs).map((d) => join(d, 'cgroup.procs')),
    stats() {
      let oomKilled = false;
      let pidsLimitHit = false;
      try {
        if (dirs.memory) {
          const oc = readFileSync(join(dirs.memory, 'memory.oom_control'), 'utf8');
          const m = /oom_kill (\d+)/.exec(oc);
          oomKilled = m ? Number(m[1]) > 0 : Number(readFileSync(join(dirs.memory, 'memory.failcnt'), 'utf8')) > 0;
        }
        if (dirs.pids) pidsLimitHit = /max (\d+)/.test(readFileSync(join(dirs.pids, 'pids.events'), 'utf8')) && Number(/max (\d+)/.exec(readFileSync(join(dirs.pids, 'pids.events'), 'utf8'))![1]) > 0;
      } catch {
        /* best effort */
      }
      return { oomKilled, pidsLimitHit };
    },
    remove() {
      for (const d of Object.values(dirs)) removeDir(d);
    },
  };
}

function createV2(name: string, limits: Limits): Cgroup {
  const parent = join(ROOT, CGROUP_PARENT);
  mkdirSync(parent, { recursive: true });
  try {
    writeFileSync(join(ROOT, 'cgroup.subtree_control'), '+memory +pids +cpu');
    writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu');
  } catch {
    /* may already be enabled */
  }
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  try {
    if (limits.memoryBytes) {
      writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
      try {
        writeFileSync(join(dir, 'memory.swap.max'), '0');
      } catch {
        /* no swap controller */
      }
    }
    if (limits.pids) writeFileSync(join(dir, 'pids.max'), String(limits.pids));
    if (limits.cpus) writeFileSync(join(dir, 'cpu.max'), `${Math.max(1000, Math.round(limits.cpus * 100000))} 100000`);
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  const ev = (file: string, key: string) => {
    try {
      const m = new RegExp(`${key} (\\d+)`).exec(readFileSync(join(dir, file), 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  return {
    procsFiles: [join(dir, 'cgroup.procs')],
    stats: () => ({ oomKilled: ev('memory.events', 'oom_kill') > 0, pidsLimitHit: ev('pids.events', 'max') > 0 }),
    remove: () => removeDir(dir),
  };
}

/** Kills whatever is left in a cgroup directory and removes it (children first). */
export function removeDir(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of safeReaddir(dir)) {
    const sub = join(dir, e);
    if (existsSync(join(sub, 'cgroup.procs'))) removeDir(sub);
  }
  for (let i = 0; i < 20; i++) {
    let pids: number[] = [];
    try {
      pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      /* gone */
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch {
      const until = Date.now() + 25;
      while (Date.now() < until) {
        /* brief wait for the kernel to reap */
      }
    }
  }
}

function safeReaddir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** All airlock cgroups currently present (v1: per controller; v2: one tree), for the stale sweep. */
export function listAirlockCgroups(): string[] {
  const out: string[] = [];
  const parents = isV2() ? [join(ROOT, CGROUP_PARENT)] : ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'blkio', 'systemd'].map((c) => join(ROOT, c, CGROUP_PARENT));
  for (const p of parents) for (const e of safeReaddir(p)) if (existsSync(join(p, e, 'cgroup.procs'))) out.push(join(p, e));
  return out;
}
