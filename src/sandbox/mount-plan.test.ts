import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argvPatternToRegExp } from '../policy/index.js';
import { buildMountPlan, expandDenyGlobs, findDotEnvFiles, findHardLinksTo, orderEntries, SANDBOX_HOME, type PlanEntry } from './mount-plan.js';
import { sandboxEnv } from './env.js';
import { prepareExecutableView, shimScript } from './executables.js';
import type { LaunchSpec } from './types.js';

function spec(over: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    sessionId: 's1',
    runDir: '/nonexistent/run',
    argv: ['true'],
    workspace: { hostPath: '/tmp', sandboxPath: '/tmp' },
    cwd: '/tmp',
    env: {},
    mounts: [],
    deny: [],
    prelude: [],
    limits: {},
    tty: false,
    ...over,
  };
}

const targets = (es: PlanEntry[]) => es.map((e) => e.target);

test('the plan shows the host system read-only and nothing of /home, /root, /run, /var', () => {
  const plan = buildMountPlan(spec());
  for (const e of plan.entries) {
    if (e.op === 'bind' && ['/usr', '/etc'].includes(e.target)) assert.equal(e.readonly, true);
    for (const hidden of ['/home', '/root', '/run', '/var', '/mnt', '/opt']) {
      if (e.op === 'bind') assert.ok(e.target !== hidden && !(e.source === hidden), `${hidden} is mounted`);
    }
  }
  assert.ok(targets(plan.entries).includes('/usr'));
  assert.ok(plan.entries.some((e) => e.op === 'tmpfs' && e.target === SANDBOX_HOME));
  assert.ok(plan.entries.some((e) => e.op === 'mask' && e.target === '/etc/shadow'));
});

test('parents are mounted before children; masks after the binds they cover', () => {
  const es = orderEntries([
    { op: 'mask', target: '/ws/.env', dir: false },
    { op: 'bind', source: '/x/ws', target: '/ws', readonly: false, file: false },
    { op: 'tmpfs', target: '/', noexec: false, mode: 0o755 },
    { op: 'bind', source: '/x/ws/sub', target: '/ws/sub', readonly: true, file: false },
  ]);
  assert.deepEqual(targets(es), ['/', '/ws', '/ws/sub', '/ws/.env']);
});

test('denied paths inside the (staged) workspace are masked at their sandbox path', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-plan-'));
  try {
    const ws = join(root, 'ws');
    const merged = join(root, 'merged');
    mkdirSync(join(ws, '.ssh'), { recursive: true });
    mkdirSync(merged);
    writeFileSync(join(ws, '.ssh', 'id_rsa'), 'k');
    writeFileSync(join(ws, 'secret.env'), 'k');
    const plan = buildMountPlan(spec({ workspace: { hostPath: merged, sandboxPath: ws }, deny: [join(ws, '.ssh'), join(ws, 'secret.env'), '/nonexistent/x'] }));
    const masks = plan.entries.filter((e) => e.op === 'mask');
    assert.ok(masks.some((m) => m.target === join(ws, '.ssh') && m.op === 'mask' && m.dir));
    assert.ok(masks.some((m) => m.target === join(ws, 'secret.env') && m.op === 'mask' && !m.dir));
    assert.ok(!masks.some((m) => m.target.startsWith('/nonexistent')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a denied path inside a denied directory gets no mask of its own (it could not be mounted inside the empty cover)', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-plan-'));
  try {
    const ws = join(root, 'ws');
    mkdirSync(join(ws, 'state', 'identity'), { recursive: true });
    writeFileSync(join(ws, 'state', 'identity', 'key.pem'), 'k');
    const plan = buildMountPlan(spec({ workspace: { hostPath: ws, sandboxPath: ws }, deny: [join(ws, 'state'), join(ws, 'state', 'identity', 'key.pem')] }));
    const masks = plan.entries.filter((e) => e.op === 'mask' && e.target.startsWith(ws)).map((e) => e.target);
    assert.deepEqual(masks, [join(ws, 'state')]);
    // ...but when a bind shows part of the masked directory again, the mask inside it stays.
    const again = buildMountPlan(
      spec({
        workspace: { hostPath: ws, sandboxPath: ws },
        mounts: [{ kind: 'bind', source: join(ws, 'state', 'identity'), target: join(ws, 'state', 'identity'), readonly: true }],
        deny: [join(ws, 'state'), join(ws, 'state', 'identity', 'key.pem')],
      }),
    );
    const againMasks = again.entries.filter((e) => e.op === 'mask' && e.target.startsWith(ws)).map((e) => e.target);
    assert.deepEqual(againMasks, [join(ws, 'state'), join(ws, 'state', 'identity', 'key.pem')]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('restricted commands make writable areas noexec', () => {
  const plan = buildMountPlan(spec({ executables: [] }));
  for (const e of plan.entries) if (e.op === 'tmpfs' && ['/tmp', SANDBOX_HOME].includes(e.target)) assert.equal(e.noexec, true);
  const ws = plan.entries.find((e) => e.op === 'bind' && e.target === '/tmp' && !e.readonly);
  assert.ok(ws && ws.op === 'bind' && ws.noexec);
});

test('a hard link planted in the workspace to a denied file is found by inode', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-hl-'));
  try {
    mkdirSync(join(root, 'home/.ssh'), { recursive: true });
    mkdirSync(join(root, 'ws/deep'), { recursive: true });
    writeFileSync(join(root, 'home/.ssh/id_rsa'), 'secret');
    writeFileSync(join(root, 'ws/plain.txt'), 'x');
    spawnSync('ln', [join(root, 'home/.ssh/id_rsa'), join(root, 'ws/deep/innocent')]);
    assert.deepEqual(findHardLinksTo([join(root, 'home/.ssh')], [join(root, 'ws')]), [join(root, 'ws/deep/innocent')]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the environment is built from an allowlist; host secrets never pass', () => {
  const env = sandboxEnv({ TERM: 'xterm', LC_ALL: 'C', GITHUB_TOKEN: 'ghp_x', AWS_SECRET_ACCESS_KEY: 'x', HOME: '/root', PATH: '/root/bin', FOO: 'bar' }, { pass: ['FOO'], set: { BAR: 'baz' } }, { HTTP_PROXY: 'http://127.0.0.1:3128' }, 's1');
  assert.equal(env.TERM, 'xterm');
  assert.equal(env.LC_ALL, 'C');
  assert.equal(env.HOME, SANDBOX_HOME);
  assert.equal(env.PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  assert.equal(env.FOO, 'bar');
  assert.equal(env.BAR, 'baz');
  assert.equal(env.HTTP_PROXY, 'http://127.0.0.1:3128');
  assert.equal(env.GITHUB_TOKEN, undefined);
  assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
});

test('the deny shim refuses matching argv, explains why, and never evaluates the pattern', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-shim-'));
  try {
    const pwned = join(root, 'pwned');
    const patterns = ['git push --force*', `git evil $(touch ${pwned})*`, "git it's *"].map((text) => ({ text, re: argvPatternToRegExp(text) }));
    const shim = join(root, 'git');
    writeFileSync(shim, shimScript('git', join(root, 'real-git'), patterns), { mode: 0o755 });
    writeFileSync(join(root, 'real-git'), '#!/bin/sh\necho "real $*"\n', { mode: 0o755 });
    const run = (...args: string[]) => spawnSync('/bin/sh', [shim, ...args], { encoding: 'utf8' });
    let r = run('push', '--force-with-lease', 'origin');
    assert.equal(r.status, 126);
    assert.match(r.stderr, /airlock: refused by policy commands\.deny "git push --force\*": git push --force-with-lease origin/);
    r = run('push', 'origin');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'real push origin\n');
    r = run('evil', `$(touch ${pwned})`, 'x');
    assert.equal(r.status, 126);
    r = run("it's", 'x');
    assert.equal(r.status, 126);
    assert.equal(existsSync(pwned), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the executable view holds only allowed programs and the links that lead to them', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-view-'));
  try {
    const v = prepareExecutableView(root, ['/usr/bin/sh', '/usr/bin/cat'], []);
    const usrBin = v.binViews.find((b) => b.target === '/usr/bin');
    assert.ok(usrBin);
    const names = usrBin.files.map((f) => f.target).sort();
    assert.ok(names.includes('/usr/bin/cat'));
    assert.ok(!names.includes('/usr/bin/ls'));
    assert.ok(v.executables.some((e) => e.endsWith('/cat')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('deny globs expand to the matching paths under the roots; a crafted file name cannot stall the walk', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-deny-'));
  try {
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    mkdirSync(join(root, 'node_modules', 'x'), { recursive: true });
    for (const f of ['.env', 'a/.env', 'a/b/.env.local', 'a/b/keep.txt', 'node_modules/x/.env']) writeFileSync(join(root, f), 'x');
    // A long name built to make a backtracking `*a*a*a*b` matcher explode.
    writeFileSync(join(root, 'a', 'a'.repeat(200)), 'x');
    const t0 = performance.now();
    const hits = expandDenyGlobs(['**/.env', `${root}/a/**/*.local`, '**/*a*a*a*a*a*b'], [root]).sort();
    assert.ok(performance.now() - t0 < 2000, 'linear-time matching');
    assert.deepEqual(hits, [join(root, '.env'), join(root, 'a', '.env'), join(root, 'a', 'b', '.env.local')].sort());
    // plain paths pass through untouched
    assert.deepEqual(expandDenyGlobs(['/etc/x'], [root]), ['/etc/x']);
    // .env* files: found, and the walk does not descend into node_modules
    assert.deepEqual(findDotEnvFiles([root, join(root, 'missing')], /^\.env(\..*)?$/).sort(), [join(root, '.env'), join(root, 'a', '.env'), join(root, 'a', 'b', '.env.local')].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
