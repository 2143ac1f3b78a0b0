import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadPolicyFile, loadPolicyText } from '../policy/index.js';
import { formatSuggestion, suggestPolicy } from './suggest.js';
import type { AuditEvent } from './types.js';

let seq = 0;
const ev = (p: Partial<AuditEvent>): AuditEvent => ({ v: 1, seq: seq++, time: '2026-11-28T18:00:00.000Z', session: 's1', kind: 'process', action: 'exec', decision: 'allow', subject: '', detail: {}, prev: '0'.repeat(64), hash: '0'.repeat(64), ...p });

test('policy suggest: the tightest policy covering the sessions, unused grants and denials listed, valid for airlock check', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-suggest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const policyFile = join(dir, 'airlock.yaml');
  writeFileSync(
    policyFile,
    [
      'version: 1',
      'runtime: { isolation: gvisor }',
      'filesystem: { workspace: ., write: [./out, ./unused-dir] }',
      'commands: { allow: [git, node, npm, sh, rg], deny: ["git push --force*"] }',
      'network:',
      '  allow:',
      '    - registry.npmjs.org',
      '    - api.github.com',
      '    - "*.example.com"',
      'secrets:',
      '  GITHUB_TOKEN: { from: env:GITHUB_TOKEN, inject: { host: api.github.com, header: Authorization, format: "Bearer {}" } }',
      '  NPM_TOKEN: { from: env:NPM_TOKEN, inject: { host: registry.npmjs.org } }',
      '',
    ].join('\n'),
  );
  const original = loadPolicyFile(policyFile);
  const events = [
    ev({ kind: 'session', action: 'start', decision: 'info', subject: 's1', detail: { backend: 'gvisor', workspace: dir } }),
    ev({ subject: '/usr/bin/git', detail: { argv: ['git', 'status'] } }),
    ev({ subject: '/usr/bin/git' }),
    ev({ subject: '/bin/sh' }),
    ev({ subject: join(dir, 'scripts/build.sh') }),
    ev({ kind: 'network', action: 'request', subject: 'api.github.com:443', detail: { method: 'GET' } }),
    ev({ kind: 'network', action: 'request', subject: 'api.github.com:443', detail: { method: 'POST' } }),
    ev({ kind: 'network', action: 'connect', subject: 'cdn.example.com:8443', detail: { method: 'CONNECT' } }),
    ev({ kind: 'network', action: 'connect', subject: '127.0.0.1:3128', detail: { source: 'gvisor' } }),
    ev({ kind: 'network', action: 'request', decision: 'deny', subject: 'evil.example.org:443', detail: { method: 'GET', reason: 'not in network.allow' } }),
    ev({ kind: 'secret', action: 'use', subject: 'GITHUB_TOKEN', detail: { host: 'api.github.com:443' } }),
    ev({ kind: 'file', action: 'open', subject: join(dir, 'out/result.json'), detail: { source: 'gvisor' } }),
    ev({ kind: 'file', action: 'create', subject: 'src/a.ts', detail: { source: 'workspace' } }),
  ];
  const s = suggestPolicy({ sessions: [{ id: 's1', events }], original });
  const doc = s.document as { runtime: { isolation: string }; commands: { allow: string[]; deny: string[] }; network: { allow: unknown[] }; secrets: Record<string, unknown>; filesystem: { write?: string[] } };
  assert.equal(doc.runtime.isolation, 'gvisor');
  assert.deepEqual(doc.commands.allow, [join(dir, 'scripts/build.sh'), 'git', 'sh'].sort());
  assert.deepEqual(doc.commands.deny, ['git push --force*']);
  assert.deepEqual(doc.network.allow, [{ host: 'api.github.com', methods: ['GET', 'POST'] }, 'cdn.example.com:8443']);
  assert.deepEqual(Object.keys(doc.secrets), ['GITHUB_TOKEN']);
  assert.deepEqual(doc.filesystem.write, ['./out']);
  const unused = s.unused.map((u) => `${u.section}: ${u.entry}`);
  for (const u of ['commands.allow: node', 'commands.allow: npm', 'commands.allow: rg', 'network.allow: registry.npmjs.org', 'secrets: NPM_TOKEN']) assert.ok(unused.includes(u), `${u} in ${unused.join('; ')}`);
  assert.ok(unused.some((u) => u.startsWith('filesystem.write: ./unused-dir')));
  assert.ok(!unused.some((u) => u.includes('example.com')), 'the wildcard rule was used');
  assert.deepEqual(s.denied.map((d) => d.subject), ['evil.example.org:443']);
  const yaml = formatSuggestion(s, ['s1']);
  assert.match(yaml, /# granted but never used \(removed\):/);
  assert.match(yaml, /# denied during the sessions/);
  // the YAML parses and is a valid policy
  assert.doesNotThrow(() => loadPolicyText(yaml, join(dir, 'suggested.yaml')));
  assert.equal((parse(yaml) as { version: number }).version, 1);
});
