/**
 * `commands.allow` and `commands.deny`, enforced by the sandbox's view of the file system.
 *
 * allow: every bin directory (/usr/bin, /usr/sbin, /usr/local/bin, ...) is replaced inside the
 * sandbox by a directory prepared here that contains only the allowed programs: a placeholder file
 * per program, onto which the real binary is bind-mounted read-only, and the symlinks that lead to
 * it (e.g. `sh -> dash`, `python3 -> python3.11`, `npm -> ../lib/node_modules/npm/bin/npm-cli.js`).
 * Programs that are not there cannot be executed by name or path. Writable areas (workspace, /tmp,
 * home) are mounted noexec where the backend supports it, so a copied binary cannot run either.
 *
 * deny: an allowed program with argv deny patterns is replaced at its path by a small shim script
 * that compares `name args...` (joined by single spaces, as the policy's patterns are matched) with
 * each pattern, explains a refusal on stderr (exit 126), and otherwise execs the real program.
 *
 * Limits (see docs/sandbox.md): interpreters that are allowed (sh, python3, node) can interpret
 * any script they can read, and the ELF loader in /lib can load any binary from a non-noexec
 * mount; the shim's real program sits at a known path, so deny patterns guard against mistakes,
 * not against an agent determined to bypass them. The network policy is the hard boundary for
 * things like `git push`.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ArgvPattern } from '../policy/index.js';
import { AirlockError } from '../util/errors.js';

/** Bin directories as the sandbox sees them (PATH order). */
export const BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
/** Where shims find their interpreter and the real programs inside the sandbox. */
export const SHIM_DIR = '/.airlock';

export interface BinView {
  /** Sandbox bin directory (a real directory on the host, e.g. /usr/bin). */
  target: string;
  /** Prepared host directory mounted at `target`. */
  source: string;
  /** Real binaries bind-mounted onto placeholders inside the view. */
  files: { source: string; target: string }[];
}

export interface ExecutableView {
  binViews: BinView[];
  extraBinds: { source: string; target: string }[];
  /** Host realpaths of the programs made executable. */
  executables: string[];
  /** Allowed names that exist nowhere (reported as a warning). */
  missing: string[];
}

/** Real (non-symlink) bin directories of the host, deduplicated: `/bin` → `/usr/bin` on usr-merged hosts. */
export function realBinDirs(): string[] {
  const out: string[] = [];
  for (const d of BIN_DIRS) {
    try {
      const st = lstatSync(d);
      if (st.isDirectory() && !out.includes(d)) out.push(d);
    } catch {
      /* absent */
    }
  }
  return out;
}

/**
 * Prepares the view for `allow` under `viewDir` (inside the session's run directory).
 * `hostPath` is used for names not found in the system bin directories.
 */
export function prepareExecutableView(viewDir: string, allow: string[], deny: ArgvPattern[], hostPath = process.env.PATH ?? ''): ExecutableView {
  const dirs = realBinDirs();
  const binViews = new Map<string, BinView>();
  for (const d of dirs) {
    const source = join(viewDir, 'bin', d.replace(/\//g, '_'));
    mkdirSync(source, { recursive: true, mode: 0o755 });
    binViews.set(d, { target: d, source, files: [] });
  }
  const executables: string[] = [];
  const missing: string[] = [];
  const extraBinds: { source: string; target: string }[] = [];
  const realDirOf = (p: string): string | undefined => {
    // Which real bin directory (as seen inside) a path lies directly in.
    const parent = dirname(p);
    for (const d of dirs) if (parent === d) return d;
    try {
      const rp = realpathSync(parent);
      for (const d of dirs) if (realpathSync(d) === rp) return d;
    } catch {
      /* ignore */
    }
    return undefined;
  };
  const denyByName = new Map<string, ArgvPattern[]>();
  for (const d of deny) {
    const first = d.text.trim().split(/\s+/)[0] ?? '';
    const name = basename(first);
    denyByName.set(name, [...(denyByName.get(name) ?? []), d]);
  }
  let needShimShell = false;

  for (const name of allow) {
    const found = locate(name, dirs, hostPath);
    if (!found) {
      missing.push(name);
      continue;
    }
    // Walk the symlink chain, recreating each link that lives in a bin directory.
    let p = found;
    let placed: string | undefined;
    for (let hops = 0; hops < 16; hops++) {
      let st;
      try {
        st = lstatSync(p);
      } catch {
        break;
      }
      const inDir = realDirOf(p);
      if (st.isSymbolicLink()) {
        const text = readlinkSync(p);
        if (inDir) {
          const view = binViews.get(inDir)!;
          const linkPath = join(view.source, basename(p));
          if (!existsSync(linkPath) && !isSymlink(linkPath)) symlinkSafe(text, linkPath);
        }
        p = resolve(dirname(p), text);
        continue;
      }
      if (!st.isFile()) break;
      const real = realpathSync(p);
      executables.push(real);
      if (inDir) {
        placed = join(inDir, basename(p));
        addFile(binViews.get(inDir)!, real, placed);
      } else if (!isSystemPath(p)) {
        // Outside the system directories (e.g. /opt/tool/bin/tool): shown under /usr/local/bin.
        const target = binViews.has('/usr/local/bin') ? '/usr/local/bin' : dirs[0]!;
        placed = join(target, name.includes('/') ? basename(name) : name);
        addFile(binViews.get(target)!, real, placed);
      }
      break;
    }
    const patterns = denyByName.get(basename(name));
    if (patterns && placed) {
      // Replace the program at its place by a shim; the real one moves to /.airlock/real/<name>.
      const view = [...binViews.values()].find((v) => v.files.some((f) => f.target === placed))!;
      const entry = view.files.find((f) => f.target === placed)!;
      const realInside = `${SHIM_DIR}/real/${basename(placed)}`;
      extraBinds.push({ source: entry.source, target: realInside });
      const shimFile = join(viewDir, 'shims', basename(placed));
      mkdirSync(dirname(shimFile), { recursive: true });
      writeFileSync(shimFile, shimScript(basename(name), realInside, patterns), { mode: 0o755 });
      chmodSync(shimFile, 0o755);
      entry.source = shimFile;
      needShimShell = true;
    }
  }
  if (needShimShell) {
    const sh = ['/usr/bin/dash', '/bin/dash', '/usr/bin/sh', '/bin/sh'].find((f) => existsSync(f));
    if (!sh) throw new AirlockError('sandbox-shim', 'commands.deny needs /bin/sh on the host for its argv shims', 'install dash or remove commands.deny', 2);
    extraBinds.push({ source: realpathSync(sh), target: `${SHIM_DIR}/sh` });
  }
  return { binViews: [...binViews.values()], extraBinds, executables: [...new Set(executables)], missing };
}

function addFile(view: BinView, source: string, target: string): void {
  if (view.files.some((f) => f.target === target)) return;
  const placeholder = join(view.source, basename(target));
  if (isSymlink(placeholder)) return;
  writeFileSync(placeholder, '', { mode: 0o755 });
  view.files.push({ source, target });
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function symlinkSafe(text: string, at: string): void {
  symlinkSync(text, at);
}

function isSystemPath(p: string): boolean {
  return ['/usr/', '/lib', '/bin/', '/sbin/', '/etc/'].some((s) => p.startsWith(s));
}

/** Finds a program: the sandbox bin directories first, then the host PATH (not below home directories). */
export function locate(name: string, dirs: string[], hostPath: string): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  if (name.includes('/')) return undefined;
  for (const d of dirs) {
    const p = join(d, name);
    if (existsOrLink(p)) return p;
  }
  for (const d of hostPath.split(delimiter)) {
    if (!isAbsolute(d) || d.startsWith('/root') || d.startsWith('/home/')) continue;
    const p = join(d, name);
    if (existsOrLink(p)) return p;
  }
  return undefined;
}

function existsOrLink(p: string): boolean {
  try {
    lstatSync(p);
    return existsSync(p);
  } catch {
    return false;
  }
}

/** sh single-quoting. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The shim: refuses `name args...` matching any pattern, else execs the real program. */
export function shimScript(name: string, realInside: string, patterns: ArgvPattern[]): string {
  const lines = [
    `#!${SHIM_DIR}/sh`,
    `# airlock commands.deny shim for ${name} (generated; patterns are quoted, never evaluated)`,
    `airlock_argv=${shQuote(name)}; for a in "$@"; do airlock_argv="$airlock_argv $a"; done`,
    'case "$airlock_argv" in',
  ];
  for (const p of patterns) {
    const norm = p.text.trim().split(/\s+/).join(' ');
    const glob = norm.split('*').map((part) => (part ? shQuote(part) : '')).join('*');
    const msg = `airlock: refused by policy commands.deny ${JSON.stringify(p.text)}: `;
    lines.push(`  ${glob || '*'}) printf '%s%s\\n' ${shQuote(msg)} "$airlock_argv" >&2; exit 126;;`);
  }
  lines.push('esac', `exec ${shQuote(realInside)} "$@"`, '');
  return lines.join('\n');
}
