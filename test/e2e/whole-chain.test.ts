/**
 * The whole chain, through the CLI only, on the real backends: `airlock run` of a small agent that
 * changes files → `airlock log verify` → `airlock apply --commit` (trailer + attestation in
 * refs/notes/airlock) → `airlock attest verify HEAD` → `airlock score --sessions auto`, which finds
 * the session through the commit's trailer and git note and reports it verified. Then the session
 * log is tampered with, and verify, attest and score each say so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { has } from '../support.js';

const AIRLOCK = fileURLToPath(new URL('../../../bin/airlock', import.meta.url));

interface ScoreJson {
  findings: { id: string; severity: string }[];
  sessions: { id: string; source: string; verified: boolean | null; commits: string[]; events: number }[];
}

// The agent: adds a file, edits one, deletes one.
const AGENT = 'mkdir -p src && printf "export const answer = 42;\\n" > src/answer.js && printf "more\\n" >> README.md && rm old.txt';

for (const backend of ['gvisor', 'bwrap'] as const) {
  test(`whole chain (${backend}): run → log verify → apply --commit → attest verify → score finds the verified session through git notes; a tampered log is reported`, { timeout: 60_000 }, (t) => {
    if (backend === 'gvisor' && !has('runsc')) return t.skip('runsc not installed');
    if (backend === 'bwrap' && !has('bwrap')) return t.skip('bwrap not installed');
    if (!has('git')) return t.skip('git not installed');
    const dir = mkdtempSync(join(tmpdir(), `airlock-chain-${backend}-`));
    const repo = join(dir, 'repo');
    const home = join(dir, 'airlock-home');
    const userHome = join(dir, 'home');
    const env = { ...process.env, AIRLOCK_HOME: home, HOME: userHome, GIT_CONFIG_NOSYSTEM: '1' };
    const airlock = (...args: string[]) => spawnSync(process.execPath, [AIRLOCK, ...args], { cwd: repo, env, encoding: 'utf8', timeout: 45_000 });
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-C', repo, ...args], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    try {
      mkdirSync(repo, { recursive: true });
      mkdirSync(userHome);
      writeFileSync(join(userHome, '.gitconfig'), '[user]\n\tname = Chain Test\n\temail = chain@airlock.invalid\n');
      writeFileSync(join(repo, 'README.md'), '# app\n');
      writeFileSync(join(repo, 'old.txt'), 'obsolete\n');
      git('init', '-q', '-b', 'main');
      git('add', '-A');
      git('commit', '-qm', 'base');
      const policy = join(dir, 'airlock.yaml');
      writeFileSync(policy, `version: 1\nruntime: { isolation: ${backend} }\ncommands: { allow: [sh, mkdir, printf, rm] }\n`);

      const run = airlock('run', '--backend', backend, '--policy', policy, '--workspace', repo, '--', 'sh', '-c', AGENT);
      assert.equal(run.status, 0, run.stderr);
      const [id, ...others] = readdirSync(join(home, 'sessions'));
      assert.ok(id && others.length === 0, 'one session');
      assert.equal(readFileSync(join(repo, 'README.md'), 'utf8'), '# app\n', 'the tree changed before apply');
      assert.ok(existsSync(join(repo, 'old.txt')));

      const verify = airlock('log', 'verify', id);
      assert.equal(verify.status, 0, verify.stdout + verify.stderr);

      git('checkout', '-q', '-b', 'agent/change');
      const apply = airlock('apply', id, '--commit', '-m', 'Agent change');
      assert.equal(apply.status, 0, apply.stderr);
      assert.match(git('log', '-1', '--format=%B'), new RegExp(`^Airlock-Session: ${id}$`, 'm'));
      assert.deepEqual(git('show', '--name-status', '--format=', 'HEAD').split('\n').sort(), ['A\tsrc/answer.js', 'D\told.txt', 'M\tREADME.md']);
      const note = JSON.parse(git('notes', '--ref=airlock', 'show', 'HEAD')) as { payloadType: string; signatures: unknown[] };
      assert.ok(note.payloadType && note.signatures.length > 0, 'the git note is a DSSE envelope');
      const head = git('rev-parse', 'HEAD');

      const attest = airlock('attest', 'verify', 'HEAD');
      assert.equal(attest.status, 0, attest.stdout + attest.stderr);
      assert.match(attest.stdout, /attestation verified/);

      const score = (): ScoreJson => {
        const r = airlock('score', '--base', 'main', '--sessions', 'auto', '--format', 'json');
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout) as ScoreJson;
      };
      const good = score();
      assert.equal(good.sessions.length, 1);
      assert.equal(good.sessions[0]!.id, id);
      assert.equal(good.sessions[0]!.verified, true);
      assert.match(good.sessions[0]!.source, /trailer/);
      assert.deepEqual(good.sessions[0]!.commits, [head]);
      assert.ok(good.sessions[0]!.events > 0);
      const ids = good.findings.map((f) => f.id);
      for (const bad of ['session/missing-attestation', 'session/invalid-attestation', 'session/log-invalid']) assert.ok(!ids.includes(bad), `${bad} on a good chain: ${ids.join(', ')}`);

      // Tamper: rewrite one recorded file event (hide what was written), keeping its hash.
      const logFile = join(home, 'sessions', id, 'audit.jsonl');
      const lines = readFileSync(logFile, 'utf8').split('\n');
      const at = lines.findIndex((l) => l.includes('"kind":"file"'));
      assert.ok(at > 0, 'the log records the file changes');
      const ev = JSON.parse(lines[at]!) as { subject: string };
      ev.subject = 'harmless.txt';
      lines[at] = JSON.stringify(ev);
      writeFileSync(logFile, lines.join('\n'));

      const verify2 = airlock('log', 'verify', id);
      assert.equal(verify2.status, 1, verify2.stdout + verify2.stderr);
      assert.match(verify2.stdout + verify2.stderr, new RegExp(`line ${at + 1}\\b.*edited`));
      const attest2 = airlock('attest', 'verify', 'HEAD');
      assert.equal(attest2.status, 1, attest2.stdout);
      assert.match(attest2.stdout, /FAIL +log/);
      const bad = score();
      assert.equal(bad.sessions[0]!.verified, false);
      const badIds = bad.findings.map((f) => f.id);
      assert.ok(badIds.includes('session/log-invalid'), badIds.join(', '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
