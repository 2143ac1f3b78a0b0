/**
 * An agent-like workload, bare vs bwrap vs gVisor, side by side in one run, with ratios:
 * git status / diff / commit on a real repository (300 files), `npm test` of a small project, and a
 * few hundred file reads and writes (exec-heavy: one `cat` per read) plus an in-process file loop
 * (python3, file-heavy without exec).
 *
 * gVisor variants try the runsc knobs that do not change the boundary (AIRLOCK_RUNSC_TUNING):
 * the platform (systrap default vs ptrace), directfs (default on), and file-access-mounts
 * (shared default vs exclusive: the staged workspace is only written by the sandbox, so gVisor may
 * cache it). Medians over BENCH_N runs (default 3); each airlock run uses the same repository
 * (staging keeps it untouched); bare runs get a fresh copy each time.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/workload.js
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.BENCH_N ?? 3);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AIRLOCK = process.env.AIRLOCK_BIN ?? join(REPO, 'bin', 'airlock');
const root = mkdtempSync(join(tmpdir(), 'airlock-bench-workload-'));
const repo = join(root, 'repo');
const home = join(root, 'home');
mkdirSync(join(repo, 'src'), { recursive: true });
mkdirSync(home);

for (let i = 0; i < 300; i++) writeFileSync(join(repo, 'src', `f${i}.js`), `// file ${i}\nexport const v${i} = ${i};\n`.repeat(20));
writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', type: 'module', scripts: { test: 'node test.js' } }, null, 2));
writeFileSync(
  join(repo, 'test.js'),
  "import { readFileSync } from 'node:fs';\nlet n = 0;\nfor (let i = 0; i < 300; i++) n += readFileSync(`src/f${i}.js`, 'utf8').length;\nif (n === 0) process.exit(1);\nconsole.log('ok', n);\n",
);
writeFileSync(
  join(repo, 'workload.sh'),
  `set -e
export GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@example.invalid GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@example.invalid
git status --short >/dev/null
i=0; while [ $i -lt 30 ]; do echo "// change $i" >> src/f$i.js; i=$((i+1)); done
git diff >/dev/null
git add -A
git commit -qm "agent work"
npm test --silent >/dev/null
i=0; while [ $i -lt 200 ]; do cat src/f$((i % 300)).js > /dev/null; echo $i > out_$((i % 50)).txt; i=$((i+1)); done
python3 -c "
import os
for r in range(3):
    for i in range(300):
        open(f'src/f{i}.js').read()
        with open(f'gen_{i}.txt', 'w') as f: f.write('x' * 1000)
    for i in range(300): os.unlink(f'gen_{i}.txt')
"
`,
);
const git = (...a: string[]) => spawnSync('git', a, { cwd: repo, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' } });
git('init', '-q');
git('add', '-A');
git('commit', '-qm', 'initial');

const policy = join(root, 'policy.yaml');
writeFileSync(policy, 'version: 1\n');
const env = { PATH: process.env.PATH, HOME: home, AIRLOCK_HOME: join(root, 'state'), LANG: 'C.UTF-8' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(argv: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.slice(0, 6).join(' ')} failed (exit ${r.status}): ${String(r.stderr).slice(-600)}`);
  return ms;
}

const bare = () => {
  const copy = join(root, `bare-${Math.random().toString(36).slice(2)}`);
  spawnSync('cp', ['-a', repo, copy]);
  const ms = timed(['sh', 'workload.sh'], { cwd: copy, env: { ...process.env, HOME: home } });
  rmSync(copy, { recursive: true, force: true });
  return ms;
};
const airlock = (backend: string, tuning = '') => () =>
  timed([AIRLOCK, 'run', '--policy', policy, '--backend', backend, '--workspace', repo, '--', 'sh', 'workload.sh'], { cwd: repo, env: { ...env, AIRLOCK_RUNSC_TUNING: tuning } });
const cliTrue = (backend: string) => () => timed([AIRLOCK, 'run', '--policy', policy, '--backend', backend, '--workspace', repo, '--', 'true'], { cwd: repo, env });

const rows: [string, () => number][] = [
  ['bare', bare],
  ['airlock bwrap', airlock('bwrap')],
  ['airlock gvisor (systrap, directfs)', airlock('gvisor')],
  ['gvisor + file-access-mounts=exclusive', airlock('gvisor', '--file-access-mounts=exclusive')],
  ['gvisor + directfs=false', airlock('gvisor', '--directfs=false')],
  ['gvisor + platform=ptrace', airlock('gvisor', '--platform=ptrace')],
  ['airlock bwrap -- true (fixed cost)', cliTrue('bwrap')],
  ['airlock gvisor -- true (fixed cost)', cliTrue('gvisor')],
];
const results = new Map<string, number[]>();
try {
  for (let i = 0; i < N; i++) for (const [name, fn] of rows) results.set(name, [...(results.get(name) ?? []), fn()]);
} finally {
  spawnSync('sh', ['-c', 'grep " $0/" /proc/self/mountinfo | cut -d" " -f5 | sort -r | xargs -r -n1 umount -l', root], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
}
const med = (n: string) => median(results.get(n)!);
console.log(`workload (git status/diff/commit, npm test, 200 exec+file ops, 1800 python file ops), median of ${N} (ms)`);
for (const [name] of rows) console.log(`  ${name.padEnd(40)} ${med(name).toFixed(0).padStart(7)}   ${(med(name) / med('bare')).toFixed(2)}× bare`);
const net = (n: string, fixed: string) => (med(n) - med(fixed)) / med('bare');
console.log('excluding the fixed per-session cost (airlock -- true):');
console.log(`  bwrap   ${net('airlock bwrap', 'airlock bwrap -- true (fixed cost)').toFixed(2)}× bare`);
for (const n of ['airlock gvisor (systrap, directfs)', 'gvisor + file-access-mounts=exclusive', 'gvisor + directfs=false', 'gvisor + platform=ptrace']) {
  console.log(`  ${n.padEnd(40)} ${net(n, 'airlock gvisor -- true (fixed cost)').toFixed(2)}× bare`);
}
