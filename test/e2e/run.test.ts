/**
 * `airlock run` end to end on the real backends: exit codes, stdio, environment scrubbing, TTY,
 * signal forwarding, and that nothing survives airlock being SIGKILLed.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { AIRLOCK, BACKENDS, backendSkipReason, makeFixture, runAirlock, writePolicy, type Fixture } from '../attacks/harness.js';

function spawnAirlock(fx: Fixture, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(AIRLOCK, args, { cwd: fx.ws, env: { ...fx.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, done, out: () => stdout, err: () => stderr };
}

/** Host processes whose command line mentions `needle`. */
function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd.slice(0, 160)}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

for (const backend of BACKENDS) {
  describe(`airlock run on ${backend}`, { concurrency: false }, () => {
    const skip = backendSkipReason(backend);
    let fx: Fixture;
    let policy: string;
    before(() => {
      if (skip) return;
      fx = makeFixture();
      policy = writePolicy(fx, 'p.yaml', `version: 1\nruntime: { isolation: ${backend} }\nenv:\n  pass: [LANG]\n  set: { MY_SETTING: hello }\n`);
    });
    after(() => fx?.cleanup());

    test("`airlock run -- sh -c 'exit 7'` exits 7 with the built-in default policy", { skip }, async () => {
      const r = spawnAirlock(fx, ['run', '--backend', backend, '--', 'sh', '-c', 'exit 7']);
      r.child.stdin.end();
      const { code } = await r.done;
      assert.equal(code, 7, r.err());
      assert.match(r.err(), /airlock: no \.\/airlock\.yaml: using the built-in default policy/);
    });

    test('stdin, stdout and stderr pass through; cwd is the workspace', { skip }, async () => {
      const r = spawnAirlock(fx, ['run', '--policy', policy, '--backend', backend, '--workspace', fx.ws, '--', 'sh', '-c', 'cat; echo to-stderr >&2; pwd']);
      r.child.stdin.end('from-stdin\n');
      const { code } = await r.done;
      assert.equal(code, 0, r.err());
      assert.equal(r.out(), `from-stdin\n${fx.ws}\n`);
      assert.match(r.err(), /to-stderr/);
    });

    test('output redirected to a file lands after what the file already holds, and before what follows', { skip }, async () => {
      // A shell that writes, runs airlock with the same (non-append) file as stdout, then writes again.
      const out = `${fx.ws}/../redirect-${backend}.txt`;
      const script = 'exec >"$1"; echo before; "$2" run --policy "$3" --backend "$4" --workspace "$5" -- sh -c "echo inside" 2>/dev/null; echo after';
      const r = spawnSync('sh', ['-c', script, 'sh', out, AIRLOCK, policy, backend, fx.ws], { cwd: fx.ws, env: fx.env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(out, 'utf8'), 'before\ninside\nafter\n');
    });

    test('the environment is scrubbed to the allowlist plus policy env', { skip }, async () => {
      const r = await runAirlock(fx, backend, policy, ['env']);
      assert.equal(r.code, 0, r.stderr);
      const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      assert.equal(env.HOME, '/home/agent');
      assert.equal(env.MY_SETTING, 'hello');
      assert.equal(env.LANG, 'C.UTF-8');
      assert.equal(env.PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      assert.doesNotMatch(r.stdout, /CANARY/);
      for (const k of Object.keys(env)) assert.ok(/^(PATH|HOME|USER|LOGNAME|SHELL|TMPDIR|TERM|LANG|LC_\w+|TZ|AIRLOCK|AIRLOCK_SESSION|MY_SETTING|PWD|SHLVL|_|OLDPWD)$/.test(k), `unexpected variable ${k}`);
    });

    test('threaded runtimes work inside (node, python threads, git)', { skip }, async () => {
      const nodeJs = "const { Worker } = require('worker_threads'); new Worker('0', { eval: true }).on('exit', () => console.log('node-ok'))";
      const py = "import threading; t = threading.Thread(target=print, args=('py-ok',)); t.start(); t.join()";
      const r = await runAirlock(fx, backend, policy, ['sh', '-c', 'node -e "$1" && python3 -c "$2" && git status --short >/dev/null && echo git-ok', 'sh', nodeJs, py]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /node-ok/);
      assert.match(r.stdout, /py-ok/);
      assert.match(r.stdout, /git-ok/);
    });

    test('an unknown backend is a usage error (exit 2), never a fallback', { skip }, async () => {
      const r = spawnAirlock(fx, ['run', '--policy', policy, '--backend', 'docker', '--', 'true']);
      r.child.stdin.end();
      assert.equal((await r.done).code, 2);
      const m = writePolicy(fx, 'microvm.yaml', 'version: 1\nruntime: { isolation: microvm }\n');
      const r2 = spawnAirlock(fx, ['run', '--policy', m, '--', 'true']);
      r2.child.stdin.end();
      assert.equal((await r2.done).code, 2);
      assert.match(r2.err(), /microvm backend is not available/);
    });

    test('SIGTERM to airlock is forwarded to the agent', { skip }, async () => {
      const r = spawnAirlock(fx, ['run', '--policy', policy, '--backend', backend, '--workspace', fx.ws, '--', 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done']);
      r.child.stdin.end();
      assert.ok(await waitFor(() => r.out().includes('ready'), 30_000), `never ready: ${r.err()}`);
      r.child.kill('SIGTERM');
      const { code } = await r.done;
      assert.match(r.out(), /got-term/);
      assert.equal(code, 3, r.err());
    });

    test('nothing survives airlock being SIGKILLed, and the next run cleans its state', { skip }, async () => {
      const marker = `airlock-e2e-${process.pid}-${backend}`;
      const r = spawnAirlock(fx, ['run', '--policy', policy, '--backend', backend, '--workspace', fx.ws, '--', 'sh', '-c', `echo ready; exec sleep 300 ${marker}`]);
      r.child.stdin.end();
      assert.ok(await waitFor(() => r.out().includes('ready'), 30_000), `never ready: ${r.err()}`);
      r.child.kill('SIGKILL');
      await r.done;
      const gone = await waitFor(() => processesMentioning(fx.state).length === 0 && processesMentioning(marker).length === 0, 15_000);
      assert.ok(gone, `left behind:\n${[...processesMentioning(fx.state), ...processesMentioning(marker)].join('\n')}`);
      // The next run sweeps the dead session's leftovers (container state, cgroups, owner record).
      const next = await runAirlock(fx, backend, policy, ['true']);
      assert.equal(next.code, 0, next.stderr);
      const owners = existsSync(`${fx.state}/run`) ? readdirSync(`${fx.state}/run`) : [];
      assert.deepEqual(owners, []);
      if (backend === 'gvisor') {
        const list = spawnSync('runsc', ['--root', `${fx.state}/runsc`, 'list', '-quiet'], { encoding: 'utf8' });
        assert.equal(list.stdout.trim(), '');
      }
    });

    test('a terminal is given to the agent when airlock has one', { skip: skip ?? (spawnSync('script', ['--version']).status !== 0 ? 'needs script(1)' : undefined) }, async () => {
      const r = spawnSync('script', ['-qec', `${AIRLOCK} run --policy ${policy} --backend ${backend} --workspace ${fx.ws} -- sh -c "test -t 0 && test -t 1 && echo has-tty"`, '/dev/null'], {
        cwd: fx.ws,
        env: fx.env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.match(r.stdout, /has-tty/, r.stdout + r.stderr);
    });
  });
}

test('runtime.isolation: auto picks the strongest working backend (gVisor here)', { skip: backendSkipReason('gvisor') }, async () => {
  const fx = makeFixture();
  try {
    const p = writePolicy(fx, 'auto.yaml', 'version: 1\nruntime: { isolation: auto }\n');
    const r = spawnSync(AIRLOCK, ['run', '--policy', p, '--workspace', fx.ws, '--', 'sh', '-c', 'cat /proc/version'], { cwd: fx.ws, env: fx.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    // gVisor reports its own (synthetic) kernel version, not the host's.
    assert.notEqual(r.stdout.trim(), readFileSync('/proc/version', 'utf8').trim());
  } finally {
    fx.cleanup();
  }
});
