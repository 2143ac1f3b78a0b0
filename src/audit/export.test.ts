import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toOcsf } from './export.js';
import type { AuditEvent } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads deep OCSF fields
type O = Record<string, any>;

const ev = (p: Partial<AuditEvent>): AuditEvent => ({ v: 1, seq: 1, time: '2026-11-28T18:00:00.000Z', session: 's1', kind: 'process', action: 'exec', decision: 'allow', subject: '/usr/bin/git', detail: {}, prev: '0'.repeat(64), hash: 'a'.repeat(64), ...p });

test('OCSF: process exec/exit → Process Activity 1007 Launch/Terminate with process fields', () => {
  const o = toOcsf(ev({ detail: { argv: ['git', 'status'], pid: 5, ppid: 1, cwd: '/ws' } })) as O;
  assert.equal(o.class_uid, 1007);
  assert.equal(o.category_uid, 1);
  assert.equal(o.activity_id, 1);
  assert.equal(o.type_uid, 100701);
  assert.equal(o.process.cmd_line, 'git status');
  assert.equal(o.process.file.path, '/usr/bin/git');
  assert.equal(o.process.parent_process.pid, 1);
  assert.equal(o.metadata.uid, 'a'.repeat(64));
  assert.equal(o.metadata.correlation_uid, 's1');
  assert.equal(o.time, Date.parse('2026-11-28T18:00:00.000Z'));
  const x = toOcsf(ev({ action: 'exit', decision: 'info', detail: { exitCode: 3 } })) as O;
  assert.equal(x.activity_id, 2);
  assert.equal(x.exit_code, 3);
});

test('OCSF: file events → File System Activity 1001 with hashes; denials are Failure/Denied', () => {
  const o = toOcsf(ev({ kind: 'file', action: 'delete', subject: 'old.txt' })) as O;
  assert.equal(o.class_uid, 1001);
  assert.equal(o.activity_id, 4);
  const w = toOcsf(ev({ kind: 'file', action: 'write', subject: 'a.ts', detail: { sha256: 'b'.repeat(64) } })) as O;
  assert.equal(w.activity_id, 3);
  assert.deepEqual(w.file.hashes, [{ algorithm_id: 3, algorithm: 'SHA-256', value: 'b'.repeat(64) }]);
  const d = toOcsf(ev({ kind: 'file', action: 'open', decision: 'deny', subject: '/etc/passwd' })) as O;
  assert.equal(d.activity_id, 14);
  assert.equal(d.status_id, 2);
  assert.equal(d.action_id, 2);
});

test('OCSF: proxy requests → HTTP Activity 4002 by method; connects → Network Activity 4001 (Refuse when denied)', () => {
  const o = toOcsf(ev({ kind: 'network', action: 'request', subject: 'api.github.com:443', detail: { method: 'POST', path: '/repos/a/b', status: 201, address: '140.82.1.1' } })) as O;
  assert.equal(o.class_uid, 4002);
  assert.equal(o.activity_id, 6);
  assert.equal(o.http_request.http_method, 'POST');
  assert.equal(o.http_request.url.url_string, 'https://api.github.com/repos/a/b');
  assert.equal(o.http_response.code, 201);
  assert.equal(o.dst_endpoint.ip, '140.82.1.1');
  const c = toOcsf(ev({ kind: 'network', action: 'connect', decision: 'deny', subject: 'evil.example:443', detail: { method: 'CONNECT', reason: 'not allowed' } })) as O;
  assert.equal(c.class_uid, 4002); // CONNECT is an HTTP method
  assert.equal(c.activity_id, 1);
  const s = toOcsf(ev({ kind: 'network', action: 'connect', decision: 'deny', subject: '10.1.2.3:80', detail: { source: 'gvisor' } })) as O;
  assert.equal(s.class_uid, 4001);
  assert.equal(s.activity_id, 5);
  assert.equal(s.disposition_id, 2);
  assert.equal(s.dst_endpoint.port, 80);
  const b = toOcsf(ev({ kind: 'secret', action: 'use', subject: 'GITHUB_TOKEN' })) as O;
  assert.equal(b.class_uid, 0);
  assert.equal(b.unmapped.kind, 'secret');
});
