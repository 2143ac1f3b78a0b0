/**
 * Thin wrappers over mount(8)/umount(8) and /proc/self/mountinfo. Every call is spawn(file, argv):
 * no shell. Only the workspace module mounts anything under a session directory.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with an argv array; resolves with its exit code and output (never rejects on exit code). */
export function exec(file: string, args: string[], opts: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points currently visible to this process (from /proc/self/mountinfo). */
export function mountPoints(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && f[4]) out.push(unescapeMountPath(f[4]));
  }
  return out;
}

export function isMountPoint(path: string): boolean {
  return mountPoints().includes(path);
}

/** Mount points at or below `dir`, deepest first (the order to unmount them). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountPoints()
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts every mount at or below `dir` (stacked mounts too); lazy-detaches when still busy. */
export async function unmountAll(dir: string): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const ms = mountsUnder(dir);
    if (ms.length === 0) return;
    for (const m of ms) {
      let r = await exec('umount', [m]);
      if (r.code !== 0 && /busy/i.test(r.stderr)) {
        await new Promise((res) => setTimeout(res, 100));
        r = await exec('umount', [m]);
        if (r.code !== 0) r = await exec('umount', ['-l', m]);
      }
      if (r.code !== 0 && isMountPoint(m)) throw new Error(`umount ${m}: ${r.stderr.trim()}`);
    }
  }
  if (mountsUnder(dir).length) throw new Error(`mounts remain under ${dir}`);
}
