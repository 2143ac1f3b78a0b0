/**
 * The sandbox environment: built from an allowlist, never from a copy of the host's. Only the
 * terminal/locale variables below come from the host; PATH, HOME, USER, SHELL and TMPDIR are fixed
 * to the sandbox's view; then policy `env.pass` (host values, by name), policy `env.set`, and the
 * variables other doors contribute (proxy, CA bundle, secret placeholders) — in that order.
 *
 * Example: `sandboxEnv({ TERM: 'xterm', GITHUB_TOKEN: 'ghp_...' }, { pass: [], set: {} }, {}, 's1')`
 * → `{ TERM: 'xterm', PATH: '/usr/local/sbin:...', HOME: '/home/agent', ... }` (no token).
 */
import { SANDBOX_HOME } from './mount-plan.js';

/** Host variables passed through unchanged when set (and LC_*). */
export const PASSTHROUGH_ENV = ['TERM', 'COLORTERM', 'LANG', 'LANGUAGE', 'TZ', 'NO_COLOR', 'FORCE_COLOR', 'COLUMNS', 'LINES'];

export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function sandboxEnv(
  host: NodeJS.ProcessEnv,
  policyEnv: { pass: string[]; set: Record<string, string> },
  doors: Record<string, string>,
  sessionId: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(host)) {
    if (v === undefined) continue;
    if (PASSTHROUGH_ENV.includes(k) || /^LC_[A-Z_]+$/.test(k)) env[k] = v;
  }
  Object.assign(env, {
    PATH: SANDBOX_PATH,
    HOME: SANDBOX_HOME,
    USER: 'agent',
    LOGNAME: 'agent',
    SHELL: '/bin/sh',
    TMPDIR: '/tmp',
    AIRLOCK: '1',
    AIRLOCK_SESSION: sessionId,
  });
  for (const name of policyEnv.pass) {
    const v = host[name];
    if (v !== undefined) env[name] = v;
  }
  Object.assign(env, policyEnv.set, doors);
  for (const k of Object.keys(env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || env[k]!.includes('\0')) delete env[k];
  return env;
}
