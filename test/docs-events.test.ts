/**
 * Keeps docs/audit-events.md and schema/audit-event.schema.json in step with the code: every
 * `kind`/`action` an emitter in src/ writes must be documented (in its kind's section of the doc)
 * and enumerated by the schema; and events from the real proxy validate against the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import { compileNetworkRule } from '../src/policy/compile.js';
import { startProxy } from '../src/network/index.js';
import { connectTunnel, rawRequest, startEchoServer, tableResolver } from '../src/network/testing.js';
import { openAuditLog } from '../src/audit/log.js';
import { verifyLogFile } from '../src/audit/verify.js';
import { makeSession, withTempHome } from '../src/audit/testutil.js';
import type { EventInput } from '../src/audit/types.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../..');
const KINDS = ['process', 'file', 'network', 'secret', 'policy', 'session'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** A string-literal union such as `'request' | 'connect'` in `file` after `marker`. */
function unionAfter(file: string, marker: RegExp): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const m = marker.exec(text);
  assert.ok(m, `${file}: ${marker} not found (the emitter changed; update this test)`);
  return [...m[1]!.matchAll(/'([a-z-]+)'/g)].map((x) => x[1]!);
}

/**
 * Actions computed at run time, resolved from the code that bounds them. An emitter with a new
 * computed action fails the test until it is added here.
 */
function dynamicActions(expr: string, file: string, kind: string): string[] {
  const key = `${file} ${kind} ${expr}`;
  switch (key) {
    case 'src/audit/session-step.ts file c.kind':
      return unionAfter('src/workspace/changes.ts', /kind: ((?:'[a-z]+'\s*\|?\s*)+);/);
    case 'src/network/server.ts network a.action':
      return unionAfter('src/network/server.ts', /interface Attempt \{\s*action: ((?:'[a-z]+'\s*\|?\s*)+);/);
    case 'src/secrets/broker.ts secret d.action':
      return unionAfter('src/secrets/broker.ts', /const denies: \{ reason: string; action: ((?:'[a-z]+'\s*\|?\s*)+);/);
    default:
      assert.fail(`${key}: an emitter computes its action; resolve its possible values in test/docs-events.test.ts`);
  }
}

/** Every (kind, action) emitted by src/, with where it was found. */
function emitted(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sources(join(root, 'src'))) {
    const rel = relative(root, file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/kind:\s*'(\w+)',\s*action:\s*([^,\n]+),/g)) {
      const [, kind, expr] = m;
      if (!KINDS.includes(kind!)) continue;
      const lit = /^'([a-z-]+)'$/.exec(expr!.trim());
      const actions = lit ? [lit[1]!] : dynamicActions(expr!.trim(), rel, kind!);
      for (const a of actions) found.set(`${kind}/${a}`, rel);
    }
  }
  // The log renames start/checkpoint/seal sent by a producer (src/audit/log.ts `emit`).
  const log = readFileSync(join(root, 'src/audit/log.ts'), 'utf8');
  assert.match(log, /action: `\$\{event\.action\}-reported`/, 'src/audit/log.ts: the -reported renaming changed; update this test');
  for (const a of ['start', 'checkpoint', 'seal']) {
    assert.match(log, new RegExp(`event\\.action === '${a}'`));
    found.set(`session/${a}-reported`, 'src/audit/log.ts');
  }
  return found;
}

/** The `### kind` section of the doc. */
function docSection(doc: string, kind: string): string {
  const start = doc.indexOf(`\n### ${kind}\n`);
  assert.ok(start >= 0, `docs/audit-events.md has no "### ${kind}" section`);
  const rest = doc.slice(start + 5 + kind.length);
  const end = rest.search(/\n##+ /);
  return end < 0 ? rest : rest.slice(0, end);
}

function schemaActions(schema: { allOf: { if: { properties: Record<string, { const?: string }> }; then: { properties: { action?: { enum?: string[] } } } }[] }, kind: string): string[] {
  const blocks = schema.allOf.filter((b) => b.if.properties.kind?.const === kind && Object.keys(b.if.properties).length === 1 && b.then.properties.action?.enum);
  assert.equal(blocks.length, 1, `schema: exactly one action enum for kind ${kind}`);
  return blocks[0]!.then.properties.action!.enum!;
}

test('every kind/action emitted in src/ is documented in docs/audit-events.md and enumerated by the schema', { timeout: 30_000 }, () => {
  const found = emitted();
  // The extraction must see the emitters it is meant to check (guards against a regex gone blind).
  for (const k of ['process/exec', 'file/open', 'file/rename', 'network/connect', 'secret/exfiltration', 'secret/issue', 'policy/deny', 'session/seal', 'session/monitor-dropped']) {
    assert.ok(found.has(k), `expected to find ${k} in src/`);
  }
  const doc = readFileSync(join(root, 'docs/audit-events.md'), 'utf8');
  const schema = JSON.parse(readFileSync(join(root, 'schema/audit-event.schema.json'), 'utf8'));
  assert.deepEqual(schema.properties.kind.enum, KINDS);
  const missing: string[] = [];
  for (const [ka, where] of found) {
    const [kind, action] = ka.split('/') as [string, string];
    if (!docSection(doc, kind).includes(`\`${action}\``)) missing.push(`docs/audit-events.md lacks ${ka} (emitted in ${where})`);
    if (!schemaActions(schema, kind).includes(action)) missing.push(`schema/audit-event.schema.json lacks ${ka} (emitted in ${where})`);
  }
  // and nothing the schema allows is stale
  for (const kind of KINDS) {
    for (const a of schemaActions(schema, kind)) if (!found.has(`${kind}/${a}`)) missing.push(`schema lists ${kind}/${a}, which no emitter in src/ writes`);
  }
  assert.deepEqual(missing, []);
});

test('events from the real proxy (allowed request, denied CONNECT, allowed tunnel) validate against the schema', { timeout: 30_000 }, async (t) => {
  const h = withTempHome();
  t.after(h.cleanup);
  const Ajv2020 = (Ajv2020Module as unknown as { default: typeof Ajv2020Module }).default ?? Ajv2020Module;
  const ajv = new (Ajv2020 as unknown as new (o: object) => { compile: (s: unknown) => ((d: unknown) => boolean) & { errors?: unknown } })({ strict: false, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'schema/audit-event.schema.json'), 'utf8')));
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const { id, dir } = makeSession();
  const log = await openAuditLog({ sessionId: id, sessionDir: dir, policyDigest: 'ab'.repeat(32), backend: 'bwrap' });
  const seen: EventInput[] = [];
  const proxy = await startProxy({
    policy: { network: { allow: [compileNetworkRule(`127.0.0.1:${echo.port}`), compileNetworkRule(`echo.test:${echo.port}`)], deny: [] } },
    socketPath: join(h.home, 'p.sock'),
    audit: { emit: (e) => (seen.push(e), log.emit(e)) },
    tcpPort: 0,
    resolver: tableResolver({ 'echo.test': ['127.0.0.1'] }),
  });
  try {
    const port = proxy.tcpPort!;
    const ok = await rawRequest(port, `GET http://127.0.0.1:${echo.port}/x HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nConnection: close\r\n\r\n`);
    assert.equal(ok.status, 200);
    const denied = await connectTunnel(port, 'undeclared.example:443');
    assert.equal(denied.ok, false);
    const tunnel = await connectTunnel(port, `echo.test:${echo.port}`);
    assert.equal(tunnel.ok, true);
    if (tunnel.ok) tunnel.socket.destroy();
    for (let i = 0; i < 100 && seen.filter((e) => e.kind === 'network').length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await proxy.close();
  }
  await log.close({ exitCode: 0 });
  const r = verifyLogFile(join(dir, 'audit.jsonl'));
  assert.equal(r.ok, true);
  const net = r.events.filter((e) => e.kind === 'network');
  assert.equal(net.length, 3, JSON.stringify(net));
  assert.ok(net.some((e) => e.action === 'connect' && e.decision === 'deny' && e.detail.path === null), 'a denied CONNECT has path null');
  assert.ok(net.some((e) => e.action === 'connect' && e.decision === 'allow'));
  for (const e of r.events) assert.ok(validate(e), `${e.kind} ${e.action}: ${JSON.stringify(validate.errors)}`);
  // an action outside the kind's enum is rejected
  assert.equal(validate({ ...net[0]!, action: 'teleport' }), false);
});
