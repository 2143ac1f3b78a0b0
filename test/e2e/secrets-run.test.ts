/**
 * The credential scenario through `bin/airlock run`, on each real backend: a loopback TLS server
 * (its CA trusted only through network.upstreamCA), a secret from the host environment, and a
 * sandboxed script that uses the placeholder, tries to read the real value (environment, /proc,
 * CA directory, /tmp) and tries to exfiltrate the placeholder (URL, plain HTTP). Afterwards every
 * file the session left under AIRLOCK_HOME is searched for the real value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessionCA } from '../../src/secrets/x509.js';
import { has, filesUnder } from '../support.js';

const AIRLOCK = fileURLToPath(new URL('../../../bin/airlock', import.meta.url));
const REAL = 'ghp_runREALvalue_Zq81xk2mW0vT';

for (const backend of ['bwrap', 'gvisor'] as const) {
  test(`airlock run (${backend}): the agent holds only a placeholder, the value reaches only the declared TLS host, nothing left behind holds it`, { timeout: 90_000 }, async (t) => {
    if (backend === 'bwrap' && !has('bwrap')) return t.skip('bwrap not installed');
    if (backend === 'gvisor' && !has('runsc')) return t.skip('runsc not installed');
    if (!has('curl')) return t.skip('curl not installed (used inside the sandbox)');
    const dir = mkdtempSync(join(tmpdir(), 'airlock-secrets-run-'));
    const home = join(dir, 'home');
    const ws = join(dir, 'ws');
    const upstream = createSessionCA('upstream test CA');
    const leaf = upstream.leaf('127.0.0.1');
    const seen: { path: string; auth: string | undefined }[] = [];
    const tlsServer = createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      // never echo the credential back: answer whether it was right
      res.end(JSON.stringify({ path: req.url, authorized: req.headers.authorization === `Bearer ${REAL}` }) + '\n');
    });
    const plainGot: string[] = [];
    const plain: Server = createHttpServer((req, res) => {
      plainGot.push(JSON.stringify(req.rawHeaders) + (req.url ?? ''));
      res.end('plain\n');
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const P = (tlsServer.address() as AddressInfo).port;
    const Q = (plain.address() as AddressInfo).port;
    try {
      spawnSync('mkdir', ['-p', ws, home]);
      writeFileSync(join(ws, 'upstream-ca.pem'), upstream.certPem);
      writeFileSync(
        join(ws, 'airlock.yaml'),
        `version: 1
network:
  allow: ["127.0.0.1:${P}", "127.0.0.1:${Q}"]
  upstreamCA: upstream-ca.pem
secrets:
  MY_TOKEN:
    from: env:AIRLOCK_TEST_SECRET
    inject: { host: "127.0.0.1:${P}", header: Authorization, format: "Bearer {}" }
`,
      );
      const script = [
        'echo "PH=$MY_TOKEN"',
        `curl -sS --max-time 10 -H "Authorization: Bearer $MY_TOKEN" https://127.0.0.1:${P}/use`,
        `curl -sS --max-time 10 -o /dev/null -w 'URL=%{http_code}\\n' "https://127.0.0.1:${P}/leak?t=$MY_TOKEN"`,
        `curl -sS --max-time 10 -o /dev/null -w 'PLAIN=%{http_code}\\n' -H "X-Leak: $MY_TOKEN" http://127.0.0.1:${Q}/plain`,
        'echo ---dump---',
        'env',
        'cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" "\\n"',
        // (the bundle is ~200 KB of public roots; its content is checked in unit tests — dump only the session CA)
        'cat /run/airlock/ca/session-ca.pem 2>/dev/null; ls -la /run/airlock/ca /tmp 2>/dev/null',
        'echo ---end---',
      ].join('\n');
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(AIRLOCK, ['run', '--policy', join(ws, 'airlock.yaml'), '--backend', backend, '--workspace', ws, '--', 'sh', '-c', script], { cwd: ws, env: { ...process.env, AIRLOCK_HOME: home, AIRLOCK_TEST_SECRET: REAL }, maxBuffer: 64 << 20, timeout: 80_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      const out = r.stdout;
      assert.equal(r.code, 0, r.stderr);
      assert.match(out, /PH=airlock_ph_[a-z0-9]+_[0-9a-f]{32}\n/, 'the variable holds a placeholder');
      assert.match(out, /"path":"\/use","authorized":true/, 'the declared host received the real value');
      assert.match(out, /URL=403/);
      assert.match(out, /PLAIN=403/);
      assert.match(out, /---end---/);
      assert.ok(!out.includes(REAL), 'the real value is visible inside the sandbox (env, /proc, CA dir or /tmp)');
      assert.ok(!r.stderr.includes(REAL), 'the real value reached airlock output');
      assert.equal(seen.filter((s) => s.path === '/use' && s.auth === `Bearer ${REAL}`).length, 1);
      assert.ok(!seen.some((s) => s.path.startsWith('/leak')), 'the URL exfiltration reached the server');
      assert.equal(plainGot.length, 0, 'the plain-HTTP exfiltration reached the server');
      // Everything the session left behind.
      const files = filesUnder(home);
      assert.ok(files.some((f) => f.endsWith('audit.jsonl')), 'the session left an audit log');
      for (const f of files) {
        if (statSync(f).size > 64 << 20) continue;
        const text = readFileSync(f);
        assert.ok(!text.includes(REAL), `${f} holds the real value`);
        assert.ok(!text.includes(Buffer.from(`Bearer ${REAL}`).toString('base64')), `${f} holds the real value (base64)`);
      }
      const log = files.filter((f) => f.endsWith('audit.jsonl')).map((f) => readFileSync(f, 'utf8')).join('');
      assert.match(log, /"kind":"secret","action":"use"/);
      assert.match(log, /"kind":"secret","action":"exfiltration"/);
    } finally {
      tlsServer.close();
      plain.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('airlock run (bwrap): a file: source inside the workspace is masked inside the sandbox', { timeout: 60_000 }, async (t) => {
  if (!has('bwrap')) return t.skip('bwrap not installed');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-secrets-file-'));
  const ws = join(dir, 'ws');
  const home = join(dir, 'home');
  try {
    spawnSync('mkdir', ['-p', ws, home]);
    writeFileSync(join(ws, 'token.txt'), `${REAL}\n`);
    writeFileSync(join(ws, 'notes.txt'), 'visible\n');
    writeFileSync(
      join(ws, 'airlock.yaml'),
      `version: 1
network: { allow: [api.example.com] }
secrets:
  MY_TOKEN: { from: file:token.txt, inject: { host: api.example.com, header: Authorization, format: "Bearer {}" } }
`,
    );
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(AIRLOCK, ['run', '--policy', join(ws, 'airlock.yaml'), '--backend', 'bwrap', '--workspace', ws, '--', 'sh', '-c', 'cat notes.txt; cat token.txt; echo "PH=$MY_TOKEN"'], { cwd: ws, env: { ...process.env, AIRLOCK_HOME: home }, timeout: 50_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.match(r.stdout, /visible/, r.stderr);
    assert.match(r.stdout, /PH=airlock_ph_/);
    assert.ok(!r.stdout.includes(REAL), 'the secret file was readable inside the sandbox');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('airlock run: env.pass of the variable a secret is read from is refused before the sandbox starts', { timeout: 60_000 }, async (t) => {
  if (!has('bwrap')) return t.skip('bwrap not installed');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-secrets-pass-'));
  const ws = join(dir, 'ws');
  const home = join(dir, 'home');
  try {
    spawnSync('mkdir', ['-p', ws, home]);
    writeFileSync(
      join(ws, 'airlock.yaml'),
      `version: 1
network: { allow: [api.example.com] }
env: { pass: [AIRLOCK_TEST_SECRET] }
secrets:
  MY_TOKEN: { from: env:AIRLOCK_TEST_SECRET, inject: { host: api.example.com, header: Authorization } }
`,
    );
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(AIRLOCK, ['run', '--policy', join(ws, 'airlock.yaml'), '--backend', 'bwrap', '--workspace', ws, '--', 'sh', '-c', 'echo STARTED; env'], { cwd: ws, env: { ...process.env, AIRLOCK_HOME: home, AIRLOCK_TEST_SECRET: REAL }, timeout: 50_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.notEqual(r.code, 0);
    assert.ok(!r.stdout.includes('STARTED'), 'the agent ran');
    assert.match(r.stderr, /AIRLOCK_TEST_SECRET|MY_TOKEN/);
    assert.ok(!(r.stdout + r.stderr).includes(REAL));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
