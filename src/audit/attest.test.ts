import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog } from './log.js';
import { attachAttestation, changesDigest, decodeStatement, digestEntriesFromChanges, digestEntriesFromCommit, pae, verifyAttestation, writeSessionAttestation, type ChangeLike, type DsseEnvelope } from './attest.js';
import { makeSession, withTempHome } from './testutil.js';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
function git(repo: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: GIT_ENV });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** A repo with a base commit, then a working-tree change set and the matching FileChange list. */
function scenario(home: string) {
  const repo = join(home, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q');
  writeFileSync(join(repo, 'keep.txt'), 'keep\n');
  writeFileSync(join(repo, 'old.txt'), 'old\n');
  writeFileSync(join(repo, 'run.sh'), 'echo\n');
  writeFileSync(join(repo, 'mv-from.txt'), 'moved content\n');
  writeFileSync(join(repo, '.gitignore'), 'build/\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'base');
  // the session's changes
  writeFileSync(join(repo, 'keep.txt'), 'changed\n');
  unlinkSync(join(repo, 'old.txt'));
  chmodSync(join(repo, 'run.sh'), 0o755);
  writeFileSync(join(repo, 'new.txt'), 'new\n');
  unlinkSync(join(repo, 'mv-from.txt'));
  writeFileSync(join(repo, 'mv-to.txt'), 'moved content\n');
  symlinkSync('new.txt', join(repo, 'link'));
  mkdirSync(join(repo, 'build'));
  writeFileSync(join(repo, 'build', 'out.bin'), 'artifact\n');
  const changes: ChangeLike[] = [
    { kind: 'write', type: 'file', path: 'keep.txt', mode: 0o644, oldMode: 0o644, sha256: sha('changed\n') },
    { kind: 'delete', type: 'file', path: 'old.txt' },
    { kind: 'chmod', type: 'file', path: 'run.sh', mode: 0o755, oldMode: 0o644, sha256: sha('echo\n') },
    { kind: 'create', type: 'file', path: 'new.txt', mode: 0o644, sha256: sha('new\n') },
    { kind: 'rename', type: 'file', path: 'mv-to.txt', oldPath: 'mv-from.txt', mode: 0o644, sha256: sha('moved content\n') },
    { kind: 'create', type: 'symlink', path: 'link', sha256: sha('new.txt') },
    { kind: 'create', type: 'dir', path: 'build', mode: 0o755 },
    { kind: 'create', type: 'file', path: 'build/out.bin', mode: 0o644, sha256: sha('artifact\n') },
  ];
  return { repo, changes };
}

async function attestedSession(changes: ChangeLike[]) {
  const { id, dir } = makeSession();
  const log = await openAuditLog({ sessionId: id, sessionDir: dir, policyDigest: 'ab'.repeat(32), backend: 'bwrap' });
  log.emit({ kind: 'network', action: 'request', decision: 'allow', subject: 'registry.npmjs.org:443', detail: { method: 'GET' } });
  const seal = await log.close({ exitCode: 0 });
  const env = writeSessionAttestation(log, seal, { changes, policyDigest: 'ab'.repeat(32), backend: 'bwrap', exitCode: 0 });
  log.forgetKey();
  return { id, dir, env, seal };
}

test('the changes digest computed from staged changes equals the one computed from the commit', (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const { repo, changes } = scenario(h.home);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'agent work');
  const fromCommit = digestEntriesFromCommit(repo, 'HEAD');
  const fromStage = digestEntriesFromChanges(changes).filter((e) => !e.path.startsWith('build/'));
  assert.deepEqual(fromCommit, fromStage);
  assert.equal(changesDigest(fromCommit), changesDigest(fromStage));
});

test('a DSSE in-toto attestation attached as a git note verifies; every tampering fails a named check', async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const { repo, changes } = scenario(h.home);
  const { id, dir, env, seal } = await attestedSession(changes);
  // DSSE shape and PAE
  assert.equal(env.payloadType, 'application/vnd.in-toto+json');
  const st = decodeStatement(env);
  assert.equal(st._type, 'https://in-toto.io/Statement/v1');
  assert.equal(st.predicateType, 'https://airlock.dev/session/v1');
  assert.equal(st.predicate.log.head, seal.head);
  assert.deepEqual(st.predicate.hosts, [{ host: 'registry.npmjs.org', methods: ['GET'], requests: 1, denied: 0 }]);
  assert.equal(pae('a', Buffer.from('bc')).toString(), 'DSSEv1 1 a 2 bc');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', `agent work\n\nAirlock-Session: ${id}`);
  attachAttestation({ repo, commit: 'HEAD', sessionId: id, sessionDir: dir });
  assert.ok(git(repo, 'notes', '--ref=refs/notes/airlock', 'list').length > 0);
  const ok = verifyAttestation(repo, 'HEAD');
  assert.equal(ok.ok, true, JSON.stringify(ok.checks, null, 1));
  assert.deepEqual(ok.checks.map((c) => [c.name, c.ok]), [['note', true], ['statement', true], ['signature', true], ['certificate', true], ['host', true], ['subject', true], ['trailer', true], ['log', true]]);
  assert.match(ok.checks.find((c) => c.name === 'subject')!.detail, /holds 7 of the 8 attested changes/);

  // 1. the payload altered (hosts removed) → signature fails
  const forged: DsseEnvelope = JSON.parse(JSON.stringify(env));
  const stmt = decodeStatement(forged);
  stmt.predicate.hosts = [];
  forged.payload = Buffer.from(JSON.stringify(stmt)).toString('base64');
  const blob = spawnSync('git', ['-C', repo, 'hash-object', '-w', '--stdin'], { input: JSON.stringify(forged), encoding: 'utf8' }).stdout.trim();
  git(repo, 'notes', '--ref=refs/notes/airlock', 'add', '-f', '-C', blob, 'HEAD');
  const r1 = verifyAttestation(repo, 'HEAD');
  assert.equal(r1.ok, false);
  assert.equal(r1.checks.find((c) => c.name === 'signature')!.ok, false);

  // 2. the commit content differs from what the session produced → subject fails
  attachAttestation({ repo, commit: 'HEAD', sessionId: id, sessionDir: dir });
  writeFileSync(join(repo, 'keep.txt'), 'changed by a human\n');
  git(repo, 'commit', '-qam', `amended\n\nAirlock-Session: ${id}`);
  attachAttestation({ repo, commit: 'HEAD', sessionId: id, sessionDir: dir });
  const r2 = verifyAttestation(repo, 'HEAD');
  assert.equal(r2.ok, false);
  assert.equal(r2.checks.find((c) => c.name === 'subject')!.ok, false);
  assert.match(r2.checks.find((c) => c.name === 'subject')!.detail, /keep\.txt/);

  // 3. an untrusted host key
  const r3 = verifyAttestation(repo, 'HEAD~1', { trustedKeys: new Set() });
  assert.equal(r3.checks.find((c) => c.name === 'host')!.ok, false);

  // 4. the session log edited after the fact → log check fails
  const logFile = join(dir, 'audit.jsonl');
  const lines = readFileSync(logFile, 'utf8').split('\n');
  lines[1] = lines[1]!.replace('registry.npmjs.org', 'registry.npmjs.com');
  writeFileSync(logFile, lines.join('\n'));
  const r4 = verifyAttestation(repo, 'HEAD~1');
  assert.equal(r4.checks.find((c) => c.name === 'log')!.ok, false);

  // 5. no note at all
  const r5 = verifyAttestation(repo, 'HEAD~2');
  assert.equal(r5.ok, false);
  assert.equal(r5.checks[0]!.name, 'note');
  assert.ok(statSync(join(dir, 'attestation.json')).size > 0);
  rmSync(join(repo, 'build'), { recursive: true });
});

test('verifyAttestation(envelope, ctx) checks an envelope alone (signature, certificate, key, head)', async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const { env, seal } = await attestedSession([{ kind: 'create', type: 'file', path: 'a', mode: 0o644, sha256: sha('a') }]);
  const st = decodeStatement(env);
  const ok = verifyAttestation(env, { head: seal.head, publicKey: st.predicate.sessionKey.publicKey });
  assert.equal(ok.ok, true, ok.reason);
  assert.equal(ok.statement?.predicate.session, st.predicate.session);
  const wrongHead = verifyAttestation(env, { head: 'f'.repeat(64) });
  assert.equal(wrongHead.ok, false);
  assert.match(wrongHead.reason, /log head/);
  const forged = { ...env, payload: Buffer.from(JSON.stringify({ ...st, predicate: { ...st.predicate, exitCode: 0, hosts: [] } })).toString('base64') };
  const bad = verifyAttestation(forged, {});
  assert.equal(bad.ok, false);
  assert.match(bad.reason, /altered/);
});
