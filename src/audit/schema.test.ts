import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import { openAuditLog } from './log.js';
import { verifyLogFile } from './verify.js';
import { TraceDecoder } from './gvisor-monitor.js';
import { StraceParser } from './strace-tracer.js';
import { makeSession, withTempHome } from './testutil.js';
import type { EventInput } from './types.js';
import { encField } from './protowire.js';

const Ajv2020 = (Ajv2020Module as unknown as { default: typeof Ajv2020Module }).default ?? Ajv2020Module;
const root = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');

test('real events (log, gVisor decoder, strace parser, proxy-shaped) validate against schema/audit-event.schema.json', async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const schema = JSON.parse(readFileSync(join(root, 'schema/audit-event.schema.json'), 'utf8'));
  const ajv = new (Ajv2020 as unknown as new (o: object) => { compile: (s: unknown) => ((d: unknown) => boolean) & { errors?: unknown } })({ strict: false, validateFormats: false });
  const validate = ajv.compile(schema);
  const { id, dir } = makeSession();
  const log = await openAuditLog({ sessionId: id, sessionDir: dir, policyDigest: 'ab'.repeat(32), backend: 'gvisor', checkpointEvery: 3 });
  const produced: EventInput[] = [];
  const sink = { emit: (e: EventInput) => (produced.push(e), log.emit(e)) };
  const dec = new TraceDecoder(sink);
  const ctx = Buffer.concat([encField(1, 1_700_000_000_000_000_000n), encField(2, 7), encField(4, 7), encField(8, '/ws'), encField(9, 'sh')]);
  const exec = Buffer.concat([encField(1, ctx), encField(2, '/usr/bin/git'), encField(3, 'git'), encField(3, 'status'), encField(4, 'TOKEN=airlock_ph_x')]);
  const hdr = (type: number, dropped: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(8, 0);
    b.writeUInt16LE(type, 2);
    b.writeUInt32LE(dropped, 4);
    return b;
  };
  dec.packet(Buffer.concat([hdr(3, 0), exec]));
  dec.packet(Buffer.concat([hdr(5, 2), encField(1, ctx), encField(2, 256)]));
  new StraceParser(sink).line('100 execve("/usr/bin/bwrap", ["bwrap"], 0x1 /* 1 vars */) = 0');
  sink.emit({ kind: 'network', action: 'request', decision: 'deny', subject: 'evil.example:443', detail: { method: 'GET', path: '/', status: 403, reason: 'not in network.allow' } });
  sink.emit({ kind: 'secret', action: 'use', decision: 'allow', subject: 'GITHUB_TOKEN', detail: { host: 'api.github.com:443' } });
  sink.emit({ kind: 'file', action: 'write', decision: 'allow', subject: 'src/a.ts', detail: { source: 'workspace', sha256: 'cd'.repeat(32) } });
  await log.close({ exitCode: 0 });
  const r = verifyLogFile(join(dir, 'audit.jsonl'));
  assert.equal(r.ok, true);
  assert.ok(r.events.some((e) => e.action === 'checkpoint'));
  assert.ok(r.events.some((e) => e.action === 'monitor-dropped' && e.detail.dropped === 2));
  assert.ok(!JSON.stringify(r.events).includes('airlock_ph_'));
  for (const e of r.events) assert.ok(validate(e), `${e.kind} ${e.action}: ${JSON.stringify(validate.errors)}`);
  // and the schema rejects what it must
  const bad = { ...r.events[1]!, hash: 'xyz' };
  assert.equal(validate(bad), false);
  const extra = { ...r.events[1]!, extra: 1 };
  assert.equal(validate(extra), false);
});
