/**
 * The built-in default policy, used by `airlock run` when there is no ./airlock.yaml: the current
 * directory as workspace, no network, no secrets, and a baseline of shells, coreutils-type tools,
 * git, node/npm and python3.
 */
import { join } from 'node:path';
import { loadPolicyText, type Policy } from '../policy/index.js';

export const DEFAULT_POLICY_YAML = `# airlock built-in default policy (no airlock.yaml found)
version: 1
runtime:
  isolation: gvisor
filesystem:
  workspace: .
commands:
  allow: [sh, bash, dash, env, "[", test, "true", "false", echo, printf, pwd, cat, ls, cp, mv, rm, ln, mkdir, rmdir, touch,
    chmod, stat, head, tail, wc, sort, uniq, cut, tr, tee, paste, join, comm, fold, nl, od, grep, egrep, fgrep, sed, awk,
    find, xargs, diff, cmp, patch, basename, dirname, realpath, readlink, mktemp, date, sleep, id, whoami, uname,
    hostname, expr, seq, yes, timeout, nproc, du, df, file, which, tar, gzip, gunzip, zcat, xz, unxz, base64,
    sha1sum, sha256sum, md5sum, less, more, git, node, npm, npx, python3, make]
`;

/** The default policy, resolved against `dir` (normally the current directory). */
export function defaultPolicy(dir = process.cwd()): Policy {
  return loadPolicyText(DEFAULT_POLICY_YAML, join(dir, '(built-in default policy)'), '(built-in default policy)');
}
