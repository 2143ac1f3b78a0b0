/**
 * The audit trail end to end, through the real CLI and a real sandbox: a session performs a known
 * list of actions (execs, writes, a delete, an allowed and a denied fetch); every action must be
 * in `airlock log show --json`; `airlock log verify` passes, then fails — naming the line — after
 * each kind of tampering; `apply --commit` attaches an attestation that `attest verify` accepts;
 * `policy suggest` prints a policy that `airlock check` accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { backendSkipReason } from '../support.js';
import { ebpfUnavailableReason } from '../../src/audit/ebpf-tracer.js';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { AuditEvent } from '../../src/audit/types.js';
import { canonicalJson, sha256Hex } from '../../src/audit/canonical.js';

const bin = join(fileURLToPath(new URL('.', import.meta.url)), '../../../bin/airlock');

// bwrap runs once per process tracer: eBPF (the default where the host allows it) and strace.
for (const [backend, tracer] of [['bwrap', 'ebpf'], ['bwrap', 'strace'], ['gvisor', 'gvisor']] as const) {
  test(`${backend} (${tracer}): every action of a session is in the log; verify passes, then fails on each kind of tampering`, { timeout: 180_000 }, async (t) => {
    const why = backendSkipReason(backend, ['curl']) ?? (tracer === 'ebpf' ? ebpfUnavailableReason() : undefined);
    if (why) return t.skip(why);
    const home = mkdtempSync(join(tmpdir(), 'airlock-audit-e2e-'));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    const server = createServer((req, res) => res.end(`hello ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const deniedPort = port === 65535 ? port - 1 : port + 1;
    const env = { ...process.env, AIRLOCK_BWRAP_TRACER: backend === 'bwrap' ? tracer : undefined, AIRLOCK_HOME: join(home, 'state'), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    const repo = join(home, 'repo');
    mkdirSync(repo);
    const git = (...a: string[]) => spawnSync('git', ['-C', repo, ...a], { encoding: 'utf8', env });
    git('init', '-q');
    writeFileSync(join(repo, 'a.txt'), 'aaa\n');
    writeFileSync(join(repo, 'old.txt'), 'old\n');
    writeFileSync(join(repo, 'airlock.yaml'), `version: 1\nruntime: { isolation: ${backend} }\ncommands: { allow: [sh, cat, rm, curl, ls, mkdir] }\nnetwork: { allow: ["127.0.0.1:${port}"] }\n`);
    git('add', '-A');
    git('commit', '-qm', 'base');
    const cli = (args: string[], input?: string) => {
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, env, encoding: 'utf8', input, timeout: 120_000 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const script = [
      'echo hi > new.txt',
      'rm old.txt',
      'cat a.txt',
      `curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:${port}/allowed`,
      `curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:${deniedPort}/denied`,
      'ls -1 >/dev/null',
    ].join('; ');
    const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, [bin, 'run', '--policy', 'airlock.yaml', '--', 'sh', '-c', script], { cwd: repo, env });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (code) => resolve({ code, out, err }));
    });
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /aaa/);
    assert.match(run.out, /200/, 'the allowed fetch went through');
    // the summary on stderr
    assert.match(run.err, /── airlock session /);
    assert.match(run.err, /hosts: +127\.0\.0\.1/);
    assert.match(run.err, /files: +2 changed/);

    const show = cli(['log', 'show', 'last', '--json']);
    assert.equal(show.code, 0, show.err);
    const events = JSON.parse(show.out) as AuditEvent[];
    const has = (f: (e: AuditEvent) => boolean, what: string) => assert.ok(events.some(f), `missing: ${what}\n${events.map((e) => `${e.kind} ${e.action} ${e.decision} ${e.subject}`).join('\n')}`);
    for (const exe of ['cat', 'rm', 'curl', 'ls']) has((e) => e.kind === 'process' && e.action === 'exec' && e.decision === 'allow' && e.subject.endsWith(`/${exe}`), `exec ${exe}`);
    has((e) => e.kind === 'process' && e.action === 'exec' && /(^|\/)sh$/.test(e.subject), 'exec sh');
    has((e) => e.kind === 'process' && e.subject.endsWith('/curl') && (e.detail.argv as string[] | undefined)?.some((a) => a.includes('/allowed')) === true, 'curl argv');
    has((e) => e.kind === 'file' && e.action === 'create' && e.subject === 'new.txt' && typeof e.detail.sha256 === 'string', 'file create new.txt');
    has((e) => e.kind === 'file' && e.action === 'delete' && e.subject === 'old.txt', 'file delete old.txt');
    has((e) => e.kind === 'network' && e.decision === 'allow' && e.subject === `127.0.0.1:${port}` && e.detail.path === '/allowed', 'allowed fetch');
    has((e) => e.kind === 'network' && e.decision === 'deny' && e.subject === `127.0.0.1:${deniedPort}`, 'denied fetch');
    has((e) => e.kind === 'session' && e.action === 'start' && e.detail.backend === backend, 'session start');
    has((e) => e.kind === 'process' && e.action === 'exec' && e.detail.source === tracer, `process events from ${tracer}`);
    has((e) => e.kind === 'session' && e.action === 'end' && e.detail.exitCode === 0, 'session end');
    const kinds = cli(['log', 'show', 'last', '--kind', 'network', '--json']);
    assert.equal(kinds.code, 0, kinds.err);
    assert.ok((JSON.parse(kinds.out) as AuditEvent[]).every((e) => e.kind === 'network'));

    const v = cli(['log', 'verify', 'last']);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /ok/);
    const list = cli(['log', 'list', '--json']);
    assert.equal(list.code, 0, list.err);
    assert.equal((JSON.parse(list.out) as unknown[]).length, 1);
    const ocsf = cli(['log', 'export', 'last', '--format', 'ocsf']);
    assert.equal(ocsf.code, 0, ocsf.err);
    const classes = new Set(ocsf.out.trim().split('\n').map((l) => (JSON.parse(l) as { class_uid: number }).class_uid));
    for (const c of [1007, 1001, 4002]) assert.ok(classes.has(c), `OCSF class ${c}`);

    // attestation through apply --commit, checked with attest verify
    const sid = (JSON.parse(list.out) as { id: string }[])[0]!.id;
    const apply = cli(['apply', 'last', '--commit', '-m', 'agent change']);
    if (apply.code === 0) {
      const av = cli(['attest', 'verify', 'HEAD']);
      assert.equal(av.code, 0, av.out + av.err);
      assert.match(av.out, /attestation verified/);
      assert.match(git('log', '-1', '--format=%B').stdout, new RegExp(`Airlock-Session: ${sid}`));
    } else t.diagnostic(`apply --commit unavailable: ${apply.err.trim()}`);

    // policy suggest → a valid policy
    const sug = cli(['policy', 'suggest', 'last']);
    assert.equal(sug.code, 0, sug.err);
    assert.match(sug.out, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(sug.out, /mkdir/); // granted, unused
    writeFileSync(join(home, 'suggested.yaml'), sug.out);
    assert.equal(cli(['check', join(home, 'suggested.yaml')]).code, 0);

    // tampering: each kind fails verify with the line named
    const logFile = join(env.AIRLOCK_HOME, 'sessions', sid, 'audit.jsonl');
    const pristine = readFileSync(logFile, 'utf8');
    const lines = pristine.trimEnd().split('\n');
    const rehash = (e: AuditEvent) => {
      const { hash: _h, ...b } = e;
      return { ...e, hash: sha256Hex(canonicalJson(b)) };
    };
    const netLine = lines.findIndex((l) => l.includes('"kind":"network"') && l.includes('"deny"'));
    const sealEvent = JSON.parse(lines[lines.length - 1]!) as AuditEvent;
    const badSig = { ...sealEvent, detail: { ...sealEvent.detail, signature: Buffer.alloc(64, 7).toString('base64') } };
    const cases: [string, string[], RegExp][] = [
      ['edited', lines.map((l, i) => (i === netLine ? l.replace('"deny"', '"allow"') : l)), new RegExp(`edited: line ${netLine + 1}\\b`)],
      ['deleted', lines.filter((_, i) => i !== netLine), new RegExp(`deleted: line ${netLine + 1}\\b`)],
      ['inserted', [...lines.slice(0, 2), lines[1]!, ...lines.slice(2)], /reordered: line 3\b/],
      ['reordered', [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)], /line 2\b/],
      ['truncated', lines.slice(0, -3), new RegExp(`truncated: line ${lines.length - 3}\\b`)],
      ['bad signature', [...lines.slice(0, -1), JSON.stringify(rehash(badSig))], new RegExp(`signature: line ${lines.length}\\b`)],
    ];
    for (const [name, text, re] of cases) {
      writeFileSync(logFile, `${text.join('\n')}\n`);
      const r = cli(['log', 'verify', sid]);
      assert.equal(r.code, 1, `${name}: verify must fail`);
      assert.match(r.err, re, `${name}: ${r.err}`);
    }
    writeFileSync(logFile, pristine);
    assert.equal(cli(['log', 'verify', sid]).code, 0);
  });
}
