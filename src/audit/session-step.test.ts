import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeqpacketSocket } from 'node-unix-socket';
import { startSessionAudit, type AuditStepContext } from './session-step.js';
import { verifyLogFile } from './verify.js';
import { makeSession, withTempHome } from './testutil.js';
import { encField } from './protowire.js';
import { MSG } from './gvisor-monitor.js';

function context(id: string, dir: string, backend: string) {
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { recursive: true });
  const deferred: { name: string; fn: () => void | Promise<void> }[] = [];
  const stops: string[] = [];
  const lines: string[] = [];
  const ctx: AuditStepContext = {
    id,
    dir,
    runDir,
    policy: { source: { file: '/tmp/airlock.yaml', digest: 'ab'.repeat(32) } },
    backend: { name: backend },
    spec: { argv: ['sh'], workspace: { sandboxPath: '/ws' } },
    audit: { emit: () => undefined },
    log: (l) => lines.push(l),
    defer: (name, fn) => deferred.push({ name, fn }),
    stop: (reason) => stops.push(reason),
  };
  const teardown = async () => {
    while (deferred.length) await deferred.pop()!.fn();
  };
  return { ctx, stops, lines, teardown };
}

test('the audit door: start event first, other doors emit into it, end + seal + attestation + summary at teardown', async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const { id, dir } = makeSession();
  const { ctx, teardown } = context(id, dir, 'none');
  let summary = '';
  await startSessionAudit(ctx, { summary: (s) => (summary = s), changes: async () => [{ kind: 'create', type: 'file', path: 'new.txt', mode: 0o644, sha256: 'ab'.repeat(32) }] });
  ctx.audit.emit({ kind: 'network', action: 'request', decision: 'deny', subject: 'evil.example:443', detail: { method: 'GET', reason: 'not allowed' } });
  ctx.audit.emit({ kind: 'session', action: 'end', decision: 'info', subject: id, detail: { exitCode: 3 } });
  await teardown();
  const r = verifyLogFile(join(dir, 'audit.jsonl'));
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  const acts = r.events.map((e) => `${e.kind}:${e.action}`);
  assert.deepEqual(acts, ['session:start', 'session:monitor', 'network:request', 'file:create', 'session:end', 'session:seal']);
  assert.equal(r.events[4]!.detail.exitCode, 3);
  assert.match(summary, /exit 3/);
  assert.match(summary, /denied: +1/);
  assert.match(summary, /evil\.example/);
  assert.match(summary, /files: +1 changed \(1 create\): new\.txt/);
  const att = JSON.parse(readFileSync(join(dir, 'attestation.json'), 'utf8')) as { payloadType: string };
  assert.equal(att.payloadType, 'application/vnd.in-toto+json');
});

test('a monitor that breaks midway stops the session and says why', async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const { id, dir } = makeSession();
  const { ctx, stops, teardown } = context(id, dir, 'gvisor');
  await startSessionAudit(ctx, { summary: null, changes: async () => [] });
  const podInit = JSON.parse(readFileSync(ctx.spec.monitor!.gvisorPodInitConfig!, 'utf8')) as { trace_session: { sinks: { config: { endpoint: string } }[] } };
  const endpoint = podInit.trace_session.sinks[0]!.config.endpoint;
  // play the Sentry: handshake, then a packet that is not a trace message
  const sock = new SeqpacketSocket();
  await new Promise<void>((r) => sock.connect(endpoint, () => r()));
  const reply = new Promise<Buffer>((r) => sock.once('data', (b: Buffer) => r(b)));
  sock.write(Buffer.from([0x08, 0x01]));
  assert.deepEqual([...(await reply)], [0x08, 0x01]);
  // a good exec on each side of the bad packet (one decode batch): both are still logged
  const exec = (argv0: string) => {
    const body = Buffer.concat([encField(1, Buffer.concat([encField(2, 7), encField(4, 7)])), encField(2, argv0), encField(3, argv0)]);
    const h = Buffer.from([0x08, 0x00, MSG.SENTRY_EXEC, 0x00, 0x00, 0x00, 0x00, 0x00]);
    return Buffer.concat([h, body]);
  };
  for (const p of [exec('/bin/before'), Buffer.from([0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0xff]), exec('/bin/after')]) {
    await new Promise<void>((r) => sock.write(p, 0, p.length, () => r()));
  }
  for (let i = 0; i < 100 && stops.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  sock.destroy();
  assert.equal(stops.length, 1);
  assert.match(stops[0]!, /gVisor monitor failed: .*undecodable trace packet/);
  await teardown();
  const r = verifyLogFile(join(dir, 'audit.jsonl'));
  assert.ok(r.events.some((e) => e.kind === 'session' && e.action === 'error' && e.subject === 'monitor'));
  assert.equal(r.events.find((e) => e.action === 'end')!.detail.status, 'failed');
  assert.deepEqual(r.events.filter((e) => e.kind === 'process' && e.action === 'exec').map((e) => e.subject), ['/bin/before', '/bin/after']);
});

test('a log that cannot be written stops the session (fail closed)', async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const { id, dir } = makeSession();
  const { ctx, stops } = context(id, dir, 'none');
  const log = await startSessionAudit(ctx, { summary: null, changes: async () => [] });
  const { closeSync } = await import('node:fs');
  closeSync((log as unknown as { fd: number }).fd);
  ctx.audit.emit({ kind: 'process', action: 'exec', decision: 'allow', subject: '/bin/x' });
  log.flush();
  assert.equal(stops.length, 1);
  assert.match(stops[0]!, /audit log cannot be written/);
});
