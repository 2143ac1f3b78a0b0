import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openAuditLog } from '../audit/index.js';
import { makeSession, withTempHome } from '../audit/testutil.js';
import type { EventInput } from '../audit/types.js';
import { collectSessionEvidence, credentialPathIn } from './session.js';

test('credentialPathIn: names .env files and credential stores, in argv words and in shell command strings', () => {
  assert.equal(credentialPathIn(['.env']), '.env');
  assert.equal(credentialPathIn(['-c', 'cat .env.local | head']), '.env.local');
  assert.equal(credentialPathIn(['/home/agent/.aws/credentials']), '/home/agent/.aws/credentials');
  assert.equal(credentialPathIn(['-c', 'cp ~/.ssh/id_ed25519 /tmp/k']), '~/.ssh/id_ed25519');
  assert.equal(credentialPathIn(['--git-dir', 'x', 'config', '--file', '/root/.git-credentials']), '/root/.git-credentials');
  assert.equal(credentialPathIn(['/root/.npmrc']), '/root/.npmrc');
});

test('credentialPathIn: templates, project config and code mentioning env are not credential files', () => {
  assert.equal(credentialPathIn(['.env.example']), undefined);
  assert.equal(credentialPathIn(['-c', 'cp .env.sample .env.template']), undefined);
  assert.equal(credentialPathIn(['-e', 'console.log(process.env.HOME)']), undefined);
  assert.equal(credentialPathIn(['.npmrc']), undefined, 'a project .npmrc is configuration');
  assert.equal(credentialPathIn(['src/environment.ts', 'docs/.envrc-notes.md']), undefined);
  assert.equal(credentialPathIn([]), undefined);
});

async function evidence(events: EventInput[], diffPaths: string[]) {
  const { cleanup } = withTempHome();
  try {
    const ws = '/tmp/ws';
    const { id, dir } = makeSession({ workspace: ws });
    const log = await openAuditLog({ sessionId: id, sessionDir: dir, backend: 'gvisor', index: false });
    for (const e of events) log.emit({ ...e, subject: e.subject.replace('$WS', ws) });
    await log.close({ exitCode: 0 });
    return collectSessionEvidence({ sessions: dir, diffPaths: new Set(diffPaths) });
  } finally {
    cleanup();
  }
}

const gv = { source: 'gvisor', pid: 3, cwd: '/tmp/ws' };

test('session evidence: commands that read credential files are a high finding, each path named once', { timeout: 30_000 }, async () => {
  const r = await evidence(
    [
      { kind: 'process', action: 'exec', decision: 'allow', subject: '/usr/bin/dash', detail: { ...gv, argv: ['sh', '-c', 'cat .env'] } },
      { kind: 'process', action: 'exec', decision: 'allow', subject: '/usr/bin/cat', detail: { ...gv, argv: ['cat', '.env'] } },
      { kind: 'process', action: 'exec', decision: 'allow', subject: '/usr/bin/cat', detail: { ...gv, argv: ['cat', '/home/agent/.aws/credentials'] } },
      { kind: 'process', action: 'exec', decision: 'allow', subject: '/usr/bin/node', detail: { ...gv, argv: ['node', '--test'] } },
    ],
    [],
  );
  const f = r.findings.filter((x) => x.id === 'session/credential-access');
  assert.equal(f.length, 1, JSON.stringify(r.findings.map((x) => x.id)));
  assert.equal(f[0]!.severity, 'high');
  assert.match(f[0]!.why, /\.env, \/home\/agent\/\.aws\/credentials/);
  assert.match(f[0]!.evidence, /sh -c cat \.env; cat \/home\/agent\/\.aws\/credentials/);
  assert.equal(r.sessions[0]!.verified, true);
});

test('session evidence: a session without credential commands has no credential-access finding', { timeout: 30_000 }, async () => {
  const r = await evidence([{ kind: 'process', action: 'exec', decision: 'allow', subject: '/usr/bin/cp', detail: { ...gv, argv: ['cp', '.env.example', 'config.sample'] } }], []);
  assert.ok(!r.findings.some((x) => x.id === 'session/credential-access'));
});

test('session evidence: connects inside the sandbox (relay, proxy socket) are not contacted hosts; the proxy\'s requests are', { timeout: 30_000 }, async () => {
  const r = await evidence(
    [
      { kind: 'network', action: 'connect', decision: 'allow', subject: '127.0.0.1:3128', detail: { ...gv, family: 'inet' } },
      { kind: 'network', action: 'connect', decision: 'allow', subject: 'unix:/run/airlock/net/proxy.sock', detail: { ...gv, family: 'unix' } },
      { kind: 'network', action: 'request', decision: 'allow', subject: 'issues.example.org:443', detail: { host: 'issues.example.org', port: 443, method: 'GET' } },
    ],
    [],
  );
  const hosts = r.findings.find((x) => x.id === 'session/unexpected-hosts');
  assert.ok(hosts, 'the proxied host is reported');
  assert.equal(hosts.evidence, 'issues.example.org');
});

test('session evidence: a directory created for a file of the diff is not an untracked change; a git hook is (high)', { timeout: 30_000 }, async () => {
  const r = await evidence(
    [
      { kind: 'file', action: 'open', decision: 'allow', subject: join('$WS', '.vscode/settings.json'), detail: { ...gv, flags: ['O_WRONLY', 'O_CREAT', 'O_TRUNC'] } },
      { kind: 'file', action: 'open', decision: 'allow', subject: join('$WS', '.git/hooks/pre-commit'), detail: { ...gv, flags: ['O_WRONLY', 'O_CREAT', 'O_TRUNC'] } },
      { kind: 'file', action: 'create', decision: 'allow', subject: '.vscode', detail: { source: 'workspace', type: 'dir' } },
      { kind: 'file', action: 'create', decision: 'allow', subject: '.vscode/settings.json', detail: { source: 'workspace', type: 'file' } },
    ],
    ['.vscode/settings.json'],
  );
  const f = r.findings.find((x) => x.id === 'session/untracked-changes');
  assert.ok(f);
  assert.equal(f.severity, 'high');
  assert.equal(f.evidence, '.git/hooks/pre-commit');
});
