/**
 * Shared set-up for the escape tests: a fake HOME full of canary secrets (the real home is never
 * used), a fresh workspace, an AIRLOCK_HOME, a canary in the environment, and `runAirlock` that
 * goes through the real CLI: `bin/airlock run --policy P --backend X -- ...`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const AIRLOCK = process.env.AIRLOCK_BIN ?? join(REPO, 'bin', 'airlock');
export const PROBE_SRC = join(REPO, 'test', 'attacks', 'probe.py');

export const CANARY_FILES = [
  '.ssh/id_rsa', '.ssh/id_ed25519', '.aws/credentials', '.config/gh/hosts.yml', '.npmrc', '.docker/config.json', '.netrc',
  '.git-credentials', '.kube/config', '.gnupg/private-keys-v1.d/key', '.config/gcloud/credentials.db', '.azure/accessTokens.json',
  '.claude/.credentials.json', '.gemini/oauth_creds.json', '.aider.conf.yml',
];

export interface Fixture {
  root: string;
  home: string;
  ws: string;
  state: string;
  /** A directory outside the workspace holding a `.env` with a canary. */
  outside: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function makeFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'airlock-attack-'));
  const home = join(root, 'home');
  const ws = join(root, 'ws');
  const state = join(root, 'state');
  const outside = join(root, 'outside');
  for (const f of CANARY_FILES) {
    mkdirSync(dirname(join(home, f)), { recursive: true });
    writeFileSync(join(home, f), `CANARY-${f}\n`, { mode: 0o600 });
  }
  mkdirSync(ws, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, '.env'), 'API_KEY=CANARY-dotenv\n');
  writeFileSync(join(outside, 'readme.txt'), 'public\n');
  writeFileSync(join(root, '.env'), 'API_KEY=CANARY-parent-dotenv\n');
  copyFileSync(PROBE_SRC, join(ws, 'probe.py'));
  writeFileSync(join(ws, 'hello.txt'), 'hello\n');
  spawnSync('git', ['init', '-q'], { cwd: ws });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    AIRLOCK_HOME: state,
    CANARY_TOKEN: 'CANARY-env-token',
    GITHUB_TOKEN: 'CANARY-ghp_env',
    AWS_SECRET_ACCESS_KEY: 'CANARY-aws-env',
    LANG: 'C.UTF-8',
  };
  const cleanup = () => {
    // Mounts left by a session whose airlock was killed on purpose (staging overlays): deepest first.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => Boolean(m && m.startsWith(root + '/')))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  };
  return { root, home, ws, state, outside, env, cleanup };
}

export function writePolicy(fx: Fixture, name: string, yaml: string): string {
  const p = join(fx.root, name);
  writeFileSync(p, yaml);
  return p;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runAirlock(fx: Fixture, backend: string, policy: string, argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(AIRLOCK, ['run', '--policy', policy, '--backend', backend, '--workspace', fx.ws, '--', ...argv], {
      cwd: fx.ws,
      env: { ...fx.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Why a backend cannot be tested here, or undefined when it can. */
export function backendSkipReason(backend: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (rootful runsc, cgroups, overlay staging)';
  const bin = backend === 'gvisor' ? 'runsc' : 'bwrap';
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return `${bin} is not installed`;
  if (spawnSync('python3', ['--version'], { stdio: 'ignore' }).status !== 0) return 'python3 is needed for the probes';
  return undefined;
}

export const BACKENDS = ['gvisor', 'bwrap'] as const;
