/**
 * Nothing outlives a session, even when airlock itself is SIGKILLed. Each running session leaves an
 * owner record (`$AIRLOCK_HOME/run/<session>.json`: airlock's pid and start time, the runsc
 * container, cgroups, run directory). A session that ends normally removes it; at the start of
 * every `airlock run`, `sweepStale()` finds records whose owner is dead and kills/deletes what they
 * list. The first line of defence is the parent-death signal (bwrap `--die-with-parent`; runsc is
 * started through `setpriv --pdeathsig KILL`, and `runsc run` takes its sandbox down when it dies).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { airlockHome } from '../session/store.js';
import { removeDir } from './cgroup.js';

export interface OwnerRecord {
  sessionId: string;
  pid: number;
  /** /proc/<pid>/stat start time, to tell a live owner from a reused pid. */
  start: string;
  runsc?: { bin: string; root: string; id: string };
  cgroups: string[];
  /** Host mounts to detach (lazy unmount). */
  mounts?: string[];
  runDir?: string;
}

export function ownersDir(): string {
  return resolve(airlockHome(), 'run');
}

export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function writeOwner(rec: Omit<OwnerRecord, 'pid' | 'start'>): OwnerRecord {
  mkdirSync(ownersDir(), { recursive: true, mode: 0o700 });
  const full: OwnerRecord = { ...rec, pid: process.pid, start: processStart(process.pid) ?? '' };
  writeFileSync(join(ownersDir(), `${rec.sessionId}.json`), JSON.stringify(full), { mode: 0o600 });
  return full;
}

export function removeOwner(sessionId: string): void {
  try {
    unlinkSync(join(ownersDir(), `${sessionId}.json`));
  } catch {
    /* already gone */
  }
}

/** Releases everything an owner record lists. Safe to call more than once. */
export function releaseOwned(rec: OwnerRecord): void {
  if (rec.runsc) {
    const base = ['--root', rec.runsc.root];
    spawnSync(rec.runsc.bin, [...base, 'kill', '--all', rec.runsc.id, 'KILL'], { stdio: 'ignore', timeout: 10_000 });
    spawnSync(rec.runsc.bin, [...base, 'delete', '--force', rec.runsc.id], { stdio: 'ignore', timeout: 10_000 });
  }
  for (const cg of rec.cgroups) removeDir(cg);
  for (const m of rec.mounts ?? []) unmount(m);
  if (rec.runDir) rmSync(rec.runDir, { recursive: true, force: true });
}

/** Cleans up after sessions whose airlock process died without tearing down. Returns their ids. */
export function sweepStale(): string[] {
  const swept: string[] = [];
  let names: string[];
  try {
    names = readdirSync(ownersDir()).filter((n) => n.endsWith('.json'));
  } catch {
    return swept;
  }
  for (const n of names) {
    let rec: OwnerRecord;
    try {
      rec = JSON.parse(readFileSync(join(ownersDir(), n), 'utf8')) as OwnerRecord;
    } catch {
      continue;
    }
    const alive = processStart(rec.pid);
    if (alive !== undefined && alive === rec.start) continue;
    releaseOwned(rec);
    removeOwner(rec.sessionId);
    swept.push(rec.sessionId);
  }
  return swept;
}

/** Lazily unmounts `dir` when it is a mount point; ignores errors (not mounted). */
export function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir], { stdio: 'ignore', timeout: 10_000 });
}
