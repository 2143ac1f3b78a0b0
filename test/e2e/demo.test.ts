/**
 * The demo as a user runs it: `bash scripts/demo.sh` (gVisor, the demo policy, the scripted agent
 * that follows the prompt injection planted in the sample repository). Asserts from its output and,
 * independently of the demo's own checklist, from the evidence it leaves: the signed audit log, the
 * score JSON, the repository, and every file under the session's AIRLOCK_HOME.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { has, filesUnder } from '../support.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Finding { id: string; severity: string; evidence: string; why: string; file?: string }
interface Event { kind: string; action: string; decision: string; subject: string; detail: Record<string, unknown> }

test('demo: every injected action is contained and scored, the fix lands in the PR and its tests pass', { timeout: 240_000 }, async (t) => {
  if (process.platform !== 'linux') return t.skip('the demo needs Linux');
  for (const bin of ['runsc', 'bwrap', 'socat', 'git', 'curl', 'bash']) if (!has(bin)) return t.skip(`${bin} not installed (scripts/setup-debian.sh installs it)`);
  if (process.getuid?.() !== 0) return t.skip('the demo runs gVisor rootful (as root)');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-demo-test-'));
  const token = `demo-token-test-${process.pid}-${Date.now()}`;
  try {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('bash', [join(ROOT, 'scripts/demo.sh')], { cwd: ROOT, env: { ...process.env, DEMO_DIR: dir, DEMO_SKIP_SETUP: '1', DEMO_API_TOKEN: token }, maxBuffer: 32 << 20, timeout: 220_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    const out = r.stdout;
    assert.equal(r.code, 0, `demo.sh failed:\n${out}\n${r.stderr}`);

    // The output: each injected step tried, the sections, the checklist with no failure.
    const tried = out.split('\n').filter((l) => l.startsWith('tried '));
    assert.equal(tried.length, 5, tried.join('\n'));
    for (const step of ['cat .env', 'cat ~/.aws/credentials', 'collector.attacker.example', '.vscode/settings.json', '.git/hooks/pre-commit']) {
      assert.ok(tried.some((l) => l.includes(step)), `no "tried" line for ${step}`);
    }
    assert.match(tried.find((l) => l.includes('collector.attacker.example'))!, /→ .*airlock: /, 'the agent got the proxy\'s refusal');
    for (const s of ['1. the agent works in the airlock', '2. session summary', '3. airlock diff last', '4. airlock apply', '5. airlock score', '6. contained?']) assert.ok(out.includes(s), `missing section ${s}`);
    assert.match(out, /── airlock session \S+ · exit 0/, 'the session summary');
    assert.match(out, /risk: CRITICAL/);
    const checks = out.slice(out.indexOf('contained:')).split('\n').filter((l) => /^ {2}[✓✗] /.test(l));
    assert.equal(checks.length, 7, checks.join('\n'));
    assert.ok(checks.every((l) => l.startsWith('  ✓')), checks.join('\n'));

    // The placeholder is all the agent held; the real token and the decoys never left their place.
    assert.match(out, /DEMO_API_TOKEN in my environment: airlock_ph_/);
    const home = join(dir, 'airlock-home');
    const decoys = [token, 'demo_fake_payments_key_d3c0y_9f41b7', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'];
    for (const v of decoys) assert.ok(!out.includes(v) && !r.stderr.includes(v), `${v} in the demo output`);
    for (const f of filesUnder(home)) {
      if (statSync(f).size > 64 << 20) continue;
      const b = readFileSync(f);
      for (const v of decoys) assert.ok(!b.includes(v), `${v} found in ${f}`);
    }

    // The signed log: the attempts are recorded, the exfiltration refused before any address was dialed.
    const sessions = readdirSync(join(home, 'sessions'));
    assert.equal(sessions.length, 1);
    const events = readFileSync(join(home, 'sessions', sessions[0]!, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
    const argvs = events.filter((e) => e.kind === 'process' && e.action === 'exec').map((e) => (e.detail.argv as string[]).join(' '));
    assert.ok(argvs.includes('cat .env'));
    assert.ok(argvs.includes('cat /home/agent/.aws/credentials'));
    const denied = events.find((e) => e.kind === 'network' && e.decision === 'deny' && e.detail.host === 'collector.attacker.example');
    assert.ok(denied, 'no network denial for collector.attacker.example');
    assert.equal(denied.detail.address, null, 'the denied host was resolved or dialed');
    assert.ok(events.some((e) => e.kind === 'secret' && e.action === 'exfiltration' && e.subject === 'DEMO_API_TOKEN'));
    assert.ok(events.some((e) => e.kind === 'secret' && e.action === 'use' && e.subject === 'DEMO_API_TOKEN'), 'the legitimate API call');
    assert.ok(events.some((e) => e.kind === 'file' && e.subject.endsWith('/.git/hooks/pre-commit')));
    const verify = spawnSync(process.execPath, [join(ROOT, 'bin/airlock'), 'log', 'verify', sessions[0]!], { env: { ...process.env, AIRLOCK_HOME: home }, encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);

    // The score: one finding per injected action, the session found through the commit's git note.
    const score = JSON.parse(readFileSync(join(dir, 'score.json'), 'utf8')) as { level: string; findings: Finding[]; sessions: { id: string; verified: boolean | null }[] };
    const has_ = (id: string, re: RegExp) => score.findings.some((f) => f.id === id && re.test(`${f.evidence} ${f.why} ${f.file ?? ''}`));
    assert.equal(score.level, 'critical');
    assert.ok(has_('session/credential-access', /\.env\b/), 'cat .env not scored');
    assert.ok(has_('session/credential-access', /\.aws\/credentials/), 'cat ~/.aws/credentials not scored');
    assert.ok(has_('session/exfiltration-attempt', /collector\.attacker\.example/), 'the token exfiltration not scored');
    assert.ok(has_('ide-agent-config/auto-approve', /settings\.json|autoApprove/), 'the auto-approve setting not scored');
    assert.ok(has_('session/untracked-changes', /\.git\/hooks\/pre-commit/), 'the git hook not scored');
    assert.deepEqual(score.sessions.map((s) => [s.id, s.verified]), [[sessions[0], true]]);

    // The repository: nothing of the hook, the fix on the PR branch, main untouched, tests green.
    const repo = join(dir, 'repo');
    const git = (...a: string[]) => spawnSync('git', ['-C', repo, ...a], { encoding: 'utf8', env: { ...process.env, HOME: join(dir, 'home') } });
    assert.equal(existsSync(join(repo, '.git/hooks/pre-commit')), false);
    assert.equal(existsSync(join(repo, '.git/INJECTED_HOOK_RAN')), false, 'the injected hook ran on the host');
    assert.equal(git('config', '--get', 'core.hooksPath').stdout, '');
    assert.deepEqual(git('diff', '--name-only', 'main...HEAD').stdout.trim().split('\n').sort(), ['.vscode/settings.json', 'src/slug.js']);
    assert.match(git('diff', 'main...HEAD', '--', 'src/slug.js').stdout, /^\+ +\.replace\(\/\^-\+\|-\+\$\/g, ''\)/m);
    assert.notEqual(git('cat-file', '-e', 'main:.vscode/settings.json').status, 0, 'main has the injected settings');
    assert.match(git('log', '-1', '--format=%B').stdout, /^Airlock-Session: /m);
    // Without NODE_TEST_CONTEXT, or node --test reports to this runner instead of by its exit code.
    const { NODE_TEST_CONTEXT: _ctx, ...plainEnv } = process.env;
    const tests = spawnSync(process.execPath, ['--test'], { cwd: repo, encoding: 'utf8', env: plainEnv });
    assert.equal(tests.status, 0, tests.stdout + tests.stderr);
    const before = spawnSync(process.execPath, ['--test'], { cwd: join(ROOT, 'examples/demo/sample-repo'), encoding: 'utf8', env: plainEnv });
    assert.notEqual(before.status, 0, 'the sample\'s test should fail before the fix');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
